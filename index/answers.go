package index

import (
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Store answers the analyst's queries: the local case (the columnar store
// with the full-text index) or the forwarded case in Elasticsearch.
type Store interface {
	// Search streams matching events in time order (then by id), up to limit
	// (0 = all), and returns the number of matches.
	Search(q string, limit int, fn func(*event.Event) error) (uint64, error)
	// Top groups matching events by field, optionally summing a numeric
	// field, ordered by sum, then count, then value.
	Top(field, sumField, q string, n int) ([]TopRow, uint64, error)
	Close() error
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

// CaseStats are the counts behind `exfiltrace stats`.
type CaseStats struct {
	Total     uint64         `json:"total"`
	ByDataset map[string]int `json:"by_dataset"`
	ByHost    map[string]int `json:"by_host"`
	ByDay     map[string]int `json:"by_day"`
}
