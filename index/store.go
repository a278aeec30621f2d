package index

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
)

// The event store keeps every event of a case, whole, as JSON lines in
// compressed blocks, one file per evidence file (events/<sha256>.evz): rules,
// reports and forward stream it in order, and query results are read from it
// by location. zstd (fastest level) keeps it at about 2.3× less than snappy
// did on firewall events (bench/README); files of cases written with snappy
// (events/<sha256>.evs) are still read.
//
// Block layout: uvarint(compressed length) uvarint(event count) zstd(lines).

const (
	blockEvents = 512
	blockBytes  = 256 << 10
	storeDir    = "events"
	storeExt    = ".evz"
	snappyExt   = ".evs" // case format 1
)

// codec is how one store file's blocks are compressed.
type codec bool

const (
	zstdBlocks   codec = true
	snappyBlocks codec = false
)

var (
	zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderLowmem(true))
	zstdEncoders   = sync.Pool{New: func() any {
		e, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(blockBytes))
		return e
	}}
)

func (c codec) decode(dst, src []byte) ([]byte, error) {
	if c == snappyBlocks {
		return snappy.Decode(dst, src)
	}
	return zstdDecoder.DecodeAll(src, dst[:0])
}

// openStoreFile opens one evidence file's events in the store, written in
// either layout.
func openStoreFile(dir, sha string) (*os.File, codec, error) {
	f, err := os.Open(filepath.Join(dir, sha+storeExt))
	if err == nil {
		return f, zstdBlocks, nil
	}
	if old, oerr := os.Open(filepath.Join(dir, sha+snappyExt)); oerr == nil {
		return old, snappyBlocks, nil
	}
	return nil, zstdBlocks, err
}

// storeWriter appends one evidence file's events.
type storeWriter struct {
	f     *os.File
	w     *bufio.Writer
	name  string
	off   int64 // offset where the current block will be written
	buf   []byte
	n     int
	tmp   []byte
	final string
}

func newStoreWriter(caseDir, sha string) (*storeWriter, error) {
	dir := filepath.Join(caseDir, storeDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	final := filepath.Join(dir, sha+storeExt)
	f, err := os.Create(final + ".tmp")
	if err != nil {
		return nil, err
	}
	var w *bufio.Writer
	select {
	case w = <-storeBuffers:
		w.Reset(f)
	default:
		w = bufio.NewWriterSize(f, 1<<20)
	}
	return &storeWriter{f: f, w: w, name: sha, final: final}, nil
}

// storeBuffers are the writers' buffers, reused: a collection of thousands
// of small files allocated (and cleared) a megabyte for each, the largest
// cost of its ingest. A few are kept (files are written a few at a time);
// a sync.Pool, emptied by each garbage collection, kept too few.
var storeBuffers = make(chan *bufio.Writer, 4)

// releaseBuffer gives the writer's buffer back once the file is written.
func (s *storeWriter) releaseBuffer() {
	if s.w != nil {
		s.w.Reset(nil)
		select {
		case storeBuffers <- s.w:
		default:
		}
		s.w = nil
	}
}

// Add appends one event's JSON and returns its location.
func (s *storeWriter) Add(doc []byte) (string, error) {
	loc := s.name + "/" + strconv.FormatInt(s.off, 10) + "/" + strconv.Itoa(s.n)
	s.buf = append(s.buf, doc...)
	s.buf = append(s.buf, '\n')
	s.n++
	if s.n >= blockEvents || len(s.buf) >= blockBytes {
		if err := s.flushBlock(); err != nil {
			return "", err
		}
	}
	return loc, nil
}

func (s *storeWriter) flushBlock() error {
	if s.n == 0 {
		return nil
	}
	enc := zstdEncoders.Get().(*zstd.Encoder)
	s.tmp = enc.EncodeAll(s.buf, s.tmp[:0])
	zstdEncoders.Put(enc)
	var hdr [2 * binary.MaxVarintLen64]byte
	h := binary.PutUvarint(hdr[:], uint64(len(s.tmp)))
	h += binary.PutUvarint(hdr[h:], uint64(s.n))
	if _, err := s.w.Write(hdr[:h]); err != nil {
		return err
	}
	if _, err := s.w.Write(s.tmp); err != nil {
		return err
	}
	s.off += int64(h + len(s.tmp))
	s.buf, s.n = s.buf[:0], 0
	return nil
}

// Close writes the last block and makes the file visible under its final name.
func (s *storeWriter) Close() error {
	err := s.flushBlock()
	if ferr := s.w.Flush(); err == nil {
		err = ferr
	}
	s.releaseBuffer()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(s.final+".tmp", s.final); err != nil {
		return err
	}
	// A format-1 copy of the same file, if any, is superseded.
	os.Remove(strings.TrimSuffix(s.final, storeExt) + snappyExt)
	return nil
}

// Abort discards a partly written file.
func (s *storeWriter) Abort() {
	s.releaseBuffer()
	s.f.Close()
	os.Remove(s.final + ".tmp")
}

// storeReader fetches events by location, keeping each open file's last
// block decoded: search hits in time order mostly share blocks, and the
// columnar store's rows interleave a few files' events (files parsed side
// by side), each file's in its order.
type storeReader struct {
	dir   string
	files map[string]*readerFile
}

type readerFile struct {
	f     *os.File
	codec codec
	off   int64 // of the block decoded, -1 for none
	lines [][]byte
	buf   blockBuffers // lines are in it: reused by the file's next block
}

// readerFiles bounds the files a reader keeps open: the hits of a search
// over a collection of 20,000 files ran out of descriptors.
const readerFiles = 64

func newStoreReader(caseDir string) *storeReader {
	return &storeReader{dir: filepath.Join(caseDir, storeDir), files: map[string]*readerFile{}}
}

func (r *storeReader) Close() {
	for _, rf := range r.files {
		rf.f.Close()
	}
}

// Get returns the JSON of the event at loc, valid until the next Get.
func (r *storeReader) Get(loc string) ([]byte, error) {
	parts := strings.Split(loc, "/")
	if len(parts) != 3 {
		return nil, fmt.Errorf("bad event location %q", loc)
	}
	off, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("bad event location %q", loc)
	}
	idx, err := strconv.Atoi(parts[2])
	if err != nil {
		return nil, fmt.Errorf("bad event location %q", loc)
	}
	rf := r.files[parts[0]]
	if rf == nil {
		if len(r.files) >= readerFiles {
			for k, old := range r.files { // any one: hits interleave files
				old.f.Close()
				delete(r.files, k)
				break
			}
		}
		f, c, err := openStoreFile(r.dir, parts[0])
		if err != nil {
			return nil, fmt.Errorf("event store: %w", err)
		}
		rf = &readerFile{f: f, codec: c, off: -1}
		r.files[parts[0]] = rf
	}
	if off != rf.off {
		lines, err := rf.buf.readAt(rf.f, off, rf.codec)
		if err != nil {
			return nil, fmt.Errorf("event store %s at %d: %w", parts[0], off, err)
		}
		rf.off, rf.lines = off, lines
	}
	if idx < 0 || idx >= len(rf.lines) {
		return nil, fmt.Errorf("event location %q beyond its block", loc)
	}
	return rf.lines[idx], nil
}

type byteReader interface {
	io.Reader
	io.ByteReader
}

func readBlock(br byteReader, c codec) ([][]byte, error) {
	var b blockBuffers
	return b.read(br, c)
}

// blockBuffers are the buffers of one block read after another, for a
// reader that copies out what it keeps: reading without them allocated
// and cleared a quarter megabyte per block.
type blockBuffers struct {
	br    *bufio.Reader
	comp  []byte
	raw   []byte
	split [][]byte
}

// readAt reads the block at off; what it returns is overwritten by the
// next read.
func (b *blockBuffers) readAt(f *os.File, off int64, c codec) ([][]byte, error) {
	sr := io.NewSectionReader(f, off, 1<<62)
	if b.br == nil {
		b.br = bufio.NewReader(sr)
	} else {
		b.br.Reset(sr)
	}
	return b.read(b.br, c)
}

func (b *blockBuffers) read(br byteReader, c codec) ([][]byte, error) {
	comp, n, err := readCompressed(br, b.comp)
	if err != nil {
		return nil, err
	}
	b.comp = comp
	return b.lines(comp, n, c)
}

// readCompressed reads one block's header and compressed bytes, into buf
// when it is large enough.
func readCompressed(br byteReader, buf []byte) (comp []byte, n uint64, err error) {
	clen, n, err := readHeader(br)
	if err != nil {
		return nil, 0, err
	}
	if uint64(cap(buf)) < clen {
		buf = make([]byte, clen)
	}
	comp = buf[:clen]
	if _, err := io.ReadFull(br, comp); err != nil {
		return nil, 0, unexpected(err)
	}
	return comp, n, nil
}

// readHeader reads a block's compressed length and event count.
func readHeader(br byteReader) (clen, n uint64, err error) {
	if clen, err = binary.ReadUvarint(br); err != nil {
		return 0, 0, err
	}
	if n, err = binary.ReadUvarint(br); err != nil {
		return 0, 0, unexpected(err)
	}
	if clen > 64<<20 || n > 1<<20 {
		return 0, 0, errors.New("corrupt block header")
	}
	return clen, n, nil
}

// lines decompresses a block of n events and splits it into them.
func (b *blockBuffers) lines(comp []byte, n uint64, c codec) ([][]byte, error) {
	raw, err := c.decode(b.raw, comp)
	if err != nil {
		return nil, err
	}
	b.raw = raw
	lines := b.split[:0]
	if lines == nil {
		lines = make([][]byte, 0, n)
	}
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '\n')
		if i < 0 {
			return nil, errors.New("corrupt block: unterminated event")
		}
		lines = append(lines, raw[:i])
		raw = raw[i+1:]
	}
	b.split = lines
	if uint64(len(lines)) != n {
		return nil, fmt.Errorf("corrupt block: %d events, header says %d", len(lines), n)
	}
	return lines, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ScanStore calls fn with the JSON of every event of one evidence file, in file order.
func ScanStore(caseDir, sha string, fn func(doc []byte) error) error {
	f, c, err := openStoreFile(filepath.Join(caseDir, storeDir), sha)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	for {
		lines, err := readBlock(br, c)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, l := range lines {
			if err := fn(l); err != nil {
				return err
			}
		}
	}
}
