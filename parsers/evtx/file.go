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
	// Root is the record's element tree; with Reader.Flat set, records that
	// are one template instance of the usual layout come as Flat instead
	// (Root nil), which costs a fraction of a tree.
	Root *Node
	Flat *Flat
	// Carved marks a record found outside the log's live records: in a
	// chunk's slack after its last record, in a chunk the header no longer
	// counts, or left by an older or newer generation of the chunk. These
	// are often what an attacker cleared. CarveReason says where it was.
	Carved      bool
	CarveReason string
}

// Loss describes evidence the reader could not turn into records.
type Loss struct {
	Chunk   int
	Offset  int64
	Records int // records known or estimated to be lost (0 if unknown)
	Reason  string
	// After and Before bound when the records lost were written, from the
	// records around them (zero when unknown).
	After, Before time.Time
}

func (l Loss) String() string {
	return fmt.Sprintf("chunk %d at offset %d: %s (%d records)", l.Chunk, l.Offset, l.Reason, l.Records)
}

// Warning is an anomaly that did not cost records (e.g. a checksum mismatch).
type Warning struct {
	Chunk  int
	Reason string
}

// ChunkReport says what the reader found in one chunk slot of the file.
type ChunkReport struct {
	Index    int
	Offset   int64
	Live     int      // live records read
	Carved   int      // carved records read (duplicates of live ones left out)
	Lost     int      // live records that could not be read
	Problems []string // what was wrong with the chunk, if anything
}

// Reader reads an EVTX file from an io.ReaderAt.
type Reader struct {
	r        io.ReaderAt
	size     int64
	Header   Header
	Losses   []Loss
	Warnings []Warning
	Chunks   []ChunkReport
	// Unreadable lists old (carved) records that were framed but could not
	// be decoded, and why: not losses of the live log, but what a peer
	// reader might show and this one refuses.
	Unreadable []Loss
	// Flat asks for records as Flat values where their layout allows it.
	Flat bool
	// base is where the first chunk begins: after the file header, or at
	// 0 for chunks without one.
	base int64
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
	rd.base = fileHeaderSize
	if !bytes.Equal(hdr[:8], fileMagic) {
		// A header overwritten or cut off (a carved file, a damaged disk):
		// chunks describe themselves, so a file whose first chunk is where
		// the header says chunks begin, or at its very start, is read
		// without it.
		switch {
		case n >= fileHeaderSize && hasChunkAt(r, fileHeaderSize):
			rd.Warnings = append(rd.Warnings, Warning{Chunk: -1, Reason: "file header missing or overwritten (no ElfFile signature): its chunks are read on their own, without the header's counts"})
		case bytes.Equal(hdr[:8], chunkMagic):
			rd.base = 0
			rd.Warnings = append(rd.Warnings, Warning{Chunk: -1, Reason: "no file header: the file starts with a chunk (carved chunks?); they are read on their own"})
		default:
			return nil, ErrNotEVTX
		}
		return rd, nil
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

// hasChunkAt says whether a chunk signature is at off.
func hasChunkAt(r io.ReaderAt, off int64) bool {
	b := make([]byte, len(chunkMagic))
	n, _ := r.ReadAt(b, off)
	return n == len(b) && bytes.Equal(b, chunkMagic)
}

// LooksLikeChunks says whether head (a file's first bytes) is an EVTX file
// whose header is missing or overwritten: a chunk where the header ends, or
// at the start.
func LooksLikeChunks(head []byte) bool {
	return bytes.HasPrefix(head, chunkMagic) ||
		len(head) >= fileHeaderSize+len(chunkMagic) && bytes.Equal(head[fileHeaderSize:fileHeaderSize+len(chunkMagic)], chunkMagic)
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

// Wrapped says whether the file's chunks, in file order, hold their
// records' ids out of order: a log that filled up and wrapped around
// writes its newest chunks over its oldest, from the start of the file, so
// that read in file order its events go back in time where its oldest
// chunk begins. Only the chunks' headers are read.
func (rd *Reader) Wrapped() bool {
	hdr := make([]byte, 32)
	var prev uint64
	for off := rd.base; off < rd.size; off += chunkSize {
		if n, _ := rd.r.ReadAt(hdr, off); n < len(hdr) || !bytes.Equal(hdr[:8], chunkMagic) {
			continue
		}
		first := binary.LittleEndian.Uint64(hdr[24:])
		if first == 0 {
			continue
		}
		if first < prev {
			return true
		}
		prev = first
	}
	return false
}
