package index

import (
	"bytes"
	"context"

	"fmt"
	"github.com/elastic/go-elasticsearch/v8/esutil"
	"os"
	"time"

	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/parsers"
)

func samplesCase(t testing.TB) *Case {
	t.Helper()
	c, err := OpenCase(filepath.Join(t.TempDir(), "case"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := Ingest(c, []string{filepath.Join(corpus.Root(t), "samples", "incident")}, IngestOptions{Parse: parsers.Options{TZ: time.UTC}}); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestForward: forward the samples, forward again (nothing doubled), a bulk
// answer with 429s and a per-item failure, and a resume after a cut.
func TestForward(t *testing.T) {
	c := samplesCase(t)
	fake, srv := newFakeES()
	defer srv.Close()
	cfg := ESConfig{URL: srv.URL, Prefix: "case1"}
	es, err := NewES(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Forward(context.Background(), c, es, cfg, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := fake.count("case1-events"); int64(n) != c.Manifest.Events || res.Created != c.Manifest.Events || res.Failed != 0 {
		t.Fatalf("first forward: %d docs, result %+v, want %d", n, res, c.Manifest.Events)
	}
	if !fake.templates["case1-events"] {
		t.Error("index template not installed")
	}
	res, err = Forward(context.Background(), c, es, cfg, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := fake.count("case1-events"); int64(n) != c.Manifest.Events || res.Created != 0 || res.Updated != c.Manifest.Events {
		t.Errorf("second forward: %d docs, %+v", n, res)
	}

	// 429s are retried; a mapping failure is counted with its reason.
	fake2, srv2 := newFakeES()
	defer srv2.Close()
	fake2.reject429 = 7
	var victim string
	ScanStore(c.Dir, c.Manifest.Files[0].SHA256, func(doc []byte) error {
		if victim == "" {
			victim = docID(doc)
		}
		return nil
	})
	fake2.failIDs[victim] = true
	cfg2 := ESConfig{URL: srv2.URL, Prefix: "case2"}
	es2, _ := NewES(cfg2)
	res, err = Forward(context.Background(), c, es2, cfg2, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Retried != 7 || res.Failed != 1 || res.Reasons["document_parsing_exception: failed to parse field [source.ip] of type [ip]"] != 1 {
		t.Errorf("429 and failure accounting: %+v", res)
	}
	if n := fake2.count("case2-events"); int64(n) != c.Manifest.Events-1 {
		t.Errorf("after retries: %d docs, want %d", n, c.Manifest.Events-1)
	}

	// Cut midway, then --resume: same final count, nothing doubled.
	fake3, srv3 := newFakeES()
	defer srv3.Close()
	cfg3 := ESConfig{URL: srv3.URL, Prefix: "case3", Workers: 1}
	es3, _ := NewES(cfg3)
	ctx, cancel := context.WithCancel(context.Background())
	var seen int64
	_, err = Forward(ctx, c, es3, cfg3, false, func() {
		if atomic.AddInt64(&seen, 1) == 3000 {
			cancel()
		}
	})
	if err == nil {
		t.Fatal("a cancelled forward reported success")
	}
	if n := fake3.count("case3-events"); int64(n) >= c.Manifest.Events {
		t.Fatalf("the cut did not cut: %d docs", n)
	}
	res, err = Forward(context.Background(), c, es3, cfg3, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := fake3.count("case3-events"); int64(n) != c.Manifest.Events {
		t.Errorf("after resume: %d docs, want %d (%+v)", n, c.Manifest.Events, res)
	}
	res, _ = Forward(context.Background(), c, es3, cfg3, true, nil)
	if res.Sent != 0 || len(res.Skipped) != len(c.Manifest.Files) {
		t.Errorf("resume of a finished forward sent %d, skipped %v", res.Sent, res.Skipped)
	}
}

// TestForwardErrors: one clear line for a dead server, bad credentials and a TLS mismatch.
func TestForwardErrors(t *testing.T) {
	_, srv := newFakeES()
	dead := srv.URL
	srv.Close()
	if _, err := NewES(ESConfig{URL: dead}); err == nil || !strings.Contains(err.Error(), "cannot reach elasticsearch") {
		t.Errorf("dead server: %v", err)
	}
	fake, srv2 := newFakeES()
	defer srv2.Close()
	fake.password = "right"
	if _, err := NewES(ESConfig{URL: srv2.URL, Username: "elastic", Password: "wrong"}); err == nil || !strings.Contains(err.Error(), "refused the credentials") {
		t.Errorf("bad credentials: %v", err)
	}
	tlsFake, _ := newFakeES()
	tls := httptest.NewTLSServer(tlsFake)
	defer tls.Close()
	if _, err := NewES(ESConfig{URL: tls.URL}); err == nil || !strings.Contains(err.Error(), "TLS certificate not accepted") {
		t.Errorf("TLS mismatch: %v", err)
	}
	if _, err := NewES(ESConfig{URL: tls.URL, Insecure: true}); err != nil {
		t.Errorf("--insecure-skip-verify: %v", err)
	}
}

// BenchmarkForward compares forward (events from the store, template,
// per-item accounting) with a bare esutil.BulkIndexer sending the same
// pre-serialised documents, both against the in-process test double (or
// EXFILTRACE_TEST_ES_URL). Target: forward ≥ 0.9× bare.
func BenchmarkForward(b *testing.B) {
	c := samplesCase(b)
	url := os.Getenv("EXFILTRACE_TEST_ES_URL")
	if url == "" {
		_, srv := newFakeES()
		defer srv.Close()
		url = srv.URL
	}
	var docs [][]byte
	var ids []string
	for _, f := range c.Manifest.Files {
		ScanStore(c.Dir, f.SHA256, func(doc []byte) error {
			docs = append(docs, append([]byte(nil), doc...))
			ids = append(ids, docID(doc))
			return nil
		})
	}
	b.Run("forward", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			cfg := ESConfig{URL: url, Prefix: fmt.Sprintf("bench-f-%d", i)}
			es, err := NewES(cfg)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Forward(context.Background(), c, es, cfg, false, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(int64(b.N)*c.Manifest.Events)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("bare-bulkindexer", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			es, err := NewES(ESConfig{URL: url})
			if err != nil {
				b.Fatal(err)
			}
			bi, _ := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: fmt.Sprintf("bench-b-%d", i), NumWorkers: 2, FlushBytes: 5 << 20})
			for k, d := range docs {
				bi.Add(context.Background(), esutil.BulkIndexerItem{Action: "index", DocumentID: ids[k], Body: bytes.NewReader(d)})
			}
			bi.Close(context.Background())
		}
		b.ReportMetric(float64(b.N*len(docs))/b.Elapsed().Seconds(), "events/s")
	})
}
