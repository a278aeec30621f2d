package columns

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/internal/plainquery"
	"github.com/exfiltrace/exfiltrace/parsers"
)

// FuzzQuery: any query string either fails to parse, or is refused with an
// error, or gives exactly the events its plain meaning gives — never a
// panic, a SQL error from a value's characters, or another answer.
func FuzzQuery(f *testing.F) {
	for _, q := range sampleQueries {
		f.Add(q)
	}
	for _, q := range []string{`user.name:o'brien`, `file.path:*\\partages\\*`, `message:"a \"quoted\" phrase"`, `destination.domain:%_`,
		`email.to.address:*@*`, `tags:*`, `source.bytes:>=1e3`, `evidence.carved:true`, `winlog.logon.type:(Network OR RemoteInteractive)`, `-vssadmin`} {
		f.Add(q)
	}
	// One case for every input: mail and Windows events, free text in both.
	c, err := index.OpenCase(filepath.Join(f.TempDir(), "case"), true)
	if err != nil {
		f.Fatal(err)
	}
	w, err := NewWriter(c)
	if err != nil {
		f.Fatal(err)
	}
	root := filepath.Join(corpus.Root(f), "samples", "incident")
	if _, err := index.Ingest(c, []string{filepath.Join(root, "mail"), filepath.Join(root, "windows")}, index.IngestOptions{Parse: parsers.Options{TZ: time.UTC}, Sink: w}); err != nil {
		f.Fatal(err)
	}
	w.Close()
	var evs []*event.Event
	if err := c.Stream(func(ev *event.Event) error { evs = append(evs, ev); return nil }); err != nil {
		f.Fatal(err)
	}
	s, err := Open(c)
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, q string) {
		n, err := index.ParseQueryString(q)
		if err != nil {
			return
		}
		var got, first []string
		total, err := s.Search(q, 0, func(ev *event.Event) error { got = append(got, ev.Str(event.FieldID)); return nil })
		// With a limit, a query whose matches all hold free text is
		// answered by the full-text index alone: the same events, total
		// and refusals.
		total5, err5 := s.Search(q, 5, func(ev *event.Event) error { first = append(first, ev.Str(event.FieldID)); return nil })
		if (err == nil) != (err5 == nil) {
			t.Fatalf("%q: every match: %v; the first 5: %v", q, err, err5)
		}
		if err == nil && (total5 != total || strings.Join(first, ",") != strings.Join(got[:min(5, len(got))], ",")) {
			t.Fatalf("%q: the first 5 of %d, not those of all %d", q, total5, total)
		}
		if err != nil {
			if strings.Contains(err.Error(), "Error:") { // DuckDB's own (Parser/Binder/Conversion Error): our SQL was wrong
				t.Fatalf("%q: %v", q, err)
			}
			return // refused with a message (unknown field, not a number, …)
		}
		want := plainquery.Search(evs, n)
		if total != uint64(len(want)) || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%q: %d events, plain meaning %d", q, total, len(want))
		}
	})
}
