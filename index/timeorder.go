package index

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/exfiltrace/exfiltrace/internal/scratch"
)

// orderMemory bounds the (time, place) lists of a merge's unordered files
// between them. Past it a file's list is sorted in runs of orderChunk
// places written to a scratch directory and merged back as the file
// streams, as an external sort does: held whole, the list grew with the
// file (24 bytes per event: 180 MB for the bench's 7.5 M-event EVTX file,
// the last part of analyze's memory that grew with the evidence; bench/README
// stop 40).
const orderMemory = 64 << 20

// orderChunk is how many places a run holds: what orderMemory holds, one
// file being listed at a time. A variable for the tests.
var orderChunk = orderMemory / posTimeSize

// posTimeSize is a place's size in memory and in a run.
const posTimeSize = 24

func (a posTime) compare(b posTime) int {
	// Ties keep the file's order: (block, idx) is the place in it.
	return cmp.Or(cmp.Compare(a.sec, b.sec), cmp.Compare(a.nsec, b.nsec), cmp.Compare(a.block, b.block), cmp.Compare(a.idx, b.idx))
}

// timeOrder is an unordered file's places in time order: a sorted list in
// memory when the file's fit in its share of orderMemory, else sorted runs
// on disk merged as they are read.
type timeOrder struct {
	list []posTime // being listed, then (when kept) sorted
	i    int       // next of list, when kept
	name string    // the file, for the scratch directory's errors
	dir  string    // the runs' scratch directory, when spilled
	// file holds the runs one after another (one descriptor per unordered
	// file however many runs: a merge reads up to mergeFanIn files at once);
	// ends are where each run ends in it.
	file *os.File
	ends []int64
	runs runHeap
	keep int // a list of at most so many places stays in memory
}

// newTimeOrder starts a list for a file of events places (0: unknown),
// kept in memory when it holds at most keep.
func newTimeOrder(name string, events int64, keep int) *timeOrder {
	return &timeOrder{name: name, keep: keep, list: make([]posTime, 0, min(max(events, 0), int64(orderChunk)))}
}

func (o *timeOrder) add(p posTime) error {
	if len(o.list) == orderChunk {
		if err := o.spill(); err != nil {
			return err
		}
	}
	o.list = append(o.list, p)
	return nil
}

// spill writes the list, sorted, as a run.
func (o *timeOrder) spill() error {
	if o.dir == "" {
		dir, err := scratch.Dir("order")
		if err != nil {
			return fmt.Errorf("sorting %s by time: %w", o.name, err)
		}
		o.dir = dir
	}
	slices.SortFunc(o.list, posTime.compare)
	if o.file == nil {
		f, err := os.Create(filepath.Join(o.dir, "runs"))
		if err != nil {
			return fmt.Errorf("sorting %s by time: %w", o.name, err)
		}
		o.file = f
	}
	w := bufio.NewWriterSize(o.file, 1<<20)
	var rec [posTimeSize]byte
	for _, p := range o.list {
		putPosTime(rec[:], p)
		if _, err := w.Write(rec[:]); err != nil {
			return fmt.Errorf("sorting %s by time (in %s): %w", o.name, o.dir, err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("sorting %s by time (in %s): %w", o.name, o.dir, err)
	}
	o.ends = append(o.ends, o.end()+int64(len(o.list))*posTimeSize)
	o.list = o.list[:0]
	return nil
}

// end is where the last run ends.
func (o *timeOrder) end() int64 {
	if len(o.ends) == 0 {
		return 0
	}
	return o.ends[len(o.ends)-1]
}

// finish ends the listing: the list is sorted in memory, or spilled and
// its runs opened for merging.
func (o *timeOrder) finish() error {
	if o.file == nil && len(o.list) <= o.keep {
		slices.SortFunc(o.list, posTime.compare)
		return nil
	}
	if len(o.list) > 0 {
		if err := o.spill(); err != nil {
			return err
		}
	}
	o.list = nil
	for k, end := range o.ends {
		start := int64(0)
		if k > 0 {
			start = o.ends[k-1]
		}
		r := &runReader{r: bufio.NewReaderSize(io.NewSectionReader(o.file, start, end-start), 32<<10)}
		if ok, err := r.advance(); err != nil {
			return fmt.Errorf("sorting %s by time (in %s): %w", o.name, o.dir, err)
		} else if ok {
			o.runs = append(o.runs, r)
		}
	}
	heap.Init(&o.runs)
	return nil
}

// peek returns the next place without taking it; ok is false at the end.
func (o *timeOrder) peek() (p posTime, ok bool) {
	if o.dir == "" {
		if o.i < len(o.list) {
			return o.list[o.i], true
		}
		return posTime{}, false
	}
	if len(o.runs) == 0 {
		return posTime{}, false
	}
	return o.runs[0].head, true
}

// take moves past the place peek returned.
func (o *timeOrder) take() error {
	if o.dir == "" {
		o.i++
		return nil
	}
	ok, err := o.runs[0].advance()
	if err != nil {
		return fmt.Errorf("sorting %s by time (in %s): %w", o.name, o.dir, err)
	}
	if ok {
		heap.Fix(&o.runs, 0)
	} else {
		heap.Pop(&o.runs)
	}
	return nil
}

// close removes the runs.
func (o *timeOrder) close() {
	if o.file != nil {
		o.file.Close()
	}
	if o.dir != "" {
		os.RemoveAll(o.dir)
	}
}

func putPosTime(b []byte, p posTime) {
	binary.LittleEndian.PutUint64(b[0:], uint64(p.sec))
	binary.LittleEndian.PutUint32(b[8:], uint32(p.nsec))
	binary.LittleEndian.PutUint32(b[12:], uint32(p.block))
	binary.LittleEndian.PutUint32(b[16:], uint32(p.idx))
	binary.LittleEndian.PutUint32(b[20:], uint32(p.size))
}

func getPosTime(b []byte) posTime {
	return posTime{
		sec:   int64(binary.LittleEndian.Uint64(b[0:])),
		nsec:  int32(binary.LittleEndian.Uint32(b[8:])),
		block: int32(binary.LittleEndian.Uint32(b[12:])),
		idx:   int32(binary.LittleEndian.Uint32(b[16:])),
		size:  int32(binary.LittleEndian.Uint32(b[20:])),
	}
}

// runReader reads one sorted run; head is its next place.
type runReader struct {
	r    *bufio.Reader
	head posTime
	rec  [posTimeSize]byte
}

func (r *runReader) advance() (bool, error) {
	_, err := io.ReadFull(r.r, r.rec[:])
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		// A run cut short (ErrUnexpectedEOF) is a fault of the scratch disk.
		return false, err
	}
	r.head = getPosTime(r.rec[:])
	return true, nil
}

type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return h[i].head.compare(h[j].head) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
