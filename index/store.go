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

	"github.com/golang/snappy"
)

// The event store keeps every event of a case, whole, as JSON lines in
// snappy-compressed blocks, one file per evidence file (events/<sha256>.evs).
// bleve indexes only the searchable fields and a location in the store: this
// keeps the index small and fast, and gives rules and reports a sequential
// stream of events that does not go through the index at all.
//
// Block layout: uvarint(compressed length) uvarint(event count) snappy(lines).

const (
	blockEvents = 512
	blockBytes  = 256 << 10
	storeDir    = "events"
	storeExt    = ".evs"
)

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
	return &storeWriter{f: f, w: bufio.NewWriterSize(f, 1<<20), name: sha, final: final}, nil
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
	s.tmp = snappy.Encode(s.tmp[:cap(s.tmp)], s.buf)
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
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(s.final+".tmp", s.final)
}

// Abort discards a partly written file.
func (s *storeWriter) Abort() {
	s.f.Close()
	os.Remove(s.final + ".tmp")
}

// storeReader fetches events by location, keeping the last block decoded
// because search hits in time order mostly share blocks.
type storeReader struct {
	dir       string
	files     map[string]*os.File
	lastKey   string
	lastLines [][]byte
}

func newStoreReader(caseDir string) *storeReader {
	return &storeReader{dir: filepath.Join(caseDir, storeDir), files: map[string]*os.File{}}
}

func (r *storeReader) Close() {
	for _, f := range r.files {
		f.Close()
	}
}

// Get returns the JSON of the event at loc.
func (r *storeReader) Get(loc string) ([]byte, error) {
	parts := strings.Split(loc, "/")
	if len(parts) != 3 {
		return nil, fmt.Errorf("bad event location %q", loc)
	}
	key := parts[0] + "/" + parts[1]
	idx, err := strconv.Atoi(parts[2])
	if err != nil {
		return nil, fmt.Errorf("bad event location %q", loc)
	}
	if key != r.lastKey {
		off, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad event location %q", loc)
		}
		f := r.files[parts[0]]
		if f == nil {
			f, err = os.Open(filepath.Join(r.dir, parts[0]+storeExt))
			if err != nil {
				return nil, fmt.Errorf("event store: %w", err)
			}
			r.files[parts[0]] = f
		}
		lines, err := readBlock(bufio.NewReader(io.NewSectionReader(f, off, 1<<62)))
		if err != nil {
			return nil, fmt.Errorf("event store %s at %d: %w", parts[0], off, err)
		}
		r.lastKey, r.lastLines = key, lines
	}
	if idx >= len(r.lastLines) {
		return nil, fmt.Errorf("event location %q beyond its block", loc)
	}
	return r.lastLines[idx], nil
}

type byteReader interface {
	io.Reader
	io.ByteReader
}

func readBlock(br byteReader) ([][]byte, error) {
	clen, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, err
	}
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, unexpected(err)
	}
	if clen > 64<<20 || n > 1<<20 {
		return nil, errors.New("corrupt block header")
	}
	comp := make([]byte, clen)
	if _, err := io.ReadFull(br, comp); err != nil {
		return nil, unexpected(err)
	}
	raw, err := snappy.Decode(nil, comp)
	if err != nil {
		return nil, err
	}
	lines := make([][]byte, 0, n)
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '\n')
		if i < 0 {
			return nil, errors.New("corrupt block: unterminated event")
		}
		lines = append(lines, raw[:i])
		raw = raw[i+1:]
	}
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
	f, err := os.Open(filepath.Join(caseDir, storeDir, sha+storeExt))
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	for {
		lines, err := readBlock(br)
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
