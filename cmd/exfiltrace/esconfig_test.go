package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// A case whose exfiltrace.yaml names a cluster is queried there without
// --es; the command line still wins, --local forces the local index, and a
// secret written into the case file is refused. The server here only
// records what reaches it and refuses the credentials: the ES store itself
// is tested against the Elasticsearch test double in index/.
func TestCaseConfiguredForElasticsearch(t *testing.T) {
	var mu sync.Mutex
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"type":"security_exception","reason":"unable to authenticate with provided credentials"},"status":401}`))
	}))
	defer srv.Close()
	requests := func() []string {
		mu.Lock()
		defer mu.Unlock()
		r := auths
		auths = nil
		return r
	}

	dir := t.TempDir()
	cfg := filepath.Join(dir, "exfiltrace.yaml")
	write := func(s string) {
		if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("TEST_ES_KEY", "c2VjcmV0LWlkOnNlY3JldC1rZXk=")
	write("placeholders:\n  own_mail_domains: [agglo.fr]\nelasticsearch:\n  url: " + srv.URL + "\n  index: mairie\n  api_key_env: TEST_ES_KEY\n")

	// hunt needs a local case (its findings are stored there) even when it
	// streams the events from the cluster.
	huntCase := filepath.Join(t.TempDir(), "case")
	if out, err := run(t, "ingest", "--case", huntCase, "--quiet", filepath.Join("..", "..", "parsers", "testdata", "sonicwall.log")); err != nil {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(huntCase, "exfiltrace.yaml"), []byte("elasticsearch:\n  url: "+srv.URL+"\n  api_key_env: TEST_ES_KEY\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"top", "--case", dir, "destination.ip"},
		{"search", "--case", dir, "event.code:4624"},
		{"hunt", "--case", huntCase},
	} {
		_, err := run(t, args...)
		got := requests()
		if err == nil || len(got) == 0 {
			t.Fatalf("%v: want the configured cluster queried and its refusal reported, got err=%v, %d requests", args, err, len(got))
		}
		if got[0] != "APIKey c2VjcmV0LWlkOnNlY3JldC1rZXk=" {
			t.Errorf("%v: Authorization = %q, want the API key from api_key_env", args, got[0])
		}
		t.Logf("%v: %v", args, err)
		if strings.Contains(err.Error(), "c2VjcmV0") {
			t.Errorf("%v: the error prints the secret: %v", args, err)
		}
	}

	// --local: the case's own index, which this directory does not have.
	if _, err := run(t, "top", "--case", dir, "--local", "destination.ip"); err == nil {
		t.Error("--local on a directory without an index succeeded")
	}
	if n := len(requests()); n != 0 {
		t.Errorf("--local sent %d requests to the configured cluster", n)
	}

	if _, err := run(t, "top", "--case", dir, "--local", "--es", srv.URL, "destination.ip"); err == nil || !strings.Contains(err.Error(), "exclude each other") {
		t.Errorf("--local with --es: err = %v", err)
	}
	requests()

	// Another cluster on the command line: the case's credentials are not sent to it.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("the case's credentials were sent to another cluster: %q", a)
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer other.Close()
	run(t, "top", "--case", dir, "--es", other.URL, "destination.ip")
	if n := len(requests()); n != 0 {
		t.Errorf("--es elsewhere still sent %d requests to the configured cluster", n)
	}

	// Secrets are never kept in a case.
	write("elasticsearch:\n  url: " + srv.URL + "\n  password: hunter2\n")
	_, err := run(t, "search", "--case", dir, "*")
	if err == nil || !strings.Contains(err.Error(), "secrets are not kept in a case") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("password in the case file: err = %v", err)
	}
	if n := len(requests()); n != 0 {
		t.Errorf("with a refused configuration, %d requests were sent", n)
	}

	// forward without --es and without a configured cluster says what is missing.
	write("placeholders: {}\n")
	if _, err := run(t, "forward", "--case", dir); err == nil || !strings.Contains(err.Error(), "give --es URL or set elasticsearch.url") {
		t.Errorf("forward with no cluster anywhere: err = %v", err)
	}
}
