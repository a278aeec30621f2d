// Package evtx reads Windows XML Event Log (.evtx) files: the file header,
// 64 KiB chunks, event records and the Binary XML they hold, following
// MS-EVEN6 and libyal's libevtx format notes. It exists because no EVTX
// reader is obtainable from the module proxy this project builds against.
//
// The reader is built for damaged evidence: every record that can be framed
// is returned, and everything that cannot is reported as a Loss with a reason,
// never silently skipped.
package evtx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"time"
)

const (
	fileHeaderSize  = 4096
	chunkSize       = 65536
	chunkHeaderSize = 512
	recordMagic     = 0x00002a2a
)

var (
	fileMagic  = []byte("ElfFile\x00")
	chunkMagic = []byte("ElfChnk\x00")

	// ErrNotEVTX is returned when the file does not start with the EVTX signature.
	ErrNotEVTX = errors.New("not an EVTX file (missing ElfFile signature)")
)

// Header is the EVTX file header.
type Header struct {
	FirstChunk   uint64
	LastChunk    uint64
	NextRecordID uint64
	MinorVersion uint16
	MajorVersion uint16
	ChunkCount   uint16
	Dirty        bool // the log was not closed cleanly
	Full         bool
	ChecksumOK   bool
}

// Record is one event record, decoded into an element tree.
type Record struct {
	ID      uint64
	Written time.Time // the record header's write time (UTC)
	Chunk   int       // chunk index in file order
	Offset  int64     // byte offset of the record in the file
	Root    *Node
}

// Loss describes evidence the reader could not turn into records.
type Loss struct {
	Chunk   int
	Offset  int64
	Records int // records known or estimated to be lost (0 if unknown)
	Reason  string
}

func (l Loss) String() string {
	return fmt.Sprintf("chunk %d at offset %d: %s (%d records)", l.Chunk, l.Offset, l.Reason, l.Records)
}

// Warning is an anomaly that did not cost records (e.g. a checksum mismatch).
type Warning struct {
	Chunk  int
	Reason string
}

// Reader reads an EVTX file from an io.ReaderAt.
type Reader struct {
	r        io.ReaderAt
	size     int64
	Header   Header
	Losses   []Loss
	Warnings []Warning
}

// NewReader validates the file header. A damaged header is a warning, not a
// failure: chunks are self-describing and are still read.
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	rd := &Reader{r: r, size: size}
	hdr := make([]byte, fileHeaderSize)
	n, err := r.ReadAt(hdr, 0)
	if n < 128 {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("evtx: file header truncated (%d bytes): %w", n, err)
	}
	if !bytes.Equal(hdr[:8], fileMagic) {
		return nil, ErrNotEVTX
	}
	le := binary.LittleEndian
	h := &rd.Header
	h.FirstChunk = le.Uint64(hdr[8:])
	h.LastChunk = le.Uint64(hdr[16:])
	h.NextRecordID = le.Uint64(hdr[24:])
	h.MinorVersion = le.Uint16(hdr[36:])
	h.MajorVersion = le.Uint16(hdr[38:])
	h.ChunkCount = le.Uint16(hdr[42:])
	flags := le.Uint32(hdr[120:])
	h.Dirty = flags&1 != 0
	h.Full = flags&2 != 0
	h.ChecksumOK = crc32.ChecksumIEEE(hdr[:120]) == le.Uint32(hdr[124:])
	if !h.ChecksumOK {
		rd.Warnings = append(rd.Warnings, Warning{Chunk: -1, Reason: "file header checksum mismatch"})
	}
	if h.Dirty {
		rd.Warnings = append(rd.Warnings, Warning{Chunk: -1, Reason: "file header marked dirty (log not closed cleanly); chunks beyond the header's count are read too"})
	}
	if size < fileHeaderSize {
		rd.Losses = append(rd.Losses, Loss{Chunk: -1, Offset: 0, Reason: fmt.Sprintf("file truncated inside the %d-byte file header; no chunks", fileHeaderSize)})
	}
	return rd, nil
}

// Records calls fn for every record that can be decoded, in file order.
// Undecodable records and chunks are recorded in r.Losses. fn returning an
// error stops the walk and returns that error.
func (rd *Reader) Records(fn func(*Record) error) error {
	buf := make([]byte, chunkSize)
	for idx := 0; ; idx++ {
		off := int64(fileHeaderSize) + int64(idx)*chunkSize
		if off >= rd.size {
			return nil
		}
		n, err := rd.r.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			return fmt.Errorf("evtx: reading chunk %d at offset %d: %w", idx, off, err)
		}
		data := buf[:n]
		if n < chunkSize {
			if allZero(data) {
				return nil
			}
			rd.Losses = append(rd.Losses, Loss{Chunk: idx, Offset: off, Records: countRecordMagic(data),
				Reason: fmt.Sprintf("file truncated: last chunk has %d of %d bytes", n, chunkSize)})
			// Records wholly inside the truncated chunk are still recoverable.
			if n > chunkHeaderSize && bytes.Equal(data[:8], chunkMagic) {
				padded := make([]byte, chunkSize)
				copy(padded, data)
				if err := rd.readChunk(idx, off, padded, int64(n), fn); err != nil {
					return err
				}
			}
			return nil
		}
		if !bytes.Equal(data[:8], chunkMagic) {
			if allZero(data) {
				continue // never-used chunk slot
			}
			n := countRecordMagic(data)
			if n == 0 && idx >= int(rd.Header.ChunkCount) {
				// Slack after the last allocated chunk: old data, no framed records.
				rd.Warnings = append(rd.Warnings, Warning{Chunk: idx, Reason: "unallocated space after the last chunk holds no record signatures"})
				continue
			}
			rd.Losses = append(rd.Losses, Loss{Chunk: idx, Offset: off, Records: n,
				Reason: fmt.Sprintf("bad chunk signature %q", printable(data[:8]))})
			continue
		}
		if err := rd.readChunk(idx, off, data, int64(n), fn); err != nil {
			return err
		}
	}
}

func (rd *Reader) readChunk(idx int, off int64, data []byte, valid int64, fn func(*Record) error) error {
	le := binary.LittleEndian
	free := le.Uint32(data[48:])
	if free < chunkHeaderSize || free > chunkSize {
		rd.Warnings = append(rd.Warnings, Warning{Chunk: idx, Reason: fmt.Sprintf("chunk free-space offset %d out of range; records read up to the last valid one", free)})
		free = chunkSize
	}
	if int64(free) > valid {
		free = uint32(valid)
	}
	hc := crc32.NewIEEE()
	hc.Write(data[:120])
	hc.Write(data[128:512])
	if hc.Sum32() != le.Uint32(data[124:]) {
		rd.Warnings = append(rd.Warnings, Warning{Chunk: idx, Reason: "chunk header checksum mismatch"})
	}
	if sum := le.Uint32(data[52:]); sum != 0 && crc32.ChecksumIEEE(data[chunkHeaderSize:free]) != sum {
		rd.Warnings = append(rd.Warnings, Warning{Chunk: idx, Reason: "chunk record-data checksum mismatch"})
	}
	ck := newChunk(data)
	firstID, lastID := le.Uint64(data[24:]), le.Uint64(data[32:])
	pos := uint32(chunkHeaderSize)
	for pos+24 <= free {
		size := le.Uint32(data[pos+4:])
		if !framedRecord(data, pos, free, firstID, lastID) {
			if allZero(data[pos:free]) {
				break
			}
			// Framing is broken here: resynchronise on the next well-framed record.
			next := nextFramedRecord(data, pos+8, free, firstID, lastID)
			skipped := countRecordMagic(data[pos:next])
			reason := "damaged record framing; bytes skipped to the next valid record"
			if next >= free {
				reason = "damaged record framing; no valid record after it in the chunk"
			}
			if skipped == 0 {
				skipped = 1
			}
			rd.Losses = append(rd.Losses, Loss{Chunk: idx, Offset: off + int64(pos), Records: skipped, Reason: reason})
			pos = next
			continue
		}
		rec := &Record{
			ID:      le.Uint64(data[pos+8:]),
			Written: filetime(le.Uint64(data[pos+16:])),
			Chunk:   idx,
			Offset:  off + int64(pos),
		}
		root, err := ck.decodeRecord(pos+24, pos+size-4)
		if err != nil {
			rd.Losses = append(rd.Losses, Loss{Chunk: idx, Offset: rec.Offset, Records: 1,
				Reason: fmt.Sprintf("undecodable binary XML (%v)", errClass(err))})
		} else {
			rec.Root = root
			if err := fn(rec); err != nil {
				return err
			}
		}
		pos += size
	}
	return nil
}

// framedRecord checks a record header at pos: signature, a size that fits,
// the trailing size copy, and an id within the chunk's declared range.
func framedRecord(data []byte, pos, free uint32, firstID, lastID uint64) bool {
	le := binary.LittleEndian
	if pos+28 > free || le.Uint32(data[pos:]) != recordMagic {
		return false
	}
	size := le.Uint32(data[pos+4:])
	if size < 28 || uint64(pos)+uint64(size) > uint64(free) || le.Uint32(data[pos+size-4:]) != size {
		return false
	}
	id := le.Uint64(data[pos+8:])
	return firstID == 0 && lastID == 0 || id >= firstID && id <= lastID
}

func nextFramedRecord(data []byte, from, free uint32, firstID, lastID uint64) uint32 {
	for p := from; p+28 <= free; p++ {
		j := bytes.Index(data[p:free], []byte{0x2a, 0x2a, 0, 0})
		if j < 0 {
			break
		}
		p += uint32(j)
		if framedRecord(data, p, free, firstID, lastID) {
			return p
		}
	}
	return free
}

// errClass strips offsets from decode errors so loss reasons group well.
func errClass(err error) string {
	s := err.Error()
	if i := strings.Index(s, " at chunk offset"); i > 0 {
		s = s[:i]
	}
	return s
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// countRecordMagic estimates how many records a damaged region held.
func countRecordMagic(b []byte) int {
	return bytes.Count(b, []byte{0x2a, 0x2a, 0, 0})
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 0x20 && c < 0x7f {
			out[i] = c
		} else {
			out[i] = '.'
		}
	}
	return string(out)
}

// filetime converts a Windows FILETIME (100 ns ticks since 1601-01-01) to UTC.
func filetime(v uint64) time.Time {
	const secs1601to1970 = 11644473600
	return time.Unix(int64(v/1e7)-secs1601to1970, int64(v%1e7)*100).UTC()
}
