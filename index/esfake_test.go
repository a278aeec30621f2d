package index

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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
