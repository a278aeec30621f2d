package index

import (
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bleveindex "github.com/blevesearch/bleve_index_api"

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

// IsTextQuery reports whether a parsed query is free-text terms joined by
// AND and OR only: the full-text index alone tells its matches (but for a
// phrase's word order).
func IsTextQuery(n *Node) bool {
	if n == nil {
		return false
	}
	switch n.Op {
	case "and", "or":
		for _, c := range n.Children {
			if !IsTextQuery(c) {
				return false
			}
		}
		return len(n.Children) > 0
	case "term":
		return IsTextTerm(n)
	}
	return false
}

// narrowing is the bleve query of the free text every event a query
// matches holds, or nil when a match may hold none (a term on another
// field alone, a NOT, an OR with such a side).
func narrowing(n *Node) (query.Query, error) {
	switch n.Op {
	case "term":
		if IsTextTerm(n) {
			return termQuery(n)
		}
	case "and", "or":
		var qs []query.Query
		for _, c := range n.Children {
			q, err := narrowing(c)
			if err != nil {
				return nil, err
			}
			if q == nil && n.Op == "or" {
				return nil, nil
			}
			if q != nil {
				qs = append(qs, q)
			}
		}
		switch {
		case len(qs) == 0:
			return nil, nil
		case len(qs) == 1:
			return qs[0], nil
		case n.Op == "and":
			return bleve.NewConjunctionQuery(qs...), nil
		}
		return bleve.NewDisjunctionQuery(qs...), nil
	}
	return nil, nil
}

// hasPhrase reports whether a query holds a quoted term, whose words'
// order the index cannot tell.
func hasPhrase(n *Node) bool {
	if n.Op == "term" {
		return n.Phrase
	}
	return slices.ContainsFunc(n.Children, hasPhrase)
}

// queryFields are the fields a query's terms read.
func queryFields(n *Node, into map[string]bool) {
	if n.Op == "term" {
		f := n.Field
		if f == "" {
			f = "message"
		}
		into[f] = true
	}
	for _, c := range n.Children {
		queryFields(c, into)
	}
}

// hitHeap keeps the first hits in Search's order: a max-heap of at most
// its limit, so memory does not grow with the number of matches.
type hitHeap []textHit

func (h hitHeap) Len() int           { return len(h) }
func (h hitHeap) Less(i, j int) bool { return h[j].before(h[i]) }
func (h hitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)        { *h = append(*h, x.(textHit)) }
func (h *hitHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// maxCandidates bounds the matches SearchText keeps to read in the event
// store's order (about 80 bytes each): more, and it declines.
const maxCandidates = 1 << 18

// SearchText answers Search from the full-text index and the event store
// when every event a query matches holds some free text (narrowing): the
// number of matching events of c's complete evidence files, and the first
// limit of them (limit > 0) in time order, then by id, read whole. The
// index's matches are the answer for free text alone; otherwise (a phrase,
// whose order the index does not keep; terms on other fields; a NOT) they
// are read from the event store in its order and the query checked on each
// (Node.Match, which the columnar store is held to); without a phrase, it
// declines when that means reading more than maxBlocks blocks of the
// store. It declines too past maxCandidates to read. answered is
// false, with nothing given to fn, when it declines, when the query has no
// such text, or when a matching document has no PlaceField (written by an
// older version): the caller then answers by the columnar store.
func (b *Bleve) SearchText(c *Case, n *Node, limit, maxBlocks int, fn func(*event.Event) error) (total uint64, answered bool, err error) {
	if n == nil || limit <= 0 {
		return 0, false, nil
	}
	nq, err := narrowing(n)
	if err != nil || nq == nil {
		return 0, false, nil // an invalid term is for the caller to name
	}
	files, ok := completeFiles(c)
	if !ok {
		return 0, false, nil
	}
	exact := IsTextQuery(n) && !hasPhrase(n)
	var candidates []textHit
	top := hitHeap{}
	keep := func(h textHit) {
		total++
		if len(top) < limit {
			heap.Push(&top, h)
		} else if h.before(top[0]) {
			top[0] = h
			heap.Fix(&top, 0)
		}
	}
	answered, err = b.eachPlace(nq, func(h textHit) error {
		if files[h.file] == "" {
			return nil // a file an interrupted run left unfinished
		}
		if exact {
			keep(h)
			return nil
		}
		if len(candidates) == maxCandidates {
			return errDecline
		}
		candidates = append(candidates, h)
		return nil
	})
	if err == errDecline || err == nil && !answered {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	store := c.OpenStored()
	defer store.Close()
	if !exact {
		slices.SortFunc(candidates, inStore)
		blocks := 0
		for i, h := range candidates {
			if i == 0 || h.file != candidates[i-1].file || h.off != candidates[i-1].off {
				blocks++
			}
		}
		if blocks > maxBlocks && !hasPhrase(n) {
			// The join answers without reading; with a phrase it reads
			// the phrase's events too, after its scan.
			return 0, false, nil
		}
		only := map[string]bool{}
		queryFields(n, only)
		sel := &event.Selection{Only: only}
		for _, h := range candidates {
			ev, err := store.EventSelected(h.loc(files), sel)
			if err != nil {
				return 0, true, fmt.Errorf("event %s: %w", h.loc(files), err)
			}
			if n.Match(ev) {
				keep(h)
			}
		}
	}
	slices.SortFunc(top, func(a, b textHit) int {
		if a.before(b) {
			return -1
		}
		return 1
	})
	for _, h := range top {
		ev, err := store.Event(h.loc(files))
		if err != nil {
			return total, true, fmt.Errorf("event %s: %w", h.loc(files), err)
		}
		if err := fn(ev); err != nil {
			return total, true, err
		}
	}
	return total, true, nil
}

var errDecline = errors.New("declined")

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

// countUpTo counts the documents a bleve query matches, stopping at most.
func (b *Bleve) countUpTo(q query.Query, most int) (int, error) {
	ir, s, err := b.searcher(q)
	if err != nil {
		return 0, err
	}
	defer ir.Close()
	defer s.Close()
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0), IndexReader: ir}
	n := 0
	for n < most {
		dm, err := s.Next(sctx)
		if err != nil || dm == nil {
			return n, err
		}
		sctx.DocumentMatchPool.Put(dm)
		n++
	}
	return n, nil
}

// searcher opens a reader of the index and q's searcher on it, unscored.
func (b *Bleve) searcher(q query.Query) (bleveindex.IndexReader, search.Searcher, error) {
	adv, err := b.idx.Advanced()
	if err != nil {
		return nil, nil, err
	}
	ir, err := adv.Reader()
	if err != nil {
		return nil, nil, err
	}
	s, err := q.Searcher(context.Background(), ir, b.idx.Mapping(), search.SearcherOptions{Score: "none"})
	if err != nil {
		ir.Close()
		return nil, nil, err
	}
	return ir, s, nil
}

// eachPlace calls fn with every document a bleve query matches, its id and
// PlaceField read together from its stored fields; false when one has no
// PlaceField, or the index is not of the kind whose stored fields this reads.
func (b *Bleve) eachPlace(q query.Query, fn func(textHit) error) (bool, error) {
	ir, s, err := b.searcher(q)
	if err != nil {
		return false, err
	}
	defer ir.Close()
	defer s.Close()
	snap, ok := ir.(*scorch.IndexSnapshot)
	if !ok {
		return false, nil
	}
	// A document's number across the index is its segment's first number
	// plus its number in the segment, counting deleted ones (as scorch does).
	segs := snap.Segments()
	starts := make([]uint64, len(segs))
	var next uint64
	for i, seg := range segs {
		starts[i] = next
		next += seg.Segment().Count()
	}
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0), IndexReader: ir}
	for {
		dm, err := s.Next(sctx)
		if err != nil || dm == nil {
			return err == nil, err
		}
		num := dm.IndexInternalID.Value()
		sctx.DocumentMatchPool.Put(dm)
		i, _ := slices.BinarySearch(starts, num+1)
		i-- // the last segment starting at or before num
		if i < 0 {
			return false, fmt.Errorf("full-text index: document %d in no segment", num)
		}
		var id string
		var p []byte
		err = segs[i].VisitDocument(num-starts[i], func(field string, _ byte, value []byte, _ []uint64) bool {
			switch field {
			case "_id":
				id = string(value)
			case PlaceField:
				p = append(p[:0], value...)
			}
			return true
		})
		if err != nil {
			return false, err
		}
		h, ok := parsePlace(id, p)
		if !ok || id == "" {
			return false, nil
		}
		if err := fn(h); err != nil {
			return false, err
		}
	}
}
