package index

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/internal/memlimit"
)

// BatchSize is the number of events written per bleve batch. Measured with
// bench/: 2,000 indexes faster than 5,000 and keeps bleve's interim segments
// (hence peak RSS) a third the size.
const BatchSize = 2000

// BatchText bounds the free text of one batch. bleve holds every token of a
// batch, with its positions, until the batch is written: ~14 bytes per byte
// of text. 2,000 PowerShell script blocks of 45 KB took 1.3 GB of heap
// (a 225 MB log: 3.9 GiB peak RSS, 162 s); Windows events' messages of
// ~400 bytes fill 2,000 documents with 0.8 MB, well under the bound.
var BatchText = 4 << 20

// BeforeIndexBuild and OnIndexBuild, when set (the CLI's progress display),
// hear of an index built on first query.
var (
	BeforeIndexBuild func(events int64)
	OnIndexBuild     func()
)

// Bleve is a case's full-text index: a document per event that has free
// text (messages, command lines, script blocks, error messages, mail
// subjects), its id the event's id. Every other question is answered by the
// columnar store, which joins the ids a text term matches on event.id.
type Bleve struct {
	idx   bleve.Index
	batch *bleve.Batch
	n     int
	text  int // bytes of free text in the batch
	// writing is the batch bleve is writing in the background, if any: its
	// result arrives on done. One batch fills while the previous is
	// analysed and made a segment, which otherwise stopped the caller (the
	// ingest's one store goroutine) for a third of an EVTX ingest.
	writing *bleve.Batch
	done    chan error
	release func() // gives back SegmentFileMemory
	// beforeWrite, when set, runs before a batch goes to bleve: ingest
	// says there which files the index is about to hold part of.
	beforeWrite func() error
	wordsOnce   sync.Once
	words       bool // withWords
}

// SegmentFileMemory is what the full-text index's segment files add to the
// resident size while it is written: bleve maps them into memory and its
// merges read them whole, outside Go's heap (1.5 M Windows events: 100–195
// MiB; the 10 M mix: ~90 MiB beside the binary's own pages). Go's soft
// limit makes room for it while an index is open for writing: that
// ingest's peak went from 545–574 to 468–485 MiB for a few percent more
// time (bench/README, stop 25; 80 MiB then, 100 since stop 27).
const SegmentFileMemory = 100 << 20

// OpenBleve opens the index at dir, creating it if absent.
func OpenBleve(dir string) (*Bleve, error) {
	idx, err := bleve.Open(dir)
	if errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		m, merr := NewMapping()
		if merr != nil {
			return nil, merr
		}
		idx, err = bleve.NewUsing(dir, m, "scorch", "scorch", nil)
	}
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", dir, err)
	}
	return &Bleve{idx: idx, release: memlimit.Beside(SegmentFileMemory)}, nil
}

// OpenText opens a case's full-text index for queries, first indexing what
// `analyze` stored without indexing (BeforeIndexBuild is told how many
// events that is). A case with no text at all has an empty index.
func (c *Case) OpenText() (*Bleve, error) {
	if n := c.IndexPending(); n > 0 {
		if BeforeIndexBuild != nil {
			BeforeIndexBuild(n)
		}
		if err := c.Writing(func() error { return c.BuildIndex(OnIndexBuild) }); err != nil {
			return nil, err
		}
	}
	dir := c.IndexDir()
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		// Ingest always makes the index, even empty: gone, it was lost
		// (deleted, a copy of the case without it). Rebuilt from the event
		// store rather than answering free text with nothing.
		if BeforeIndexBuild != nil {
			BeforeIndexBuild(c.Manifest.Events)
		}
		if err := c.Writing(func() error { return c.rebuildIndex(OnIndexBuild) }); err != nil {
			return nil, err
		}
	}
	idx, err := bleve.OpenUsing(dir, map[string]interface{}{"read_only": true})
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", dir, err)
	}
	return &Bleve{idx: idx}, nil
}

// Add queues an event's free text for indexing, with its time and its
// location loc in the event store (an event without any text is not
// indexed); full batches are written.
func (b *Bleve) Add(ev *event.Event, loc string) error {
	doc, text := TextDocument(ev)
	if doc == nil {
		return nil
	}
	p, err := place(ev, loc)
	if err != nil {
		return err
	}
	setNested(doc, PlaceField, p)
	var worded []any
	for _, k := range TextFields {
		if hasWord(ev.Str(k)) {
			worded = append(worded, k)
		}
	}
	if len(worded) > 0 {
		setNested(doc, WordsField, worded)
	}
	id := ev.Str(event.FieldID)
	if id == "" {
		return fmt.Errorf("event without %s", event.FieldID)
	}
	if b.batch == nil {
		b.batch = b.idx.NewBatch()
	}
	if err := b.batch.Index(id, doc); err != nil {
		return err
	}
	b.n++
	b.text += text
	if b.n >= BatchSize || b.text >= BatchText {
		return b.writeBehind()
	}
	return nil
}

// writeBehind hands the full batch to a goroutine that writes it, once the
// batch before it is written; its error is returned by a later call.
func (b *Bleve) writeBehind() error {
	if err := b.wait(); err != nil {
		return err
	}
	if b.beforeWrite != nil {
		if err := b.beforeWrite(); err != nil {
			return err
		}
	}
	full := b.batch
	b.batch, b.writing = nil, full
	b.n, b.text = 0, 0
	if b.done == nil {
		b.done = make(chan error, 1)
	}
	go func() { b.done <- b.idx.Batch(full) }()
	return nil
}

// wait waits for the batch being written, if any.
func (b *Bleve) wait() error {
	if b.writing == nil {
		return nil
	}
	err := <-b.done
	b.writing = nil
	if err != nil {
		// Said as such: the caller names the event at hand, which need
		// not be in the failed batch.
		return fmt.Errorf("full-text index, writing an earlier batch: %w", err)
	}
	return nil
}

// TextDocument is the bleve document for an event: its free-text fields,
// nested as the mapping walks them, or nil when it has none; text is their
// length in bytes.
func TextDocument(ev *event.Event) (doc map[string]any, text int) {
	for _, k := range TextFields {
		s := ev.Str(k)
		if s == "" {
			continue
		}
		if doc == nil {
			doc = make(map[string]any, 2)
		}
		setNested(doc, k, s)
		text += len(s)
	}
	return doc, text
}

// hasText reports whether an event has free text to index.
func hasText(ev *event.Event) bool {
	for _, k := range TextFields {
		if ev.Str(k) != "" {
			return true
		}
	}
	return false
}

func setNested(doc map[string]any, dotted string, v any) {
	m := doc
	for {
		i := strings.IndexByte(dotted, '.')
		if i < 0 {
			m[dotted] = v
			return
		}
		sub, ok := m[dotted[:i]].(map[string]any)
		if !ok {
			sub = make(map[string]any, 4)
			m[dotted[:i]] = sub
		}
		m = sub
		dotted = dotted[i+1:]
	}
}

// Flush writes the pending batches, and returns once they are written.
func (b *Bleve) Flush() error {
	if err := b.wait(); err != nil {
		return err
	}
	if b.batch == nil || b.n == 0 {
		return nil
	}
	if b.beforeWrite != nil {
		if err := b.beforeWrite(); err != nil {
			return err
		}
	}
	err := b.idx.Batch(b.batch)
	b.batch.Reset()
	b.n, b.text = 0, 0
	return err
}

// Close flushes and closes the index.
func (b *Bleve) Close() error {
	ferr := b.Flush()
	cerr := b.idx.Close()
	if b.release != nil {
		b.release()
	}
	if ferr != nil {
		return ferr
	}
	return cerr
}

// Count returns the number of documents in the index.
func (b *Bleve) Count() (uint64, error) { return b.idx.DocCount() }

// TextMatches calls fn with the id of every event whose free text matches
// one term of a parsed query (a bare word, or a field of kind Text),
// streamed from bleve's searcher in index order: nothing is sorted or held,
// whatever the number of matches. For a phrase these are the events that
// hold all its words: whether in its order is for the caller to check on
// each event (Node.Match), the index holding no positions.
func (b *Bleve) TextMatches(n *Node, fn func(id string) error) error {
	if n.Op != "term" || !IsTextTerm(n) {
		return fmt.Errorf("not a free-text term")
	}
	q, err := termQuery(n, b.withWords())
	if err != nil {
		return err
	}
	ir, s, err := b.searcher(q)
	if err != nil {
		return err
	}
	defer ir.Close()
	defer s.Close()
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0), IndexReader: ir}
	for {
		dm, err := s.Next(sctx)
		if err != nil || dm == nil {
			return err
		}
		id, err := ir.ExternalID(dm.IndexInternalID)
		sctx.DocumentMatchPool.Put(dm)
		if err != nil {
			return err
		}
		if err := fn(id); err != nil {
			return err
		}
	}
}
