package columns

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/internal/plainquery"
	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/samples/scenario"
)

// The case's store (SQL over the columnar copy, free text by bleve, joined
// on event.id) is held to the query language's plain meaning: index.Node's
// Match on every event of the event store, ordered, grouped and counted
// here in Go.

func caseEvents(t *testing.T, c *index.Case) []*event.Event {
	t.Helper()
	var evs []*event.Event
	if err := c.Stream(func(ev *event.Event) error { evs = append(evs, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	return evs
}

func parse(t *testing.T, q string) *index.Node {
	t.Helper()
	n, err := index.ParseQueryString(q)
	if err != nil {
		t.Fatalf("%q: %v", q, err)
	}
	return n
}

func gotSearch(t *testing.T, s *Store, q string, limit int) ([]string, uint64) {
	t.Helper()
	var ids []string
	n, err := s.Search(q, limit, func(ev *event.Event) error { ids = append(ids, ev.Str(event.FieldID)); return nil })
	if err != nil {
		t.Fatalf("%q: %v", q, err)
	}
	return ids, n
}

func topText(rows []index.TopRow) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s %d %d %d %s %s\n", r.Value, r.Count, r.Sum, r.SumSeen, r.First.Format(time.RFC3339Nano), r.Last.Format(time.RFC3339Nano))
	}
	return b.String()
}

// checkStore compares the store with the plain meaning for each query:
// search whole and cut by a limit (or cut by the limits given), and top of field summing sum. It returns
// how many queries matched some event (a comparison over nothing proves little).
func checkStore(t *testing.T, name string, s *Store, evs []*event.Event, queries []string, field, sum string, limits ...int) int {
	if len(limits) == 0 {
		limits = []int{0, 7}
	}
	t.Helper()
	matched := 0
	for _, q := range queries {
		want := plainquery.Search(evs, parse(t, q))
		if len(want) > 0 {
			matched++
		}
		for _, limit := range limits {
			got, n := gotSearch(t, s, q, limit)
			w := want
			if limit > 0 && len(w) > limit {
				w = w[:limit]
			}
			if n != uint64(len(want)) || strings.Join(got, ",") != strings.Join(w, ",") {
				t.Errorf("%s: search %q limit %d: %d shown of %d, want %d of %d", name, q, limit, len(got), n, len(w), len(want))
			}
		}
		wt, wn := plainquery.Top(evs, parse(t, q), field, sum)
		gt, gn, err := s.Top(field, sum, q, 0)
		if err != nil {
			t.Fatalf("%s: top %s over %q: %v", name, field, q, err)
		}
		if gn != wn || topText(gt) != topText(wt) {
			t.Errorf("%s: top %s --sum %s over %q:\n%s(%d events)\nwant\n%s(%d events)", name, field, sum, q, topText(gt), gn, topText(wt), wn)
		}
	}
	return matched
}

// sampleQueries cover every kind of term and how they combine: typed
// columns and fields kept as JSON, exact, case-insensitive, numeric, time,
// wildcard, list and negated terms, and free text (words, phrases,
// wildcards) alone and joined with structured terms.
var sampleQueries = []string{
	"",
	`destination.ip:"51.91.120.15" AND source.bytes:>1000000`,
	"user.name:J.MARTIN",
	"event.code:(4624 OR 4625 OR 4672) AND NOT user.name:j.martin",
	`@timestamp:>="2025-03-14T22:00:00Z" AND @timestamp:<"2025-03-15T00:00:00Z"`,
	"email.to.address:*@gmail.com",
	"destination.domain:*mega*",
	"winlog.logon.type:RemoteInteractive",
	"winlog.channel:SECURITY AND event.code:4624",
	"fortinet.firewall.subtype:forward AND destination.port:443",
	"postfix.queue_id:* AND NOT email.size:<10000",
	"event.category:authentication AND NOT event.outcome:success",
	"vssadmin",
	`process.command_line:"delete shadows"`,
	`process.command_line:"shadows delete"`, // its words, not in its order
	`message:"logontype 10"`,
	`message:"10 logontype" OR message:"logontype 3 logonprocessname"`,
	"process.command_line:rclone* OR destination.port:22",
	"message:* AND event.dataset:postfix",
	"NOT message:*",
	"user.name:j.martin AND (process.command_line:*exe OR event.code:4624)",
	"email.subject:*",
	"powershell.file.script_block_text:* OR error.message:*",
}

func openStoreT(t *testing.T, c *index.Case) *Store {
	t.Helper()
	s, err := Open(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStoreMeansTheQuery: on the bundled incident, every query kind gives
// exactly the events, order, totals, top rows and stats of the plain meaning.
func TestStoreMeansTheQuery(t *testing.T) {
	c := sampleCase(t)
	evs := caseEvents(t, c)
	s := openStoreT(t, c)
	if m := checkStore(t, "samples", s, evs, sampleQueries, "destination.ip", "source.bytes"); m < len(sampleQueries)-3 {
		t.Errorf("only %d of %d queries match events", m, len(sampleQueries))
	}
	for _, tc := range []struct{ field, sum, q string }{
		{"email.from.address", "email.size", "user.name:J.MARTIN AND event.action:message"},
		{"email.to.address", "email.size", ""},           // a list column
		{"event.category", "", ""},                       // a list column
		{"winlog.logon.type", "", "event.code:4624"},     // a Windows field
		{"host.name", "", "vssadmin OR event.code:4624"}, // free text in the filter
		{"source.port", "destination.bytes", "destination.port:443"},
		{"rule.id", "source.bytes", "destination.port:443"},               // no typed column: read from event_fields
		{"fortinet.firewall.vd", "destination.packets", "event.action:*"}, // a sum without a typed column
	} {
		checkStore(t, "samples top "+tc.field, s, evs, []string{tc.q}, tc.field, tc.sum)
		if rows, _, err := s.Top(tc.field, tc.sum, tc.q, 0); err != nil || len(rows) == 0 || tc.sum != "" && rows[0].SumSeen == 0 {
			t.Errorf("top %s --sum %s over %q: %d rows (%v): the comparison proves little", tc.field, tc.sum, tc.q, len(rows), err)
		}
	}
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if want := plainquery.Stats(evs); !reflect.DeepEqual(st, want) {
		t.Errorf("stats %+v\nwant %+v", st, want)
	}
	for _, bad := range []string{"nosuch.field:x", "source.bytes:lots", "user.name:>b", "@timestamp:>yesterday", "vssadmin AND (", "message:>3"} {
		if _, err := s.Search(bad, 1, func(*event.Event) error { return nil }); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	s.Close()
}

// TestStoreMeansTheQueryOnScenarios: on generated incidents of every
// storyline (their own zones, years, missing sources), the store written
// during ingest — free text indexed as it goes — answers queries drawn from
// each incident's truth as the plain meaning does.
func TestStoreMeansTheQueryOnScenarios(t *testing.T) {
	seeds := 2
	if testing.Short() {
		seeds = 1
	}
	allMatched := 0
	for _, v := range scenario.Variants {
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			name := fmt.Sprintf("%s/%d", v, seed)
			inc := scenario.Build(scenario.Draw(v, seed))
			dir := filepath.Join(t.TempDir(), "evidence")
			if err := inc.Write(dir, dir+".truth.json"); err != nil {
				t.Fatal(err)
			}
			zone := time.FixedZone(inc.Truth.Offset(), inc.Truth.TZOffsetSeconds)
			c := ingestWithColumns(t, t.TempDir(), []string{dir}, index.IngestOptions{Parse: parsers.Options{TZ: zone, Year: inc.Truth.Year}})
			if !Ready(c) {
				t.Fatalf("%s: columnar copy not ready after ingest", name)
			}
			evs := caseEvents(t, c)
			queries := []string{"", "event.outcome:failure", "destination.port:(443 OR 22)", "NOT message:*", "message:*"}
			for _, ch := range inc.Truth.Exfil {
				queries = append(queries, `destination.ip:"`+ch.Destination+`"`)
				if ch.SourceIP != "" {
					queries = append(queries, `source.ip:"`+ch.SourceIP+`" AND source.bytes:>0`)
				}
				if ch.Account != "" {
					queries = append(queries, "user.name:"+strings.ToUpper(ch.Account), ch.Account+" OR user.name:"+ch.Account)
				}
			}
			for _, r := range inc.Truth.Routine {
				queries = append(queries, `destination.ip:"`+r.Destination+`"`)
			}
			s := openStoreT(t, c)
			matched := checkStore(t, name, s, evs, queries, "destination.ip", "source.bytes")
			if matched < 2 { // "" and at least one more: one source may be missing, not all
				t.Errorf("%s: none of %d queries matches anything", name, len(queries)-1)
			}
			allMatched += matched
			st, err := s.Stats()
			if err != nil || !reflect.DeepEqual(st, plainquery.Stats(evs)) {
				t.Errorf("%s: stats differ (%v)", name, err)
			}
			s.Close()
		}
	}
	if allMatched < 4*len(scenario.Variants)*seeds {
		t.Errorf("only %d non-trivial queries matched events over %d incidents", allMatched, len(scenario.Variants)*seeds)
	}
}

type truth struct {
	Exfil []struct {
		Destination string `json:"destination"`
		Bytes       int64  `json:"bytes"`
		Sessions    int    `json:"sessions"`
	} `json:"exfiltration"`
	Backup struct {
		Destination string `json:"destination"`
		BytesTotal  int64  `json:"bytes_total"`
	} `json:"nightly_backup"`
}

func sampleTruth(t *testing.T) (tr truth) {
	corpus.SampleTruth(t, "incident", &tr)
	return tr
}

// TestSamplesAnswers: on the bundled incident, the answers an analyst relies
// on, against its truth: byte totals per destination, mail sizes per
// recipient, exact match counts, time order.
func TestSamplesAnswers(t *testing.T) {
	s := openStoreT(t, sampleCase(t))
	defer s.Close()
	tr := sampleTruth(t)
	rows, _, err := s.Top("destination.ip", "source.bytes", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]index.TopRow{}
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
	mrows, _, err := s.Top("email.to.address", "email.size", "user.name:J.MARTIN AND event.action:message", 0)
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
		n, err := s.Search(q, 1, func(*event.Event) error { return nil })
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
	if _, err := s.Search("destination.ip:31.216.145.5", 0, func(ev *event.Event) error {
		if ev.Timestamp.Before(prev) {
			t.Errorf("out of order: %s after %s", ev.Timestamp, prev)
		}
		prev = ev.Timestamp
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestEverySearchableFieldHasAColumn: a field added to the query language
// without a typed column would be searched nowhere.
func TestEverySearchableFieldHasAColumn(t *testing.T) {
	for f, kind := range index.Fields {
		if kind != index.Text && !hasColumn(f) {
			t.Errorf("%s (%s) has no typed column", f, kind)
		}
	}
}

// TestSQLCannotChangeTheCase: `exfiltrace sql` is read-only whatever the
// statement: writing the tables, or attaching the case's file again to
// write it through another name, fails and the case is unchanged.
func TestSQLCannotChangeTheCase(t *testing.T) {
	c := sampleCase(t)
	path := strings.ReplaceAll(Path(c), "'", "''")
	for _, q := range []string{
		`DELETE FROM events`,
		`DROP TABLE loaded`,
		`UPDATE events SET "source.bytes" = 0`,
		`INSERT INTO event_fields VALUES ('x', 'y', '{}')`,
		`ATTACH '` + path + `' AS w; DELETE FROM w.events`,
		`USE memory; DETACH columns; ATTACH '` + path + `' AS w; DELETE FROM w.events`,
		`DETACH casedb; ATTACH '` + path + `' AS w; DELETE FROM w.events`, // a case attached under another name
		`SELECT fields FROM events; DELETE FROM events`,
	} {
		err := Query(c, q, func([]string) error { return nil }, func([]any) error { return nil })
		if err == nil {
			t.Errorf("%s: no error", q)
		}
	}
	if n := scalar(t, c, "SELECT count(*) FROM events"); n != int64(9840) || !Ready(c) {
		t.Fatalf("after the attempts: %v rows, ready %v", n, Ready(c))
	}
}

// TestClocksOutsideTheColumnRange: events whose clock reads a year the
// nanosecond column cannot hold (a zeroed FILETIME reads 1601; a broken
// clock 2300) are ingested with their time, not lost with the whole ingest
// as they once were; queries treat them as having no time (listed last, no
// range matches them), as the plain meaning does; '*' means everything; and
// Stream merges the files by time, the odd years included, then by file.
func TestClocksOutsideTheColumnRange(t *testing.T) {
	dir := t.TempDir()
	line := func(date, tm string, src string, sent int) string {
		return fmt.Sprintf("date=%s time=%s logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" srcip=%s dstip=8.8.8.8 dstport=443 action=\"accept\" sentbyte=%d\n", date, tm, src, sent)
	}
	a := line("2025-03-14", "10:00:00", "10.0.0.1", 1) + line("2025-03-14", "10:00:02", "10.0.0.1", 2) + line("2300-01-01", "00:00:00", "10.0.0.1", 3)
	b := line("2025-03-14", "10:00:01", "10.0.0.2", 4) + line("1601-01-01", "00:00:00", "10.0.0.2", 5) + line("2025-03-14", "10:00:00", "10.0.0.2", 6) + "not a firewall line\n"
	for name, text := range map[string]string{"a.log": a, "b.log": b} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := ingestWithColumns(t, filepath.Join(dir, "case"), []string{filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")},
		index.IngestOptions{Parse: parsers.Options{TZ: time.UTC}})
	evs := caseEvents(t, c)
	var got []string
	for _, ev := range evs {
		n, _ := ev.Int("source.bytes")
		got = append(got, fmt.Sprintf("%s/%d", ev.Timestamp.UTC().Format("2006-01-02T15:04:05"), n))
	}
	// The unparsed line has no time: it comes first, as the zero time sorts.
	want := "0001-01-01T00:00:00/0 1601-01-01T00:00:00/5 2025-03-14T10:00:00/1 2025-03-14T10:00:00/6 2025-03-14T10:00:01/4 2025-03-14T10:00:02/2 2300-01-01T00:00:00/3"
	if strings.Join(got, " ") != want {
		t.Errorf("stream order\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	s := openStoreT(t, c)
	defer s.Close()
	queries := []string{"*", "*:*", "", "@timestamp:*", "@timestamp:>2025-03-14T10:00:00", "@timestamp:<2025-03-14T10:00:01", "source.bytes:>2", "source.ip:10.0.0.2"}
	if m := checkStore(t, "odd clocks", s, evs, queries, "source.ip", "source.bytes"); m != len(queries) {
		t.Errorf("%d of %d queries matched events", m, len(queries))
	}
	if ids, n := gotSearch(t, s, "*", 0); n != 7 || len(ids) != 7 {
		t.Errorf("'*' found %d events, want all 7", n)
	}
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if want := plainquery.Stats(evs); !reflect.DeepEqual(st, want) {
		t.Errorf("stats %+v\nwant %+v", st, want)
	}
}
