package index

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fakeES is an in-process server answering the handful of Elasticsearch 8
// endpoints forward uses (/, _index_template, _bulk, _count), shaped like
// Elasticsearch's documented responses, including the X-Elastic-Product
// header the official client checks. It is a test double for CI machines
// where no Elasticsearch-API server can be installed; it is not Elasticsearch.
type fakeES struct {
	mu        sync.Mutex
	docs      map[string]map[string][]byte // index → id → source
	templates map[string]bool
	bulks     int
	password  string          // if set, Basic auth must carry it
	reject429 int             // item-level 429s to answer, first come
	failIDs   map[string]bool // ids answered with a mapping error
}

func newFakeES() (*fakeES, *httptest.Server) {
	f := &fakeES{docs: map[string]map[string][]byte{}, templates: map[string]bool{}, failIDs: map[string]bool{}}
	return f, httptest.NewServer(f)
}

func (f *fakeES) count(index string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.docs[index])
}

func (f *fakeES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	if f.password != "" {
		if _, p, ok := r.BasicAuth(); !ok || p != f.password {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"root_cause":[{"type":"security_exception","reason":"unable to authenticate user"}],"type":"security_exception","reason":"unable to authenticate user"},"status":401}`)
			return
		}
	}
	path := r.URL.Path
	switch {
	case path == "/" && r.Method == http.MethodGet:
		io.WriteString(w, `{"name":"fake","cluster_name":"exfiltrace-test","version":{"number":"8.15.0","build_flavor":"default"},"tagline":"You Know, for Search"}`)
	case strings.HasPrefix(path, "/_index_template/") && r.Method == http.MethodPut:
		var tpl map[string]any
		if err := json.NewDecoder(r.Body).Decode(&tpl); err != nil || tpl["index_patterns"] == nil {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"type":"parse_exception","reason":"bad template"},"status":400}`)
			return
		}
		f.mu.Lock()
		f.templates[strings.TrimPrefix(path, "/_index_template/")] = true
		f.mu.Unlock()
		io.WriteString(w, `{"acknowledged":true}`)
	case strings.HasSuffix(path, "/_bulk") && (r.Method == http.MethodPost || r.Method == http.MethodPut):
		f.bulk(w, r, strings.Trim(strings.TrimSuffix(path, "_bulk"), "/"))
	case strings.HasSuffix(path, "/_pit") && r.Method == http.MethodPost:
		fmt.Fprintf(w, `{"id":"pit-%s"}`, strings.Trim(strings.TrimSuffix(path, "_pit"), "/"))
	case path == "/_pit" && r.Method == http.MethodDelete:
		io.WriteString(w, `{"succeeded":true,"num_freed":1}`)
	case strings.HasSuffix(path, "/_search"):
		f.search(w, r, strings.Trim(strings.TrimSuffix(path, "_search"), "/"))
	case strings.HasSuffix(path, "/_count"):
		index := strings.Trim(strings.TrimSuffix(path, "_count"), "/")
		fmt.Fprintf(w, `{"count":%d,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0}}`, f.count(index))
	default:
		w.WriteHeader(404)
		fmt.Fprintf(w, `{"error":{"type":"fake_es_unsupported","reason":"%s %s is not implemented by the test double"},"status":404}`, r.Method, path)
	}
}

func (f *fakeES) bulk(w http.ResponseWriter, r *http.Request, defIndex string) {
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var items []string
	errs := false
	f.mu.Lock()
	f.bulks++
	for sc.Scan() {
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &action); err != nil {
			f.mu.Unlock()
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"type":"illegal_argument_exception","reason":"Malformed action/metadata line"},"status":400}`)
			return
		}
		if !sc.Scan() {
			break
		}
		src := append([]byte(nil), sc.Bytes()...)
		for op, meta := range action {
			index := meta.Index
			if index == "" {
				index = defIndex
			}
			switch {
			case f.reject429 > 0:
				f.reject429--
				errs = true
				items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"_id":%q,"status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}}}`, op, index, meta.ID))
			case f.failIDs[meta.ID] || !json.Valid(src):
				errs = true
				items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"_id":%q,"status":400,"error":{"type":"document_parsing_exception","reason":"failed to parse field [source.ip] of type [ip]"}}}`, op, index, meta.ID))
			default:
				if f.docs[index] == nil {
					f.docs[index] = map[string][]byte{}
				}
				result, status := "created", 201
				if _, ok := f.docs[index][meta.ID]; ok {
					result, status = "updated", 200
				}
				f.docs[index][meta.ID] = src
				items = append(items, fmt.Sprintf(`{%q:{"_index":%q,"_id":%q,"_version":1,"result":%q,"status":%d}}`, op, index, meta.ID, result, status))
			}
		}
	}
	f.mu.Unlock()
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"took":3,"errors":%v,"items":[%s]}`, errs, strings.Join(items, ","))
	w.Write(b.Bytes())
}

// search answers _search (with a point in time or on an index): match_all or
// query_string evaluated with exfiltrace's own query parser on the stored
// documents — enough to check the client's requests and its reading of the
// answers; parity of query semantics with a real cluster is what the
// EXFILTRACE_TEST_ES_URL integration test is for.
func (f *fakeES) search(w http.ResponseWriter, r *http.Request, index string) {
	var req struct {
		Size        int                  `json:"size"`
		Query       map[string]any       `json:"query"`
		PIT         *struct{ ID string } `json:"pit"`
		SearchAfter []any                `json:"search_after"`
		Aggs        map[string]struct {
			Terms struct {
				Field string `json:"field"`
				Size  int    `json:"size"`
			} `json:"terms"`
			Aggs map[string]map[string]map[string]string `json:"aggs"`
		} `json:"aggs"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		w.WriteHeader(400)
		return
	}
	if req.PIT != nil {
		index = strings.TrimPrefix(req.PIT.ID, "pit-")
	}
	var node *Node
	if qs, ok := req.Query["query_string"].(map[string]any); ok {
		var err error
		if node, err = ParseQueryString(qs["query"].(string)); err != nil {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":{"type":"query_shard_exception","reason":%q},"status":400}`, err.Error())
			return
		}
	}
	f.mu.Lock()
	type hit struct {
		id  string
		ts  string
		src map[string]any
		raw []byte
	}
	var hits []hit
	for id, raw := range f.docs[index] {
		var doc map[string]any
		json.Unmarshal(raw, &doc)
		if node == nil || evalNode(node, doc) {
			ts, _ := doc["@timestamp"].(string)
			hits = append(hits, hit{id, ts, doc, raw})
		}
	}
	f.mu.Unlock()
	sort.Slice(hits, func(i, j int) bool {
		ti, _ := time.Parse(time.RFC3339Nano, hits[i].ts)
		tj, _ := time.Parse(time.RFC3339Nano, hits[j].ts)
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return hits[i].id < hits[j].id
	})
	total := len(hits)
	if len(req.SearchAfter) == 2 {
		at := int64(req.SearchAfter[0].(float64))
		aid := req.SearchAfter[1].(string)
		k := 0
		for k < len(hits) {
			t, _ := time.Parse(time.RFC3339Nano, hits[k].ts)
			if t.UnixMilli() > at || t.UnixMilli() == at && hits[k].id > aid {
				break
			}
			k++
		}
		hits = hits[k:]
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, `{"took":1,"timed_out":false,"pit_id":"pit-%s","hits":{"total":{"value":%d,"relation":"eq"},"hits":[`, index, total)
	for k := 0; k < len(hits) && k < req.Size; k++ {
		t, _ := time.Parse(time.RFC3339Nano, hits[k].ts)
		if k > 0 {
			out.WriteByte(',')
		}
		fmt.Fprintf(&out, `{"_index":%q,"_id":%q,"_source":%s,"sort":[%d,%q]}`, index, hits[k].id, hits[k].raw, t.UnixMilli(), hits[k].id)
	}
	out.WriteString(`]}`)
	if agg, ok := req.Aggs["top"]; ok {
		type bucket struct {
			count, with int64
			sum         float64
			first, last int64
		}
		buckets := map[string]*bucket{}
		var sumField string
		for _, a := range agg.Aggs {
			if s, ok := a["sum"]; ok {
				sumField = s["field"]
			}
		}
		for _, h := range hits {
			vals := asStrings(h.src[agg.Terms.Field])
			t, _ := time.Parse(time.RFC3339Nano, h.ts)
			for _, v := range vals {
				b := buckets[v]
				if b == nil {
					b = &bucket{first: t.UnixMilli(), last: t.UnixMilli()}
					buckets[v] = b
				}
				b.count++
				if n, ok := h.src[sumField].(float64); ok && sumField != "" {
					b.sum += n
					b.with++
				}
				b.first = min(b.first, t.UnixMilli())
				b.last = max(b.last, t.UnixMilli())
			}
		}
		out.WriteString(`,"aggregations":{"top":{"buckets":[`)
		k := 0
		for v, b := range buckets {
			if k > 0 {
				out.WriteByte(',')
			}
			k++
			fmt.Fprintf(&out, `{"key":%q,"doc_count":%d,"total":{"value":%.1f},"with_sum":{"value":%d},"first":{"value":%d},"last":{"value":%d}}`,
				v, b.count, b.sum, b.with, b.first, b.last)
		}
		out.WriteString(`]}}`)
	}
	out.WriteString(`}`)
	w.Write(out.Bytes())
}

func asStrings(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		var out []string
		for _, y := range x {
			out = append(out, fmt.Sprint(y))
		}
		return out
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}
	}
	return []string{fmt.Sprint(v)}
}

// evalNode applies a parsed query to a flat document (test double only).
func evalNode(n *Node, doc map[string]any) bool {
	switch n.Op {
	case "and":
		for _, c := range n.Children {
			if !evalNode(c, doc) {
				return false
			}
		}
		return true
	case "or":
		for _, c := range n.Children {
			if evalNode(c, doc) {
				return true
			}
		}
		return false
	case "not":
		return !evalNode(n.Children[0], doc)
	}
	field := n.Field
	if field == "" {
		field = "message"
	}
	for _, v := range asStrings(doc[field]) {
		if n.Cmp != "" {
			a, err1 := strconv.ParseFloat(v, 64)
			b, err2 := strconv.ParseFloat(n.Value, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			switch n.Cmp {
			case ">":
				if a > b {
					return true
				}
			case ">=":
				if a >= b {
					return true
				}
			case "<":
				if a < b {
					return true
				}
			case "<=":
				if a <= b {
					return true
				}
			}
			continue
		}
		if ok, _ := filepath.Match(strings.ToLower(n.Value), strings.ToLower(v)); ok {
			return true
		}
	}
	return false
}
