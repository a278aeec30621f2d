package parsers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/internal/corpus"
)

// TestHeaderlessEVTXDetected: an EVTX file whose header was cut off or
// zeroed is detected as EVTX by its chunks and gives the clean file's
// events, the header's absence in its warnings.
func TestHeaderlessEVTXDetected(t *testing.T) {
	src := filepath.Join(corpus.Dir(t, "evtx/omerbenamram-evtx"), "security.evtx")
	clean, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	want, st := parseFile(t, src, &Options{TZ: time.UTC})
	if st.Format != "evtx" {
		t.Fatalf("clean: %+v", st)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"cut.evtx":   clean[4096:],
		"zeroed.bin": append(make([]byte, 4096), clean[4096:]...),
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, st := parseFile(t, p, &Options{TZ: time.UTC})
		if st.Format != "evtx" || st.Parsed != int64(len(want)) || st.Lost != 0 {
			t.Fatalf("%s: %+v, want %d events", name, st, len(want))
		}
		if !strings.Contains(strings.Join(st.Warnings, "\n"), "header") {
			t.Errorf("%s: warnings %q do not say the header is missing", name, st.Warnings)
		}
		for i := range got {
			if got[i].Str("winlog.record_id") != want[i].Str("winlog.record_id") || !got[i].Timestamp.Equal(want[i].Timestamp) {
				t.Fatalf("%s: event %d differs", name, i)
			}
		}
	}
}

// TestOutOfTimeOrder: an EVTX log that wrapped around (security.evtx with
// its first chunk moved to the end) is known to go back in time from its
// chunks' headers — with its file header, without it, or with it zeroed —
// and the file as it was is not; nor is a text log, of which nothing is
// known before it is read.
func TestOutOfTimeOrder(t *testing.T) {
	src := filepath.Join(corpus.Dir(t, "evtx/omerbenamram-evtx"), "security.evtx")
	clean, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	const header, chunk = 4096, 65536
	chunks := append(append([]byte{}, clean[header+chunk:]...), clean[header:header+chunk]...)
	dir := t.TempDir()
	for name, c := range map[string]struct {
		data    []byte
		wrapped bool
	}{
		"clean.evtx":          {clean, false},
		"wrapped.evtx":        {append(append([]byte{}, clean[:header]...), chunks...), true},
		"wrapped-cut.evtx":    {chunks, true},
		"wrapped-zeroed.evtx": {append(make([]byte, header), chunks...), true},
		"fw.log":              {[]byte("date=2025-03-12 time=08:00:00 devname=\"FGT\" type=\"traffic\"\n"), false},
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		in, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if why := OutOfTimeOrder(in); (why != "") != c.wrapped {
			t.Errorf("%s: OutOfTimeOrder = %q, wrapped %v", name, why, c.wrapped)
		}
		in.Close()
	}
}
