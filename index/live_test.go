package index

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/parsers"
)

// fgLine is a FortiGate traffic line at t (UTC), session n.
func fgLine(t time.Time, n int) string {
	return fmt.Sprintf(`date=%s time=%s devname="FGT" devid="FG100F" tz="+0000" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.0.0.%d srcport=%d dstip=198.51.100.%d dstport=443 sessionid=%d proto=6 action="close" policyid=1 service="HTTPS" duration=5 sentbyte=%d rcvdbyte=100`,
		t.Format("2006-01-02"), t.Format("15:04:05"), 1+n%200, 40000+n%20000, 1+n%250, n, 1000+n)
}

// writeLog writes lines as a file of dir.
func writeLog(t *testing.T, dir, name string, lines []string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// liveEvent is one event as a reader of the stream sees it.
type liveEvent struct {
	id   string
	at   time.Time
	file string
}

func viaStore(t *testing.T, paths []string) ([]liveEvent, *Manifest) {
	t.Helper()
	c, _ := ingest(t, t.TempDir(), paths...)
	var got []liveEvent
	if err := c.Stream(func(ev *event.Event) error {
		got = append(got, liveEvent{ev.Str(event.FieldID), ev.Timestamp, ev.Str(event.FieldFile)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got, c.Manifest
}

func live(t *testing.T, paths []string, fn func(*event.Event) error) ([]liveEvent, *Case, []*FileResult, error) {
	t.Helper()
	c, err := OpenCase(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var got []liveEvent
	var read atomic.Int64 // what a progress display counts
	o := IngestOptions{Parse: parsers.Options{TZ: time.UTC}, OnEvent: func(*event.Event) { read.Add(1) }, Store: event.ExceptOriginal()}
	res, err := StreamEvidence(c, paths, o, func(ev *event.Event) *event.Event { return ev }, event.DecodeJSON, func(ev *event.Event) error {
		if ev.Fields[event.FieldOriginal] != nil {
			t.Fatal("an event liveEvent with its original line: a report reads none from the store")
		}
		got = append(got, liveEvent{ev.Str(event.FieldID), ev.Timestamp, ev.Str(event.FieldFile)})
		if fn != nil {
			return fn(ev)
		}
		return nil
	})
	if err == nil && read.Load() != int64(len(got)) {
		t.Errorf("OnEvent counted %d events read, %d streamed", read.Load(), len(got))
	}
	return got, c, res, err
}

// TestStreamEvidenceAsStore: evidence read straight from its files gives
// the events, in the order, and the manifest's account that ingesting it
// and streaming the case give — ties of one instant across files in path
// order, a file's events a little out of order put back, the same content
// under two paths read once, an empty file and one of no known format
// listed as Ingest lists them.
func TestStreamEvidenceAsStore(t *testing.T) {
	base := time.Date(2025, 3, 12, 8, 0, 0, 0, time.UTC)
	sameInstants := func(dir string) []string {
		var a, b []string
		for i := range 300 {
			at := base.Add(time.Duration(i/3) * time.Second) // three lines a second in each file
			a, b = append(a, fgLine(at, i)), append(b, fgLine(at, 10000+i))
		}
		return []string{writeLog(t, dir, "b/fw.log", a), writeLog(t, dir, "a/fw.log", b)}
	}
	cases := map[string]func(dir string) []string{
		"samples": func(string) []string {
			return []string{filepath.Join(corpus.Root(t), "samples", "incident")}
		},
		"ties across files, in path order": sameInstants,
		"a file a little out of order": func(dir string) []string {
			var lines []string
			for i := range 500 {
				at := base.Add(time.Duration(i) * time.Second)
				if i%50 == 49 {
					at = at.Add(-40 * time.Second) // written late, 40 lines back
				}
				lines = append(lines, fgLine(at, i))
			}
			return []string{writeLog(t, dir, "late.log", lines)}
		},
		"same content twice, the first in path order given last": func(dir string) []string {
			paths := sameInstants(dir)
			b, err := os.ReadFile(paths[0])
			if err != nil {
				t.Fatal(err)
			}
			copied := filepath.Join(dir, "0-copy.log")
			if err := os.WriteFile(copied, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return append(paths, copied)
		},
		"same content twice, empty, unknown": func(dir string) []string {
			paths := sameInstants(dir)
			b, err := os.ReadFile(paths[0])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "c-copy.log"), b, 0o644); err != nil {
				t.Fatal(err)
			}
			writeLog(t, dir, "empty.log", []string{""})
			writeLog(t, dir, "notes.txt", []string{"\x00\x01\x02 binary \x03"})
			return []string{dir}
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			paths := build(t.TempDir())
			want, wm := viaStore(t, paths)
			got, c, _, err := live(t, paths, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) || len(want) == 0 {
				t.Fatalf("%d events liveEvent, %d through the store", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("event %d: %+v, through the store %+v", i, got[i], want[i])
				}
			}
			m := c.Manifest
			if m.Events != wm.Events || !m.First.Equal(wm.First) || !m.Last.Equal(wm.Last) {
				t.Errorf("manifest: %d events %s–%s, through the store %d %s–%s", m.Events, m.First, m.Last, wm.Events, wm.First, wm.Last)
			}
			account := func(m *Manifest) []string {
				var out []string
				for _, f := range m.Files {
					out = append(out, fmt.Sprintf("%s %s %d %v %q", f.Path, f.Format, f.Events(), f.TimeOrdered, f.Error))
				}
				slices.Sort(out)
				return out
			}
			if a, b := account(m), account(wm); !slices.Equal(a, b) {
				t.Errorf("files:\n%s\nthrough the store:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
			}
		})
	}
}

// TestStreamEvidenceRefuses: evidence that cannot be read in time order
// without a store — a file going back further than its window, more files
// than a merge reads at once — is refused with ErrNotStreamable, the case
// left as it was, every goroutine ended (no hang); a reader's own error
// stops the stream and is returned.
func TestStreamEvidenceRefuses(t *testing.T) {
	base := time.Date(2025, 3, 12, 8, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	var lines []string
	for i := range 3000 {
		lines = append(lines, fgLine(base.Add(time.Duration(i)*time.Second), i))
	}
	lines = append(lines, fgLine(base.Add(-time.Hour), 3000)) // an hour back, 3,000 events late
	back := writeLog(t, dir, "back.log", lines)
	ordered := writeLog(t, dir, "ordered.log", lines[:3000])

	_, c, _, err := live(t, []string{back, ordered}, nil)
	if !errors.Is(err, ErrNotStreamable) || !strings.Contains(err.Error(), "back.log") {
		t.Fatalf("a file going back an hour, 3,000 events late: %v", err)
	}
	if len(c.Manifest.Files) != 0 || c.Manifest.Events != 0 {
		t.Errorf("the refused reading left %d files in the manifest", len(c.Manifest.Files))
	}

	// A file's window grows to its share once one of its events comes
	// back in time: a share holding the whole file puts it in order.
	old := LiveMemory
	LiveMemory = 1 << 30
	_, _, _, err = live(t, []string{back}, nil)
	if !errors.Is(err, ErrNotStreamable) {
		t.Errorf("in order until its last event, the file kept its first window: %v", err)
	}
	swapped := slices.Clone(lines)
	swapped[1], swapped[2] = swapped[2], swapped[1]
	got, _, _, err := live(t, []string{writeLog(t, dir, "swapped.log", swapped)}, nil)
	LiveMemory = old
	if err != nil || len(got) != 3001 || !got[0].at.Equal(base.Add(-time.Hour)) {
		t.Fatalf("with a window holding the file: %d events (%v)", len(got), err)
	}

	oldFanIn := mergeFanIn
	mergeFanIn = 1
	_, _, _, err = live(t, []string{back, ordered}, nil)
	mergeFanIn = oldFanIn
	if !errors.Is(err, ErrNotStreamable) {
		t.Fatalf("more files than a merge reads at once: %v", err)
	}

	enough := errors.New("enough")
	n := 0
	_, _, _, err = live(t, []string{ordered, ordered + "x"}, func(*event.Event) error {
		if n++; n == 100 {
			return enough
		}
		return nil
	})
	if err == nil {
		t.Fatal("a missing file: no error")
	}
	n = 0
	_, _, _, err = live(t, []string{ordered}, func(*event.Event) error {
		if n++; n == 100 {
			return enough
		}
		return nil
	})
	if !errors.Is(err, enough) || n != 100 {
		t.Fatalf("the reader stopped at 100: %d events, %v", n, err)
	}
}

// TestStreamEvidenceWrappedEVTX: an EVTX log that wrapped around (its
// chunks' headers say it goes back in time) is stored first and read back
// from the store in time order, beside the files read straight: the
// events, their order and the files' account are those of Ingest+Stream,
// and only that file is in the case's store.
func TestStreamEvidenceWrappedEVTX(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join(corpus.Dir(t, "evtx/omerbenamram-evtx"), "security.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	const header, chunk = 4096, 65536
	wrapped := append(append(slices.Clone(orig[:header]), orig[header+chunk:]...), orig[header:header+chunk]...)
	dir := t.TempDir()
	p := filepath.Join(dir, "Security.evtx")
	if err := os.WriteFile(p, wrapped, 0o644); err != nil {
		t.Fatal(err)
	}
	// A firewall log over the same days, its lines at the instants of
	// some of the EVTX events (ties across the two, in path order).
	events, _ := viaStore(t, []string{p})
	var lines []string
	for i, ev := range events {
		if i%7 == 0 {
			lines = append(lines, fgLine(ev.at, i))
		}
	}
	slices.SortStableFunc(lines, strings.Compare) // date then time: in time order
	fw := writeLog(t, dir, "A-fw.log", lines)
	for _, paths := range [][]string{{p}, {p, fw}, {dir}} {
		want, wm := viaStore(t, paths)
		got, c, _, err := live(t, paths, nil)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("%v: %d events streamed, %d through the store (%v)", paths, len(got), len(want), err)
		}
		if c.Manifest.Events != wm.Events || len(c.Manifest.Files) != len(wm.Files) {
			t.Errorf("%v: manifest %d events in %d files, through the store %d in %d", paths, c.Manifest.Events, len(c.Manifest.Files), wm.Events, len(wm.Files))
		}
		stored, _ := filepath.Glob(filepath.Join(c.Dir, storeDir, "*"))
		if len(stored) != 1 {
			t.Errorf("%v: %d files in the case's store, want the wrapped log's alone: %v", paths, len(stored), stored)
		}
	}
	// Beside a log that goes back beyond its window, the reading is refused
	// after the wrapped log was stored: ingesting all the evidence into the
	// same case then (as analyze does) stores each file once and streams
	// what Ingest+Stream of a new case gives.
	slices.Reverse(lines)
	back := writeLog(t, t.TempDir(), "newest-first.log", lines)
	old := LiveMemory
	LiveMemory = 16 << 10 // a window of a few dozen lines: the log goes back further
	_, c, _, err := live(t, []string{p, back}, nil)
	LiveMemory = old
	if !errors.Is(err, ErrNotStreamable) {
		t.Fatalf("a firewall log newest first beside a wrapped EVTX log: %v", err)
	}
	if _, err := Ingest(c, []string{p, back}, IngestOptions{Parse: parsers.Options{TZ: time.UTC}, Store: event.ExceptOriginal()}); err != nil {
		t.Fatal(err)
	}
	var again []liveEvent
	if err := c.Stream(func(ev *event.Event) error {
		again = append(again, liveEvent{ev.Str(event.FieldID), ev.Timestamp, ev.Str(event.FieldFile)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want, wm := viaStore(t, []string{p, back}); !slices.Equal(again, want) || c.Manifest.Events != wm.Events || len(c.Manifest.Files) != 2 {
		t.Errorf("ingested after the refusal: %d events in %d files, through a new case %d", len(again), len(c.Manifest.Files), len(want))
	}
	// As it was, in chunk order, it streams straight (its few records a
	// little out of time order put back within its window).
	if err := os.WriteFile(p, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	want, _ := viaStore(t, []string{p})
	got, c2, _, err := live(t, []string{p}, nil)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("security.evtx: %d events streamed, %d through the store (%v)", len(got), len(want), err)
	}
	if stored, _ := filepath.Glob(filepath.Join(c2.Dir, storeDir, "*")); len(stored) != 0 {
		t.Errorf("security.evtx in chunk order was stored: %v", stored)
	}
}

// An event held in a window that has grown keeps what o.Store keeps, as it
// would stored; a file in order is not trimmed (a copy per event costs
// more than the window saves).
func TestStreamEvidenceTrimsGrownWindow(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	sec := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	back := writeLog(t, dir, "back.log", []string{fgLine(sec(0), 1), fgLine(sec(2), 2), fgLine(sec(1), 3), fgLine(sec(3), 4)})
	c, err := OpenCase(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	keep := &event.Selection{Only: map[string]bool{event.FieldID: true, "source.ip": true}}
	o := IngestOptions{Parse: parsers.Options{TZ: time.UTC}, Store: keep}
	var fields [][]string
	if _, err := StreamEvidence(c, []string{back}, o, func(ev *event.Event) *event.Event { return ev }, event.DecodeJSON, func(ev *event.Event) error {
		names := slices.Sorted(maps.Keys(ev.Fields))
		fields = append(fields, names)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(fields) != 4 {
		t.Fatalf("%d events, want 4", len(fields))
	}
	trimmed := []string{event.FieldID, "source.ip"}
	// In time order: sessions 1 (before the file went back: whole), 3 (the
	// one going back), 2 (whole), 4 (after).
	for i, want := range []bool{false, true, false, true} {
		if got := slices.Equal(fields[i], trimmed); got != want {
			t.Errorf("event %d: fields %v; trimmed to the selection: %v, want %v", i, fields[i], got, want)
		}
	}
}

// TestFirstSeenInRunOrder: of files holding the same content, the first in
// the run's order is read and the others are its duplicates, whichever is
// hashed first.
func TestFirstSeenInRunOrder(t *testing.T) {
	paths := []string{"a", "b", "c", "d"}
	shas := []string{"X", "", "X", "Y"} // b could not be opened
	for _, order := range [][]int{{2, 3, 1, 0}, {0, 1, 2, 3}, {3, 2, 0, 1}} {
		f := newFirstSeen(paths)
		got := make([]string, len(paths))
		var wg sync.WaitGroup
		for _, i := range order {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if prev, dup := f.hashed(i, shas[i]); dup {
					got[i] = prev
				}
			}()
			time.Sleep(5 * time.Millisecond) // hashed in this order
		}
		wg.Wait()
		if want := []string{"", "", "a", ""}; !slices.Equal(got, want) {
			t.Errorf("hashed in the order %v: duplicates of %q, want %q", order, got, want)
		}
	}
}

// TestStreamEvidenceUndatedLines: a line no parser reads, kept raw without
// a time, in the middle of a log longer than a window, and the line a read
// error cut at the end of a compressed log, go on where their files have
// them: neither sends the log through the store.
func TestStreamEvidenceUndatedLines(t *testing.T) {
	base := time.Date(2025, 3, 12, 8, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	var lines []string
	for i := range 20000 { // ~6 MB: past the first window
		if i == 15000 {
			lines = append(lines, "a stray line no parser reads")
		}
		lines = append(lines, fgLine(base.Add(time.Duration(i)*time.Second), i))
	}
	stray := writeLog(t, dir, "stray.log", lines)
	got, _, res, err := live(t, []string{stray}, nil)
	if err != nil {
		t.Fatalf("a stray line: %v", err)
	}
	if len(got) != 20001 || res[0].Stats.Raw != 1 {
		t.Fatalf("%d events, %d raw; want 20,001, 1", len(got), res[0].Stats.Raw)
	}
	if !got[15000].at.IsZero() || !got[14999].at.Equal(base.Add(14999*time.Second)) || !got[15001].at.Equal(base.Add(15000*time.Second)) {
		t.Errorf("around the stray line: %v, %v, %v", got[14999].at, got[15000].at, got[15001].at)
	}
	// Stored, the file is still one in time order, read back alike.
	stored, m := viaStore(t, []string{stray})
	if !m.Files[0].TimeOrdered || !slices.Equal(stored, got) {
		t.Errorf("stored: time-ordered %v, same events as read straight %v", m.Files[0].TimeOrdered, slices.Equal(stored, got))
	}

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Join(lines[:3000], "\n") + "\n"))
	zw.Close()
	cut := filepath.Join(dir, "cut.log.gz")
	if err := os.WriteFile(cut, gz.Bytes()[:gz.Len()*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	got, _, res, err = live(t, []string{cut}, nil)
	if err != nil {
		t.Fatalf("a compressed log cut short: %v", err)
	}
	if n := len(got); n < 1000 || res[0].Stats.Raw != 1 || !got[n-1].at.IsZero() || !strings.Contains(res[0].Stats.Error, "read error") {
		t.Errorf("cut short: %d events, %d raw, last at %v, error %q", n, res[0].Stats.Raw, got[n-1].at, res[0].Stats.Error)
	}
}
