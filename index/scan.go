package index

import (
	"context"
	"fmt"

	"github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/exfiltrace/exfiltrace/event"
)

// Scan calls fn with every event matching q, in no particular order, and
// returns their number. Aggregations (top, sums) need every match once and no
// order: a searcher walked to its end reads each match once, where paging
// through a time-sorted search re-runs the sort over all matches per page —
// minutes on a case of a million events.
func (b *Bleve) Scan(q string, fn func(*event.Event) error) (uint64, error) {
	bq, err := ParseQuery(q)
	if err != nil {
		return 0, err
	}
	bq = b.visible(bq)
	if b.store == nil {
		return 0, fmt.Errorf("index opened without its event store")
	}
	adv, err := b.idx.Advanced()
	if err != nil {
		return 0, err
	}
	ir, err := adv.Reader()
	if err != nil {
		return 0, err
	}
	defer ir.Close()
	ctx := context.Background()
	s, err := bq.Searcher(ctx, ir, b.idx.Mapping(), search.SearcherOptions{Score: "none"})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0), IndexReader: ir}
	var n uint64
	for {
		dm, err := s.Next(sctx)
		if err != nil {
			return n, err
		}
		if dm == nil {
			return n, nil
		}
		loc, err := storedLoc(ir, dm.IndexInternalID)
		sctx.DocumentMatchPool.Put(dm)
		if err != nil {
			return n, err
		}
		src, err := b.store.Get(loc)
		if err != nil {
			return n, err
		}
		ev, err := event.DecodeJSON(src)
		if err != nil {
			return n, fmt.Errorf("event at %s: %w", loc, err)
		}
		n++
		if err := fn(ev); err != nil {
			return n, err
		}
	}
}

// storedLoc reads a document's event-store location from its stored fields.
func storedLoc(ir index.IndexReader, id index.IndexInternalID) (string, error) {
	ext, err := ir.ExternalID(id)
	if err != nil {
		return "", err
	}
	doc, err := ir.Document(ext)
	if err != nil {
		return "", err
	}
	loc := ""
	doc.VisitFields(func(f index.Field) {
		if f.Name() == LocField {
			loc = string(f.Value())
		}
	})
	if loc == "" {
		return "", fmt.Errorf("document %s has no event location", ext)
	}
	return loc, nil
}
