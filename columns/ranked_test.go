package columns

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/plainquery"
	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/samples/scenario"
)

// keepRows sets how many rows of each ranking are kept, for one test: a
// few, so that the generated incidents' ties (many values seen once, with
// the same byte count) fall on the boundary.
func keepRows(t *testing.T, n int) {
	old := rankedRows
	rankedRows = n
	t.Cleanup(func() { rankedRows = old })
}

// writeIncident writes a generated incident's evidence and returns its
// directory and the zone and year its logs are read in.
func writeIncident(t *testing.T, v scenario.Variant, seed uint64) (string, parsers.Options) {
	t.Helper()
	inc := scenario.Build(scenario.Draw(v, seed))
	dir := filepath.Join(t.TempDir(), "evidence")
	if err := inc.Write(dir, dir+".truth.json"); err != nil {
		t.Fatal(err)
	}
	return dir, parsers.Options{TZ: time.FixedZone(inc.Truth.Offset(), inc.Truth.TZOffsetSeconds), Year: inc.Truth.Year}
}

// rankedMeansTheQuery checks every kept ranking of the case, for every
// number of rows up to rankedRows, against the plain meaning's first rows,
// and that one row more is not answered from the rankings. It returns how
// many rankings had more values than are kept (their boundary was tested).
func rankedMeansTheQuery(t *testing.T, name string, s *Store) (cut int) {
	t.Helper()
	evs := caseEvents(t, s.c)
	all := parse(t, "")
	for _, r := range rankings {
		for _, sum := range r.sums {
			want, wantTotal := plainquery.Top(evs, all, r.field, sum)
			if len(want) > rankedRows {
				cut++
			}
			for n := 1; n <= rankedRows; n++ {
				got, ok, err := s.ranked(r.field, sum, "TRUE", n)
				if err != nil || !ok {
					t.Fatalf("%s: top %s --sum %q --limit %d: not answered from the rankings (%v)", name, r.field, sum, n, err)
				}
				w := want
				if len(w) > n {
					w = w[:n]
				}
				if topText(got) != topText(w) {
					t.Errorf("%s: top %s --sum %q --limit %d from the rankings:\n%swant\n%s", name, r.field, sum, n, topText(got), topText(w))
				}
				rows, total, err := s.Top(r.field, sum, "", n)
				if err != nil || total != wantTotal || topText(rows) != topText(w) {
					t.Errorf("%s: Top %s --sum %q --limit %d: %d events (%v), want %d", name, r.field, sum, n, total, err, wantTotal)
				}
			}
			if _, ok, _ := s.ranked(r.field, sum, "TRUE", rankedRows+1); ok {
				t.Errorf("%s: top %s --limit %d answered from rankings of %d rows", name, r.field, rankedRows+1, rankedRows)
			}
		}
	}
	for _, q := range []string{"event.outcome:failure", "NOT source.bytes:0"} {
		if _, ok, _ := s.ranked("destination.ip", "source.bytes", q, 1); ok {
			t.Errorf("%s: a ranking over %q answered from the whole case's", name, q)
		}
	}
	if _, ok, _ := s.ranked("destination.ip", "source.port", "TRUE", 1); ok {
		t.Errorf("%s: a sum that is not kept answered from the rankings", name)
	}
	return cut
}

// TestRankedTop: `top` over a whole case read from the rankings kept at
// ingest gives exactly the rows the grouping of every event gives — ties
// on the boundary included — on generated incidents of every storyline.
func TestRankedTop(t *testing.T) {
	keepRows(t, 3)
	cut := 0
	for _, v := range scenario.Variants {
		name := fmt.Sprintf("%s/1", v)
		dir, o := writeIncident(t, v, 1)
		c := ingestWithColumns(t, t.TempDir(), []string{dir}, index.IngestOptions{Parse: o})
		s := openStoreT(t, c)
		cut += rankedMeansTheQuery(t, name, s)
		s.Close()
	}
	if cut < 3*len(scenario.Variants) {
		t.Errorf("only %d rankings had more values than the %d kept: the boundary is hardly tested", cut, rankedRows)
	}
}

// TestRankingFollowsTheCase: rankings of another state of the case are not
// read — evidence added without ranking again (an ingest stopped after its
// files were written), or rankings kept to another length — and Top then
// groups every event; ranking again brings them back.
func TestRankingFollowsTheCase(t *testing.T) {
	keepRows(t, 3)
	first, o1 := writeIncident(t, scenario.SlowTheft, 2)
	c := ingestWithColumns(t, t.TempDir(), []string{first}, index.IngestOptions{Parse: o1})
	s := openStoreT(t, c)
	rankedMeansTheQuery(t, "first incident", s)
	dir := c.Dir
	s.Close()

	second, o2 := writeIncident(t, scenario.VPNTheft, 3)
	c, err := index.OpenCase(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := index.Ingest(c, []string{second}, index.IngestOptions{Parse: o2, Sink: w}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStoreT(t, c)
	evs := caseEvents(t, c)
	if _, ok, _ := s.ranked("destination.ip", "source.bytes", "TRUE", 1); ok {
		t.Fatal("rankings of the case before its second evidence were read")
	}
	checkStore(t, "both incidents, not ranked", s, evs, []string{""}, "destination.ip", "source.bytes", 1)
	want, _ := plainquery.Top(evs, parse(t, ""), "user.name", "")
	if got, _, err := s.Top("user.name", "", "", 2); err != nil || len(want) < 2 || topText(got) != topText(want[:2]) {
		t.Errorf("top user.name --limit 2 over both incidents:\n%s(%v)", topText(got), err)
	}
	s.Close()

	c, err = index.OpenCase(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if w, err = NewWriter(c); err != nil {
		t.Fatal(err)
	}
	if err := w.Rank(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	s = openStoreT(t, c)
	rankedMeansTheQuery(t, "both incidents", s)
	rankedRows = 2
	if _, ok, _ := s.ranked("destination.ip", "source.bytes", "TRUE", 1); ok {
		t.Error("rankings kept to 3 rows were read as rankings of 2")
	}
	s.Close()
}
