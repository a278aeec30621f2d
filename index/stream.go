package index

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
// its rules there). decode must keep nothing of the document it is given
// (a string copied out is its own): the block holding it is read into
// again once fn has had the batch.
func StreamAs[T any](c *Case, decode func([]byte) (T, error), fn func(T) error) error {
	hand := &handBack{}
	produce := func(send func([][]byte) bool) error {
		batch := make([][]byte, 0, streamBatch)
		size := 0
		err := c.merge(hand, func(doc []byte) error {
			hand.sent.Add(1)
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
		// The batch was decoded: its documents' blocks may be read into
		// again (decode copies what it keeps).
		hand.done.Add(int64(d.docs))
		for _, ev := range d.evs {
			if err := fn(ev); err != nil {
				return err
			}
		}
		return d.err
	})
}

// handBack tells the cursors of a merge which of the documents they handed
// out their reader is done with: the first sent of them, counted in the
// order the merge sent them, were decoded, and their blocks' buffers may
// be read into again. With a block a quarter megabyte large allocated and
// cleared for every 512 events, a hunt of 10 M events took 8 % longer.
type handBack struct {
	sent, done atomic.Int64
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
	evs  []T
	err  error
	docs int // documents of the batch, decoded or not: none is read again
}

// decodeAll decodes a batch's documents; decode must keep nothing of a
// document (its blocks are read into again once the batch is consumed).
func decodeAll[T any](docs [][]byte, decode func([]byte) (T, error)) decoded[T] {
	evs := make([]T, 0, len(docs))
	for _, doc := range docs {
		ev, err := decode(doc)
		if err != nil {
			return decoded[T]{evs: evs, err: fmt.Errorf("event store: %w", err), docs: len(docs)}
		}
		evs = append(evs, ev)
	}
	return decoded[T]{evs: evs, docs: len(docs)}
}

// merge calls fn with every stored document in time order, on the caller's
// goroutine. A case of more files than a merge reads at once is merged
// in runs first (runs.go).
func (c *Case) merge(hand *handBack, fn func(doc []byte) error) error {
	var srcs []source
	// Events of one instant come in the order of their files' paths.
	for _, f := range c.FilesByPath() {
		if f.Events() == 0 || f.SHA256 == "" {
			continue
		}
		srcs = append(srcs, source{path: f.Path, dir: c.Dir, name: f.SHA256, sorted: !f.TimeOrdered, events: f.Events(), hand: hand})
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
	run    bool      // removed once read
	events int64     // how many the file holds, when known: an unordered file's list is made that long at once
	hand   *handBack // when the merge's reader says which documents it is done with (nil: never)
}

// mergeCursors merges sources in time order, ties in the sources' order;
// a source's buffers are sized for so many read at once.
func mergeCursors(srcs []source, fn func(doc []byte) error) error {
	cursors, err := openCursors(srcs)
	defer func() {
		for _, cur := range cursors {
			cur.close()
		}
	}()
	if err != nil {
		return err
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

// openCursors opens a cursor on each source, its buffers sized for so
// many read at once; those opened are returned with an error.
func openCursors(srcs []source) ([]cursor, error) {
	var cursors []cursor
	bufSize := max(64<<10, min(1<<20, mergeMemory/8/max(len(srcs), 1)))
	window := max(512<<10, min(sortedWindowBytes, mergeMemory/max(len(srcs), 1)))
	readers := &windowReaders{} // the unordered files read their windows one at a time
	unordered := 0
	for _, src := range srcs {
		if src.sorted {
			unordered++
		}
	}
	keep := orderChunk / max(unordered, 1) // their lists share orderMemory
	for _, src := range srcs {
		var cur cursor
		var err error
		if src.sorted {
			cur, err = newSortedCursor(src.dir, src.name, window, readers, src.events, keep, src.hand)
		} else {
			cur, err = newSeqCursor(src.dir, src.name, bufSize, src.run, src.hand)
		}
		if err != nil {
			return cursors, fmt.Errorf("event store for %s: %w", src.path, err)
		}
		cursors = append(cursors, cur)
	}
	return cursors, nil
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
	// bufs are read into block after block: the compressed bytes and the
	// list of lines at once, the decompressed bytes (the documents handed
	// out) once hand says their reader is done with them.
	bufs   blockBuffers
	handed handedBuffers
}

// handedBuffers are the buffers whose documents a cursor handed out,
// oldest first, until hand says their reader is done with them all; at
// most max are kept, a reader further behind letting the collector have
// the oldest.
type handedBuffers struct {
	hand *handBack
	list []handedBlock
	max  int
}

// handedBlock is a buffer whose documents were handed out, the last of
// them as the merge's upTo-th.
type handedBlock struct {
	raw  []byte
	upTo int64
}

// maxHanded bounds the blocks a sequential cursor keeps for reuse.
const maxHanded = 64

// give records that raw's documents, all sent by now, were handed out.
func (h *handedBuffers) give(raw []byte) {
	if raw != nil {
		h.list = append(h.list, handedBlock{raw: raw, upTo: h.hand.sent.Load()})
	}
}

// take is the oldest buffer whose documents are all done with, or nil.
func (h *handedBuffers) take() []byte {
	var raw []byte
	if len(h.list) > 0 && h.list[0].upTo <= h.hand.done.Load() {
		raw = h.list[0].raw
		h.list = h.list[1:]
	}
	if len(h.list) > h.max {
		h.list = h.list[1:]
	}
	return raw
}

func newSeqCursor(caseDir, sha string, bufSize int, removeAfter bool, hand *handBack) (*seqCursor, error) {
	f, c, err := openStoreFile(filepath.Join(caseDir, storeDir), sha)
	if err != nil {
		return nil, err
	}
	return &seqCursor{f: f, br: bufio.NewReaderSize(f, bufSize), codec: c, remove: removeAfter, handed: handedBuffers{hand: hand, max: maxHanded}}, nil
}

func (s *seqCursor) next() ([]byte, error) {
	for len(s.lines) == 0 {
		s.bufs.raw = s.spare()
		lines, err := s.bufs.read(s.br, s.codec)
		if err != nil {
			return nil, err
		}
		s.lines = lines
	}
	doc := s.lines[0]
	s.lines = s.lines[1:]
	return doc, nil
}

// spare is a buffer to read the next block into that no document handed
// out still lies in, or nil. The merge passes a cursor's documents on one
// at a time, so when the cursor reads on, every document of its last block
// has been sent.
func (s *seqCursor) spare() []byte {
	if s.handed.hand == nil {
		return nil
	}
	s.handed.give(s.bufs.raw)
	if raw := s.handed.take(); raw != nil {
		return raw
	}
	// Room for most blocks (those cut at blockBytes run one document
	// over), so that the next reading into it needs no larger one.
	return make([]byte, 0, blockBytes+blockBytes/4)
}

func (s *seqCursor) close() {
	s.f.Close()
	if s.remove {
		os.Remove(s.f.Name())
	}
}

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
