package columns

import (
	"database/sql"
	"fmt"
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
		t, err := tables(db)
		if err == nil {
			view := joinFields(t+"events", t+"event_fields")
			var apart int64
			if db.QueryRow(outOfLine(t+"events", t+"event_fields", false)).Scan(&apart) == nil && apart == 0 {
				view = byPosition(t)
			}
			_, err = db.Exec(`CREATE TEMP VIEW events AS ` + view)
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

// tables is the prefix that names the case's own tables (catalog.main.),
// past the temporary view that shadows events.
func tables(db *sql.DB) (string, error) {
	var catalog string
	err := db.QueryRow("SELECT current_database()").Scan(&catalog)
	return quote(catalog) + ".main.", err
}

// byPosition is the events joined with their other fields by position: the
// fields are written in the events' row order, and a join by event id held
// a hash table of the whole case in DuckDB's 128 MB (`SELECT count(fields)
// FROM events` over 2 M events ran out of it; by position, 3 s after 0.3 s
// of checking that the tables line up).
func byPosition(t string) string {
	return `SELECT e.*, f.fields FROM ` + t + `events e POSITIONAL JOIN (SELECT fields FROM ` + t + `event_fields) f`
}

// outOfLine counts the rows of events whose fields are not at the same
// place in fields (row sources with an "event.id"), missing or extra rows
// included unless fieldsMayEnd: then rows past the fields' last one do not
// count.
func outOfLine(events, fields string, fieldsMayEnd bool) string {
	cond := `a IS DISTINCT FROM b`
	if fieldsMayEnd {
		cond = `b IS NOT NULL AND ` + cond
	}
	return `SELECT count(*) FROM (SELECT "event.id" AS a FROM ` + events + `) POSITIONAL JOIN (SELECT "event.id" AS b FROM ` + fields + `) WHERE ` + cond
}

// joinFields is the events of one row source joined with their other
// fields from another.
func joinFields(events, fields string) string {
	return `SELECT e.*, f.fields FROM ` + events + ` e LEFT JOIN ` + fields + ` f ON f."event.id" = e."event.id"`
}
