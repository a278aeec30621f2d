package columns

import (
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
)

// Build copies into the columnar store every evidence file of the case not
// yet in it (an interrupted build redoes only the file it stopped in: rows
// without their file's "loaded" mark are removed when the store opens).
// onEvent, if set, is called per event copied.
func Build(c *index.Case, onEvent func()) error {
	if Ready(c) {
		return nil
	}
	return buildLocked(c, eventsTable, onEvent)
}

// BuildFields writes table event_fields for every evidence file of the case
// not yet in it (the columnar store first, if anything is missing there).
func BuildFields(c *index.Case, onEvent func()) error {
	if err := Build(c, onEvent); err != nil {
		return err
	}
	if ready(c, fieldsTable) {
		return nil
	}
	return buildLocked(c, fieldsTable, onEvent)
}

// buildLocked builds a table under the case's write lock, then gives it back.
func buildLocked(c *index.Case, t *table, onEvent func()) error {
	return c.Writing(func() error { return c.DiskFull(build(c, t, onEvent)) })
}

func build(c *index.Case, t *table, onEvent func()) error {
	w, err := newWriter(c, t)
	if err != nil {
		return err
	}
	// Files the case does not list (an ingest stopped between the file's
	// mark and the manifest) go.
	inCase := map[string]bool{}
	for _, f := range c.Manifest.Files {
		inCase[f.SHA256] = true
	}
	for sha := range w.complete {
		if !inCase[sha] {
			if err := w.forget(sha); err != nil {
				w.Close()
				return err
			}
		}
	}
	if t == fieldsTable {
		// Fields an older build wrote file by file, or rows of a file
		// the events table holds again elsewhere: written anew, in order.
		if n, err := w.query(misaligned); err != nil || n[0] != "0" {
			if err == nil {
				err = w.exec(`DELETE FROM ` + fieldsTable.name + `; DELETE FROM ` + fieldsTable.marks)
			}
			if err != nil {
				w.Close()
				return fmt.Errorf("columnar store: %w", err)
			}
			clear(w.complete)
		}
		if err := fieldsInRowOrder(c, w, onEvent); err != nil {
			w.Close()
			return fmt.Errorf("columnar store: %w", err)
		}
	}
	for _, f := range c.Manifest.Files {
		if f.SHA256 == "" || f.Events() == 0 || w.complete[f.SHA256] {
			continue
		}
		var n int64
		err := c.EachStored(f.SHA256, func(ev *event.Event, loc string) error {
			n++
			if onEvent != nil {
				onEvent()
			}
			return w.Add(ev, loc)
		})
		if err == nil {
			err = w.FileDone(f.SHA256, n)
		}
		if err != nil {
			w.Close()
			return fmt.Errorf("columnar store: %s: %w", f.Path, err)
		}
	}
	if err := w.Rank(); err != nil {
		w.Close()
		return fmt.Errorf("columnar store: %w", err)
	}
	return w.Close()
}

// Ready reports whether the case's columnar copy holds exactly the case:
// every evidence file of the manifest, complete (its "loaded" mark, with the
// manifest's event count), and no rows of a file an interrupted run left
// unfinished (queries then need no build first).
func Ready(c *index.Case) bool { return ready(c, eventsTable) }

func ready(c *index.Case, t *table) bool {
	if _, err := os.Stat(Path(c)); err != nil {
		return false
	}
	connector, err := duckdb.NewConnector(Path(c)+"?access_mode=READ_ONLY", limits)
	if err != nil {
		return false
	}
	defer connector.Close()
	db := sql.OpenDB(connector)
	defer db.Close()
	if !hasLayout(db) {
		return false
	}
	loaded := map[string]int64{}
	rows, err := db.Query("SELECT sha256, events FROM " + t.marks)
	if err != nil {
		return false
	}
	var sum int64
	for rows.Next() {
		var s string
		var n int64
		rows.Scan(&s, &n)
		loaded[s] = n
		sum += n
	}
	rows.Close()
	want := 0
	for _, f := range c.Manifest.Files {
		if f.SHA256 == "" || f.Events() == 0 {
			continue
		}
		if n, ok := loaded[f.SHA256]; !ok || n != f.Events() {
			return false
		}
		want++
	}
	var total int64
	if len(loaded) != want || db.QueryRow("SELECT count(*) FROM "+t.name).Scan(&total) != nil || total != sum {
		return false
	}
	return true
}

// current reports whether the copy at path has this version's layout (a
// missing copy is current: it will be created so).
func current(path string) bool {
	if _, err := os.Stat(path); err != nil {
		return true
	}
	connector, err := duckdb.NewConnector(path+"?access_mode=READ_ONLY", limits)
	if err != nil {
		return false
	}
	defer connector.Close()
	db := sql.OpenDB(connector)
	defer db.Close()
	return hasLayout(db)
}

// hasLayout reports whether an open copy has this version's layout.
func hasLayout(db *sql.DB) bool {
	var v string
	return db.QueryRow("SELECT version FROM layout").Scan(&v) == nil && v == layoutVersion()
}

// fieldsInRowOrder writes the fields of the files not yet in the fields
// table in the events table's row order, so that the export joins the
// two tables by position in one query: the events table interleaves the
// files parsed side by side, and fields written file by file joined file
// by file only (~10 ms a file: 224 s for a collection of 20,000 files).
// An event missing from the event store stops the build.
func fieldsInRowOrder(c *index.Case, w *Writer, onEvent func()) error {
	todo := map[string]bool{}
	for _, f := range c.Manifest.Files {
		if f.SHA256 != "" && f.Events() > 0 && !w.complete[f.SHA256] {
			todo[f.SHA256] = true
		}
	}
	if len(todo) == 0 {
		return nil
	}
	last, err := w.query(`SELECT coalesce(max(rowid), -1) FROM ` + eventsTable.name)
	if err != nil {
		return err
	}
	maxRow, err := strconv.ParseInt(last[0], 10, 64)
	if err != nil {
		return fmt.Errorf("last row %q: %w", last[0], err)
	}
	stored := c.OpenStored()
	defer stored.Close()
	counts := map[string]int64{}
	for lo := int64(0); lo <= maxRow; lo += rowsAtOnce {
		if err := w.commit(); err != nil { // the appender's rows, before a query on its connection
			return err
		}
		locs, err := w.query(fmt.Sprintf(`SELECT "evidence.location" FROM %s WHERE rowid >= %d AND rowid < %d ORDER BY rowid`, eventsTable.name, lo, lo+rowsAtOnce))
		if err != nil {
			return err
		}
		for _, loc := range locs {
			sha, _, _ := strings.Cut(loc, "/")
			if !todo[sha] {
				continue
			}
			ev, err := stored.Event(loc)
			if err != nil {
				return err
			}
			counts[sha]++
			if onEvent != nil {
				onEvent()
			}
			if err := w.Add(ev, loc); err != nil {
				return err
			}
		}
	}
	var marks []index.FileMark
	for sha := range todo {
		marks = append(marks, index.FileMark{SHA256: sha, Events: counts[sha]})
	}
	return w.FilesDone(marks)
}

// rowsAtOnce locations are read from the events table at a time.
const rowsAtOnce = 100_000

// misaligned counts the fields rows that are not their events row's, by
// position (fields not yet written for the last rows do not count): none
// when the export can join the tables whole.
var misaligned = outOfLine(eventsTable.name, fieldsTable.name, true)

// lineUpFields writes the fields table again when it does not line up
// with the events table (the export joins them by position); queries join
// them by event id and need not pay for the check.
func lineUpFields(c *index.Case) error {
	if !ready(c, fieldsTable) || fieldsLinedUp(c) {
		return nil // a build, if one is needed, lines them up
	}
	return buildLocked(c, fieldsTable, nil)
}

// fieldsLinedUp reports whether the fields table lines up with the events
// table row for row (false when it cannot be told).
func fieldsLinedUp(c *index.Case) bool {
	connector, db, err := connect(c, false)
	if err != nil {
		return false
	}
	defer connector.Close()
	defer db.Close()
	var n int64
	return db.QueryRow(misaligned).Scan(&n) == nil && n == 0
}
