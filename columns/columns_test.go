package columns

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/parsers"
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

// ingestWithColumns ingests paths into a new case at dir with the columnar
// store written during ingest and ranked after it, as the CLI does, and
// closes the writer.
func ingestWithColumns(t *testing.T, dir string, paths []string, o index.IngestOptions) *index.Case {
	t.Helper()
	c, err := index.OpenCase(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	w, err := NewWriter(c)
	if err != nil {
		t.Fatal(err)
	}
	o.Sink = w
	if _, err := index.Ingest(c, paths, o); err != nil {
		t.Fatal(err)
	}
	if err := w.Rank(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
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
	tr := sampleTruth(t)
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
	// The export joins by position the samples' tables, which line up.
	if _, lined, err := exportJoin(t, c); err != nil || !lined {
		t.Fatalf("the samples' events and fields line up by position: %v, %v", lined, err)
	}
	testExport(t, c, "by position")
	// The export in one join, and in shares of the events (as a case with
	// more fields than a share's bytes is exported).
	whole := exportShareBytes
	defer func() { exportShareBytes, exportByPosition = whole, true }()
	exportByPosition = false
	for _, share := range []int64{whole, 1 << 18} {
		exportShareBytes = share
		if fb, _ := scalar(t, c, "SELECT sum(length(fields))::BIGINT FROM event_fields").(int64); share != whole && fb < 3*share {
			t.Fatalf("fields hold %d bytes: shares of %d prove little", fb, share)
		}
		testExport(t, c, fmt.Sprintf("shares of %d bytes", share))
	}
	// Fields that lost a row no longer line up: the export writes them
	// again from the event store, in the events' order, and equals the
	// case, every event with its fields.
	exportByPosition, exportShareBytes = true, 1<<18
	connector, err = duckdb.NewConnector(Path(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	db = sql.OpenDB(connector)
	if _, err := db.Exec(`DELETE FROM event_fields WHERE "event.id" = (SELECT min("event.id") FROM event_fields)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	connector.Close()
	if _, lined, err := exportJoin(t, c); err != nil || lined {
		t.Fatalf("a row gone from event_fields: lined up %v, %v", lined, err)
	}
	testExport(t, c, "a row of fields gone")
	if _, lined, err := exportJoin(t, c); err != nil || !lined {
		t.Fatalf("after the export, the fields written again: lined up %v, %v", lined, err)
	}
}

// exportJoin is what the export would join by position in the case.
func exportJoin(t *testing.T, c *index.Case) ([]string, bool, error) {
	t.Helper()
	connector, db, err := connect(c, true)
	if err != nil {
		t.Fatal(err)
	}
	defer connector.Close()
	defer db.Close()
	if _, err := db.Exec("SET threads=1"); err != nil {
		t.Fatal(err)
	}
	return positionalJoin(db)
}

// testExport exports the case and reads it back: it must equal the case
// row for row, every column, and leave events.parquet alone.
func testExport(t *testing.T, c *index.Case, how string) {
	t.Helper()
	dir := t.TempDir()
	out, err := ExportParquet(c, dir)
	if err != nil {
		t.Fatalf("%s: %v", how, err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("%s: the export left %d entries, want events.parquet alone", how, len(left))
	}
	if n := scalar(t, c, "SELECT count(*) FROM read_parquet('"+out+"')"); n != int64(9840) {
		t.Errorf("%s: parquet export holds %v rows, want 9840", how, n)
	}
	for _, q := range []string{
		"SELECT count(*) FROM (SELECT * FROM read_parquet('" + out + "') EXCEPT ALL SELECT * FROM events)",
		"SELECT count(*) FROM (SELECT * FROM events EXCEPT ALL SELECT * FROM read_parquet('" + out + "'))",
		"SELECT count(*) FROM read_parquet('" + out + "') WHERE fields IS NULL",
	} {
		want := int64(0)
		if n := scalar(t, c, q); n != want {
			t.Errorf("%s: %s = %v rows, want %d", how, q, n, want)
		}
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
	c := ingestWithColumns(t, t.TempDir(), []string{filepath.Join(corpus.Root(t), "samples", "incident")},
		index.IngestOptions{Parse: parsers.Options{TZ: time.UTC}, DeferIndex: true})
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
	// A writer that reopens its database every 1,000 rows (every million
	// in use) writes the same rows.
	defer func(n int) { reopenRows = n }(reopenRows)
	reopenRows = 1000
	reopened := ingestWithColumns(t, t.TempDir(), []string{filepath.Join(corpus.Root(t), "samples", "incident")},
		index.IngestOptions{Parse: parsers.Options{TZ: time.UTC}, DeferIndex: true})
	if !Ready(reopened) || tableDigest(t, reopened) != during {
		t.Fatal("the copy written by a writer reopened every 1,000 rows differs")
	}

	// An ingest stopped mid-file: rows without their mark.
	w, err := NewWriter(c)
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

// TestExportFailureLeavesNoFile: an export that fails midway (here a row
// that raises an error after row groups were written, as the positional
// join's check of ids does) leaves no file that could pass for the case's
// events: DuckDB's COPY removes it, which the export relies on.
func TestExportFailureLeavesNoFile(t *testing.T) {
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer connector.Close()
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("SET preserve_insertion_order=false; SET threads=1"); err != nil { // as the case's connections
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "events.parquet")
	if err := copyParquet(db, `SELECT CASE WHEN i = 150000 THEN error('out of line') ELSE i END AS n FROM range(200000) t(i)`, out); err == nil || !strings.Contains(err.Error(), "out of line") {
		t.Fatalf("error %v, want the row's", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed export left %s (%v)", out, err)
	}
	if err := copyParquet(db, `SELECT i AS n FROM range(1000) t(i)`, out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("an export that succeeds: %v", err)
	}
}

// TestFieldsJoinedByPosition: when the fields table lines up with the
// events table, queries read each event's fields by position, and get
// exactly what the join by event id gives; a fields row gone, they fall
// back to that join (the event without its row then has no fields).
func TestFieldsJoinedByPosition(t *testing.T) {
	c := sampleCase(t)
	if err := BuildFields(c, nil); err != nil {
		t.Fatal(err)
	}
	rowsOf := func(db *sql.DB, q string) string {
		t.Helper()
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		var out []string
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(vals...))
		}
		return strings.Join(out, "\n")
	}
	compare := func(want string) {
		t.Helper()
		connector, db, err := connect(c, true)
		if err != nil {
			t.Fatal(err)
		}
		defer connector.Close()
		defer db.Close()
		var view string
		db.QueryRow(`SELECT sql FROM duckdb_views() WHERE view_name = 'events' AND temporary`).Scan(&view)
		if positional := strings.Contains(view, "POSITIONAL"); positional != (want == "by position") {
			t.Fatalf("view %q, want one joined %s", view, want)
		}
		prefix, err := tables(db)
		if err != nil {
			t.Fatal(err)
		}
		got := rowsOf(db, `SELECT * FROM events ORDER BY "event.id"`)
		byID := rowsOf(db, `SELECT * FROM (`+joinFields(prefix+"events", prefix+"event_fields")+`) ORDER BY "event.id"`)
		if got != byID || strings.Count(got, "\n") != 9839 {
			t.Fatalf("joined %s: %d rows differ from the join by id (%d lines)", want, strings.Count(got, "\n")+1, strings.Count(byID, "\n")+1)
		}
		if n := rowsOf(db, `SELECT count(*) FROM events WHERE fields IS NULL`); (n == "0") != (want == "by position") {
			t.Fatalf("joined %s: %s events without fields", want, n)
		}
	}
	compare("by position")
	connector, err := duckdb.NewConnector(Path(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	if _, err := db.Exec(`DELETE FROM event_fields WHERE "event.id" = (SELECT min("event.id") FROM event_fields)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	connector.Close()
	compare("by id")
}
