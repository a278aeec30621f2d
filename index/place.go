package index

import (
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// PlaceField is stored, not indexed, with every full-text document: the
// event's query time and where it is in the event store. A query whose
// matches all hold free text is then answered by the full-text index and
// the event store, without joining its matches to the columnar store, whose
// first scan of ten million event ids cost most of such a query
// (bench/README, stop 31). Documents written before it have none, and are
// answered by the join.
const PlaceField = "evidence.place"

// WordsField lists, as keywords, the Text fields of a full-text document
// that hold a word (field:* asks it). Indexes written before stop 31 have
// none, and expand field:* to the field's every word.
const WordsField = "evidence.worded"

// hasWord reports whether text holds a word as the index splits it.
func hasWord(s string) bool {
	b := []byte(s)
	for i := 0; i < len(b); {
		w, size := wordRune(b[i:])
		if w {
			return true
		}
		i += size
	}
	return false
}

// A place is binary, 20-odd bytes a document (the location as text with
// its time took 130 and grew the mix's full-text index by two thirds): a
// flag byte (1: the event has a query time), the first 8 bytes of the
// evidence file's SHA-256 (SearchText declines a case where two files
// share them), the block's offset and the event's index in the block as
// uvarints, and the time in nanoseconds since 1970, big-endian.
const placeTimed = 1

// place is PlaceField's value for an event stored at loc.
func place(ev *event.Event, loc string) (string, error) {
	sha, rest, _ := strings.Cut(loc, "/")
	o, i, _ := strings.Cut(rest, "/")
	off, err1 := strconv.ParseUint(o, 10, 64)
	idx, err2 := strconv.ParseUint(i, 10, 64)
	prefix, err3 := hex.DecodeString(sha[:min(16, len(sha))])
	if err1 != nil || err2 != nil || err3 != nil || len(prefix) != 8 {
		return "", fmt.Errorf("event location %q", loc)
	}
	b := make([]byte, 1, 32)
	t, timed := QueryTime(ev)
	if timed {
		b[0] = placeTimed
	}
	b = append(b, prefix...)
	b = binary.AppendUvarint(b, off)
	b = binary.AppendUvarint(b, idx)
	if timed {
		b = binary.BigEndian.AppendUint64(b, uint64(t.UnixNano()))
	}
	return string(b), nil
}

// textHit is one match of the full-text index, ordered as Search orders
// events (before): by time, events without one last, then by id.
type textHit struct {
	id      string
	hasTime bool
	nanos   int64
	file    uint64 // the first 8 bytes of the evidence file's SHA-256
	off     uint64
	idx     uint64
}

func parsePlace(id string, p []byte) (textHit, bool) {
	if len(p) < 11 || p[0]&^placeTimed != 0 {
		return textHit{}, false
	}
	h := textHit{id: id, hasTime: p[0] == placeTimed, file: binary.BigEndian.Uint64(p[1:9])}
	p = p[9:]
	var n int
	if h.off, n = binary.Uvarint(p); n <= 0 {
		return textHit{}, false
	}
	p = p[n:]
	if h.idx, n = binary.Uvarint(p); n <= 0 {
		return textHit{}, false
	}
	p = p[n:]
	if h.hasTime {
		if len(p) != 8 {
			return textHit{}, false
		}
		h.nanos = int64(binary.BigEndian.Uint64(p))
	} else if len(p) != 0 {
		return textHit{}, false
	}
	return h, true
}

func (h textHit) before(o textHit) bool {
	if h.hasTime != o.hasTime {
		return h.hasTime
	}
	if h.hasTime && h.nanos != o.nanos {
		return h.nanos < o.nanos
	}
	return h.id < o.id
}

// inStore orders hits as the event store keeps them, so that each block
// is read once.
func inStore(a, b textHit) int {
	if a.file != b.file {
		return cmp.Compare(a.file, b.file)
	}
	if a.off != b.off {
		return cmp.Compare(a.off, b.off)
	}
	return cmp.Compare(a.idx, b.idx)
}

// loc is the hit's location in the event store.
func (h textHit) loc(files map[uint64]string) string {
	return files[h.file] + "/" + strconv.FormatUint(h.off, 10) + "/" + strconv.FormatUint(h.idx, 10)
}

// completeFiles are the case's complete evidence files with events, by the
// first 8 bytes of their SHA-256; false when two files (an unfinished one
// too) share them, which places cannot tell apart.
func completeFiles(c *Case) (map[uint64]string, bool) {
	files := map[uint64]string{}
	seen := map[uint64]string{}
	add := func(sha string, complete bool) bool {
		b, err := hex.DecodeString(sha[:min(16, len(sha))])
		if err != nil || len(b) != 8 {
			return true // not a store file's name: no place names it
		}
		k := binary.BigEndian.Uint64(b)
		if other, ok := seen[k]; ok && other != sha {
			return false
		}
		seen[k] = sha
		if complete {
			files[k] = sha
		}
		return true
	}
	for _, f := range c.Manifest.Files {
		if f.SHA256 != "" && f.Events() > 0 && !add(f.SHA256, true) {
			return nil, false
		}
	}
	for _, sha := range c.Manifest.Incomplete {
		if !add(sha, false) {
			return nil, false
		}
	}
	return files, true
}
