package columns

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/samples/scenario"
)

func sampleCase(t *testing.T) *index.Case {
	t.Helper()
	c, err := index.OpenCase(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := index.Ingest(c, []string{filepath.Join(corpus.Root(t), "samples", "incident")},
		index.IngestOptions{Parse: parsers.Options{TZ: time.UTC}, DeferIndex: true}); err != nil {
		t.Fatal(err)
	}
	return c
}

func scalar(t *testing.T, c *index.Case, q string) any {
	t.Helper()
	var got any
	if err := Query(c, q, func([]string) error { return nil }, func(r []any) error { got = r[0]; return nil }); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return got
}

// TestColumnarStore: the columnar copy holds every event once, its typed
// columns give the same sums as the truth, a rebuild or an interrupted load
// adds nothing, and the Parquet export holds the same rows.
func TestColumnarStore(t *testing.T) {
	c := sampleCase(t)
	if err := Build(c, nil); err != nil {
		t.Fatal(err)
	}
	if n := scalar(t, c, "SELECT count(*) FROM events"); n != int64(9840) {
		t.Fatalf("%v rows, want 9840", n)
	}
	var tr struct {
		Exfil []struct {
			Destination string `json:"destination"`
			Bytes       int64  `json:"bytes"`
		} `json:"exfiltration"`
	}
	b, _ := os.ReadFile(filepath.Join(corpus.Root(t), "samples", "incident.truth.json"))
	json.Unmarshal(b, &tr)
	q := `SELECT sum("source.bytes")::BIGINT FROM events WHERE "destination.ip" = '` + tr.Exfil[0].Destination + `'`
	if got := scalar(t, c, q); got != tr.Exfil[0].Bytes {
		t.Errorf("%s = %v, want %d", q, got, tr.Exfil[0].Bytes)
	}
	// Provenance and the whole event are there.
	if got := scalar(t, c, `SELECT count(*) FROM events WHERE "event.id" IS NULL OR "evidence.sha256" IS NULL OR "evidence.location" IS NULL`); got != int64(0) {
		t.Errorf("%v rows without id, evidence hash or location", got)
	}
	// Fields without a typed column are in "fields": FortiGate's session ids.
	if got := scalar(t, c, `SELECT count(*) FROM events WHERE json_extract_string(fields, '$."fortinet.firewall.sessionid"') IS NOT NULL`); got == int64(0) {
		t.Errorf("no row with fortinet.firewall.sessionid in fields")
	}
	// A second build adds nothing; a load interrupted after its rows but
	// before its mark is redone without duplicates.
	if err := Build(c, nil); err != nil {
		t.Fatal(err)
	}
	connector, err := duckdb.NewConnector(Path(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	if _, err := db.Exec(`DELETE FROM loaded WHERE sha256 = (SELECT min(sha256) FROM loaded)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	connector.Close()
	if err := Build(c, nil); err != nil {
		t.Fatal(err)
	}
	if n := scalar(t, c, "SELECT count(*) FROM events"); n != int64(9840) {
		t.Fatalf("%v rows after rebuilds, want 9840", n)
	}
	out, err := ExportParquet(c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if n := scalar(t, c, "SELECT count(*) FROM read_parquet('"+out+"')"); n != int64(9840) {
		t.Errorf("parquet export holds %v rows, want 9840", n)
	}
	// Read back, the export equals the case row for row, every column.
	for _, q := range []string{
		"SELECT count(*) FROM (SELECT * FROM read_parquet('" + out + "') EXCEPT ALL SELECT * FROM events)",
		"SELECT count(*) FROM (SELECT * FROM events EXCEPT ALL SELECT * FROM read_parquet('" + out + "'))",
	} {
		if n := scalar(t, c, q); n != int64(0) {
			t.Errorf("%s = %v rows, want 0", q, n)
		}
	}
}

// TestTopEqualsIndex: top on the columnar store gives exactly the rows the
// search index gives, for plain, filtered, case-insensitive, numeric, time,
// wildcard, list and negated queries.
func TestTopEqualsIndex(t *testing.T) {
	c := sampleCase(t)
	b, err := c.OpenReadOnly() // builds the index the deferred ingest left
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cases := []struct{ field, sum, q string }{
		{"destination.ip", "source.bytes", ""},
		{"source.ip", "source.bytes", "destination.port:443"},
		{"email.from.address", "email.size", "user.name:J.MARTIN AND event.action:message"},
		{"destination.ip", "", "source.bytes:>100000000"},
		{"event.code", "", `@timestamp:>="2025-03-14T22:00:00Z" AND event.dataset:windows*`},
		{"user.name", "", "event.category:authentication AND NOT event.outcome:success"},
		{"host.name", "", "event.code:(4624 OR 4625)"},
		{"event.action", "", "destination.domain:*mega*"},
	}
	for _, tc := range cases {
		if !CanTop(tc.field, tc.sum, tc.q) {
			t.Errorf("%+v: not answerable by the columnar store", tc)
			continue
		}
		want, wantN, err := b.Top(tc.field, tc.sum, tc.q, 0)
		if err != nil {
			t.Fatalf("%+v: index: %v", tc, err)
		}
		got, gotN, err := Top(c, tc.field, tc.sum, tc.q, 0)
		if err != nil {
			t.Fatalf("%+v: columns: %v", tc, err)
		}
		if gotN != wantN || len(got) != len(want) {
			t.Errorf("%+v: %d rows over %d events, index %d over %d", tc, len(got), gotN, len(want), wantN)
			continue
		}
		for i := range want {
			if got[i].Value != want[i].Value || got[i].Count != want[i].Count || got[i].Sum != want[i].Sum ||
				!got[i].First.Equal(want[i].First) || !got[i].Last.Equal(want[i].Last) {
				t.Errorf("%+v row %d: %+v, index %+v", tc, i, got[i], want[i])
				break
			}
		}
	}
	if CanTop("message", "", "") || CanTop("destination.ip", "", "vssadmin") || CanTop("email.to.address", "", "") {
		t.Error("free text, a bare word or a list field claimed answerable")
	}
}

// TestStatsEqualsIndex: stats from the columnar store equal the index's.
func TestStatsEqualsIndex(t *testing.T) {
	c := sampleCase(t)
	b, err := c.OpenReadOnly()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	want, err := b.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if err := Build(c, nil); err != nil {
		t.Fatal(err)
	}
	got, err := Stats(c)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("columnar stats %+v\nindex stats %+v", got, want)
	}
}

// tableDigest is the events table in a fixed order, as text: two copies
// that hold the same rows give the same digest.
func tableDigest(t *testing.T, c *index.Case) string {
	t.Helper()
	var rows []string
	err := Query(c, `SELECT * EXCLUDE (fields), fields::JSON::VARCHAR FROM events ORDER BY "event.id"`, func([]string) error { return nil }, func(r []any) error {
		rows = append(rows, fmt.Sprint(r...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(rows, "\n")
}

// TestWriterDuringIngest: the columnar store written while ingest reads the
// evidence is ready when the ingest ends and equals the copy built from the
// event store; rows of a file an ingest did not finish, or that the
// manifest does not list, make it not ready until a build removes them.
func TestWriterDuringIngest(t *testing.T) {
	dir := t.TempDir()
	c, err := index.OpenCase(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w, err := NewWriter(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := index.Ingest(c, []string{filepath.Join(corpus.Root(t), "samples", "incident")},
		index.IngestOptions{Parse: parsers.Options{TZ: time.UTC}, DeferIndex: true, Sink: w}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !Ready(c) {
		t.Fatal("columnar store not ready after the ingest that wrote it")
	}
	during := tableDigest(t, c)
	if n := strings.Count(during, "\n") + 1; n != 9840 {
		t.Fatalf("%d rows, want 9840", n)
	}
	os.Remove(Path(c))
	if err := Build(c, nil); err != nil {
		t.Fatal(err)
	}
	if after := tableDigest(t, c); after != during {
		t.Fatal("the copy written during ingest differs from the copy built from the event store")
	}

	// An ingest stopped mid-file: rows without their mark.
	w, err = NewWriter(c)
	if err != nil {
		t.Fatal(err)
	}
	fake := event.New()
	fake.Set(event.FieldSHA256, strings.Repeat("ab", 32))
	fake.Set(event.FieldID, "interrupted")
	if err := w.Add(fake, "x/0/0"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if Ready(c) {
		t.Fatal("ready with rows of an unfinished file")
	}
	// Stopped after the file's mark but before the manifest listed it.
	w, _ = NewWriter(c)
	w.Add(fake, "x/0/0")
	w.FileDone(fake.Str(event.FieldSHA256), 1)
	w.Close()
	if Ready(c) {
		t.Fatal("ready with a file the manifest does not list")
	}
	if err := Build(c, nil); err != nil {
		t.Fatal(err)
	}
	if !Ready(c) || tableDigest(t, c) != during {
		t.Fatal("the build did not restore exactly the case's rows")
	}
}

// TestSearchEqualsIndex: search on the columnar store gives the index's
// events in the index's order (time, then event id), with the same total,
// whole or cut by a limit.
func TestSearchEqualsIndex(t *testing.T) {
	c := sampleCase(t)
	b, err := c.OpenReadOnly()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ids := func(search func(string, int, func(*event.Event) error) (uint64, error), q string, limit int) ([]string, uint64) {
		var out []string
		n, err := search(q, limit, func(ev *event.Event) error {
			out = append(out, ev.Str(event.FieldID)+" "+ev.Timestamp.Format(time.RFC3339Nano)+" "+ev.Str("source.bytes"))
			return nil
		})
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		return out, n
	}
	cols := func(q string, limit int, fn func(*event.Event) error) (uint64, error) { return Search(c, q, limit, fn) }
	for _, q := range []string{
		"",
		`destination.ip:"51.91.120.15" AND source.bytes:>1000000`,
		"user.name:J.MARTIN",
		"event.code:(4624 OR 4625 OR 4672) AND NOT user.name:j.martin",
		`@timestamp:>="2025-03-14T22:00:00Z" AND @timestamp:<"2025-03-15T00:00:00Z"`,
		"email.to.address:*@gmail.com",
		"destination.domain:*mega*",
	} {
		if !CanSearch(q) {
			t.Errorf("%q: not answerable by the columnar store", q)
			continue
		}
		for _, limit := range []int{0, 7} {
			want, wantN := ids(b.Search, q, limit)
			got, gotN := ids(cols, q, limit)
			if gotN != wantN || strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%q limit %d: %d events of %d, index %d of %d", q, limit, len(got), gotN, len(want), wantN)
			}
			if q != "" && limit == 0 && wantN == 0 {
				t.Errorf("%q matches nothing: the comparison proves little", q)
			}
		}
	}
	if CanSearch("vssadmin") || CanSearch("message:encrypted") {
		t.Error("free text claimed answerable by the columnar store")
	}
}

// TestColumnsEqualIndexOnScenarios: on generated incidents of every
// storyline (their own zones, years, missing sources), the columnar copy
// written during ingest answers search, top and stats exactly as the index
// does, for queries drawn from each incident's truth.
func TestColumnsEqualIndexOnScenarios(t *testing.T) {
	seeds := 2
	if testing.Short() {
		seeds = 1
	}
	allMatched := 0
	for _, v := range scenario.Variants {
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			inc := scenario.Build(scenario.Draw(v, seed))
			dir := filepath.Join(t.TempDir(), "evidence")
			if err := inc.Write(dir, dir+".truth.json"); err != nil {
				t.Fatal(err)
			}
			c, err := index.OpenCase(t.TempDir(), true)
			if err != nil {
				t.Fatal(err)
			}
			w, err := NewWriter(c)
			if err != nil {
				t.Fatal(err)
			}
			zone := time.FixedZone(inc.Truth.Offset(), inc.Truth.TZOffsetSeconds)
			if _, err := index.Ingest(c, []string{dir}, index.IngestOptions{Parse: parsers.Options{TZ: zone, Year: inc.Truth.Year}, Sink: w}); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if !Ready(c) {
				t.Fatalf("%s/%d: columnar copy not ready after ingest", v, seed)
			}
			b, err := c.OpenReadOnly()
			if err != nil {
				t.Fatal(err)
			}
			queries := []string{"", "event.outcome:failure", "destination.port:(443 OR 22)"}
			for _, ch := range inc.Truth.Exfil {
				queries = append(queries, `destination.ip:"`+ch.Destination+`"`)
				if ch.SourceIP != "" {
					queries = append(queries, `source.ip:"`+ch.SourceIP+`" AND source.bytes:>0`)
				}
				if ch.Account != "" {
					queries = append(queries, "user.name:"+strings.ToUpper(ch.Account))
				}
			}
			for _, r := range inc.Truth.Routine {
				queries = append(queries, `destination.ip:"`+r.Destination+`"`)
			}
			matched := 0 // queries other than "" that find something: the comparison is not vacuous
			for _, q := range queries {
				if !CanSearch(q) {
					t.Fatalf("%q: not answerable by the columnar store", q)
				}
				var want, got []string
				collect := func(out *[]string) func(*event.Event) error {
					return func(ev *event.Event) error { *out = append(*out, ev.Str(event.FieldID)); return nil }
				}
				wantN, err := b.Search(q, 200, collect(&want))
				if err != nil {
					t.Fatal(err)
				}
				gotN, err := Search(c, q, 200, collect(&got))
				if err != nil {
					t.Fatal(err)
				}
				if q != "" && wantN > 0 {
					matched++
				}
				if gotN != wantN || strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("%s/%d search %q: %d events (%d shown), index %d (%d shown)", v, seed, q, gotN, len(got), wantN, len(want))
				}
				wantTop, _, err := b.Top("destination.ip", "source.bytes", q, 0)
				if err != nil {
					t.Fatal(err)
				}
				gotTop, _, err := Top(c, "destination.ip", "source.bytes", q, 0)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(gotTop) != fmt.Sprint(wantTop) {
					t.Errorf("%s/%d top over %q differs: %d rows, index %d", v, seed, q, len(gotTop), len(wantTop))
				}
			}
			if matched < 1 { // one source may be missing from an incident, not all
				t.Errorf("%s/%d: none of %d queries matches anything", v, seed, len(queries)-1)
			}
			allMatched += matched
			wantSt, err := b.Stats()
			if err != nil {
				t.Fatal(err)
			}
			gotSt, err := Stats(c)
			if err != nil || !reflect.DeepEqual(gotSt, wantSt) {
				t.Errorf("%s/%d stats differ (%v)", v, seed, err)
			}
			b.Close()
			c.Close()
		}
	}
	if allMatched < 3*len(scenario.Variants)*seeds {
		t.Errorf("only %d non-trivial queries matched events over %d incidents", allMatched, len(scenario.Variants)*seeds)
	}
}
