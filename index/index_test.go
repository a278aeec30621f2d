package index

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"

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

func loadTruth(t *testing.T, name string) (tr truth) {
	corpus.SampleTruth(t, name, &tr)
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
	// The full-text index holds the events that have free text, once each.
	withText := textDocs(t, c)
	b, err := c.OpenText()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if n, _ := b.Count(); n != withText || withText == 0 || withText == 9840 {
		t.Fatalf("full-text index holds %d documents, want the %d events with text (of 9840)", n, withText)
	}
	for q, want := range map[string]int{"process.command_line:vssadmin": 1, `process.command_line:"delete shadows"`: 1, "process.command_line:vss*": 1, "message:nosuchword": 0} {
		n, err := ParseQueryString(q)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		if err := b.TextMatches(n, func(string) error { got++; return nil }); err != nil || got != want {
			t.Errorf("%s: %d events (%v), want %d", q, got, err, want)
		}
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
// the first text query indexes them, and an interrupted build indexes again
// without duplicates.
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
	b, err := c.OpenText() // builds everything still listed, the first file again
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	withText := textDocs(t, c)
	if n, _ := b.Count(); n != withText || len(c.Manifest.Unindexed) != 0 {
		t.Fatalf("index holds %d documents (%d files pending), want %d", n, len(c.Manifest.Unindexed), withText)
	}
	c2, _ := OpenCase(dir, false)
	if len(c2.Manifest.Unindexed) != 0 {
		t.Errorf("saved manifest still lists %v unindexed", c2.Manifest.Unindexed)
	}
}

// TestSnappyStoreStillRead: event store files of case format 1 (snappy
// blocks, .evs) read back the same events, in the same order, sequentially
// and by location, as the zstd files that replaced them.
func TestSnappyStoreStillRead(t *testing.T) {
	dir := t.TempDir()
	c, _ := ingest(t, dir, filepath.Join(corpus.Root(t), "samples", "incident", "mail"))
	collect := func() (docs []string) {
		for _, f := range c.Manifest.Files {
			if err := c.EachStored(f.SHA256, func(ev *event.Event, loc string) error {
				src, err := c.OpenStored().Event(loc)
				if err != nil {
					return err
				}
				docs = append(docs, ev.Str(event.FieldID)+" "+src.Str(event.FieldID)+" "+src.Str(event.FieldOriginal))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		return docs
	}
	want := collect()
	if len(want) == 0 {
		t.Fatal("no stored events")
	}
	// Rewrite every file with snappy blocks under the old name.
	for _, f := range c.Manifest.Files {
		path := filepath.Join(dir, storeDir, f.SHA256+storeExt)
		in, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		br := bufio.NewReader(in)
		for {
			lines, err := readBlock(br, zstdBlocks)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			raw := append(bytes.Join(lines, []byte("\n")), '\n')
			comp := snappy.Encode(nil, raw)
			out = binary.AppendUvarint(out, uint64(len(comp)))
			out = binary.AppendUvarint(out, uint64(len(lines)))
			out = append(out, comp...)
		}
		in.Close()
		os.Remove(path)
		if err := os.WriteFile(filepath.Join(dir, storeDir, f.SHA256+snappyExt), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := collect(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("snappy store reads %d events differently from the zstd one (%d)", len(got), len(want))
	}
	var n int
	if err := c.Stream(func(*event.Event) error { n++; return nil }); err != nil || n != len(want) {
		t.Fatalf("stream over the snappy store: %d events (%v), want %d", n, err, len(want))
	}
}

// TestDeferredIndexSkipsFilesWithoutText: a file none of whose events has
// free text is not left for the full-text index to read again.
func TestDeferredIndexSkipsFilesWithoutText(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(corpus.Root(t), "samples", "incident", "firewall", "fortigate.log"))
	if err != nil {
		t.Fatal(err)
	}
	var plain, texty []string
	for _, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, "msg=") || strings.Contains(l, "logdesc=") {
			texty = append(texty, l)
		} else if l != "" {
			plain = append(plain, l)
		}
	}
	if len(plain) == 0 || len(texty) == 0 {
		t.Fatalf("%d lines without text, %d with: the test needs both", len(plain), len(texty))
	}
	in := t.TempDir()
	os.WriteFile(filepath.Join(in, "plain.log"), []byte(strings.Join(plain, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(in, "texty.log"), []byte(strings.Join(texty, "\n")+"\n"), 0o644)
	c, err := OpenCase(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := Ingest(c, []string{in}, IngestOptions{Parse: parsers.Options{TZ: time.UTC, Year: 2025}, DeferIndex: true}); err != nil {
		t.Fatal(err)
	}
	if len(c.Manifest.Files) != 2 || len(c.Manifest.Unindexed) != 1 || c.FileBySHA(c.Manifest.Unindexed[0]).Events() != int64(len(texty)) {
		t.Fatalf("unindexed %v of %d files, want the one with text", c.Manifest.Unindexed, len(c.Manifest.Files))
	}
	b, err := c.OpenText()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if n, _ := b.Count(); n != uint64(len(texty)) {
		t.Errorf("full-text index holds %d documents, want %d", n, len(texty))
	}
}

// TestStreamStops: an error from the callback ends the stream with that
// error, after exactly the events given so far, and the same case streams
// again whole afterwards (the reader ahead of the callback is not left
// holding it).
func TestStreamStops(t *testing.T) {
	c, _ := ingest(t, t.TempDir(), filepath.Join(corpus.Root(t), "samples", "incident"))
	stop := errors.New("enough")
	for _, at := range []int{1, streamBatch, streamBatch*streamAhead + 3} {
		n := 0
		err := c.Stream(func(*event.Event) error {
			if n++; n == at {
				return stop
			}
			return nil
		})
		if err != stop || n != at {
			t.Errorf("stopped at %d: %d events, %v", at, n, err)
		}
	}
	var all []string
	var last time.Time
	if err := c.Stream(func(ev *event.Event) error {
		if ev.Timestamp.Before(last) {
			t.Fatalf("out of time order: %s after %s", ev.Timestamp, last)
		}
		last = ev.Timestamp
		all = append(all, ev.Str(event.FieldID))
		return nil
	}); err != nil || len(all) != 9840 {
		t.Fatalf("streamed %d events (%v), want 9840", len(all), err)
	}
}

// TestLostIndexRebuilt: a case whose full-text index was lost (deleted, or
// a copy made without it) rebuilds it from the event store on the first text
// query, instead of answering free text with nothing; a case ingested with
// the index deferred has one, empty, from the start.
func TestLostIndexRebuilt(t *testing.T) {
	dir := t.TempDir()
	c, _ := ingest(t, dir, filepath.Join(corpus.Root(t), "samples", "incident"))
	want := textDocs(t, c)
	if err := os.RemoveAll(c.IndexDir()); err != nil {
		t.Fatal(err)
	}
	b, err := c.OpenText()
	if err != nil {
		t.Fatal(err)
	}
	n, _ := b.Count()
	q, _ := ParseQueryString("process.command_line:vssadmin")
	hits := 0
	b.TextMatches(q, func(string) error { hits++; return nil })
	b.Close()
	if n != want || hits != 1 || len(c.Manifest.Unindexed) != 0 {
		t.Fatalf("rebuilt index: %d documents (want %d), %d hits for vssadmin, %d files pending", n, want, hits, len(c.Manifest.Unindexed))
	}

	d, err := OpenCase(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := Ingest(d, []string{filepath.Join(corpus.Root(t), "samples", "incident", "mail")}, IngestOptions{Parse: parsers.Options{TZ: time.UTC}, DeferIndex: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.IndexDir()); err != nil {
		t.Errorf("deferred ingest left no index: %v", err)
	}
}

// TestDocTime: a stored document's time is read without decoding it, and
// found by decoding only when a key could sort before "@timestamp".
func TestDocTime(t *testing.T) {
	at := func(s string) (int64, int32) {
		tm, _ := time.Parse(time.RFC3339Nano, s)
		return tm.Unix(), int32(tm.Nanosecond())
	}
	zs, zn := time.Time{}.Unix(), int32(0)
	for _, tc := range []struct {
		doc  string
		want string // "" for the zero time
	}{
		{`{"@timestamp":"2025-03-14T22:50:40.123456789Z","a":"b"}`, "2025-03-14T22:50:40.123456789Z"},
		{`{"@timestamp":"1601-01-01T00:00:00Z"}`, "1601-01-01T00:00:00Z"},
		{`{"error.message":"x","event.original":"line"}`, ""},
		{`{"0day":"x","@timestamp":"2025-03-14T00:00:00Z"}`, "2025-03-14T00:00:00Z"},
		{`{"@timestamp":"not a time"}`, ""},
		{`{}`, ""},
		{`garbage`, ""},
	} {
		s, n := docTime([]byte(tc.doc))
		ws, wn := zs, zn
		if tc.want != "" {
			ws, wn = at(tc.want)
		}
		if s != ws || n != wn {
			t.Errorf("%s: %d.%09d, want %d.%09d", tc.doc, s, n, ws, wn)
		}
	}
}

// TestStreamStopsAtDamagedStore: when one file's event store is cut after
// its first block, Stream gives every event that comes before the damage in
// time order — exactly those, none dropped with the batch being decoded —
// then the error.
func TestStreamStopsAtDamagedStore(t *testing.T) {
	c, _ := ingest(t, t.TempDir(), filepath.Join(corpus.Root(t), "samples", "incident"))
	var all []string
	if err := c.Stream(func(ev *event.Event) error { all = append(all, ev.Str(event.FieldID)); return nil }); err != nil {
		t.Fatal(err)
	}
	// The firewall log: time-ordered, several blocks.
	var fw *parsers.FileStats
	for _, f := range c.Manifest.Files {
		if strings.HasSuffix(f.Path, "fortigate.log") {
			fw = f
		}
	}
	if fw == nil || !fw.TimeOrdered || fw.Events() <= blockEvents {
		t.Fatalf("the samples' firewall log should be one time-ordered file of more than one block: %+v", fw)
	}
	path := filepath.Join(c.Dir, storeDir, fw.SHA256+storeExt)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(f)
	first, err := readBlock(br, zstdBlocks)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// The stream's position of the last event of the first block.
	lastOfFirst := -1
	seen := 0
	if err := c.Stream(func(ev *event.Event) error {
		if ev.Str(event.FieldSHA256) == fw.SHA256 {
			if seen++; seen == len(first) {
				lastOfFirst = slices.Index(all, ev.Str(event.FieldID))
			}
		}
		return nil
	}); err != nil || lastOfFirst < 0 {
		t.Fatal(err, lastOfFirst)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hdr, n := binary.Uvarint(raw)
	_, m := binary.Uvarint(raw[n:])
	cut := n + m + int(hdr) + 5 // the first block whole, then 5 bytes of the second
	if err := os.WriteFile(path, raw[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	var got []string
	err = c.Stream(func(ev *event.Event) error { got = append(got, ev.Str(event.FieldID)); return nil })
	if err == nil {
		t.Fatal("a cut event store streamed without an error")
	}
	if want := all[:lastOfFirst+1]; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%d events before the error, want the %d before the damage (%v)", len(got), len(want), err)
	}
}
