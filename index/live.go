package index

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/parsers"
)

// ErrNotStreamable says that the evidence could not be read straight into
// a report in time order; ingesting it and streaming the case (Ingest,
// then Stream) gives that order whatever the files hold.
var ErrNotStreamable = errors.New("the evidence cannot be read in time order without storing it first")

// liveMemory is what the files read at once may hold between them to put
// back in order events their parsers give out of order: a mail log's
// message summary written after the lines it sums up, an EVTX file's
// records written a little out of time order. A file whose events go
// back further than its share holds is not streamed (ErrNotStreamable).
var liveMemory = 64 << 20 // a variable for the tests

// liveFirstWindow is what a file's window holds until one of its events
// comes out of order: held whole for a file in order, the window's events
// only kept the collector busy (a fifth more CPU on a FortiGate log).
const liveFirstWindow = 1 << 20

// liveBatch events pass between a file's stages at a time.
const liveBatch = 64

// liveItem is one prepared event and where it sorts.
type liveItem[T any] struct {
	sec  int64
	nsec int32
	seq  int64 // the event's place in its file
	cost int
	v    T
}

func (a *liveItem[T]) before(b *liveItem[T]) bool {
	if a.sec != b.sec {
		return a.sec < b.sec
	}
	if a.nsec != b.nsec {
		return a.nsec < b.nsec
	}
	return a.seq < b.seq
}

// StreamEvidence parses the evidence files all at once and calls fn with
// their events in the order Stream gives after Ingest — time, then the
// files' paths, then each file's own order — without storing them: the
// answer does not wait for a store to be written and read back. Each
// event goes through prepare on the parsing side (on every core) before
// fn sees it, without its original line, as a report reads it back from
// the store (event.ExceptOriginal). o.OnEvent, if set, is called with
// each event as it is read, from the files' goroutines at once.
//
// A file known from its structure to go back in time (an EVTX log that
// wrapped around) is ingested into c first, keeping what o.Store keeps,
// and its stored events go through decode instead, read back in time
// order beside the others. On success the case's manifest lists every
// file as Ingest would (the files read straight in memory only: the case
// holds none of their events, so it is no case to keep).
//
// When a file's events go back in time further than its window holds, or
// there are more files than are read at once, it fails with an error
// wrapping ErrNotStreamable, perhaps after fn has seen some events: the
// caller starts again through the store, in a new case. Every file is
// then read again; a stop is made at the file's next read, not at its
// end.
func StreamEvidence[T any](c *Case, paths []string, o IngestOptions, prepare func(*event.Event) T, decode func([]byte) (T, error), fn func(T) error) ([]*FileResult, error) {
	defer parsers.ReleaseArchives()
	if len(c.Manifest.Files) > 0 {
		return nil, fmt.Errorf("%w: the case already holds evidence", ErrNotStreamable)
	}
	names, _, err := parsers.Expand(paths)
	if err != nil {
		return nil, err
	}
	if len(names) > mergeFanIn {
		return nil, fmt.Errorf("%w: %d files, more than the %d read at once", ErrNotStreamable, len(names), mergeFanIn)
	}
	results := make([]*FileResult, len(names))
	inputs := openAll(names, results)
	defer func() {
		for _, in := range inputs {
			if in != nil {
				in.Close()
			}
		}
	}()
	// The same content under two paths is read once, under the first path
	// in order (the store merges files of one instant in path order).
	order := make([]int, 0, len(names))
	for i, in := range inputs {
		if in != nil {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(inputs[a].Path, inputs[b].Path) })
	first := map[string]string{}
	live := order[:0]
	for _, i := range order {
		in := inputs[i]
		if p, dup := first[in.SHA256]; dup {
			results[i] = &FileResult{Stats: &parsers.FileStats{Path: in.Path, Size: in.Size, SHA256: in.SHA256, Archive: in.Archive, ArchiveSHA256: in.ArchiveSHA256}, Skipped: "same content as " + p + " in this run"}
			continue
		}
		first[in.SHA256] = in.Path
		live = append(live, i)
	}
	// A file known from its structure to go back in time (an EVTX log
	// that wrapped around) is stored first, as Ingest stores it, and read
	// back in time order beside the others: the rest of the evidence is
	// still read straight.
	var direct, stored []int
	for _, i := range live {
		if parsers.OutOfTimeOrder(inputs[i]) != "" {
			stored = append(stored, i)
		} else {
			direct = append(direct, i)
		}
	}
	if len(stored) > 0 {
		var names []string
		for _, i := range stored {
			names = append(names, inputs[i].Path)
			inputs[i].Close()
			inputs[i] = nil
		}
		res, err := ingestFiles(c, names, IngestOptions{Parse: o.Parse, Settings: o.Settings, DeferIndex: true, Store: o.Store, OnEvent: o.OnEvent})
		if err != nil {
			return nil, err
		}
		for k, i := range stored {
			results[i] = res[k]
		}
	}

	// Every file, read straight or from the store, in path order: ties of
	// one instant go in that order, as in Stream.
	type member struct {
		path   string
		sha    string
		direct int // the file's index, or -1
		src    *source
	}
	var members []member
	for _, i := range direct {
		members = append(members, member{path: inputs[i].Path, sha: inputs[i].SHA256, direct: i})
	}
	for _, i := range stored {
		if st := results[i].Stats; st.Events() > 0 && st.SHA256 != "" {
			members = append(members, member{path: st.Path, sha: st.SHA256, direct: -1,
				src: &source{path: st.Path, dir: c.Dir, name: st.SHA256, sorted: !st.TimeOrdered, events: st.Events()}})
		}
	}
	slices.SortStableFunc(members, func(a, b member) int { return cmp.Or(strings.Compare(a.path, b.path), strings.Compare(a.sha, b.sha)) })
	var srcs []source
	for _, m := range members {
		if m.src != nil {
			srcs = append(srcs, *m.src)
		}
	}
	cursors, err := openCursors(srcs)
	if err != nil {
		for _, cur := range cursors {
			cur.close()
		}
		return nil, err
	}

	r := &liveRun[T]{stop: make(chan struct{}), window: liveMemory / max(len(direct), 1)}
	files := make([]*liveFile[T], len(members))
	next := 0 // the next cursor
	for k, m := range members {
		files[k] = &liveFile[T]{out: make(chan []liveItem[T], 2)}
		r.wg.Add(1)
		if m.src != nil {
			go r.fromStore(m.path, cursors[next], files[k], decode)
			next++
			continue
		}
		r.wg.Add(1)
		raw := make(chan []*event.Event, 2)
		go r.parse(inputs[m.direct], o.Parse, raw, &results[m.direct])
		go r.order(m.path, raw, files[k], prepare, o.OnEvent)
	}
	err = r.merge(files, fn)
	if err != nil {
		r.fail(err)
	}
	r.wg.Wait()
	if r.err != nil {
		return nil, r.err
	}
	for k, m := range members {
		if m.direct < 0 {
			continue // in the manifest since it was stored
		}
		res := results[m.direct]
		res.Stats.TimeOrdered = files[k].ordered
		res.Added = res.Stats.Events()
		c.Manifest.Files = append(c.Manifest.Files, res.Stats)
	}
	c.Manifest.Settings = o.Settings
	c.Manifest.tally()
	return results, nil
}

// fromStore hands on one stored file's events in time order, decoded.
func (r *liveRun[T]) fromStore(path string, cur cursor, f *liveFile[T], decode func([]byte) (T, error)) {
	defer r.wg.Done()
	defer close(f.out)
	defer cur.close()
	out := make([]liveItem[T], 0, liveBatch)
	send := func() bool {
		select {
		case f.out <- out:
			out = make([]liveItem[T], 0, liveBatch)
			return true
		case <-r.stop:
			return false
		}
	}
	for seq := int64(0); !r.stopped(); seq++ {
		doc, err := cur.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			sec, nsec := docTime(doc)
			it := liveItem[T]{sec: sec, nsec: nsec, seq: seq}
			if it.v, err = decode(doc); err == nil {
				out = append(out, it)
			}
		}
		if err != nil {
			r.fail(fmt.Errorf("event store for %s: %w", path, err))
			return
		}
		if len(out) == liveBatch && !send() {
			return
		}
	}
	if len(out) > 0 && !r.stopped() {
		send()
	}
}

// openAll opens (and so hashes) the files on every core; a file that does
// not open has its result say why.
func openAll(names []string, results []*FileResult) []*parsers.Input {
	inputs := make([]*parsers.Input, len(names))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				in, err := parsers.Open(names[i])
				if err != nil {
					results[i] = &FileResult{Stats: &parsers.FileStats{Path: names[i], Error: err.Error()}}
					continue
				}
				inputs[i] = in
			}
		}()
	}
	for i := range names {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return inputs
}

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
// window, prepares them, and hands them on in batches.
func (r *liveRun[T]) order(path string, raw <-chan []*event.Event, f *liveFile[T], prepare func(*event.Event) T, onEvent func(*event.Event)) {
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
		select {
		case f.out <- out:
			out = make([]liveItem[T], 0, liveBatch)
			return true
		case <-r.stop:
			return false
		}
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
			if readAny && it.before(&latest) {
				f.ordered, limit = false, r.window
			} else {
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

// merge hands fn the files' events in time order, ties in the files'
// order (their paths').
func (r *liveRun[T]) merge(files []*liveFile[T], fn func(T) error) error {
	next := func(i int) bool {
		f := files[i]
		for len(f.cur) == 0 {
			select {
			case b, ok := <-f.out:
				if !ok {
					return false
				}
				f.cur = b
			case <-r.stop:
				return false
			}
		}
		return true
	}
	// heads is a min-heap of the files with events left, by their next.
	var heads []int
	less := func(a, b int) bool {
		x, y := &files[heads[a]].cur[0], &files[heads[b]].cur[0]
		if x.sec != y.sec {
			return x.sec < y.sec
		}
		if x.nsec != y.nsec {
			return x.nsec < y.nsec
		}
		return heads[a] < heads[b]
	}
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(heads) {
				return
			}
			m := l
			if r := l + 1; r < len(heads) && less(r, l) {
				m = r
			}
			if !less(m, i) {
				return
			}
			heads[i], heads[m] = heads[m], heads[i]
			i = m
		}
	}
	for i := range files {
		if next(i) {
			heads = append(heads, i)
		}
	}
	for i := len(heads)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for len(heads) > 0 {
		if r.stopped() {
			return nil // the error is the run's
		}
		f := files[heads[0]]
		v := f.cur[0].v
		f.cur = f.cur[1:]
		if err := fn(v); err != nil {
			return err
		}
		if !next(heads[0]) {
			if r.stopped() {
				return nil
			}
			heads[0] = heads[len(heads)-1]
			heads = heads[:len(heads)-1]
		}
		down(0)
	}
	return nil
}

// liveWindow is a min-heap of one file's events by time, then place.
type liveWindow[T any] struct {
	items []liveItem[T]
	cost  int
}

func (w *liveWindow[T]) push(it liveItem[T]) {
	w.items = append(w.items, it)
	w.cost += it.cost
	i := len(w.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !w.items[i].before(&w.items[p]) {
			break
		}
		w.items[i], w.items[p] = w.items[p], w.items[i]
		i = p
	}
}

func (w *liveWindow[T]) pop() liveItem[T] {
	top := w.items[0]
	last := len(w.items) - 1
	w.items[0] = w.items[last]
	var zero liveItem[T]
	w.items[last] = zero // the event is not kept alive by the window's array
	w.items = w.items[:last]
	w.cost -= top.cost
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(w.items) {
			break
		}
		m := l
		if r := l + 1; r < len(w.items) && w.items[r].before(&w.items[l]) {
			m = r
		}
		if !w.items[m].before(&w.items[i]) {
			break
		}
		w.items[i], w.items[m] = w.items[m], w.items[i]
		i = m
	}
	return top
}
