// Package plainquery answers the query language the plain way — every
// event tested with index.Node's Match, then ordered, grouped and counted in
// Go — so the stores (the columnar store with the full-text index,
// Elasticsearch) can be held to it in tests.
package plainquery

import (
	"sort"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
)

// Search is the ids of the events matching n, by time (none last), then id.
func Search(evs []*event.Event, n *index.Node) []string {
	var hits []*event.Event
	for _, ev := range evs {
		if n.Match(ev) {
			hits = append(hits, ev)
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		a, aok := index.QueryTime(hits[i])
		b, bok := index.QueryTime(hits[j])
		if aok != bok {
			return aok
		}
		if !a.Equal(b) {
			return a.Before(b)
		}
		return hits[i].Str(event.FieldID) < hits[j].Str(event.FieldID)
	})
	ids := make([]string, len(hits))
	for i, ev := range hits {
		ids[i] = ev.Str(event.FieldID)
	}
	return ids
}

// Top groups the events matching n by each value of field.
func Top(evs []*event.Event, n *index.Node, field, sum string) ([]index.TopRow, uint64) {
	rows := map[string]*index.TopRow{}
	var total uint64
	for _, ev := range evs {
		if !n.Match(ev) {
			continue
		}
		total++
		for _, v := range index.FieldStrings(ev, field) {
			if v == "" {
				continue
			}
			r := rows[v]
			if r == nil {
				r = &index.TopRow{Value: v}
				rows[v] = r
			}
			r.Count++
			if s, ok := ev.Int(sum); ok && sum != "" {
				r.Sum += s
				r.SumSeen++
			}
			if ts, ok := index.QueryTime(ev); ok {
				if r.First.IsZero() || ts.Before(r.First) {
					r.First = ts.UTC()
				}
				if ts.After(r.Last) {
					r.Last = ts.UTC()
				}
			}
		}
	}
	out := make([]index.TopRow, 0, len(rows))
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
	return out, total
}

// Stats counts events per dataset, host (lower-cased) and UTC day.
func Stats(evs []*event.Event) *index.CaseStats {
	st := &index.CaseStats{Total: uint64(len(evs)), ByDataset: map[string]int{}, ByHost: map[string]int{}, ByDay: map[string]int{}}
	for _, ev := range evs {
		if v := ev.Str("event.dataset"); v != "" {
			st.ByDataset[v]++
		}
		if v := ev.Str("host.name"); v != "" {
			st.ByHost[strings.ToLower(v)]++
		}
		if ts, ok := index.QueryTime(ev); ok {
			st.ByDay[ts.UTC().Format("2006-01-02")]++
		}
	}
	return st
}
