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

	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/parsers"
)

// TestExportManyFiles: a case of more files than one query joins (a
// collection of thousands of logs ran DuckDB out of memory as one query)
// is exported a group of files at a time, each file's events joined with
// their fields by position, when the tables do not line up whole; the
// export equals the case.
func TestExportManyFiles(t *testing.T) {
	evidence := t.TempDir()
	const files, lines = 40, 400
	for f := range files {
		var b strings.Builder
		for i := range lines {
			fmt.Fprintf(&b, "2025-03-12T08:%02d:%02d+01:00 mx%d postfix/smtpd[%d]: connect from unknown[192.0.2.%d]\n", i/60, i%60, f, 1000+f, i%250+1)
		}
		if err := os.WriteFile(filepath.Join(evidence, fmt.Sprintf("maillog.%02d", f)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := ingestWithColumns(t, t.TempDir(), []string{evidence}, index.IngestOptions{Parse: parsers.Options{TZ: time.UTC}, DeferIndex: true, Workers: 2})
	if err := BuildFields(c, nil); err != nil {
		t.Fatal(err)
	}
	// Files parsed side by side interleave in the events table; the
	// fields are written in its row order, so the two join whole.
	if n := scalar(t, c, `SELECT count(*) FROM (SELECT "evidence.sha256" AS s, lag("evidence.sha256") OVER (ORDER BY rowid) AS p FROM events) WHERE s IS DISTINCT FROM p`); n.(int64) <= files {
		t.Fatalf("the events table holds %v runs of one file's rows: not interleaved, the test proves nothing", n)
	}
	if qs, lined, err := exportJoin(t, c); err != nil || !lined || len(qs) != 1 {
		t.Fatalf("interleaved files: joined by position %v in %d queries (want one), %v", lined, len(qs), err)
	}
	// One file written again into the events table alone: its rows move
	// to the end, so the tables line up file by file only.
	connector, err := duckdb.NewConnector(Path(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	sha := c.Manifest.Files[0].SHA256
	for _, q := range []string{
		`CREATE TEMP TABLE moved AS SELECT * FROM events WHERE "evidence.sha256" = '` + sha + `'`,
		`DELETE FROM events WHERE "evidence.sha256" = '` + sha + `'`,
		`INSERT INTO events SELECT * FROM moved`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	connector.Close()
	defer func(n int) { exportFilesAtOnce = n }(exportFilesAtOnce)
	exportFilesAtOnce = 8
	if qs, lined, err := exportJoin(t, c); err != nil || !lined || len(qs) != files/8 {
		t.Fatalf("joined by position: %v, in %d queries (want %d), %v", lined, len(qs), files/8, err)
	}
	dir := t.TempDir()
	out, err := ExportParquet(c, dir)
	if err != nil {
		t.Fatal(err)
	}
	// The export wrote the fields again in the events' new row order.
	if qs, lined, err := exportJoin(t, c); err != nil || !lined || len(qs) != 1 {
		t.Fatalf("after the export: joined by position %v in %d queries (want one), %v", lined, len(qs), err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("the export left %d entries, want events.parquet alone", len(left))
	}
	for q, want := range map[string]int64{
		"SELECT count(*) FROM read_parquet('" + out + "')":                                                 files * lines,
		"SELECT count(DISTINCT \"evidence.sha256\") FROM read_parquet('" + out + "')":                      files,
		"SELECT count(*) FROM (SELECT * FROM read_parquet('" + out + "') EXCEPT ALL SELECT * FROM events)": 0,
		"SELECT count(*) FROM (SELECT * FROM events EXCEPT ALL SELECT * FROM read_parquet('" + out + "'))": 0,
		"SELECT count(*) FROM read_parquet('" + out + "') WHERE fields IS NULL":                            0,
	} {
		if n := scalar(t, c, q); n != want {
			t.Errorf("%s = %v, want %d", q, n, want)
		}
	}
}
