package index

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/parsers"
)

type truth struct {
	Exfil []struct {
		Channel     string `json:"channel"`
		Destination string `json:"destination"`
		Bytes       int64  `json:"bytes"`
		Sessions    int    `json:"sessions"`
		First       string `json:"first"`
		Last        string `json:"last"`
	} `json:"exfiltration"`
	Backup struct {
		Destination string `json:"destination"`
		BytesTotal  int64  `json:"bytes_total"`
	} `json:"nightly_backup"`
}

func loadTruth(t *testing.T, name string) truth {
	b, err := os.ReadFile(filepath.Join(corpus.Root(t), "samples", name+".truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr truth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

func ingest(t *testing.T, dir string, paths ...string) (*Case, []*FileResult) {
	t.Helper()
	c, err := OpenCase(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	res, err := Ingest(c, paths, IngestOptions{Parse: parsers.Options{TZ: time.UTC}})
	if err != nil {
		t.Fatal(err)
	}
	return c, res
}

// TestSamplesCase builds a case from samples/incident and checks what an
// analyst relies on: counts, no duplicates on re-ingest, the exact exfiltrated
// byte total per destination, and queries.
func TestSamplesCase(t *testing.T) {
	root := corpus.Root(t)
	dir := t.TempDir()
	c, res := ingest(t, dir, filepath.Join(root, "samples", "incident"))
	var total int64
	for _, r := range res {
		if r.Stats.Error != "" || r.Skipped != "" {
			t.Fatalf("%s: %s %s", r.Stats.Path, r.Stats.Error, r.Skipped)
		}
		total += r.Added
	}
	if total != 9840 || c.Manifest.Events != 9840 {
		t.Fatalf("added %d, manifest %d, want 9840", total, c.Manifest.Events)
	}
	// Re-ingesting the same files adds nothing.
	c.Close()
	c, res = ingest(t, dir, filepath.Join(root, "samples", "incident"))
	for _, r := range res {
		if r.Added != 0 || !strings.HasPrefix(r.Skipped, "already in case") {
			t.Errorf("re-ingest %s: added %d skipped %q", r.Stats.Path, r.Added, r.Skipped)
		}
	}
	if len(c.Manifest.Files) != 4 {
		t.Errorf("manifest has %d files after re-ingest", len(c.Manifest.Files))
	}
	b, err := c.OpenReadOnly()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if n, _ := b.Count(); n != 9840 {
		t.Fatalf("index holds %d documents, want 9840", n)
	}
	tr := loadTruth(t, "incident")
	rows, _, err := b.Top("destination.ip", "source.bytes", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]TopRow{}
	for _, r := range rows {
		sums[r.Value] = r
	}
	net := tr.Exfil[0]
	if got := sums[net.Destination]; got.Sum != net.Bytes || got.Count != int64(net.Sessions) {
		t.Errorf("top %s: sum %d over %d events, want %d over %d", net.Destination, got.Sum, got.Count, net.Bytes, net.Sessions)
	}
	if got := sums[tr.Backup.Destination]; got.Sum != tr.Backup.BytesTotal {
		t.Errorf("backup sum %d, want %d", got.Sum, tr.Backup.BytesTotal)
	}
	// Mail exfiltration: message sizes per recipient.
	mrows, _, err := b.Top("email.to.address", "email.size", "user.name:J.MARTIN AND event.action:message", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(mrows) == 0 || mrows[0].Value != tr.Exfil[1].Destination || mrows[0].Sum != tr.Exfil[1].Bytes {
		t.Errorf("mail top: %+v, want %s %d", mrows, tr.Exfil[1].Destination, tr.Exfil[1].Bytes)
	}
	for q, want := range map[string]uint64{
		`destination.ip:"31.216.145.5" AND source.bytes:>200000000`:                                       17,
		`destination.ip:"31.216.145.5" OR destination.ip:"51.91.120.15"`:                                  42,
		`event.code:4624 AND winlog.logon.type:RemoteInteractive AND source.ip:10.212.134.200`:            1,
		`process.command_line:vssadmin`:                                                                   1,
		`event.action:ssl-login-fail AND source.ip:"185.220.101.47"`:                                      46,
		`NOT event.dataset:fortinet.firewall`:                                                             1629,
		`@timestamp:>=2025-03-15T00:00:00Z AND @timestamp:<2025-03-15T01:00:00Z AND destination.port:443`: 10, // counted independently with a script over eventtime=
		`file.path:d\:\\partages\\rh*`:                                                                    120,
	} {
		n, err := b.Search(q, 1, func(*event.Event) error { return nil })
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		if n != want {
			t.Errorf("%s: %d matches, want %d", q, n, want)
		}
	}
	// Results come back in time order.
	var prev time.Time
	if _, err := b.Search("destination.ip:31.216.145.5", 0, func(ev *event.Event) error {
		if ev.Timestamp.Before(prev) {
			t.Errorf("out of order: %s after %s", ev.Timestamp, prev)
		}
		prev = ev.Timestamp
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestBadFilesDoNotStopIngest: random bytes and a truncated .evtx beside a good file.
func TestBadFilesDoNotStopIngest(t *testing.T) {
	evdir := corpus.Dir(t, "evtx/omerbenamram-evtx")
	in := t.TempDir()
	os.WriteFile(filepath.Join(in, "garbage.bin"), []byte(strings.Repeat("\x00\x01\x02\xff", 5000)), 0o644)
	data, err := os.ReadFile(filepath.Join(evdir, "security.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(in, "cut.evtx"), data[:4096+65536+20000], 0o644)
	os.WriteFile(filepath.Join(in, "unreadable.log"), []byte("x"), 0o000)
	c, res := ingest(t, t.TempDir(), in, filepath.Join(corpus.Root(t), "parsers", "testdata", "fortigate.log"))
	byName := map[string]*FileResult{}
	for _, r := range res {
		byName[filepath.Base(r.Stats.Path)] = r
	}
	if r := byName["garbage.bin"]; r == nil || !strings.Contains(r.Stats.Error, "binary content") {
		t.Errorf("garbage: %+v", r)
	}
	cut := byName["cut.evtx"]
	if cut == nil || cut.Stats.Parsed == 0 || cut.Stats.Lost == 0 || cut.Stats.Error != "" {
		t.Errorf("truncated evtx: %+v", cut.Stats)
	}
	if r := byName["unreadable.log"]; os.Geteuid() != 0 && (r == nil || !strings.Contains(r.Stats.Error, "permission denied")) {
		t.Errorf("unreadable: %+v", r)
	}
	if r := byName["fortigate.log"]; r == nil || r.Added != 4 {
		t.Errorf("good file beside bad ones: %+v", r)
	}
	// Failed files are in the manifest with their error.
	errs := 0
	for _, f := range c.Manifest.Files {
		if f.Error != "" {
			errs++
		}
	}
	if errs == 0 {
		t.Error("manifest records no failed file")
	}
}

// TestDeferredIndex: analyze's ingest stores events without indexing them;
// the first query indexes them, an interrupted build indexes again without
// duplicates, and the streamed events equal the indexed ones.
func TestDeferredIndex(t *testing.T) {
	root := corpus.Root(t)
	dir := t.TempDir()
	c, err := OpenCase(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Ingest(c, []string{filepath.Join(root, "samples", "incident")}, IngestOptions{Parse: parsers.Options{TZ: time.UTC}, DeferIndex: true}); err != nil {
		t.Fatal(err)
	}
	if c.IndexPending() != 9840 || len(c.Manifest.Unindexed) != 4 {
		t.Fatalf("pending %d events in %d files, want 9840 in 4", c.IndexPending(), len(c.Manifest.Unindexed))
	}
	var streamed int64
	if err := c.Stream(func(*event.Event) error { streamed++; return nil }); err != nil || streamed != 9840 {
		t.Fatalf("streamed %d events (%v) before any index", streamed, err)
	}
	// An interrupted build: the first file indexed, the manifest not yet saved.
	idx, err := OpenBleve(c.IndexDir())
	if err != nil {
		t.Fatal(err)
	}
	sha := c.Manifest.Unindexed[0]
	if err := c.indexStored(idx, sha, nil); err != nil {
		t.Fatal(err)
	}
	idx.Close()
	c.Close()
	c, _ = OpenCase(dir, false)
	b, err := c.OpenReadOnly() // builds everything still listed, the first file again
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if n, _ := b.Count(); n != 9840 || len(c.Manifest.Unindexed) != 0 {
		t.Fatalf("index holds %d documents (%d files pending), want 9840", n, len(c.Manifest.Unindexed))
	}
	c2, _ := OpenCase(dir, false)
	if len(c2.Manifest.Unindexed) != 0 {
		t.Errorf("saved manifest still lists %v unindexed", c2.Manifest.Unindexed)
	}
	rows, _, err := b.Top("destination.ip", "source.bytes", "", 1)
	if err != nil || len(rows) != 1 || rows[0].Sum != loadTruth(t, "incident").Exfil[0].Bytes && rows[0].Value == loadTruth(t, "incident").Exfil[0].Destination {
		t.Errorf("top after deferred index: %+v %v", rows, err)
	}
}
