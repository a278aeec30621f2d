package index

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
)

// sortedCursor streams an evidence file's events that are not in time
// order: a first pass lists every event's time and place (24 bytes each),
// then windows of events are read in time order.
type sortedCursor struct {
	f      *os.File
	codec  codec
	order  *timeOrder
	part   []posTime // the window's places, reused
	blocks []int64   // offset of each block, by number
	window [][]byte  // the next events in time order, read ahead
	err    error     // what stopped the reading ahead, once the window is out
	// readers are the buffers of the cores reading a window's blocks,
	// shared by the unordered files of one merge.
	readers *windowReaders
	// windowBytes bounds the window: sortedWindowBytes, less when many
	// files are merged at once.
	windowBytes int
	// copies holds the window's events; it is read into again once hand
	// says the merge's reader is done with them (seqCursor.spare).
	copies []byte
	handed handedBuffers
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

// posTime is one event's place in an unordered file: 24 bytes, listed
// for every event of the file (timeorder.go bounds the list's memory).
type posTime struct {
	sec   int64 // unix seconds: any year, unlike nanoseconds
	nsec  int32
	block int32 // its block's number
	idx   int32 // in the block
	size  int32 // of the stored document
}

// events, the file's count when known (else 0), sizes the list at once:
// grown by appending, a list of millions was briefly held twice (7.5 M
// events: 180 MB, and the copy it grew from). A list of at most keep
// places is held in memory, a longer one sorted on disk.
func newSortedCursor(caseDir, sha string, window int, readers *windowReaders, events int64, keep int, hand *handBack) (*sortedCursor, error) {
	f, codec, err := openStoreFile(filepath.Join(caseDir, storeDir), sha)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 1<<20)
	order := newTimeOrder(f.Name(), events, keep)
	fail := func(err error) (*sortedCursor, error) {
		order.close()
		f.Close()
		return nil, err
	}
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
			return fail(err)
		}
		off = cr.n
		if len(blocks) == math.MaxInt32 {
			return fail(fmt.Errorf("event store: more than %d blocks", math.MaxInt32))
		}
		for i, l := range lines {
			sec, nsec := docTime(l)
			if err := order.add(posTime{sec: sec, nsec: nsec, block: int32(len(blocks)), idx: int32(i), size: int32(min(len(l), math.MaxInt32))}); err != nil {
				return fail(err)
			}
		}
		blocks = append(blocks, start)
	}
	if err := order.finish(); err != nil {
		return fail(err)
	}
	return &sortedCursor{f: f, codec: codec, order: order, blocks: blocks, windowBytes: window, readers: readers, handed: handedBuffers{hand: hand, max: 2}}, nil
}

func (s *sortedCursor) next() ([]byte, error) {
	for len(s.window) == 0 {
		if s.err != nil {
			return nil, s.err
		}
		if _, ok := s.order.peek(); !ok {
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
	part, size := s.part[:0], 0
	for {
		p, ok := s.order.peek()
		if !ok || len(part) > 0 && size+int(p.size) > s.windowBytes {
			break
		}
		if err := s.order.take(); err != nil {
			s.err = err // after the window's events, read below
			break
		}
		part = append(part, p)
		size += int(p.size)
	}
	s.part = part
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
	copies := s.spare(size)
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
	s.window = window
}

// spare is room for the next window's copies, size bytes: the buffer of
// a window its reader is done with, or a new one. At most two windows are
// kept for it: the reader is a few batches behind, done with the one
// before last when the next is read.
func (s *sortedCursor) spare(size int) []byte {
	hand := s.handed.hand != nil
	if hand {
		s.handed.give(s.copies)
	}
	s.copies = nil
	if hand {
		if old := s.handed.take(); cap(old) >= size {
			s.copies = old[:size] // every byte is written over: the window's events lie end to end
		}
	}
	if s.copies == nil {
		room := size
		if hand {
			room += size / 8 // the next window's events seldom take the same bytes
		}
		s.copies = make([]byte, size, room)
	}
	return s.copies
}

func (s *sortedCursor) close() {
	s.order.close()
	s.f.Close()
}
