package index_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/plainquery"
)

// TestESStoreMeansTheQuery: top and search through Elasticsearch (the test
// double here, a real cluster with EXFILTRACE_TEST_ES_URL) on the forwarded
// samples give what the query plainly means over the case's events.
func TestESStoreMeansTheQuery(t *testing.T) {
	c := index.SamplesCase(t)
	url := os.Getenv("EXFILTRACE_TEST_ES_URL")
	if url == "" {
		srv := index.NewFakeESServer()
		defer srv.Close()
		url = srv.URL
		t.Log("EXFILTRACE_TEST_ES_URL not set: running against the in-process Elasticsearch test double")
	}
	cfg := index.ESConfig{URL: url, Prefix: fmt.Sprintf("exfiltrace-test-%d", time.Now().UnixNano())}
	es, err := index.NewES(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := index.Forward(context.Background(), c, es, cfg, false, nil); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("EXFILTRACE_TEST_ES_URL") != "" {
		es.Indices.Refresh(es.Indices.Refresh.WithIndex(cfg.Prefix + "-events"))
	}
	var evs []*event.Event
	if err := c.Stream(func(ev *event.Event) error { evs = append(evs, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	remote := index.NewESStore(es, cfg.Prefix)
	a, na := plainquery.Top(evs, nil, "destination.ip", "source.bytes")
	b, nb, err := remote.Top("destination.ip", "source.bytes", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if na != nb || len(a) != len(b) {
		t.Fatalf("top: %d rows of %d events, elasticsearch %d rows of %d", len(a), na, len(b), nb)
	}
	for i := range a {
		// Elasticsearch's min/max aggregations answer in milliseconds.
		ms := time.Millisecond
		if a[i].Value != b[i].Value || a[i].Count != b[i].Count || a[i].Sum != b[i].Sum ||
			!a[i].First.Truncate(ms).Equal(b[i].First) || !a[i].Last.Truncate(ms).Equal(b[i].Last) {
			t.Errorf("top row %d: %+v, elasticsearch %+v", i, a[i], b[i])
		}
	}
	for _, q := range []string{`destination.ip:"31.216.145.5"`, `event.code:4663 AND user.name:j.martin`, `source.bytes:>200000000`} {
		n, err := index.ParseQueryString(q)
		if err != nil {
			t.Fatal(err)
		}
		want := plainquery.Search(evs, n)
		var got []string
		total, err := remote.Search(q, 0, func(ev *event.Event) error { got = append(got, ev.Str("event.id")); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if total != uint64(len(want)) || strings.Join(got, ",") != strings.Join(want, ",") || len(want) == 0 {
			t.Errorf("%s: elasticsearch %d events, want %d (same order: %v)", q, total, len(want), strings.Join(got, ",") == strings.Join(want, ","))
		}
	}
}
