package columns

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/exfiltrace/exfiltrace/index"
)

// selectsFields reports whether a statement may read event_fields: it names
// "fields", or selects every column.
var selectsFields = regexp.MustCompile(`(?i)\bfields\b|(select\s+(distinct\s+)?|,\s*|\.)\*\s*($|,|from|exclude|replace)`)

// open builds what the case's columnar store lacks (each event's other
// fields too when withFields), then connects to it.
func open(c *index.Case, withFields bool) (*duckdb.Connector, *sql.DB, error) {
	build := Build
	if withFields {
		build = BuildFields
	}
	if err := build(c, nil); err != nil {
		return nil, nil, err
	}
	return connect(c, withFields)
}

// connect opens the case's columnar store read-only (a statement cannot
// change the case, not even by attaching its file again) with view events
// joining each event's other fields when withFields.
func connect(c *index.Case, withFields bool) (*duckdb.Connector, *sql.DB, error) {
	connector, err := duckdb.NewConnector(Path(c)+"?access_mode=READ_ONLY", readLimits)
	if err != nil {
		return nil, nil, fmt.Errorf("columnar store: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1) // temporary views and tables belong to the connection
	if withFields {
		// The temporary view shadows the table of the same name; it names
		// the table with its catalog, or it would name itself.
		var catalog string
		err := db.QueryRow("SELECT current_database()").Scan(&catalog)
		if err == nil {
			t := quote(catalog) + ".main."
			_, err = db.Exec(`CREATE TEMP VIEW events AS SELECT e.*, f.fields FROM ` + t + `events e LEFT JOIN ` + t + `event_fields f ON f."event.id" = e."event.id"`)
		}
		if err != nil {
			db.Close()
			connector.Close()
			return nil, nil, fmt.Errorf("columnar store: %w", err)
		}
	}
	return connector, db, nil
}

// Query runs a read-only SQL statement over the case's columnar store
// (built first if anything is missing) and calls fn with the column names
// once, then with each row.
func Query(c *index.Case, query string, header func([]string) error, fn func([]any) error) error {
	connector, db, err := open(c, selectsFields.MatchString(query))
	if err != nil {
		return err
	}
	defer connector.Close()
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	if err := header(cols); err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ExportParquet writes the case's events as one Parquet file in dir, typed
// columns and each event's other fields as JSON, for DuckDB, pandas, Polars
// or Spark (sort on "@timestamp" when reading).
func ExportParquet(c *index.Case, dir string) (string, error) {
	out := filepath.Join(dir, "events.parquet")
	connector, db, err := open(c, true)
	if err != nil {
		return "", err
	}
	defer connector.Close()
	defer db.Close()
	// Within DuckDB's memory limit only with one thread and small string
	// dictionaries (the writer keeps one per column, and event ids,
	// locations and addresses are nearly all distinct), and with the join
	// of the typed columns and the fields done a share of the events at a
	// time: with DuckDB's defaults a case of 200,000 FortiGate events ran
	// out of memory, and one of 1 M with the whole join (bench/README).
	if _, err := db.Exec("SET threads=1"); err != nil {
		return "", err
	}
	var fieldBytes int64
	if err := db.QueryRow(`SELECT coalesce(sum(length(fields)), 0) FROM event_fields`).Scan(&fieldBytes); err != nil {
		return "", err
	}
	parts := max(1, (fieldBytes+exportShareBytes-1)/exportShareBytes)
	if parts == 1 {
		return out, copyParquet(db, `SELECT * FROM events`, out)
	}
	tmp, err := os.MkdirTemp(dir, ".export-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	var catalog string
	if err := db.QueryRow("SELECT current_database()").Scan(&catalog); err != nil {
		return "", err
	}
	t := quote(catalog) + ".main."
	for i := range parts {
		share := fmt.Sprintf(`hash("event.id") %% %d = %d`, parts, i)
		q := `SELECT e.*, f.fields FROM (SELECT * FROM ` + t + `events WHERE ` + share + `) e LEFT JOIN (SELECT * FROM ` + t + `event_fields WHERE ` + share + `) f ON f."event.id" = e."event.id"`
		if err := copyParquet(db, q, filepath.Join(tmp, fmt.Sprintf("share-%d.parquet", i))); err != nil {
			return "", err
		}
	}
	return out, copyParquet(db, `SELECT * FROM read_parquet('`+sqlString(filepath.Join(tmp, "share-*.parquet"))+`')`, out)
}

// exportShareBytes is how many bytes of fields (JSON) one share of the
// export joins: a share's join holds them in DuckDB's memory.
var exportShareBytes int64 = 32 << 20

func copyParquet(db *sql.DB, query, out string) error {
	_, err := db.Exec(`COPY (` + query + `) TO '` + sqlString(out) + `' (FORMAT PARQUET, COMPRESSION ZSTD, ROW_GROUP_SIZE 16384, DICTIONARY_SIZE_LIMIT 1000)`)
	return err
}
