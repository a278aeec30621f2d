package reports

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"iter"
	"os"
	"runtime"
	"sort"
	"sync"
)

// serviceSet is the flow ledger's services in key order, each with its
// pairs in source then destination order: held in memory, or merged from
// runs on disk at every pass when the ledger outgrew its budget. A pass
// streams the pairs; a service is never whole in memory unless its judge
// keeps it so.
type serviceSet struct {
	mem []*service
	// runs hold whole pairs sorted by service. What the first pass learns
	// of each service (first contact, known good) is written to learnt, in
	// the same order, and read back by the passes after it.
	runs   []string
	dir    string
	learnt string
	n      int // services, once a pass has counted them
}

// scan calls begin for each service, pair for each of its pairs in order,
// then end (begin and end may be nil).
func (ss *serviceSet) scan(begin func(*service), pair func(*service, pairRef), end func(*service)) error {
	if begin == nil {
		begin = func(*service) {}
	}
	if end == nil {
		end = func(*service) {}
	}
	if ss.runs == nil {
		for _, s := range ss.mem {
			begin(s)
			for _, pr := range s.pairs {
				pair(s, pr)
			}
			end(s)
		}
		return nil
	}
	first := ss.learnt == ""
	var lw *bufio.Writer
	var lr *bufio.Reader
	var lf *os.File
	var err error
	if first {
		lf, err = os.CreateTemp(ss.dir, "services-*")
		lw = bufio.NewWriterSize(lf, 64<<10)
	} else {
		lf, err = os.Open(ss.learnt)
		lr = bufio.NewReaderSize(lf, 64<<10)
	}
	if err != nil {
		return fmt.Errorf("flow ledger: %w", err)
	}
	defer lf.Close()
	var cur *service
	n := 0
	var buf []byte
	done := func() error {
		end(cur)
		n++
		if first {
			buf = binary.AppendVarint(buf[:0], cur.first)
			if cur.knownGood {
				buf = append(buf, 1)
			} else {
				buf = append(buf, 0)
			}
			_, err := lw.Write(buf)
			return err
		}
		return nil
	}
	err = mergeRuns(ss.runs, func(r *flowRecord) error {
		if cur == nil || cur.key != r.svc {
			if cur != nil {
				if err := done(); err != nil {
					return err
				}
			}
			cur = &service{key: r.svc}
			if !first {
				f, err := binary.ReadVarint(lr)
				if err != nil {
					return fmt.Errorf("flow ledger: services: %w", unexpected(err))
				}
				kg, err := lr.ReadByte()
				if err != nil {
					return fmt.Errorf("flow ledger: services: %w", unexpected(err))
				}
				cur.first, cur.knownGood = f, kg == 1
			}
			begin(cur)
		}
		p := r.flow
		pair(cur, pairRef{r.k, &p})
		return nil
	})
	if err == nil && cur != nil {
		err = done()
	}
	if err == nil && first {
		err = lw.Flush()
		if err == nil {
			ss.learnt = lf.Name()
		}
	}
	if err != nil {
		return fmt.Errorf("flow ledger: %w", err)
	}
	ss.n = n
	return nil
}

// servicesFromRuns merges the ledger's runs pair by pair (the parts of one
// pair come from several runs, in the order written), gives each whole
// pair its service, and sorts the pairs by service into new runs.
func servicesFromRuns(fl *flowLedger) (*serviceSet, error) {
	s := &runSorter{dir: fl.runDir, budget: fl.budget}
	var acc flowRecord
	have := false
	put := func() error {
		if !fl.excludeBuckets(acc.k, &acc.flow) {
			return nil
		}
		acc.svc = serviceKey(acc.flow.domain, acc.k.dst)
		return s.add(&acc)
	}
	err := mergeRuns(fl.runs, func(r *flowRecord) error {
		if have && acc.k == r.k {
			acc.flow.combine(&r.flow)
			return nil
		}
		if have {
			if err := put(); err != nil {
				return err
			}
		}
		acc, have = *r, true
		return nil
	})
	if err == nil && have {
		err = put()
	}
	if err == nil {
		err = s.flush()
	}
	if err != nil {
		return nil, err
	}
	for _, p := range fl.runs {
		os.Remove(p)
	}
	fl.runs, fl.serviceRuns = nil, len(s.runs)
	return &serviceSet{runs: s.runs, dir: fl.runDir}, nil
}

// runSorter writes records to sorted runs of a bounded size. It holds them
// in blocks, each sorted alone (on every core) and merged as the run is
// written: one list grown by appending copied half a million records over
// and over (0.9 s of a 1 M-line analysis, all after its last line was
// read), and one grown by doubling held up to twice the records it had.
// Half the budget fills while the other half is written behind: writing
// a run was a third of the time after the last event, the merge feeding
// the sorter waiting on it.
type runSorter struct {
	dir          string
	budget, held int64
	blocks       [][]flowRecord // the first used are filled in order, each up to sorterBlock
	used         int
	runs         []string
	// behind holds the blocks of the run being written behind (reused once
	// it is), and written says when it is.
	behind  [][]flowRecord
	written chan writtenRun
}

type writtenRun struct {
	path string
	err  error
}

// sorterBlock is how many records a block holds: a variable for the tests.
var sorterBlock = 1 << 14

func (s *runSorter) add(r *flowRecord) error {
	if s.used == 0 || len(s.blocks[s.used-1]) == cap(s.blocks[s.used-1]) {
		if s.used == len(s.blocks) {
			s.blocks = append(s.blocks, make([]flowRecord, 0, sorterBlock))
		}
		s.used++
	}
	last := &s.blocks[s.used-1]
	*last = append(*last, *r)
	s.held += r.cost()
	if s.held > s.budget/2 {
		return s.flushBehind()
	}
	return nil
}

// flush writes the records held to a run, after the one written behind.
func (s *runSorter) flush() error {
	if err := s.wait(); err != nil || s.used == 0 {
		return err
	}
	blocks := s.sorted()
	path, err := writeRun(s.dir, mergeSorted(blocks))
	if err != nil {
		return err
	}
	s.runs = append(s.runs, path)
	emptyBlocks(blocks)
	return nil
}

// flushBehind sorts the records held and writes them to a run on another
// goroutine, the blocks the run before was written from taking theirs.
func (s *runSorter) flushBehind() error {
	if err := s.wait(); err != nil || s.used == 0 {
		return err
	}
	blocks := s.sorted()
	s.blocks, s.behind = s.behind, s.blocks
	done := make(chan writtenRun, 1)
	s.written = done
	go func() {
		path, err := writeRun(s.dir, mergeSorted(blocks))
		emptyBlocks(blocks)
		done <- writtenRun{path, err}
	}()
	return nil
}

// wait waits for the run written behind, if any, and lists it.
func (s *runSorter) wait() error {
	if s.written == nil {
		return nil
	}
	w := <-s.written
	s.written = nil
	if w.err != nil {
		return w.err
	}
	s.runs = append(s.runs, w.path)
	return nil
}

// sorted sorts each block used, on every core, and empties the sorter:
// the blocks returned hold its records.
func (s *runSorter) sorted() [][]flowRecord {
	blocks := s.blocks[:s.used]
	var wg sync.WaitGroup
	next := make(chan []flowRecord, len(blocks))
	for _, b := range blocks {
		next <- b
	}
	close(next)
	for range min(runtime.GOMAXPROCS(0), len(blocks)) {
		wg.Go(func() {
			for b := range next {
				sort.Slice(b, func(i, j int) bool { return b[i].less(&b[j]) })
			}
		})
	}
	wg.Wait()
	s.used, s.held = 0, 0
	return blocks
}

func emptyBlocks(blocks [][]flowRecord) {
	for i := range blocks {
		clear(blocks[i]) // the records' strings and buckets go
		blocks[i] = blocks[i][:0]
	}
}

// mergeSorted yields the records of sorted blocks in order (a pair is one
// record: none are equal).
func mergeSorted(blocks [][]flowRecord) iter.Seq[*flowRecord] {
	return func(yield func(*flowRecord) bool) {
		pos := make([]int, len(blocks))
		// heap holds the blocks with records left, by their next record.
		heap := make([]int, 0, len(blocks))
		less := func(a, b int) bool {
			x, y := &blocks[a][pos[a]], &blocks[b][pos[b]]
			return x.less(y)
		}
		down := func(i int) {
			for {
				c := 2*i + 1
				if c >= len(heap) {
					return
				}
				if c+1 < len(heap) && less(heap[c+1], heap[c]) {
					c++
				}
				if !less(heap[c], heap[i]) {
					return
				}
				heap[i], heap[c] = heap[c], heap[i]
				i = c
			}
		}
		for b := range blocks {
			if len(blocks[b]) > 0 {
				heap = append(heap, b)
			}
		}
		for i := len(heap)/2 - 1; i >= 0; i-- {
			down(i)
		}
		for len(heap) > 0 {
			b := heap[0]
			if !yield(&blocks[b][pos[b]]) {
				return
			}
			if pos[b]++; pos[b] == len(blocks[b]) {
				heap[0] = heap[len(heap)-1]
				heap = heap[:len(heap)-1]
			}
			down(0)
		}
	}
}
