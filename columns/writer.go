package columns

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
)

// Writer appends events to a case's columnar store: during ingest, as each
// event reaches the event store (so `top`, `stats` and `sql` answer as soon
// as the ingest ends), or from the event store for a case that has none.
// A file's rows count only once its "loaded" mark is written (FileDone):
// rows an interrupted run left are removed when the file is written again,
// and Ready refuses a copy holding rows of an unfinished file.
type Writer struct {
	t         *table
	path      string
	connector *duckdb.Connector
	conn      driver.Conn
	app       *duckdb.Appender
	vals      []driver.Value
	rows      int
	started   map[string]bool
	complete  map[string]bool // files with their "loaded" mark
}

// AppenderMemory is what DuckDB's appender holds outside Go's heap while a
// row group fills (flushRows rows of every column, and their compression).
// Measured at DuckDB's default row group (122,880 rows): ~250 MiB of
// anonymous memory beyond Go's during a 1 M-line ingest; at flushRows,
// much less (bench/README). The reservation was kept as it was measured.
const AppenderMemory = 128 << 20

// NewWriter takes the case for writing and opens (or creates) its columnar
// store for appending. A store with another version's columns is rebuilt,
// not mixed; rows an interrupted run left without their file's mark are
// removed here, once, rather than searched for per file.
func NewWriter(c *index.Case) (*Writer, error) { return newWriter(c, eventsTable) }

func newWriter(c *index.Case, t *table) (*Writer, error) {
	if err := c.ForWriting(); err != nil {
		return nil, err
	}
	if !current(Path(c)) {
		os.Remove(Path(c))
		os.Remove(Path(c) + ".wal")
	}
	w := &Writer{t: t, path: Path(c), vals: make([]driver.Value, len(t.cols)), started: map[string]bool{}}
	if err := w.open(); err != nil {
		return nil, err
	}
	if err := w.exec(schema()); err != nil {
		w.Close()
		return nil, fmt.Errorf("columnar store: %w", err)
	}
	layouts, err := w.query("SELECT version FROM layout")
	if err == nil && len(layouts) == 0 {
		err = w.exec("INSERT INTO layout VALUES ('" + layoutVersion() + "')")
	}
	if err == nil {
		err = w.exec(`DELETE FROM ` + t.name + ` WHERE "evidence.sha256" NOT IN (SELECT sha256 FROM ` + t.marks + `)`)
	}
	var shas []string
	if err == nil {
		shas, err = w.query("SELECT sha256 FROM " + t.marks)
	}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("columnar store: %w", err)
	}
	w.complete = map[string]bool{}
	for _, s := range shas {
		w.complete[s] = true
	}
	return w, nil
}

// open attaches the case's file on a new database instance.
func (w *Writer) open() error {
	set := limits
	if w.t == eventsTable {
		set = appendLimits
	}
	connector, err := duckdb.NewConnector("", func(ex driver.ExecerContext) error {
		if err := set(ex); err != nil {
			return err
		}
		_, err := ex.ExecContext(context.Background(), "ATTACH '"+sqlString(w.path)+"' AS casedb (ROW_GROUP_SIZE "+strconv.Itoa(flushRows)+"); USE casedb", nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("columnar store: %w", err)
	}
	conn, err := connector.Connect(context.Background())
	if err != nil {
		connector.Close()
		return fmt.Errorf("columnar store: %w", err)
	}
	w.connector, w.conn = connector, conn
	return nil
}

// reopenRows is how many rows one database instance appends before the
// writer closes it and attaches the file again. DuckDB keeps, outside its
// memory_limit, state for what an instance has written, released only when
// the instance closes: 1 M firewall-like rows left ~130 MB of anonymous
// memory, ~30 MB after reopening, and the 10 M mix's ingest peaked at
// 491 MiB without reopening, 432 MiB with it (bench/README, stop 28).
// Reopening takes under a second and happens only between row groups, so
// every row group stays whole. A variable for the tests, which reopen
// every few rows.
var reopenRows = 64 * flushRows

// reopen closes the database instance and attaches the file again.
func (w *Writer) reopen() error {
	if err := w.commit(); err != nil {
		return err
	}
	if err := w.closeInstance(); err != nil {
		return fmt.Errorf("columnar store: %w", err)
	}
	return w.open()
}

// forget removes a file's rows and its mark.
func (w *Writer) forget(sha string) error {
	if err := w.commit(); err != nil {
		return err
	}
	delete(w.complete, sha)
	return w.exec(`DELETE FROM ` + w.t.name + ` WHERE "evidence.sha256" = '` + sqlString(sha) + `'; DELETE FROM ` + w.t.marks + ` WHERE sha256 = '` + sqlString(sha) + `'`)
}

func (w *Writer) exec(q string) error {
	_, err := w.conn.(driver.ExecerContext).ExecContext(context.Background(), q, nil)
	return err
}

// query returns the first column of a query's rows, as text.
func (w *Writer) query(q string) ([]string, error) {
	rows, err := w.conn.(driver.QueryerContext).QueryContext(context.Background(), q, nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	dest := make([]driver.Value, len(rows.Columns()))
	for {
		err := rows.Next(dest)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprint(dest[0]))
	}
}

// commit closes the appender: its rows stay in its transaction until then.
func (w *Writer) commit() error {
	if w.app == nil {
		return nil
	}
	err := w.app.Close()
	w.app = nil
	return err
}

// Add appends one event stored at loc in the event store.
func (w *Writer) Add(ev *event.Event, loc string) error {
	sha := ev.Str(event.FieldSHA256)
	if !w.started[sha] {
		// A file is written whole: one already complete is written again.
		if w.complete[sha] {
			if err := w.forget(sha); err != nil {
				return err
			}
		}
		w.started[sha] = true
	}
	if w.app == nil {
		app, err := duckdb.NewAppenderFromConn(w.conn, "", w.t.name)
		if err != nil {
			return err
		}
		w.app = app
	}
	for i, col := range w.t.cols {
		if col.get == nil {
			w.vals[i] = loc
		} else {
			w.vals[i] = col.get(ev)
		}
	}
	if err := w.app.AppendRow(w.vals...); err != nil {
		return err
	}
	// Committing every so many rows keeps the appender's pending data —
	// outside DuckDB's memory limit — small, and lets DuckDB write them
	// out compressed, so memory does not grow with the file.
	if w.rows++; w.rows%reopenRows == 0 {
		return w.reopen()
	}
	if w.rows%flushRows == 0 {
		return w.commit()
	}
	return nil
}

// FileDone marks an evidence file's rows complete.
func (w *Writer) FileDone(sha string, events int64) error {
	return w.FilesDone([]index.FileMark{{SHA256: sha, Events: events}})
}

// FilesDone marks evidence files' rows complete in one commit: a
// collection of thousands of small files pays one commit, not one each
// (each commit is a write to DuckDB's log, ~6 ms here).
func (w *Writer) FilesDone(done []index.FileMark) error {
	if len(done) == 0 {
		return nil
	}
	if err := w.commit(); err != nil {
		return err
	}
	var shas, rows strings.Builder
	for i, m := range done {
		delete(w.started, m.SHA256)
		w.complete[m.SHA256] = true
		if i > 0 {
			shas.WriteString(", ")
			rows.WriteString(", ")
		}
		fmt.Fprintf(&shas, "'%s'", sqlString(m.SHA256))
		fmt.Fprintf(&rows, "('%s', %d)", sqlString(m.SHA256), m.Events)
	}
	return w.exec(fmt.Sprintf(`DELETE FROM %s WHERE sha256 IN (%s); INSERT INTO %s VALUES %s`, w.t.marks, shas.String(), w.t.marks, rows.String()))
}

// Close commits what is pending and closes the store.
func (w *Writer) Close() error {
	err := w.commit()
	if cerr := w.closeInstance(); err == nil {
		err = cerr
	}
	return err
}

func (w *Writer) closeInstance() error {
	var err error
	if w.conn != nil {
		err = w.conn.Close()
		w.conn = nil
	}
	if w.connector != nil {
		if cerr := w.connector.Close(); err == nil {
			err = cerr
		}
		w.connector = nil
	}
	return err
}

func sqlString(s string) string { return strings.ReplaceAll(s, "'", "''") }
