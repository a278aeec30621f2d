package index

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Stream calls fn with every event of the case in time order (then file
// path order), read from the event store, not the index. Files whose events are in
// time order are streamed; the others are ordered through a sort of their
// (time, position) pairs, 24 bytes per event. One goroutine reads and merges
// the stored documents by their time alone; decoding them, the larger cost,
// runs on every core a few batches ahead of fn, and fn still sees the merged
// order. Memory does not otherwise grow with the case.
func (c *Case) Stream(fn func(*event.Event) error) error {
	return StreamAs(c, event.DecodeJSON, fn)
}

// StreamAs is Stream with the caller's decoder, called on every core at
// once: for a reader that needs only some fields of each stored event, or
// that has more to do with each one than fn can do in order (hunt tests
// its rules there).
func StreamAs[T any](c *Case, decode func([]byte) (T, error), fn func(T) error) error {
	produce := func(send func([][]byte) bool) error {
		batch := make([][]byte, 0, streamBatch)
		size := 0
		err := c.merge(func(doc []byte) error {
			batch, size = append(batch, doc), size+len(doc)
			if len(batch) == streamBatch || size >= streamBatchBytes {
				if !send(batch) {
					return errStopped
				}
				batch, size = make([][]byte, 0, streamBatch), 0
			}
			return nil
		})
		if !errors.Is(err, errStopped) && len(batch) > 0 {
			send(batch) // the events before a read error still reach fn
		}
		return err
	}
	decodeBatch := func(docs [][]byte) decoded[T] { return decodeAll(docs, decode) }
	return inOrder(streamAhead, produce, decodeBatch, func(d decoded[T]) error {
		for _, ev := range d.evs {
			if err := fn(ev); err != nil {
				return err
			}
		}
		return d.err
	})
}

// streamBatch events, or as many as hold streamBatchBytes, are decoded at
// a time, streamAhead batches per core at most ahead of fn: events of tens
// of kilobytes (script blocks) are not held by the thousand.
const (
	streamBatch      = 256
	streamBatchBytes = 1 << 20
	streamAhead      = 4
)

var errStopped = errors.New("stream stopped")

// decoded is one batch's events, up to the first document that did not
// decode (err).
type decoded[T any] struct {
	evs []T
	err error
}

func decodeAll[T any](docs [][]byte, decode func([]byte) (T, error)) decoded[T] {
	evs := make([]T, 0, len(docs))
	for _, doc := range docs {
		ev, err := decode(doc)
		if err != nil {
			return decoded[T]{evs: evs, err: fmt.Errorf("event store: %w", err)}
		}
		evs = append(evs, ev)
	}
	return decoded[T]{evs: evs}
}

// merge calls fn with every stored document in time order, on the caller's
// goroutine. A case of more files than a merge reads at once is merged
// in runs first (runs.go).
func (c *Case) merge(fn func(doc []byte) error) error {
	var srcs []source
	// Events of one instant come in the order of their files' paths.
	for _, f := range c.FilesByPath() {
		if f.Events() == 0 || f.SHA256 == "" {
			continue
		}
		srcs = append(srcs, source{path: f.Path, dir: c.Dir, name: f.SHA256, sorted: !f.TimeOrdered})
	}
	return mergeSources(srcs, fn)
}

// source is one file of the event store to merge: an evidence file's
// events (sorted when they are not in time order), or a run.
type source struct {
	path   string // what it is, for errors
	dir    string // the case (or runs) directory holding it
	name   string
	sorted bool
	run    bool // removed once read
}

// mergeCursors merges sources in time order, ties in the sources' order;
// a source's buffers are sized for so many read at once.
func mergeCursors(srcs []source, fn func(doc []byte) error) error {
	var cursors []cursor
	defer func() {
		for _, cur := range cursors {
			cur.close()
		}
	}()
	bufSize := max(64<<10, min(1<<20, mergeMemory/8/max(len(srcs), 1)))
	window := max(512<<10, min(sortedWindowBytes, mergeMemory/max(len(srcs), 1)))
	readers := &windowReaders{} // the unordered files read their windows one at a time
	for _, src := range srcs {
		var cur cursor
		var err error
		if src.sorted {
			cur, err = newSortedCursor(src.dir, src.name, window, readers)
		} else {
			cur, err = newSeqCursor(src.dir, src.name, bufSize, src.run)
		}
		if err != nil {
			return fmt.Errorf("event store for %s: %w", src.path, err)
		}
		cursors = append(cursors, cur)
	}
	h := &docHeap{}
	push := func(src int) error {
		doc, err := cursors[src].next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		sec, nsec := docTime(doc)
		heap.Push(h, heapItem{doc: doc, sec: sec, nsec: nsec, src: src})
		return nil
	}
	for i := range cursors {
		if err := push(i); err != nil {
			return err
		}
	}
	for h.Len() > 0 {
		it := heap.Pop(h).(heapItem)
		if err := fn(it.doc); err != nil {
			return err
		}
		if err := push(it.src); err != nil {
			return err
		}
	}
	return nil
}

// docTime reads a stored document's @timestamp without decoding the rest:
// the writer sorts keys, so it comes first unless a key sorts before "@"
// (only then is the document decoded to look for it). A document without
// one has the zero time, which sorts first, as the decoded event's would.
func docTime(doc []byte) (sec int64, nsec int32) {
	var t time.Time
	const prefix = `{"@timestamp":"`
	switch {
	case bytes.HasPrefix(doc, []byte(prefix)):
		if end := bytes.IndexByte(doc[len(prefix):], '"'); end >= 0 {
			t, _ = time.Parse(time.RFC3339Nano, string(doc[len(prefix):len(prefix)+end]))
		}
	case len(doc) > 2 && doc[0] == '{' && doc[1] == '"' && doc[2] > '@':
		// The first key sorts after "@timestamp": there is none.
	default:
		var ts struct {
			T string `json:"@timestamp"`
		}
		if json.Unmarshal(doc, &ts) == nil && ts.T != "" {
			t, _ = time.Parse(time.RFC3339Nano, ts.T)
		}
	}
	return t.Unix(), int32(t.Nanosecond())
}

type cursor interface {
	next() ([]byte, error)
	close()
}

type seqCursor struct {
	f      *os.File
	br     *bufio.Reader
	codec  codec
	lines  [][]byte
	remove bool // a run, read once
}

func newSeqCursor(caseDir, sha string, bufSize int, removeAfter bool) (*seqCursor, error) {
	f, c, err := openStoreFile(filepath.Join(caseDir, storeDir), sha)
	if err != nil {
		return nil, err
	}
	return &seqCursor{f: f, br: bufio.NewReaderSize(f, bufSize), codec: c, remove: removeAfter}, nil
}

func (s *seqCursor) next() ([]byte, error) {
	for len(s.lines) == 0 {
		lines, err := readBlock(s.br, s.codec)
		if err != nil {
			return nil, err
		}
		s.lines = lines
	}
	doc := s.lines[0]
	s.lines = s.lines[1:]
	return doc, nil
}

func (s *seqCursor) close() {
	s.f.Close()
	if s.remove {
		os.Remove(s.f.Name())
	}
}

type sortedCursor struct {
	f      *os.File
	codec  codec
	order  []posTime
	blocks []int64 // offset of each block, by number
	i      int
	window [][]byte // the next events in time order, read ahead
	err    error    // what stopped the reading ahead, once the window is out
	// readers are the buffers of the cores reading a window's blocks,
	// shared by the unordered files of one merge.
	readers *windowReaders
	// windowBytes bounds the window: sortedWindowBytes, less when many
	// files are merged at once.
	windowBytes int
}

// A window of events is read at a time from an unordered file: their
// blocks are each decompressed once and the events copied out. Reading
// event by event, through a cache of the last few blocks, cost one
// decompression per event when the disorder spans more blocks than the
// cache: a file of many interleaved sequences (a log's copies, hosts or
// rotations concatenated) made hunting 1.5 M Windows events spend half its
// time in zstd. A window also cost one decompression per interleaved
// sequence, so it is bounded by bytes only, not by a count of events: 8,192
// Windows events (11 MB) from 663 concatenated copies of a log decompressed
// each block about 40 times. Memory: the window's events, copied, at most
// sortedWindowBytes of them (but one event, whatever its size).
var sortedWindowBytes = 32 << 20 // a variable for the tests

// windowReaders are the block buffers of the cores reading a window, one
// set per merge: its cursors read their windows one at a time, so the
// buffers do not grow with the unordered files merged at once.
type windowReaders struct{ bufs []*blockBuffers }

// posTime is one event's place in an unordered file: 24 bytes, held for
// every event of the file while it streams.
type posTime struct {
	sec   int64 // unix seconds: any year, unlike nanoseconds
	nsec  int32
	block int32 // its block's number
	idx   int32 // in the block
	size  int32 // of the stored document
}

func newSortedCursor(caseDir, sha string, window int, readers *windowReaders) (*sortedCursor, error) {
	f, codec, err := openStoreFile(filepath.Join(caseDir, storeDir), sha)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 1<<20)
	var order []posTime
	var blocks []int64
	var off int64
	cr := &countReader{r: br}
	var bufs blockBuffers // each block's events are only read for their times
	for {
		start := off
		lines, err := bufs.read(cr, codec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		off = cr.n
		if len(blocks) == math.MaxInt32 {
			f.Close()
			return nil, fmt.Errorf("event store: more than %d blocks", math.MaxInt32)
		}
		for i, l := range lines {
			sec, nsec := docTime(l)
			order = append(order, posTime{sec: sec, nsec: nsec, block: int32(len(blocks)), idx: int32(i), size: int32(min(len(l), math.MaxInt32))})
		}
		blocks = append(blocks, start)
	}
	// Ties keep the file's order: its events were listed in it.
	slices.SortFunc(order, func(a, b posTime) int {
		return cmp.Or(cmp.Compare(a.sec, b.sec), cmp.Compare(a.nsec, b.nsec), cmp.Compare(a.block, b.block), cmp.Compare(a.idx, b.idx))
	})
	return &sortedCursor{f: f, codec: codec, order: order, blocks: blocks, windowBytes: window, readers: readers}, nil
}

func (s *sortedCursor) next() ([]byte, error) {
	for len(s.window) == 0 {
		if s.err != nil {
			return nil, s.err
		}
		if s.i >= len(s.order) {
			return nil, io.EOF
		}
		s.readWindow()
	}
	doc := s.window[0]
	s.window = s.window[1:]
	return doc, nil
}

// readWindow reads the next sortedWindow events of the order (fewer when
// they hold more than sortedWindowBytes): their blocks, each once, on every
// core — in a file of many interleaved sequences a window needs a block of
// each, and decompressing them one after another on the merging goroutine
// was most of its time (1.5 M Windows events from 663 copies of a log:
// 9.6 of the merge's 14.4 s, the rules' cores half idle; bench/README stop
// 32). A block that cannot be read ends the window at its first event in
// time order: the events before it still come out.
func (s *sortedCursor) readWindow() {
	end, size := s.i, 0
	for end < len(s.order) && (end == s.i || size+int(s.order[end].size) <= s.windowBytes) {
		size += int(s.order[end].size)
		end++
	}
	part := s.order[s.i:end]
	want := make([]int, len(part)) // the window's events in file order
	for k := range want {
		want[k] = k
	}
	sort.Slice(want, func(a, b int) bool {
		x, y := part[want[a]], part[want[b]]
		return x.block < y.block || x.block == y.block && x.idx < y.idx
	})
	// One allocation holds the window's copies, each event at its place
	// (the blocks' other events need not stay in memory); runs of want
	// share a block, read by whichever core takes the run.
	copies := make([]byte, size)
	at := make([]int, len(part)) // where each event's copy starts, by its place in part
	var runs []int               // where each block's run of want starts
	for k, n := range want {
		if k == 0 || part[n].block != part[want[k-1]].block {
			runs = append(runs, k)
		}
		if k > 0 {
			prev := want[k-1]
			at[n] = at[prev] + int(part[prev].size)
		}
	}
	runs = append(runs, len(want))
	window := make([][]byte, len(part))
	errs := make([]error, len(runs)-1)
	workers := min(runtime.GOMAXPROCS(0), len(runs)-1)
	for len(s.readers.bufs) < workers {
		s.readers.bufs = append(s.readers.bufs, &blockBuffers{})
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(bufs *blockBuffers) {
			defer wg.Done()
			for r := int(next.Add(1) - 1); r < len(runs)-1; r = int(next.Add(1) - 1) {
				first := part[want[runs[r]]]
				off := s.blocks[first.block]
				lines, err := bufs.readAt(s.f, off, s.codec)
				if err != nil {
					errs[r] = fmt.Errorf("event store at %d: %w", off, err)
					continue
				}
				for _, n := range want[runs[r]:runs[r+1]] {
					p := part[n]
					if int(p.idx) >= len(lines) || len(lines[p.idx]) != int(p.size) {
						errs[r] = fmt.Errorf("event store: event %d of the block at %d is not the one first read", p.idx, off)
						break
					}
					c := copies[at[n] : at[n]+int(p.size) : at[n]+int(p.size)]
					copy(c, lines[p.idx])
					window[n] = c
				}
			}
		}(s.readers.bufs[w])
	}
	wg.Wait()
	for r, err := range errs {
		if err != nil {
			s.err = err // the first, in file order
			for _, n := range want[runs[r]:runs[r+1]] {
				window[n] = nil
			}
			break
		}
	}
	if s.err != nil {
		for k, doc := range window {
			if doc == nil {
				window = window[:k]
				break
			}
		}
	}
	s.i, s.window = end, window
}

func (s *sortedCursor) close() { s.f.Close() }

type countReader struct {
	r *bufio.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

type heapItem struct {
	doc  []byte
	sec  int64
	nsec int32
	src  int
}

type docHeap []heapItem

func (h docHeap) Len() int { return len(h) }
func (h docHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.sec != b.sec {
		return a.sec < b.sec
	}
	if a.nsec != b.nsec {
		return a.nsec < b.nsec
	}
	return a.src < b.src
}
func (h docHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *docHeap) Push(x any)   { *h = append(*h, x.(heapItem)) }
func (h *docHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
