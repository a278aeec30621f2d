package columns

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/parsers"
)

// TestStoreMeansTheQueryOnCorpus: on real lines of other vendors and real
// EVTX files (the shared corpus: firewalls, mail servers, a proxy, Windows
// logs), queries built from the events' own values — every searchable
// field present, exact, case-changed and wildcard, words of their free
// text — give what the query plainly means. Odd values (quotes, slashes,
// non-ASCII, lists) reach SQL here as they will on evidence never seen.
func TestStoreMeansTheQueryOnCorpus(t *testing.T) {
	var dirs []string
	for _, d := range []string{"firewall", "mail", "proxy", "evtx"} {
		dirs = append(dirs, corpus.Dir(t, d))
	}
	c := ingestWithColumns(t, t.TempDir(), dirs, index.IngestOptions{Parse: parsers.Options{TZ: time.UTC}})
	evs := caseEvents(t, c)
	if len(evs) < 1000 {
		t.Fatalf("%d events from the corpus", len(evs))
	}
	// For each searchable field, a few of its values as the events hold them.
	seen := map[string]map[string]bool{}
	for _, ev := range evs {
		for f, kind := range index.Fields {
			vals := index.FieldStrings(ev, f)
			if kind == index.Text {
				vals = strings.Fields(ev.Str(f))
			}
			for _, v := range vals {
				if v == "" || strings.ContainsAny(v, `"\`) || kind == index.Timestamp {
					continue
				}
				if seen[f] == nil {
					seen[f] = map[string]bool{}
				}
				if len(seen[f]) < 2 {
					seen[f][v] = true
				}
			}
		}
	}
	queries := []string{"", "message:*", "NOT message:*"}
	fields := make([]string, 0, len(seen))
	for f := range seen {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		queries = append(queries, f+":*")
		vals := make([]string, 0, len(seen[f]))
		for v := range seen[f] {
			vals = append(vals, v)
		}
		sort.Strings(vals)
		for _, v := range vals {
			switch index.Fields[f] {
			case index.Number:
				queries = append(queries, f+":"+v, f+":>="+v)
			case index.Text:
				queries = append(queries, f+`:"`+v+`"`)
			default:
				queries = append(queries, f+`:"`+v+`"`, f+`:"`+strings.ToUpper(v)+`"`)
				if r := []rune(v); len(r) > 2 {
					queries = append(queries, f+":"+strings.NewReplacer(" ", "?", "(", "?", ")", "?", ":", "?", "<", "?", ">", "?", "=", "?", "-", "?", "+", "?").Replace(string(r[:2]))+"*")
				}
			}
		}
	}
	s := openStoreT(t, c)
	defer s.Close()
	// The first 50 events in order and the total: reading every match whole
	// from the event store for each of ~300 queries would double the time.
	matched := checkStore(t, "corpus", s, evs, queries, "destination.ip", "source.bytes", 50)
	if matched < len(queries)/2 {
		t.Errorf("only %d of %d queries match events", matched, len(queries))
	}
	t.Logf("%d events, %d queries over %d fields, %d matching", len(evs), len(queries), len(fields), matched)
}
