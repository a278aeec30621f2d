package reports

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"sort"
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

// runSorter writes records to sorted runs of a bounded size.
type runSorter struct {
	dir          string
	budget, held int64
	recs         []flowRecord
	runs         []string
}

func (s *runSorter) add(r *flowRecord) error {
	s.recs = append(s.recs, *r)
	s.held += r.cost()
	if s.held > s.budget {
		return s.flush()
	}
	return nil
}

func (s *runSorter) flush() error {
	if len(s.recs) == 0 {
		return nil
	}
	sort.Slice(s.recs, func(i, j int) bool { return s.recs[i].less(&s.recs[j]) })
	path, err := writeRun(s.dir, func(yield func(*flowRecord) bool) {
		for i := range s.recs {
			if !yield(&s.recs[i]) {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	s.runs = append(s.runs, path)
	s.recs, s.held = slices.Delete(s.recs, 0, len(s.recs)), 0
	return nil
}
