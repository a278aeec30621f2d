package index

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/exfiltrace/exfiltrace/event"
)

// BatchSize is the number of events written per bleve batch. Measured with
// bench/: 2,000 indexes faster than 5,000 and keeps bleve's interim segments
// (hence peak RSS) a third the size.
const BatchSize = 2000

// BeforeIndexBuild and OnIndexBuild, when set (the CLI's progress display),
// hear of an index built on first query.
var (
	BeforeIndexBuild func(events int64)
	OnIndexBuild     func()
)

// Bleve is a case's embedded index.
type Bleve struct {
	idx   bleve.Index
	batch *bleve.Batch
	n     int
	store *storeReader // resolves hits to whole events (read-only opens)
	owner *Case        // closed with the index (read-only opens)
	// hidden are evidence files an interrupted ingest left partly indexed.
	hidden []string
}

// visible keeps a query's hits to the evidence files the case completed.
func (b *Bleve) visible(q query.Query) query.Query {
	if len(b.hidden) == 0 {
		return q
	}
	bq := bleve.NewBooleanQuery()
	bq.AddMust(q)
	for _, sha := range b.hidden {
		t := bleve.NewTermQuery(sha)
		t.SetField(event.FieldSHA256)
		bq.AddMustNot(t)
	}
	return bq
}

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
	return &Bleve{idx: idx}, nil
}

// OpenReadOnly opens a case's index and event store for queries, first
// indexing what `analyze` stored without indexing (BeforeIndexBuild is told
// how many events that is).
func (c *Case) OpenReadOnly() (*Bleve, error) {
	if n := c.IndexPending(); n > 0 {
		if BeforeIndexBuild != nil {
			BeforeIndexBuild(n)
		}
		if err := c.Writing(func() error { return c.BuildIndex(OnIndexBuild) }); err != nil {
			return nil, err
		}
	}
	dir := c.IndexDir()
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("no index in case (%s): run `exfiltrace ingest` first", dir)
	}
	idx, err := bleve.OpenUsing(dir, map[string]interface{}{"read_only": true})
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", dir, err)
	}
	return &Bleve{idx: idx, store: newStoreReader(c.Dir), owner: c, hidden: c.Manifest.Incomplete}, nil
}

// Add queues an event stored at loc in the event store; full batches are written.
func (b *Bleve) Add(ev *event.Event, loc string) error {
	if b.batch == nil {
		b.batch = b.idx.NewBatch()
	}
	doc := Document(ev, loc)
	id := ev.Str(event.FieldID)
	if id == "" {
		return fmt.Errorf("event without %s", event.FieldID)
	}
	if err := b.batch.Index(id, doc); err != nil {
		return err
	}
	b.n++
	if b.n >= BatchSize {
		return b.Flush()
	}
	return nil
}

// Document is the bleve document for an event: the indexed fields, nested as
// the mapping walks them, and the event's location in the event store.
func Document(ev *event.Event, loc string) map[string]any {
	doc := make(map[string]any, 24)
	for k, v := range ev.Fields {
		kind, ok := Fields[k]
		if !ok {
			continue
		}
		if n, isNum := v.(int64); isNum && kind != Number {
			v = strconv.FormatInt(n, 10) // keyword fields index the decimal form
		}
		if b, isBool := v.(bool); isBool {
			v = strconv.FormatBool(b)
		}
		setNested(doc, k, v)
	}
	if !ev.Timestamp.IsZero() {
		doc["@timestamp"] = ev.Timestamp.UTC()
	}
	doc[LocField] = loc
	return doc
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

// Flush writes the pending batch.
func (b *Bleve) Flush() error {
	if b.batch == nil || b.n == 0 {
		return nil
	}
	err := b.idx.Batch(b.batch)
	b.batch.Reset()
	b.n = 0
	return err
}

// Close flushes and closes the index.
func (b *Bleve) Close() error {
	if b.store != nil {
		b.store.Close()
	}
	if b.owner != nil {
		defer b.owner.Close() // the case stays locked while its index is read
	}
	ferr := b.Flush()
	cerr := b.idx.Close()
	if ferr != nil {
		return ferr
	}
	return cerr
}

// Count returns the number of documents in the index.
func (b *Bleve) Count() (uint64, error) { return b.idx.DocCount() }

// Search streams matching events in time order (then by id), up to limit
// (0 = all), and returns the total number of matches.
func (b *Bleve) Search(q string, limit int, fn func(*event.Event) error) (uint64, error) {
	bq, err := ParseQuery(q)
	if err != nil {
		return 0, err
	}
	bq = b.visible(bq)
	const page = 1000
	var after []string
	var total uint64
	sent := 0
	for {
		size := page
		if limit > 0 && limit-sent < size {
			size = limit - sent
		}
		if size <= 0 {
			return total, nil
		}
		req := bleve.NewSearchRequestOptions(bq, size, 0, false)
		req.SortBy([]string{"@timestamp", "_id"})
		req.Fields = []string{LocField}
		if after != nil {
			req.SearchAfter = after
		}
		res, err := b.idx.Search(req)
		if err != nil {
			return total, err
		}
		total = res.Total
		for _, h := range res.Hits {
			ev, err := b.hitEvent(h)
			if err != nil {
				return total, err
			}
			if err := fn(ev); err != nil {
				return total, err
			}
			sent++
		}
		if len(res.Hits) < size {
			return total, nil
		}
		last := res.Hits[len(res.Hits)-1]
		after = last.Sort
	}
}

func (b *Bleve) hitEvent(h *search.DocumentMatch) (*event.Event, error) {
	loc, ok := h.Fields[LocField].(string)
	if !ok {
		return nil, fmt.Errorf("document %s has no event location", h.ID)
	}
	if b.store == nil {
		return nil, fmt.Errorf("index opened without its event store")
	}
	src, err := b.store.Get(loc)
	if err != nil {
		return nil, fmt.Errorf("document %s: %w", h.ID, err)
	}
	ev, err := event.DecodeJSON(src)
	if err != nil {
		return nil, fmt.Errorf("document %s: %w", h.ID, err)
	}
	return ev, nil
}

// TopRow is one value of a top-N table.
type TopRow struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
	Sum   int64  `json:"sum,omitempty"`
	// SumSeen counts events that carried the summed field.
	SumSeen int64     `json:"sum_events,omitempty"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
}

// Top groups matching events by field and counts them, optionally summing a
// numeric field, ordered by sum (if any) then count.
func (b *Bleve) Top(field, sumField, q string, n int) ([]TopRow, uint64, error) {
	rows := map[string]*TopRow{}
	total, err := b.Scan(q, func(ev *event.Event) error {
		vals := ev.Strings(field)
		if len(vals) == 0 {
			return nil
		}
		for _, v := range vals {
			r := rows[v]
			if r == nil {
				r = &TopRow{Value: v}
				rows[v] = r
			}
			r.Count++
			if sumField != "" {
				if s, ok := ev.Int(sumField); ok {
					r.Sum += s
					r.SumSeen++
				}
			}
			if r.First.IsZero() || ev.Timestamp.Before(r.First) {
				r.First = ev.Timestamp
			}
			if ev.Timestamp.After(r.Last) {
				r.Last = ev.Timestamp
			}
		}
		return nil
	})
	if err != nil {
		return nil, total, err
	}
	out := make([]TopRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Sum != out[j].Sum {
			return out[i].Sum > out[j].Sum
		}
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out, total, nil
}

// FacetCount counts matching documents per value of an indexed keyword field.
func (b *Bleve) FacetCount(field, q string, n int) (map[string]int, uint64, error) {
	bq, err := ParseQuery(q)
	if err != nil {
		return nil, 0, err
	}
	bq = b.visible(bq)
	req := bleve.NewSearchRequestOptions(bq, 0, 0, false)
	req.AddFacet(field, bleve.NewFacetRequest(field, n))
	res, err := b.idx.Search(req)
	if err != nil {
		return nil, 0, err
	}
	out := map[string]int{}
	if f := res.Facets[field]; f != nil && f.Terms != nil {
		for _, t := range f.Terms.Terms() {
			out[t.Term] = t.Count
		}
		if f.Other > 0 {
			out["(other)"] = f.Other
		}
	}
	return out, res.Total, nil
}

// CaseStats are the counts behind `exfiltrace stats`.
type CaseStats struct {
	Total     uint64         `json:"total"`
	ByDataset map[string]int `json:"by_dataset"`
	ByHost    map[string]int `json:"by_host"`
	ByDay     map[string]int `json:"by_day"`
}

// Stats counts events per dataset, host and UTC day.
func (b *Bleve) Stats() (*CaseStats, error) {
	st := &CaseStats{}
	var err error
	if st.ByDataset, st.Total, err = b.FacetCount("event.dataset", "", 1000); err != nil {
		return nil, err
	}
	if st.ByHost, _, err = b.FacetCount("host.name", "", 1000); err != nil {
		return nil, err
	}
	// Day buckets from the index's own time range.
	first, last, err := b.timeRange()
	if err != nil || first.IsZero() {
		return st, err
	}
	req := bleve.NewSearchRequestOptions(b.visible(bleve.NewMatchAllQuery()), 0, 0, false)
	fr := bleve.NewFacetRequest("@timestamp", 4000)
	day := first.UTC().Truncate(24 * time.Hour)
	for n := 0; !day.After(last) && n < 4000; n++ {
		next := day.Add(24 * time.Hour)
		d, nx := day, next
		fr.AddDateTimeRange(day.Format("2006-01-02"), d, nx)
		day = next
	}
	req.AddFacet("day", fr)
	res, err := b.idx.Search(req)
	if err != nil {
		return nil, err
	}
	st.ByDay = map[string]int{}
	if f := res.Facets["day"]; f != nil && f.DateRanges != nil {
		for _, r := range f.DateRanges {
			if r.Count > 0 {
				st.ByDay[r.Name] = r.Count
			}
		}
	}
	return st, nil
}

func (b *Bleve) timeRange() (time.Time, time.Time, error) {
	var first, last time.Time
	for i, order := range []string{"@timestamp", "-@timestamp"} {
		req := bleve.NewSearchRequestOptions(b.visible(bleve.NewQueryStringQuery("@timestamp:>=\"1971-01-01T00:00:00Z\"")), 1, 0, false)
		req.SortBy([]string{order})
		req.Fields = []string{LocField}
		res, err := b.idx.Search(req)
		if err != nil {
			return first, last, err
		}
		if len(res.Hits) == 0 {
			return first, last, nil
		}
		ev, err := b.hitEvent(res.Hits[0])
		if err != nil {
			return first, last, err
		}
		if i == 0 {
			first = ev.Timestamp
		} else {
			last = ev.Timestamp
		}
	}
	return first, last, nil
}
