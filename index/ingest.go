package index

import (
	"bytes"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/parsers"
)

// IngestOptions control one ingest run.
type IngestOptions struct {
	Parse    parsers.Options
	Settings Settings
	// OnEvent is called from the indexing goroutine for every event indexed
	// (progress display); may be nil. StreamEvidence calls it as each
	// event is read, from several goroutines at once.
	OnEvent func(ev *event.Event)
	// Workers parse files concurrently; 0 means one per CPU.
	Workers int
	// DeferIndex stores events without indexing them: the case's manifest
	// lists the files left for BuildIndex (see deferred.go).
	DeferIndex bool
	// Sink, when set, receives every event as it is stored (the columnar
	// store is written this way).
	Sink EventSink
	// Store, when set, is what the event store keeps of each event: a
	// scratch case that one report reads and then deletes keeps what the
	// report reads (reports.ScratchFields). Such a case is no case to keep:
	// its events lack their original lines.
	Store *event.Selection
	// opened are inputs already open, and so hashed, by path: a file
	// StreamEvidence stores first is not read a second time to be hashed
	// again. Their opener closes them.
	opened map[string]*parsers.Input
}

// EventSink receives each event ingest stores, with its location in the event
// store, and the end of each evidence file before the manifest lists it.
type EventSink interface {
	Add(ev *event.Event, loc string) error
	FilesDone(done []FileMark) error
}

// FileMark says that an evidence file's events, so many, are all written.
type FileMark struct {
	SHA256 string
	Events int64
}

// FileResult is the outcome for one evidence file.
type FileResult struct {
	Stats   *parsers.FileStats `json:"file"`
	Skipped string             `json:"skipped,omitempty"` // why the file was not (re)indexed
	Added   int64              `json:"added"`             // events written to the index
}

type item struct {
	ev   *event.Event
	doc  []byte      // the event as JSON, marshalled by the parsing worker
	done *FileResult // end-of-file marker
	cost int         // the event's share of the in-flight budget
}

// firstSeen decides which of the files of one run holding the same content
// is read: the first in path order, whichever is hashed first, so that a
// second run and StreamEvidence give their events to the same path.
type firstSeen struct {
	mu      sync.Mutex
	cond    *sync.Cond
	paths   []string
	done    []bool
	leading int            // files 0…leading-1 are hashed
	first   map[string]int // the first file hashed of each content
}

func newFirstSeen(paths []string) *firstSeen {
	f := &firstSeen{paths: paths, done: make([]bool, len(paths)), first: map[string]int{}}
	f.cond = sync.NewCond(&f.mu)
	return f
}

// hashed records the hash of the i-th file in path order ("" when it
// could not be opened) and, once every file before it is hashed, says
// whether one of them holds the same content. Files are handed to workers
// in that order, so those before i are each in a worker's hands: the wait
// ends.
func (f *firstSeen) hashed(i int, sha string) (prev string, dup bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done[i] = true
	if j, ok := f.first[sha]; sha != "" && (!ok || i < j) {
		f.first[sha] = i
	}
	for f.leading < len(f.done) && f.done[f.leading] {
		f.leading++
	}
	f.cond.Broadcast()
	for f.leading < i {
		f.cond.Wait()
	}
	if j := f.first[sha]; sha != "" && j < i {
		return f.paths[j], true
	}
	return "", false
}

// Ingest parses evidence files on all cores and indexes their events. A file
// whose SHA-256 is already in the case is skipped, so re-ingesting adds
// nothing; event ids are deterministic, so even a re-parse overwrites rather
// than duplicates. One bad file never stops the others.
func Ingest(c *Case, paths []string, o IngestOptions) ([]*FileResult, error) {
	defer parsers.ReleaseArchives() // the copies of tar members read
	files, _, err := parsers.Expand(paths)
	if err != nil {
		return nil, err
	}
	return ingestFiles(c, files, o)
}

// ingestFiles is Ingest of evidence files already expanded (archive
// members named as such); the results are in the files' order.
func ingestFiles(c *Case, files []string, o IngestOptions) ([]*FileResult, error) {
	if err := c.ForWriting(); err != nil {
		return nil, err
	}
	var idx *Bleve
	var err error
	if o.DeferIndex {
		// The index exists from the first ingest on, so that a missing one
		// means a lost one (OpenText rebuilds it).
		if err := c.ensureIndex(); err != nil {
			return nil, err
		}
	} else {
		// Files an earlier run left unindexed go in first.
		if err := c.BuildIndex(nil); err != nil {
			return nil, err
		}
		if idx, err = OpenBleve(c.IndexDir()); err != nil {
			return nil, err
		}
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	results := make([]*FileResult, len(files))
	items := make(chan item, BatchSize)
	budget := newInflight(InflightBytes)
	jobs := make(chan int)
	var wg sync.WaitGroup
	// Files are handed to the workers in path order, the order in which
	// the store merges files of one instant and StreamEvidence reads them.
	byPath := make([]int, len(files))
	for i := range byPath {
		byPath[i] = i
	}
	slices.SortStableFunc(byPath, func(a, b int) int { return strings.Compare(files[a], files[b]) })
	rank := make([]int, len(files))
	sorted := make([]string, len(files))
	for r, i := range byPath {
		rank[i], sorted[r] = r, files[i]
	}
	seen := newFirstSeen(sorted)
	known := map[string]string{} // snapshot: the manifest is appended to while workers run
	for _, f := range c.Manifest.Files {
		if f.Error == "" {
			known[f.SHA256] = f.Path
		}
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = parseOne(known, rank[i], files[i], o.opened[files[i]], &o.Parse, o.Store, items, budget, seen)
			}
		}()
	}
	go func() {
		for _, i := range byPath {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		close(items)
	}()
	var indexErr error
	var async *asyncSink
	if o.Sink != nil {
		async = newAsyncSink(o.Sink, budget)
		defer async.close()
	}
	writers := map[string]*storeWriter{}
	lastTime := map[string]time.Time{}
	unordered := map[string]bool{}
	stored := map[string]int64{}
	withText := map[string]bool{} // files with free text: the only ones a deferred index needs
	incompleteUnsaved := false    // files begun since the manifest was last written
	defer func() {
		for _, w := range writers {
			w.Abort()
		}
	}()
	// store writes one event to the event store and the full-text index.
	store := func(ev *event.Event, doc []byte) (loc string, err error) {
		sha := ev.Str(event.FieldSHA256)
		w := writers[sha]
		if w == nil {
			if w, err = newStoreWriter(c.Dir, sha); err != nil {
				return "", err
			}
			writers[sha] = w
			if idx != nil && !slices.Contains(c.Manifest.Incomplete, sha) {
				// Saved before the index holds any of its events
				// (idx.beforeWrite), and within a second or so
				// (for stats to name it after a kill).
				c.Manifest.Incomplete = append(c.Manifest.Incomplete, sha)
				incompleteUnsaved = true
			}
		}
		switch {
		case ev.Timestamp.IsZero():
			// A line kept raw, without a time, is read back where the file
			// has it (as analyze reads it, livestages.go): it does not make
			// the whole file one to sort.
		case ev.Timestamp.Before(lastTime[sha]):
			unordered[sha] = true
		default:
			lastTime[sha] = ev.Timestamp
		}
		if loc, err = w.Add(doc); err != nil {
			return "", fmt.Errorf("event store: %w", err)
		}
		stored[sha]++
		if idx == nil && !withText[sha] && hasText(ev) {
			withText[sha] = true
		}
		if idx != nil {
			if err := idx.Add(ev, loc); err != nil {
				return "", fmt.Errorf("indexing %s: %w", ev.Str(event.FieldFile), err)
			}
		}
		return loc, nil
	}
	// Finished files are recorded in groups, at most one a second: making
	// the stores durable and rewriting the manifest once per file made a
	// collection of 2,000 one-line files take 50 s (the manifest alone grew
	// quadratic). A file not yet recorded when a run stops is read again by
	// the next, as one cut short is.
	var pending []*FileResult
	var lastSave time.Time
	save := func() error {
		incompleteUnsaved = false
		err := c.Save()
		lastSave = time.Now()
		return err
	}
	lastGroup := time.Now()
	groupEvery := time.Second
	recordGroup := func() error {
		if len(pending) == 0 {
			return nil
		}
		start := time.Now()
		var marks []FileMark
		done := map[string]bool{}
		for _, r := range pending {
			done[r.Stats.SHA256] = true
			if async != nil && stored[r.Stats.SHA256] > 0 {
				marks = append(marks, FileMark{SHA256: r.Stats.SHA256, Events: stored[r.Stats.SHA256]})
			}
		}
		if len(marks) > 0 {
			if err := async.FilesDone(marks); err != nil {
				return fmt.Errorf("columnar store: %w", err)
			}
		}
		if idx != nil {
			if err := idx.Flush(); err != nil {
				return err
			}
		}
		// An earlier failed attempt on the same file is replaced.
		kept := c.Manifest.Files[:0]
		for _, f := range c.Manifest.Files {
			if f.SHA256 == "" || !done[f.SHA256] {
				kept = append(kept, f)
			}
		}
		c.Manifest.Files = kept
		for _, r := range pending {
			if idx == nil && withText[r.Stats.SHA256] {
				c.Manifest.Unindexed = append(c.Manifest.Unindexed, r.Stats.SHA256)
			}
			r.Added = r.Stats.Events()
			r.Stats.TimeOrdered = !unordered[r.Stats.SHA256]
			c.Manifest.Files = append(c.Manifest.Files, r.Stats)
		}
		c.Manifest.Incomplete = slices.DeleteFunc(c.Manifest.Incomplete, func(s string) bool { return done[s] })
		c.Manifest.Settings = o.Settings
		pending = pending[:0]
		err := save()
		// A manifest of many files takes a while to write: groups space
		// out so that writing it stays a tenth of the run.
		lastGroup = lastSave
		groupEvery = max(time.Second, 10*lastGroup.Sub(start))
		return err
	}
	saveIncomplete := func() error {
		if !incompleteUnsaved {
			return nil
		}
		return save()
	}
	if idx != nil {
		idx.beforeWrite = saveIncomplete
	}
	for it := range items {
		if indexErr != nil {
			budget.release(it.cost)
			continue // drain so workers finish
		}
		if it.ev != nil {
			loc, err := store(it.ev, it.doc)
			switch {
			case err != nil:
				indexErr = err
				budget.release(it.cost)
			case async != nil:
				async.add(it.ev, loc, it.cost) // its goroutine gives the bytes back
			default:
				budget.release(it.cost)
			}
			// Files finished while a long one goes on are not left
			// waiting for its end.
			if err == nil && len(pending) > 0 && time.Since(lastGroup) >= groupEvery {
				indexErr = recordGroup()
			}
			if indexErr == nil && incompleteUnsaved && time.Since(lastSave) >= groupEvery {
				indexErr = saveIncomplete()
			}
			if err == nil && o.OnEvent != nil {
				o.OnEvent(it.ev)
			}
			continue
		}
		// End of one file: its events are in the event store; the other
		// stores and the manifest take it with the next group.
		r := it.done
		if w := writers[r.Stats.SHA256]; w != nil {
			delete(writers, r.Stats.SHA256)
			if err := w.Close(); err != nil {
				indexErr = err
				continue
			}
		}
		pending = append(pending, r)
		if time.Since(lastGroup) >= groupEvery {
			indexErr = recordGroup()
		}
	}
	if indexErr == nil {
		indexErr = recordGroup()
	}
	if idx != nil {
		if err := idx.Close(); err != nil && indexErr == nil {
			indexErr = err
		}
	}
	return results, c.DiskFull(indexErr)
}

// marshalBatch events, or as many as hold marshalBytes of original lines,
// pass from a file's parser to its JSON writer at a time.
const (
	marshalBatch = 128
	marshalBytes = 1 << 20
)

func parseOne(known map[string]string, rank int, path string, in *parsers.Input, po *parsers.Options, store *event.Selection, items chan<- item, budget *inflight, seen *firstSeen) *FileResult {
	if in == nil {
		var err error
		if in, err = parsers.Open(path); err != nil {
			seen.hashed(rank, "")
			return &FileResult{Stats: &parsers.FileStats{Path: path, Error: err.Error()}}
		}
		defer in.Close()
	}
	if prev, dup := seen.hashed(rank, in.SHA256); dup {
		return &FileResult{Stats: &parsers.FileStats{Path: path, Size: in.Size, SHA256: in.SHA256, Archive: in.Archive, ArchiveSHA256: in.ArchiveSHA256}, Skipped: "same content as " + prev + " in this run"}
	}
	if p, ok := known[in.SHA256]; ok {
		return &FileResult{Stats: &parsers.FileStats{Path: path, Size: in.Size, SHA256: in.SHA256, Archive: in.Archive, ArchiveSHA256: in.ArchiveSHA256}, Skipped: "already in case as " + p}
	}
	// Events are written as JSON on a goroutine of their own, in order:
	// for one large file that doubles the cores at work (parsing and JSON
	// each took about half of a worker's time).
	batches := make(chan []*event.Event, 4)
	marshalled := make(chan struct{})
	go func() {
		defer close(marshalled)
		// Each document is written into one reused buffer, then copied
		// out at its size: growing each from empty took a dozen
		// allocations and copies per event (a tenth of a FortiGate
		// ingest's CPU, bench/README).
		var buf []byte
		for b := range batches {
			for _, ev := range b {
				buf, _ = ev.AppendJSONSelected(buf[:0], store) // the event model holds only JSON-safe values
				doc := bytes.Clone(buf)
				budget.acquire(len(doc))
				items <- item{ev: ev, doc: doc, cost: len(doc)}
			}
		}
	}()
	batch := make([]*event.Event, 0, marshalBatch)
	size := 0 // of the batch's original lines: large events go in fewer at a time
	st, err := parsers.Parse(in, po, func(ev *event.Event) {
		batch = append(batch, ev)
		if size += len(ev.Str(event.FieldOriginal)); len(batch) == marshalBatch || size >= marshalBytes {
			batches <- batch
			batch, size = make([]*event.Event, 0, marshalBatch), 0
		}
	})
	if len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	<-marshalled
	r := &FileResult{Stats: st}
	if err != nil && st.Error == "" {
		st.Error = err.Error()
	}
	items <- item{done: r}
	return r
}
