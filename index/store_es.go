package index

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/exfiltrace/exfiltrace/event"
)

var _ Store = (*ESStore)(nil)

// ESStore runs the same queries against PREFIX-events in Elasticsearch. The
// query string is passed as query_string (same field names, AND as default
// operator, as the local query language); top is a terms aggregation with a
// sum; events stream in time order with a point in time and search_after.
type ESStore struct {
	es    *elasticsearch.Client
	index string
}

// NewESStore queries the events index of prefix.
func NewESStore(es *elasticsearch.Client, prefix string) *ESStore {
	if prefix == "" {
		prefix = "exfiltrace"
	}
	return &ESStore{es: es, index: prefix + "-events"}
}

func (s *ESStore) Close() error { return nil }

func esQuery(q string) map[string]any {
	q = strings.TrimSpace(q)
	if q == "" || q == "*" {
		return map[string]any{"match_all": map[string]any{}}
	}
	return map[string]any{"query_string": map[string]any{"query": q, "default_operator": "AND", "default_field": "message"}}
}

func (s *ESStore) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := newRequest(ctx, method, path, rd)
	if err != nil {
		return nil, err
	}
	res, err := s.es.Perform(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return nil, fmt.Errorf("elasticsearch %s %s: HTTP %d: %s", method, path, res.StatusCode, truncate(string(b), 300))
	}
	return b, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Search streams matching events in time order, up to limit (0 = all).
func (s *ESStore) Search(q string, limit int, fn func(*event.Event) error) (uint64, error) {
	ctx := context.Background()
	b, err := s.do(ctx, "POST", "/"+s.index+"/_pit?keep_alive=2m", nil)
	if err != nil {
		return 0, err
	}
	var pit struct {
		ID string `json:"id"`
	}
	json.Unmarshal(b, &pit)
	defer s.do(ctx, "DELETE", "/_pit", map[string]any{"id": pit.ID})
	var after []any
	var total uint64
	sent := 0
	for {
		size := 1000
		if limit > 0 && limit-sent < size {
			size = limit - sent
		}
		if size <= 0 {
			return total, nil
		}
		body := map[string]any{
			"size": size, "query": esQuery(q), "track_total_hits": true,
			"pit":  map[string]any{"id": pit.ID, "keep_alive": "2m"},
			"sort": []any{map[string]any{"@timestamp": map[string]any{"order": "asc", "unmapped_type": "date"}}, map[string]any{"event.id": "asc"}},
		}
		if after != nil {
			body["search_after"] = after
		}
		b, err := s.do(ctx, "POST", "/_search", body)
		if err != nil {
			return total, err
		}
		var res struct {
			PitID string `json:"pit_id"`
			Hits  struct {
				Total struct {
					Value uint64 `json:"value"`
				} `json:"total"`
				Hits []struct {
					Source json.RawMessage `json:"_source"`
					Sort   []any           `json:"sort"`
				} `json:"hits"`
			} `json:"hits"`
		}
		if err := json.Unmarshal(b, &res); err != nil {
			return total, fmt.Errorf("elasticsearch search answer: %w", err)
		}
		if res.PitID != "" {
			pit.ID = res.PitID
		}
		total = res.Hits.Total.Value
		for _, h := range res.Hits.Hits {
			ev, err := event.DecodeJSON(h.Source)
			if err != nil {
				return total, err
			}
			if err := fn(ev); err != nil {
				return total, err
			}
			sent++
			after = h.Sort
		}
		if len(res.Hits.Hits) < size {
			return total, nil
		}
	}
}

// Top is a terms aggregation on field, with sum of sumField and the first
// and last time, ordered like the bleve Top.
func (s *ESStore) Top(field, sumField, q string, n int) ([]TopRow, uint64, error) {
	size := n
	if size <= 0 {
		size = 10000
	}
	sub := map[string]any{
		"first": map[string]any{"min": map[string]any{"field": "@timestamp"}},
		"last":  map[string]any{"max": map[string]any{"field": "@timestamp"}},
	}
	order := []any{map[string]any{"_count": "desc"}, map[string]any{"_key": "asc"}}
	if sumField != "" {
		sub["total"] = map[string]any{"sum": map[string]any{"field": sumField}}
		sub["with_sum"] = map[string]any{"value_count": map[string]any{"field": sumField}}
		order = append([]any{map[string]any{"total": "desc"}}, order...)
	}
	body := map[string]any{
		"size": 0, "query": esQuery(q), "track_total_hits": true,
		"aggs": map[string]any{"top": map[string]any{"terms": map[string]any{"field": field, "size": size, "order": order}, "aggs": sub}},
	}
	b, err := s.do(context.Background(), "POST", "/"+s.index+"/_search", body)
	if err != nil {
		return nil, 0, err
	}
	var res struct {
		Hits struct {
			Total struct {
				Value uint64 `json:"value"`
			} `json:"total"`
		} `json:"hits"`
		Aggs struct {
			Top struct {
				Buckets []struct {
					Key      any   `json:"key"`
					DocCount int64 `json:"doc_count"`
					Total    struct {
						Value float64 `json:"value"`
					} `json:"total"`
					WithSum struct {
						Value float64 `json:"value"`
					} `json:"with_sum"`
					First struct {
						Value float64 `json:"value"`
					} `json:"first"`
					Last struct {
						Value float64 `json:"value"`
					} `json:"last"`
				} `json:"buckets"`
			} `json:"top"`
		} `json:"aggregations"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, 0, fmt.Errorf("elasticsearch aggregation answer: %w", err)
	}
	var out []TopRow
	for _, bk := range res.Aggs.Top.Buckets {
		r := TopRow{Value: fmt.Sprint(bk.Key), Count: bk.DocCount, Sum: int64(bk.Total.Value), SumSeen: int64(bk.WithSum.Value),
			First: time.UnixMilli(int64(bk.First.Value)).UTC(), Last: time.UnixMilli(int64(bk.Last.Value)).UTC()}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Sum != out[j].Sum {
			return out[i].Sum > out[j].Sum
		}
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	return out, res.Hits.Total.Value, nil
}

func newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}
