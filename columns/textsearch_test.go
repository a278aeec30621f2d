package columns

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/plainquery"
	"github.com/exfiltrace/exfiltrace/parsers"
)

// textCase is a case of syslog lines whose messages draw words from a small
// vocabulary (many events share words, phrases occur in both orders), whose
// times tie often (Search orders ties by event id), with lines of clocks
// outside the column's range and unparsed lines (no time: listed last).
func textCase(t *testing.T, seed uint64) (*index.Case, []*event.Event) {
	t.Helper()
	dir := t.TempDir()
	words := []string{"delete", "shadows", "copy", "vssadmin", "rclone", "mega", "upload", "C:\\Windows\\Temp", "report.pdf", "Facture"}
	r := rand.New(rand.NewPCG(seed, 7))
	var paths []string
	for f := 0; f < 3; f++ {
		var b strings.Builder
		for i := 0; i < 150; i++ {
			var msg []string
			for range 1 + r.IntN(4) {
				msg = append(msg, words[r.IntN(len(words))])
			}
			switch r.IntN(20) {
			case 3: // punctuation only: a message without a word
				fmt.Fprintf(&b, "<13>1 2025-03-14T10:00:00Z srv%d app %d - - -- // %s\n", f, i, strings.Repeat("…", r.IntN(3)))
			case 0:
				fmt.Fprintf(&b, "not syslog %s\n", strings.Join(msg, " "))
			case 1:
				fmt.Fprintf(&b, "<13>1 1601-01-01T00:00:00Z srv%d app %d - - %s\n", f, i, strings.Join(msg, " "))
			case 2:
				fmt.Fprintf(&b, "<13>1 2300-01-01T00:00:00Z srv%d app %d - - %s\n", f, i, strings.Join(msg, " "))
			default:
				fmt.Fprintf(&b, "<13>1 2025-03-14T10:%02d:%02d.%03dZ srv%d app %d - - %s\n", r.IntN(3), r.IntN(3), 500*r.IntN(2), f, i, strings.Join(msg, " "))
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("host%d.log", f))
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	c := ingestWithColumns(t, filepath.Join(dir, "case"), paths, index.IngestOptions{Parse: parsers.Options{TZ: time.UTC}})
	return c, caseEvents(t, c)
}

// textQueries are queries of free text alone: words, wildcards, phrases in
// and out of their order, AND and OR of them, a field absent from most events.
var textQueries = []string{
	"delete", "message:shadows", "vssadmin rclone", "vssadmin AND rclone", "mega OR upload",
	"message:up*", "message:*a*", `"delete shadows"`, `"shadows delete"`, `"delete shadows" OR mega`,
	`message:"windows temp" AND copy`, "report.pdf", "facture", "error.message:recognises",
	"nosuchword", `"report pdf"`, "(delete OR copy) AND (mega OR upload)",
	"message:*", "error.message:* OR rclone", // holding a word: a message of punctuation does not
}

// joinedQueries have matches that may hold no free text: the index
// declines them.
var joinedQueries = []string{
	"NOT delete", "mega OR host.name:srv0", "host.name:srv1", "*", "NOT message:*", "NOT (delete OR copy)",
}

// narrowedQueries are queries whose matches all hold free text, with terms
// on other fields or a NOT beside it: the index's candidates are checked.
var narrowedQueries = []string{
	"delete AND host.name:srv1", "delete AND NOT mega", `"delete shadows" AND NOT host.name:srv2`,
	"(mega AND host.name:srv0) OR (upload AND NOT copy)", "delete AND @timestamp:>=2025-03-14T10:01:00",
	"vssadmin AND NOT @timestamp:*", "rclone AND event.id:nosuchid",
	"message:* AND NOT error.message:*", "* AND NOT delete",
}

// TestSearchTextAlone: a query whose matches all hold free text is
// answered by the full-text index and the event store without the columnar
// store's join — free text alone always, other terms beside it when its
// candidates are few enough to read — with exactly the plain meaning's
// events, order and total at every limit; the join (every match asked for,
// limit 0) gives the same.
func TestSearchTextAlone(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		c, evs := textCase(t, seed)
		s := openStoreT(t, c)
		if m := checkStore(t, fmt.Sprint("text ", seed), s, evs, append(append(textQueries, narrowedQueries...), joinedQueries...), "host.name", "", 0, 1, 3, 7, 1000); m < len(textQueries)+len(narrowedQueries)+len(joinedQueries)-5 {
			t.Errorf("seed %d: only %d of %d queries match events", seed, m, len(textQueries))
		}
		if err := s.openText(); err != nil {
			t.Fatal(err)
		}
		for _, q := range append(textQueries, narrowedQueries...) {
			n := parse(t, q)
			want := plainquery.Search(evs, n)
			// Free text alone without a phrase reads no block to count,
			// and a phrase's events are read by the join too: answered
			// whatever the bound; the others within it.
			phrase := strings.Contains(q, `"`)
			exact := index.IsTextQuery(n) && !phrase
			for _, maxBlocks := range []int{0, 1 << 20} {
				var ids []string
				total, answered, err := s.text.SearchText(c, n, 5, maxBlocks, func(ev *event.Event) error { ids = append(ids, ev.Str(event.FieldID)); return nil })
				if err != nil || !answered && (exact || phrase || maxBlocks > 0) {
					t.Errorf("seed %d: %q (reading at most %d blocks): not answered (%v)", seed, q, maxBlocks, err)
				}
				if answered && maxBlocks == 0 && !exact && !phrase && len(want) > 0 {
					t.Errorf("seed %d: %q: answered reading no block", seed, q)
				}
				if answered && (total != uint64(len(want)) || strings.Join(ids, ",") != strings.Join(want[:min(5, len(want))], ",")) {
					t.Errorf("seed %d: %q: %d of %d, want %d of %d", seed, q, len(ids), total, min(5, len(want)), len(want))
				}
			}
		}
		for _, q := range joinedQueries {
			if _, answered, err := s.text.SearchText(c, parse(t, q), 5, 1<<20, func(*event.Event) error { return nil }); answered || err != nil {
				t.Errorf("%q: matches without free text, answered by the full-text index (%v)", q, err)
			}
		}
		s.Close()
	}
}

// TestSearchTextOlderAndUnfinished: documents of a file an interrupted run
// left unfinished are not counted (the columnar store has none of its
// events); documents an older version wrote without their place make the
// index decline, and the join answers.
func TestSearchTextOlderAndUnfinished(t *testing.T) {
	c, evs := textCase(t, 9)
	orphan := event.New()
	orphan.Set(event.FieldID, "orphan")
	orphan.Set("message", "orphanword delete")
	orphan.Timestamp = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	b, err := index.OpenBleve(c.IndexDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Add(orphan, strings.Repeat("0", 64)+"/0/0"); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	s := openStoreT(t, c)
	checkStore(t, "unfinished", s, evs, []string{"delete", "orphanword"}, "host.name", "", 1, 7)
	s.openText()
	if total, answered, err := s.text.SearchText(c, parse(t, "orphanword OR delete"), 3, 0, func(*event.Event) error { return nil }); err != nil || !answered || total != uint64(len(plainquery.Search(evs, parse(t, "delete")))) {
		t.Errorf("the unfinished file's document: answered %v (%v), total %d", answered, err, total)
	}
	s.Close()

	idx, err := bleve.Open(c.IndexDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.Index("legacy", map[string]any{"message": "legacyword delete"}); err != nil {
		t.Fatal(err)
	}
	idx.Close()
	s = openStoreT(t, c)
	defer s.Close()
	checkStore(t, "legacy", s, evs, []string{"delete", "legacyword", "mega"}, "host.name", "", 1, 7)
	s.openText()
	for q, want := range map[string]bool{"delete": false, "legacyword": false, "mega": true} {
		if _, answered, err := s.text.SearchText(c, parse(t, q), 3, 0, func(*event.Event) error { return nil }); err != nil || answered != want {
			t.Errorf("%q with a document of no place: answered %v (%v), want %v", q, answered, err, want)
		}
	}
}
