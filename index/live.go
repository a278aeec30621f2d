package index

import (
	"cmp"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/parsers"
)

// ErrNotStreamable says that the evidence could not be read straight into
// a report in time order; ingesting it and streaming the case (Ingest,
// then Stream) gives that order whatever the files hold.
var ErrNotStreamable = errors.New("the evidence cannot be read in time order without storing it first")

// LiveMemory is what the files read at once may hold between them to put
// back in order events their parsers give out of order: a mail log's
// message summary written after the lines it sums up, an EVTX file's
// records written a little out of time order. A file whose events go
// back further than its share holds is not streamed (ErrNotStreamable).
var LiveMemory = 64 << 20 // a variable so that tests can make the windows small

// liveFirstWindow is what a file's window holds until one of its events
// comes out of order: held whole for a file in order, the window's events
// only kept the collector busy (a fifth more CPU on a FortiGate log).
const liveFirstWindow = 1 << 20

// liveBatch events pass between a file's stages at a time.
const liveBatch = 64

// StreamEvidence parses the evidence files all at once and calls fn with
// their events in the order Stream gives after Ingest — time, then the
// files' paths, then each file's own order — without storing them: the
// answer does not wait for a store to be written and read back. Each
// event goes through prepare on the parsing side (on every core) before
// fn sees it, with the fields o.Store keeps and never its original line,
// as a report reads it back from the store. o.OnEvent, if set, is called with
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
	if err := storeFirst(c, inputs, stored, results, o); err != nil {
		return nil, err
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
				src: &source{path: st.Path, dir: c.Dir, name: st.SHA256, sorted: !st.TimeOrdered, events: st.Events(), hand: &handBack{}}})
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

	r := &liveRun[T]{stop: make(chan struct{}), window: LiveMemory / max(len(direct), 1)}
	files := make([]*liveFile[T], len(members))
	next := 0 // the next cursor
	for k, m := range members {
		files[k] = &liveFile[T]{out: make(chan []liveItem[T], 2)}
		r.wg.Add(1)
		if m.src != nil {
			go r.fromStore(m.path, cursors[next], m.src.hand, files[k], decode)
			next++
			continue
		}
		r.wg.Add(1)
		raw := make(chan []*event.Event, 2)
		go r.parse(inputs[m.direct], o.Parse, raw, &results[m.direct])
		go r.order(m.path, raw, files[k], o.Store, prepare, o.OnEvent)
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

// storeFirst ingests the files stored of inputs into c, keeping what
// o.Store keeps; their inputs are read as they are, hashed already, and
// closed; their results are Ingest's.
func storeFirst(c *Case, inputs []*parsers.Input, stored []int, results []*FileResult, o IngestOptions) error {
	if len(stored) == 0 {
		return nil
	}
	var names []string
	opened := map[string]*parsers.Input{}
	for _, i := range stored {
		names = append(names, inputs[i].Path)
		opened[inputs[i].Path] = inputs[i]
		defer inputs[i].Close()
		inputs[i] = nil
	}
	res, err := ingestFiles(c, names, IngestOptions{Parse: o.Parse, Settings: o.Settings, DeferIndex: true, Store: o.Store, OnEvent: o.OnEvent, opened: opened})
	if err != nil {
		return err
	}
	for k, i := range stored {
		results[i] = res[k]
	}
	return nil
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
