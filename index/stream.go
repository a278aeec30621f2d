package index

import (
	"bufio"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Stream calls fn with every event of the case in time order (then file
// order), read from the event store, not the index. Files whose events are in
// time order are streamed; the others are ordered through a sort of their
// (time, position) pairs, 24 bytes per event. Reading, decoding and merging
// run on their own goroutine, a few batches ahead of fn, so the two overlap
// on two cores; memory does not otherwise grow with the case.
func (c *Case) Stream(fn func(*event.Event) error) error {
	batches := make(chan []*event.Event, streamAhead)
	stop := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(batches)
		batch := make([]*event.Event, 0, streamBatch)
		send := func() bool {
			select {
			case batches <- batch:
				batch = make([]*event.Event, 0, streamBatch)
				return true
			case <-stop:
				return false
			}
		}
		errc <- c.merge(func(ev *event.Event) error {
			if batch = append(batch, ev); len(batch) == streamBatch && !send() {
				return errStopped
			}
			return nil
		})
		if len(batch) > 0 {
			send()
		}
	}()
	for b := range batches {
		for _, ev := range b {
			if err := fn(ev); err != nil {
				close(stop)
				for range batches { // let the reader see stop and end
				}
				<-errc
				return err
			}
		}
	}
	return <-errc
}

// streamBatch events go to fn at a time, streamAhead batches at most ahead.
const (
	streamBatch = 256
	streamAhead = 4
)

var errStopped = errors.New("stream stopped")

// merge calls fn with every event in time order, on the caller's goroutine.
func (c *Case) merge(fn func(*event.Event) error) error {
	var cursors []cursor
	defer func() {
		for _, cur := range cursors {
			cur.close()
		}
	}()
	for _, f := range c.Manifest.Files {
		if f.Events() == 0 || f.SHA256 == "" {
			continue
		}
		var cur cursor
		var err error
		if f.TimeOrdered {
			cur, err = newSeqCursor(c.Dir, f.SHA256)
		} else {
			cur, err = newSortedCursor(c.Dir, f.SHA256)
		}
		if err != nil {
			return fmt.Errorf("event store for %s: %w", f.Path, err)
		}
		cursors = append(cursors, cur)
	}
	h := &evHeap{}
	for i, cur := range cursors {
		ev, err := cur.next()
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if ev != nil {
			heap.Push(h, heapItem{ev: ev, src: i})
		}
	}
	for h.Len() > 0 {
		it := heap.Pop(h).(heapItem)
		if err := fn(it.ev); err != nil {
			return err
		}
		ev, err := cursors[it.src].next()
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if ev != nil {
			heap.Push(h, heapItem{ev: ev, src: it.src})
		}
	}
	return nil
}

type cursor interface {
	next() (*event.Event, error)
	close()
}

func decodeEvent(doc []byte) (*event.Event, error) { return event.DecodeJSON(doc) }

type seqCursor struct {
	f     *os.File
	br    *bufio.Reader
	codec codec
	lines [][]byte
}

func newSeqCursor(caseDir, sha string) (*seqCursor, error) {
	f, c, err := openStoreFile(filepath.Join(caseDir, storeDir), sha)
	if err != nil {
		return nil, err
	}
	return &seqCursor{f: f, br: bufio.NewReaderSize(f, 1<<20), codec: c}, nil
}

func (s *seqCursor) next() (*event.Event, error) {
	for len(s.lines) == 0 {
		lines, err := readBlock(s.br, s.codec)
		if err != nil {
			return nil, err
		}
		s.lines = lines
	}
	doc := s.lines[0]
	s.lines = s.lines[1:]
	return decodeEvent(doc)
}

func (s *seqCursor) close() { s.f.Close() }

type sortedCursor struct {
	r     *storeReader
	name  string
	order []posTime
	i     int
}

type posTime struct {
	t   int64 // unix ns
	off int64
	idx int32
}

func newSortedCursor(caseDir, sha string) (*sortedCursor, error) {
	f, codec, err := openStoreFile(filepath.Join(caseDir, storeDir), sha)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var order []posTime
	var off int64
	cr := &countReader{r: br}
	for {
		start := off
		lines, err := readBlock(cr, codec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		off = cr.n
		for i, l := range lines {
			var ts struct {
				T string `json:"@timestamp"`
			}
			json.Unmarshal(l, &ts)
			t, _ := time.Parse(time.RFC3339Nano, ts.T)
			var ns int64
			if !t.IsZero() {
				ns = t.UnixNano()
			}
			order = append(order, posTime{t: ns, off: start, idx: int32(i)})
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].t < order[j].t })
	return &sortedCursor{r: newStoreReader(caseDir), name: sha, order: order}, nil
}

func (s *sortedCursor) next() (*event.Event, error) {
	if s.i >= len(s.order) {
		return nil, io.EOF
	}
	p := s.order[s.i]
	s.i++
	doc, err := s.r.Get(fmt.Sprintf("%s/%d/%d", s.name, p.off, p.idx))
	if err != nil {
		return nil, err
	}
	return decodeEvent(doc)
}

func (s *sortedCursor) close() { s.r.Close() }

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
	ev  *event.Event
	src int
}

type evHeap []heapItem

func (h evHeap) Len() int { return len(h) }
func (h evHeap) Less(i, j int) bool {
	if !h[i].ev.Timestamp.Equal(h[j].ev.Timestamp) {
		return h[i].ev.Timestamp.Before(h[j].ev.Timestamp)
	}
	return h[i].src < h[j].src
}
func (h evHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *evHeap) Push(x any)   { *h = append(*h, x.(heapItem)) }
func (h *evHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
