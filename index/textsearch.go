package index

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bleveindex "github.com/blevesearch/bleve_index_api"

	"github.com/exfiltrace/exfiltrace/event"
)

// IsTextQuery reports whether a parsed query is free-text terms joined by
// AND and OR only: the full-text index alone tells its matches (but for a
// phrase's word order).
func IsTextQuery(n *Node) bool {
	if n == nil {
		return false
	}
	switch n.Op {
	case "and", "or":
		for _, c := range n.Children {
			if !IsTextQuery(c) {
				return false
			}
		}
		return len(n.Children) > 0
	case "term":
		return IsTextTerm(n)
	}
	return false
}

// narrowing is the bleve query of the free text every event a query
// matches holds, or nil when a match may hold none (a term on another
// field alone, a NOT, an OR with such a side).
func narrowing(n *Node, withWords bool) (query.Query, error) {
	switch n.Op {
	case "term":
		if IsTextTerm(n) {
			return termQuery(n, withWords)
		}
	case "and", "or":
		var qs []query.Query
		for _, c := range n.Children {
			q, err := narrowing(c, withWords)
			if err != nil {
				return nil, err
			}
			if q == nil && n.Op == "or" {
				return nil, nil
			}
			if q != nil {
				qs = append(qs, q)
			}
		}
		switch {
		case len(qs) == 0:
			return nil, nil
		case len(qs) == 1:
			return qs[0], nil
		case n.Op == "and":
			return bleve.NewConjunctionQuery(qs...), nil
		}
		return bleve.NewDisjunctionQuery(qs...), nil
	}
	return nil, nil
}

// hasPhrase reports whether a query holds a quoted term, whose words'
// order the index cannot tell.
func hasPhrase(n *Node) bool {
	if n.Op == "term" {
		return n.Phrase
	}
	return slices.ContainsFunc(n.Children, hasPhrase)
}

// queryFields are the fields a query's terms read.
func queryFields(n *Node, into map[string]bool) {
	if n.Op == "term" {
		f := n.Field
		if f == "" {
			f = "message"
		}
		into[f] = true
	}
	for _, c := range n.Children {
		queryFields(c, into)
	}
}

// hitHeap keeps the first hits in Search's order: a max-heap of at most
// its limit, so memory does not grow with the number of matches.
type hitHeap []textHit

func (h hitHeap) Len() int           { return len(h) }
func (h hitHeap) Less(i, j int) bool { return h[j].before(h[i]) }
func (h hitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)        { *h = append(*h, x.(textHit)) }
func (h *hitHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// maxCandidates bounds the matches SearchText keeps to read in the event
// store's order (about 80 bytes each): more, and it declines.
const maxCandidates = 1 << 18

// SearchText answers Search from the full-text index and the event store
// when every event a query matches holds some free text (narrowing): the
// number of matching events of c's complete evidence files, and the first
// limit of them (limit > 0) in time order, then by id, read whole. The
// index's matches are the answer for free text alone; otherwise (a phrase,
// whose order the index does not keep; terms on other fields; a NOT) they
// are read from the event store in its order and the query checked on each
// (Node.Match, which the columnar store is held to); without a phrase, it
// declines when that means reading more than maxBlocks blocks of the
// store. It declines too past maxCandidates to read. answered is
// false, with nothing given to fn, when it declines, when the query has no
// such text, or when a matching document has no PlaceField (written by an
// older version): the caller then answers by the columnar store.
func (b *Bleve) SearchText(c *Case, n *Node, limit, maxBlocks int, fn func(*event.Event) error) (total uint64, answered bool, err error) {
	if n == nil || limit <= 0 {
		return 0, false, nil
	}
	nq, err := narrowing(n, b.withWords())
	if err != nil || nq == nil {
		return 0, false, nil // an invalid term is for the caller to name
	}
	files, ok := completeFiles(c)
	if !ok {
		return 0, false, nil
	}
	exact := IsTextQuery(n) && !hasPhrase(n)
	var candidates []textHit
	top := hitHeap{}
	keep := func(h textHit) {
		total++
		if len(top) < limit {
			heap.Push(&top, h)
		} else if h.before(top[0]) {
			top[0] = h
			heap.Fix(&top, 0)
		}
	}
	answered, err = b.eachPlace(nq, func(h textHit) error {
		if files[h.file] == "" {
			return nil // a file an interrupted run left unfinished
		}
		if exact {
			keep(h)
			return nil
		}
		if len(candidates) == maxCandidates {
			return errDecline
		}
		candidates = append(candidates, h)
		return nil
	})
	if err == errDecline || err == nil && !answered {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	store := c.OpenStored()
	defer store.Close()
	if !exact {
		slices.SortFunc(candidates, inStore)
		blocks := 0
		for i, h := range candidates {
			if i == 0 || h.file != candidates[i-1].file || h.off != candidates[i-1].off {
				blocks++
			}
		}
		if blocks > maxBlocks && !hasPhrase(n) {
			// The join answers without reading; with a phrase it reads
			// the phrase's events too, after its scan.
			return 0, false, nil
		}
		only := map[string]bool{}
		queryFields(n, only)
		sel := &event.Selection{Only: only}
		for _, h := range candidates {
			ev, err := store.EventSelected(h.loc(files), sel)
			if err != nil {
				return 0, true, fmt.Errorf("event %s: %w", h.loc(files), err)
			}
			if n.Match(ev) {
				keep(h)
			}
		}
	}
	slices.SortFunc(top, func(a, b textHit) int {
		if a.before(b) {
			return -1
		}
		return 1
	})
	for _, h := range top {
		ev, err := store.Event(h.loc(files))
		if err != nil {
			return total, true, fmt.Errorf("event %s: %w", h.loc(files), err)
		}
		if err := fn(ev); err != nil {
			return total, true, err
		}
	}
	return total, true, nil
}

var errDecline = errors.New("declined")

// searcher opens a reader of the index and q's searcher on it, unscored.
func (b *Bleve) searcher(q query.Query) (bleveindex.IndexReader, search.Searcher, error) {
	adv, err := b.idx.Advanced()
	if err != nil {
		return nil, nil, err
	}
	ir, err := adv.Reader()
	if err != nil {
		return nil, nil, err
	}
	s, err := q.Searcher(context.Background(), ir, b.idx.Mapping(), search.SearcherOptions{Score: "none"})
	if err != nil {
		ir.Close()
		return nil, nil, err
	}
	return ir, s, nil
}

// eachPlace calls fn with every document a bleve query matches, its id and
// PlaceField read together from its stored fields; false when one has no
// PlaceField, or the index is not of the kind whose stored fields this reads.
func (b *Bleve) eachPlace(q query.Query, fn func(textHit) error) (bool, error) {
	ir, s, err := b.searcher(q)
	if err != nil {
		return false, err
	}
	defer ir.Close()
	defer s.Close()
	snap, ok := ir.(*scorch.IndexSnapshot)
	if !ok {
		return false, nil
	}
	// A document's number across the index is its segment's first number
	// plus its number in the segment, counting deleted ones (as scorch does).
	segs := snap.Segments()
	starts := make([]uint64, len(segs))
	var next uint64
	for i, seg := range segs {
		starts[i] = next
		next += seg.Segment().Count()
	}
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0), IndexReader: ir}
	for {
		dm, err := s.Next(sctx)
		if err != nil || dm == nil {
			return err == nil, err
		}
		num := dm.IndexInternalID.Value()
		sctx.DocumentMatchPool.Put(dm)
		i, _ := slices.BinarySearch(starts, num+1)
		i-- // the last segment starting at or before num
		if i < 0 {
			return false, fmt.Errorf("full-text index: document %d in no segment", num)
		}
		var id string
		var p []byte
		err = segs[i].VisitDocument(num-starts[i], func(field string, _ byte, value []byte, _ []uint64) bool {
			switch field {
			case "_id":
				id = string(value)
			case PlaceField:
				p = append(p[:0], value...)
			}
			return true
		})
		if err != nil {
			return false, err
		}
		h, ok := parsePlace(id, p)
		if !ok || id == "" {
			return false, nil
		}
		if err := fn(h); err != nil {
			return false, err
		}
	}
}

// withWords reports whether the index lists its documents' worded fields
// (WordsField): written by this version, with at least one such document.
func (b *Bleve) withWords() bool {
	b.wordsOnce.Do(func() {
		fields, err := b.idx.Fields()
		b.words = err == nil && slices.Contains(fields, WordsField)
	})
	return b.words
}
