package columns

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/exfiltrace/exfiltrace/index"
)

// ExportParquet writes the case's events as one Parquet file in dir, typed
// columns and each event's other fields as JSON, for DuckDB, pandas, Polars
// or Spark (sort on "@timestamp" when reading).
func ExportParquet(c *index.Case, dir string) (string, error) {
	out := filepath.Join(dir, "events.parquet")
	if err := lineUpFields(c); err != nil {
		return "", err
	}
	connector, db, err := open(c, true)
	if err != nil {
		return "", err
	}
	defer connector.Close()
	defer db.Close()
	// Within DuckDB's memory limit only with one thread and small string
	// dictionaries (the writer keeps one per column, and event ids,
	// locations and addresses are nearly all distinct), and without a hash
	// join of the typed columns and the fields over the whole case: with
	// DuckDB's defaults a case of 200,000 FortiGate events ran out of
	// memory, and one of 1 M with the whole join (bench/README). Both tables
	// are written file by file in the event store's order, so they are
	// joined by position, file by file, streaming; should a file's rows not
	// line up, the join is done a share of the events at a time.
	if _, err := db.Exec("SET threads=1"); err != nil {
		return "", err
	}
	if qs, ok, err := positionalJoin(db); err != nil {
		return "", err
	} else if ok {
		return out, copyShares(db, qs, dir, out)
	}
	var fieldBytes int64
	if err := db.QueryRow(`SELECT coalesce(sum(length(fields)), 0) FROM event_fields`).Scan(&fieldBytes); err != nil {
		return "", err
	}
	parts := max(1, (fieldBytes+exportShareBytes-1)/exportShareBytes)
	if parts == 1 {
		return out, copyParquet(db, `SELECT * FROM events`, out)
	}
	t, err := tables(db)
	if err != nil {
		return "", err
	}
	var qs []string
	for i := range parts {
		share := fmt.Sprintf(` WHERE hash("event.id") %% %d = %d)`, parts, i)
		qs = append(qs, joinFields("(SELECT * FROM "+t+"events"+share, "(SELECT * FROM "+t+"event_fields"+share))
	}
	return out, copyShares(db, qs, dir, out)
}

// copyShares writes the rows of queries, one after the other, to one
// Parquet file: each to a file of its own first when there are several.
func copyShares(db *sql.DB, queries []string, dir, out string) error {
	if len(queries) == 1 {
		return copyParquet(db, queries[0], out)
	}
	tmp, err := os.MkdirTemp(dir, ".export-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for i, q := range queries {
		if err := copyParquet(db, q, filepath.Join(tmp, fmt.Sprintf("share-%06d.parquet", i))); err != nil {
			return err
		}
	}
	return copyParquet(db, `SELECT * FROM read_parquet('`+sqlString(filepath.Join(tmp, "share-*.parquet"))+`')`, out)
}

// exportShareBytes is how many bytes of fields (JSON) one share of the
// export joins: a share's join holds them in DuckDB's memory.
var exportShareBytes int64 = 32 << 20

// copyParquet writes a query's rows to a Parquet file in row groups of
// at most 16,384 rows and 8 MB: Windows events carry ~1.4 KB of fields
// each, and a 16,384-row group of them alone exceeded what DuckDB had left.
func copyParquet(db *sql.DB, query, out string) error {
	_, err := db.Exec(`COPY (` + query + `) TO '` + sqlString(out) + `' (FORMAT PARQUET, COMPRESSION ZSTD, ROW_GROUP_SIZE 16384, ROW_GROUP_SIZE_BYTES '8MB', DICTIONARY_SIZE_LIMIT 1000)`)
	return err
}

// exportByPosition lets the tests take the export's other way.
var exportByPosition = true

// positionalJoin is the events joined with their fields by position, the
// whole tables at once or file by file, when both tables hold every file's
// events in the same order (checked: a join by event id, a share at a
// time, scanned both tables once per share; 63 shares and 197 s for 1.5 M
// Windows events, 16 s this way). The queries are to be written one after
// the other (one query for thousands of files ran out of DuckDB's memory).
// ok is false when some file's rows do not line up.
func positionalJoin(db *sql.DB) (queries []string, ok bool, err error) {
	if !exportByPosition {
		return nil, false, nil
	}
	t, err := tables(db)
	if err != nil {
		return nil, false, err
	}
	// The ids are compared again as the rows are written: a row out of
	// line stops the export rather than take another's fields.
	joined := func(events, fields string) string {
		return `SELECT e.*, f.fields FROM ` + events + ` e POSITIONAL JOIN ` + fields + ` f` +
			` WHERE CASE WHEN e."event.id" IS DISTINCT FROM f."fields.event.id" THEN error('export: events and their fields out of line') ELSE true END`
	}
	apart := func(events, fields string) (int64, error) {
		var n int64
		err := db.QueryRow(outOfLine(events, fields, false)).Scan(&n)
		return n, err
	}
	// Both tables are written together: unless a file was written again
	// into one and not the other, they line up whole.
	if n, err := apart(t+"events", t+"event_fields"); err != nil {
		return nil, false, err
	} else if n == 0 {
		return []string{joined(t+"events", `(SELECT "event.id" AS "fields.event.id", fields FROM `+t+`event_fields)`)}, true, nil
	}
	rows, err := db.Query(`SELECT DISTINCT "evidence.sha256" FROM (SELECT "evidence.sha256" FROM ` + t + `events UNION ALL SELECT "evidence.sha256" FROM ` + t + `event_fields)`)
	if err != nil {
		return nil, false, err
	}
	var files []sql.NullString
	for rows.Next() {
		var f sql.NullString
		if err := rows.Scan(&f); err != nil {
			rows.Close()
			return nil, false, err
		}
		files = append(files, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	var parts []string
	for _, f := range files {
		if !f.Valid {
			return nil, false, nil
		}
		of := func(table, cols string) string {
			return `(SELECT ` + cols + ` FROM ` + t + table + ` WHERE "evidence.sha256" = '` + sqlString(f.String) + `')`
		}
		if n, err := apart(of("events", "*"), of("event_fields", `"event.id"`)); err != nil {
			return nil, false, err
		} else if n > 0 {
			return nil, false, nil
		}
		parts = append(parts, joined(of("events", "*"), of("event_fields", `"event.id" AS "fields.event.id", fields`)))
	}
	if len(parts) == 0 {
		return nil, false, nil // nothing to join
	}
	for len(parts) > 0 {
		n := min(len(parts), exportFilesAtOnce)
		queries = append(queries, strings.Join(parts[:n], " UNION ALL "))
		parts = parts[n:]
	}
	return queries, true, nil
}

// exportFilesAtOnce files are joined in one query.
var exportFilesAtOnce = 32 // a variable for the tests
