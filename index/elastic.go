package index

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/exfiltrace/exfiltrace/event"
)

// ESConfig says how to reach an Elasticsearch cluster. Secrets are read from
// the environment or files by the caller and never stored in the case.
type ESConfig struct {
	URL      string
	Prefix   string // index prefix: PREFIX-events, PREFIX-findings
	APIKey   string
	Username string
	Password string
	CACert   string
	Insecure bool
	Workers  int
}

// NewES connects and checks the cluster answers as Elasticsearch, turning
// the usual failures into one clear sentence.
func NewES(cfg ESConfig) (*elasticsearch.Client, error) {
	if cfg.URL == "" {
		return nil, errors.New("--es URL is required")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: cfg.Insecure}
	if cfg.CACert != "" {
		pem, err := os.ReadFile(cfg.CACert)
		if err != nil {
			return nil, fmt.Errorf("--ca-cert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-cert %s: no PEM certificate in it", cfg.CACert)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses:     []string{cfg.URL},
		APIKey:        cfg.APIKey,
		Username:      cfg.Username,
		Password:      cfg.Password,
		Transport:     tr,
		RetryOnStatus: []int{429, 502, 503, 504},
		MaxRetries:    6,
		RetryBackoff:  func(i int) time.Duration { return time.Duration(1<<min(i, 6)) * 100 * time.Millisecond },
		// A refused connection or a certificate problem will not heal by retrying: say so at once.
		RetryOnError: func(_ *http.Request, err error) bool {
			s := err.Error()
			return !strings.Contains(s, "connection refused") && !strings.Contains(s, "x509") && !strings.Contains(s, "tls:") &&
				!strings.Contains(s, "no such host")
		},
	})
	if err != nil {
		return nil, fmt.Errorf("elasticsearch %s: %w", cfg.URL, err)
	}
	res, err := es.Info()
	if err != nil {
		return nil, explainESError(cfg.URL, err)
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == 401 || res.StatusCode == 403:
		return nil, fmt.Errorf("elasticsearch %s refused the credentials (HTTP %d): check --username/--password-env or --api-key-env", cfg.URL, res.StatusCode)
	case res.IsError():
		return nil, fmt.Errorf("elasticsearch %s answered HTTP %d", cfg.URL, res.StatusCode)
	}
	return es, nil
}

func explainESError(url string, err error) error {
	var uerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	var nerr *net.OpError
	s := err.Error()
	switch {
	case errors.As(err, &uerr), errors.As(err, &herr), strings.Contains(s, "x509:"), strings.Contains(s, "tls:"):
		return fmt.Errorf("elasticsearch %s: TLS certificate not accepted (%v): give its CA with --ca-cert FILE, or --insecure-skip-verify", url, err)
	case strings.Contains(s, "unsupported product") || strings.Contains(s, "not Elasticsearch"):
		return fmt.Errorf("%s does not answer as Elasticsearch: %v", url, err)
	case errors.As(err, &nerr):
		return fmt.Errorf("cannot reach elasticsearch at %s: %v", url, nerr)
	}
	return fmt.Errorf("elasticsearch %s: %v", url, err)
}

// esType maps the bleve field kinds to Elasticsearch types.
func esType(name, kind string) map[string]any {
	switch {
	case strings.HasSuffix(name, ".ip"):
		return map[string]any{"type": "ip", "ignore_malformed": true}
	case kind == Keyword:
		return map[string]any{"type": "keyword"}
	case kind == Name:
		return map[string]any{"type": "keyword", "normalizer": "exfiltrace_lowercase"}
	case kind == Number:
		return map[string]any{"type": "long"}
	case kind == Text:
		return map[string]any{"type": "text"}
	case kind == Timestamp:
		return map[string]any{"type": "date_nanos"} // FortiGate eventtime and FILETIME are finer than ms
	}
	return map[string]any{"type": "keyword"}
}

// IndexTemplate is the ECS-compatible template matching the bleve mapping.
func IndexTemplate(prefix string) map[string]any {
	props := map[string]any{}
	for name, kind := range Fields {
		props[name] = esType(name, kind)
	}
	props["event.id"] = map[string]any{"type": "keyword"}
	return map[string]any{
		"index_patterns": []string{prefix + "-events*"},
		"priority":       200,
		"template": map[string]any{
			"settings": map[string]any{"analysis": map[string]any{"normalizer": map[string]any{
				"exfiltrace_lowercase": map[string]any{"type": "custom", "filter": []string{"lowercase"}}}}},
			"mappings": map[string]any{"dynamic": true, "properties": props},
		},
	}
}

// ForwardResult is the account of one forward.
type ForwardResult struct {
	Sent     int64            `json:"sent"`
	Created  int64            `json:"created"`
	Updated  int64            `json:"updated"`
	Failed   int64            `json:"failed"`
	Retried  int64            `json:"retried_429"`
	Reasons  map[string]int64 `json:"failure_reasons,omitempty"`
	Skipped  []string         `json:"files_already_forwarded,omitempty"`
	Findings int64            `json:"findings"`
	Seconds  float64          `json:"seconds"`
}

// checkpoint records, per evidence file, that all its events were acknowledged.
type checkpoint struct {
	Done map[string]int64 `json:"done"` // sha256 → events acknowledged
}

func (c *Case) checkpointPath(prefix string) string {
	return filepath.Join(c.Dir, "forward-"+strings.ReplaceAll(prefix, "/", "_")+".json")
}

// Forward sends the case's events (and findings, if any) to Elasticsearch.
// Documents carry _id = event.id, so sending twice overwrites and never
// duplicates; with resume, files fully acknowledged before are skipped and a
// file cut midway is sent again from its start (same ids: nothing doubled).
// Items refused with 429 are retried with backoff; other per-item failures
// are counted with their reason.
func Forward(ctx context.Context, c *Case, es *elasticsearch.Client, cfg ESConfig, resume bool, onDoc func()) (*ForwardResult, error) {
	start := time.Now()
	// The checkpoint is written into the case: one forwarder at a time.
	if err := c.ForWriting(); err != nil {
		return nil, err
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "exfiltrace"
	}
	tb, _ := json.Marshal(IndexTemplate(cfg.Prefix))
	res, err := es.Indices.PutIndexTemplate(cfg.Prefix+"-events", bytes.NewReader(tb), es.Indices.PutIndexTemplate.WithContext(ctx))
	if err != nil {
		return nil, explainESError(cfg.URL, err)
	}
	body := readAll(res)
	if res.IsError() {
		return nil, fmt.Errorf("installing the index template: HTTP %d: %s", res.StatusCode, body)
	}
	cp := &checkpoint{Done: map[string]int64{}}
	if b, err := os.ReadFile(c.checkpointPath(cfg.Prefix)); err == nil && resume {
		json.Unmarshal(b, cp)
	}
	out := &ForwardResult{Reasons: map[string]int64{}}
	var mu sync.Mutex
	fail := func(reason string) {
		mu.Lock()
		out.Reasons[reason]++
		mu.Unlock()
		atomic.AddInt64(&out.Failed, 1)
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = 2
	}
	for _, f := range c.Manifest.Files {
		if f.SHA256 == "" || f.Events() == 0 {
			continue
		}
		if n, ok := cp.Done[f.SHA256]; ok && n == f.Events() {
			out.Skipped = append(out.Skipped, f.Path)
			continue
		}
		var acked int64
		retry := newRetryQueue()
		bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: cfg.Prefix + "-events", NumWorkers: workers,
			FlushBytes: 5 << 20, FlushInterval: time.Second})
		if err != nil {
			return out, err
		}
		add := func(id string, doc []byte) error {
			atomic.AddInt64(&out.Sent, 1)
			return bi.Add(ctx, esutil.BulkIndexerItem{Action: "index", DocumentID: id, Body: bytes.NewReader(doc),
				OnSuccess: func(_ context.Context, _ esutil.BulkIndexerItem, r esutil.BulkIndexerResponseItem) {
					atomic.AddInt64(&acked, 1)
					if r.Result == "created" {
						atomic.AddInt64(&out.Created, 1)
					} else {
						atomic.AddInt64(&out.Updated, 1)
					}
					if onDoc != nil {
						onDoc()
					}
				},
				OnFailure: func(_ context.Context, it esutil.BulkIndexerItem, r esutil.BulkIndexerResponseItem, err error) {
					if err == nil && r.Status == 429 {
						atomic.AddInt64(&out.Retried, 1)
						atomic.AddInt64(&out.Sent, -1)
						retry.push(id, doc)
						return
					}
					reason := r.Error.Type + ": " + r.Error.Reason
					if err != nil {
						reason = err.Error()
					}
					fail(reason)
				}})
		}
		err = ScanStore(c.Dir, f.SHA256, func(doc []byte) error {
			id := docID(doc)
			if id == "" {
				fail("event without event.id")
				return nil
			}
			return add(id, doc) // block buffers are not reused: no copy needed
		})
		if cerr := bi.Close(ctx); err == nil {
			err = cerr
		}
		// Items the cluster asked us to slow down for: back off and send again.
		for attempt := 0; err == nil && retry.len() > 0; attempt++ {
			if attempt == 8 {
				for _, it := range retry.drain() {
					_ = it
					fail("429 Too Many Requests after 8 retries")
				}
				break
			}
			time.Sleep(time.Duration(1<<attempt) * 50 * time.Millisecond)
			items := retry.drain()
			bi, err = esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: cfg.Prefix + "-events", NumWorkers: workers, FlushBytes: 5 << 20})
			if err != nil {
				break
			}
			for _, it := range items {
				if err = add(it.id, it.doc); err != nil {
					break
				}
			}
			if cerr := bi.Close(ctx); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return out, explainESError(cfg.URL, err)
		}
		if acked == f.Events() {
			cp.Done[f.SHA256] = acked
			b, _ := json.MarshalIndent(cp, "", "  ")
			if err := os.WriteFile(c.checkpointPath(cfg.Prefix), b, 0o644); err != nil {
				return out, err
			}
		}
	}
	n, err := forwardFindings(ctx, c, es, cfg.Prefix)
	if err != nil {
		return out, err
	}
	out.Findings = n
	out.Seconds = time.Since(start).Seconds()
	return out, nil
}

type pendingDoc struct {
	id  string
	doc []byte
}

type retryQueue struct {
	mu    sync.Mutex
	items []pendingDoc
}

func newRetryQueue() *retryQueue { return &retryQueue{} }

func (q *retryQueue) push(id string, doc []byte) {
	q.mu.Lock()
	q.items = append(q.items, pendingDoc{id, doc})
	q.mu.Unlock()
}

func (q *retryQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

func (q *retryQueue) drain() []pendingDoc {
	q.mu.Lock()
	defer q.mu.Unlock()
	it := q.items
	q.items = nil
	return it
}

// docID reads event.id from a stored document without decoding it all.
func docID(doc []byte) string {
	i := bytes.Index(doc, []byte(`"event.id":"`))
	if i < 0 {
		return ""
	}
	rest := doc[i+len(`"event.id":"`):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

func readAll(res interface{ String() string }) string { return res.String() }

// forwardFindings sends findings.json's findings to PREFIX-findings.
func forwardFindings(ctx context.Context, c *Case, es *elasticsearch.Client, prefix string) (int64, error) {
	b, err := os.ReadFile(filepath.Join(c.Dir, "findings.json"))
	if err != nil {
		return 0, nil // no hunt yet: nothing to send
	}
	var hr struct {
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal(b, &hr); err != nil {
		return 0, fmt.Errorf("findings.json: %w", err)
	}
	var buf bytes.Buffer
	for _, f := range hr.Findings {
		id := event.ID(fmt.Sprint(f["rule_id"]), fmt.Sprint(f["title"], f["first_seen"]))
		fmt.Fprintf(&buf, `{"index":{"_index":%q,"_id":%q}}`+"\n", prefix+"-findings", id)
		d, _ := json.Marshal(f)
		buf.Write(d)
		buf.WriteByte('\n')
	}
	if buf.Len() == 0 {
		return 0, nil
	}
	res, err := es.Bulk(bytes.NewReader(buf.Bytes()), es.Bulk.WithContext(ctx))
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.IsError() {
		return 0, fmt.Errorf("sending findings: HTTP %d", res.StatusCode)
	}
	return int64(len(hr.Findings)), nil
}

// SortedReasons lists failure reasons, most frequent first.
func (r *ForwardResult) SortedReasons() []string {
	var out []string
	for k := range r.Reasons {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return r.Reasons[out[i]] > r.Reasons[out[j]] })
	return out
}
