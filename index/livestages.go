package index

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/parsers"
)

// liveRun is one StreamEvidence's goroutines and its first error.
type liveRun[T any] struct {
	stop   chan struct{} // closed at the first error
	once   sync.Once
	mu     sync.Mutex
	err    error
	wg     sync.WaitGroup
	window int // what each file's window may hold
}

func (r *liveRun[T]) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	r.once.Do(func() { close(r.stop) })
}

func (r *liveRun[T]) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// parse reads one file's events into raw, in batches, and its account
// into *res before raw is closed.
func (r *liveRun[T]) parse(in *parsers.Input, po parsers.Options, raw chan<- []*event.Event, res **FileResult) {
	defer r.wg.Done()
	defer close(raw)
	batch := make([]*event.Event, 0, liveBatch)
	send := func() {
		select {
		case raw <- batch:
		case <-r.stop:
			in.Stop() // the parser ends at its next read
		}
		batch = make([]*event.Event, 0, liveBatch)
	}
	st, err := parsers.Parse(in, &po, func(ev *event.Event) {
		if r.stopped() {
			in.Stop()
			return
		}
		if batch = append(batch, ev); len(batch) == liveBatch {
			send()
		}
	})
	if len(batch) > 0 {
		send()
	}
	if err != nil && st.Error == "" {
		st.Error = err.Error()
	}
	*res = &FileResult{Stats: st}
}

// liveFile is one file's events in time order, as its order goroutine
// hands them to the merge.
type liveFile[T any] struct {
	out     chan []liveItem[T]
	cur     []liveItem[T]
	ordered bool // its parser gave them in time order: none went back
}

// order puts one file's events back in time order within the file's
// window, prepares them, and hands them on in batches. Once the file's
// window has grown, its events keep only the fields keep keeps, as they
// would stored: a mail log's window of events held whole took more than
// twice the memory allowed for it, which on 50 M events left the
// collector running without a pause. The copy is not made while the
// window is small: on every event of a firewall log it cost a fifth more
// time.
func (r *liveRun[T]) order(path string, raw <-chan []*event.Event, f *liveFile[T], keep *event.Selection, prepare func(*event.Event) T, onEvent func(*event.Event)) {
	defer r.wg.Done()
	defer close(f.out)
	var w liveWindow[T]
	limit := min(r.window, liveFirstWindow)
	var seq int64
	var latest, emitted liveItem[T] // the latest time read, the last handed on
	readAny, emittedAny := false, false
	f.ordered = true
	out := make([]liveItem[T], 0, liveBatch)
	flush := func() bool {
		if len(out) == 0 {
			return true
		}
		if !r.hand(f, out) {
			return false
		}
		out = make([]liveItem[T], 0, liveBatch)
		return true
	}
	emit := func() bool {
		it := w.pop()
		emitted, emittedAny = it, true
		out = append(out, it)
		return len(out) < liveBatch || flush()
	}
	for b := range raw {
		if r.stopped() {
			continue // the parser stops at its next read
		}
		for _, ev := range b {
			it := liveItem[T]{sec: ev.Timestamp.Unix(), nsec: int32(ev.Timestamp.Nanosecond()), seq: seq}
			seq++
			undated := ev.Timestamp.IsZero()
			if undated && readAny {
				// A line kept raw (unreadable, cut by a read error) has no
				// time: it goes on where the file has it, after the latest
				// event read, instead of "back" to year 1 — which made
				// one stray line send a whole log through the store.
				it.sec, it.nsec = latest.sec, latest.nsec
			}
			switch {
			case undated: // neither out of order nor the latest
			case readAny && it.before(&latest):
				f.ordered, limit = false, r.window
			default:
				latest, readAny = it, true
			}
			if emittedAny && it.before(&emitted) {
				r.fail(fmt.Errorf("%w: %s: an event of %s comes after one of %s already passed on (a window of %d KB of its events)", ErrNotStreamable, path,
					ev.Timestamp.UTC().Format(time.RFC3339), time.Unix(emitted.sec, int64(emitted.nsec)).UTC().Format(time.RFC3339), limit>>10))
				break
			}
			if onEvent != nil {
				onEvent(ev)
			}
			delete(ev.Fields, event.FieldOriginal)
			if limit > liveFirstWindow {
				ev.Trim(keep) // held a while: worth its copy
			}
			it.cost = 96 + 64*len(ev.Fields)
			it.v = prepare(ev)
			w.push(it)
			for w.cost > limit && len(w.items) > 1 {
				if !emit() {
					break
				}
			}
		}
	}
	for len(w.items) > 0 && !r.stopped() {
		if !emit() {
			return
		}
	}
	if !r.stopped() {
		flush()
	}
}

// fromStore hands on one stored file's events in time order, decoded on
// every core a batch at a time (decoding them one after the other on one
// goroutine left a core idle while an EVTX log's 1.5 M events came first
// in time, bench/README): hand tells the cursor which documents were
// decoded, in order, and it reads its blocks into the same buffers.
func (r *liveRun[T]) fromStore(path string, cur cursor, hand *handBack, f *liveFile[T], decode func([]byte) (T, error)) {
	defer r.wg.Done()
	defer close(f.out)
	defer cur.close()
	type batch struct {
		docs  [][]byte
		items []liveItem[T] // times and places; decoded values filled in by work
	}
	type result struct {
		items []liveItem[T]
		docs  int
		err   error
	}
	seq := int64(0)
	produce := func(send func(batch) bool) error {
		b := batch{docs: make([][]byte, 0, liveBatch), items: make([]liveItem[T], 0, liveBatch)}
		for !r.stopped() {
			doc, err := cur.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			hand.sent.Add(1)
			sec, nsec := docTime(doc)
			b.docs = append(b.docs, doc)
			b.items = append(b.items, liveItem[T]{sec: sec, nsec: nsec, seq: seq})
			seq++
			if len(b.docs) == liveBatch {
				if !send(b) {
					return nil
				}
				b = batch{docs: make([][]byte, 0, liveBatch), items: make([]liveItem[T], 0, liveBatch)}
			}
		}
		if len(b.docs) > 0 && !r.stopped() {
			send(b)
		}
		return nil
	}
	work := func(b batch) result {
		for i, doc := range b.docs {
			v, err := decode(doc)
			if err != nil {
				return result{items: b.items[:i], docs: len(b.docs), err: err}
			}
			b.items[i].v = v
		}
		return result{items: b.items, docs: len(b.docs)}
	}
	err := inOrder(liveAhead, produce, work, func(res result) error {
		// Decoded, in order: their blocks may be read into again.
		hand.done.Add(int64(res.docs))
		if res.err != nil {
			return res.err
		}
		if !r.hand(f, res.items) {
			return errStopped
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStopped) {
		r.fail(fmt.Errorf("event store for %s: %w", path, err))
	}
}

// liveAhead batches per core at most are decoded ahead of the merge.
const liveAhead = 2

// hand passes a batch of a file's events on to the merge; false when the
// run stopped first.
func (r *liveRun[T]) hand(f *liveFile[T], out []liveItem[T]) bool {
	select {
	case f.out <- out:
		return true
	case <-r.stop:
		return false
	}
}
