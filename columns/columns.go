// Package columns keeps a columnar copy of a case in DuckDB
// (CASE/columns.duckdb): typed columns for what structured questions use —
// time, addresses, ports, bytes, accounts, hosts, actions, provenance — and
// each event whole as JSON beside them. Analysts query it with SQL
// (`exfiltrace sql`) or take it away as Parquet (`exfiltrace export`). It is
// built from the event store, file by file, so it can always be rebuilt and
// never holds anything the store does not.
package columns

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
)

// FileName is the DuckDB database inside a case directory.
const FileName = "columns.duckdb"

// MemoryLimit caps DuckDB's own memory (it spills to disk beyond).
const MemoryLimit = "128MB"

// flushRows is how many rows the appender holds before writing them.
const flushRows = 50_000

// column is one typed column: its ECS name (quoted in SQL: "source.ip"),
// its SQL type, and how it is read from an event.
type column struct {
	name, typ string
	get       func(ev *event.Event) driver.Value
}

func str(f string) func(*event.Event) driver.Value {
	return func(ev *event.Event) driver.Value {
		if v := ev.Str(f); v != "" {
			return v
		}
		return nil
	}
}

func list(f string) func(*event.Event) driver.Value {
	return func(ev *event.Event) driver.Value {
		if v := ev.Strings(f); len(v) > 0 {
			return strings.Join(v, ",")
		}
		return nil
	}
}

func num(f string) func(*event.Event) driver.Value {
	return func(ev *event.Event) driver.Value {
		if n, ok := ev.Int(f); ok {
			return n
		}
		return nil
	}
}

// Columns are the typed columns, in table order.
var Columns = []column{
	// Nanoseconds, UTC: evidence times keep their full precision
	// (TIMESTAMPTZ would round them to microseconds).
	{"@timestamp", "TIMESTAMP_NS", func(ev *event.Event) driver.Value {
		if ev.Timestamp.IsZero() {
			return nil
		}
		return ev.Timestamp.UTC()
	}},
	{"event.dataset", "VARCHAR", str("event.dataset")},
	{"event.kind", "VARCHAR", str("event.kind")},
	{"event.category", "VARCHAR", list("event.category")},
	{"event.type", "VARCHAR", list("event.type")},
	{"event.action", "VARCHAR", str("event.action")},
	{"event.code", "VARCHAR", str("event.code")},
	{"event.outcome", "VARCHAR", str("event.outcome")},
	{"source.ip", "VARCHAR", str("source.ip")},
	{"source.port", "INTEGER", num("source.port")},
	{"source.bytes", "BIGINT", num("source.bytes")},
	{"destination.ip", "VARCHAR", str("destination.ip")},
	{"destination.port", "INTEGER", num("destination.port")},
	{"destination.domain", "VARCHAR", str("destination.domain")},
	{"destination.bytes", "BIGINT", num("destination.bytes")},
	{"network.bytes", "BIGINT", num("network.bytes")},
	{"network.transport", "VARCHAR", str("network.transport")},
	{"network.direction", "VARCHAR", str("network.direction")},
	{"user.name", "VARCHAR", str("user.name")},
	{"user.domain", "VARCHAR", str("user.domain")},
	{"host.name", "VARCHAR", str("host.name")},
	{"process.command_line", "VARCHAR", str("process.command_line")},
	{"file.path", "VARCHAR", str("file.path")},
	{"url.original", "VARCHAR", str("url.original")},
	{"email.from.address", "VARCHAR", str("email.from.address")},
	{"email.to.address", "VARCHAR", list("email.to.address")},
	{"email.size", "BIGINT", num("email.size")},
	{"event.id", "VARCHAR", str("event.id")},
	{"log.file.path", "VARCHAR", str("log.file.path")},
	{"evidence.sha256", "VARCHAR", str("evidence.sha256")},
	{"evidence.line", "BIGINT", num("evidence.line")},
	{"evidence.record", "BIGINT", num("evidence.record")},
	{"evidence.location", "VARCHAR", nil}, // set by the loader: where the whole event is in the event store
	// The fields no typed column holds, as JSON text (DuckDB's json
	// functions read VARCHAR as is); the original line stays in the event
	// store, whose location is "evidence.location".
	{"fields", "VARCHAR", remainder},
}

// limits bounds DuckDB on every connection: its memory (it spills to disk
// beyond), one thread (the machine's other core parses), and its allocator
// handing freed memory back soon — without which the process kept ~600 MiB
// whatever the case size.
func limits(ex driver.ExecerContext) error {
	_, err := ex.ExecContext(context.Background(), "SET memory_limit='"+MemoryLimit+"'; SET threads=1; SET preserve_insertion_order=false; "+
		"SET allocator_flush_threshold='16MB'; SET allocator_background_threads=true", nil)
	return err
}

func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func schema() string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS events (")
	for i, c := range Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(c.name) + " " + c.typ)
	}
	b.WriteString(");\nCREATE TABLE IF NOT EXISTS loaded (sha256 VARCHAR PRIMARY KEY, events BIGINT);")
	b.WriteString("\nCREATE TABLE IF NOT EXISTS layout (version VARCHAR);")
	return b.String()
}

// layoutVersion names the table's columns and types: a copy built by
// another version of exfiltrace with other columns is rebuilt, not mixed.
func layoutVersion() string {
	h := sha256.New()
	for _, c := range Columns {
		h.Write([]byte(c.name + " " + c.typ + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
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
	var v string
	if err := db.QueryRow("SELECT version FROM layout").Scan(&v); err != nil {
		return false
	}
	return v == layoutVersion()
}

// Path is the case's columnar store.
func Path(c *index.Case) string { return filepath.Join(c.Dir, FileName) }

// Build copies into the columnar store every evidence file of the case not
// yet in it (an interrupted build redoes only the file it stopped in: a
// file's rows and its "loaded" mark are written in one transaction).
// onEvent, if set, is called per event copied.
func Build(c *index.Case, onEvent func()) error {
	if Ready(c) {
		return nil
	}
	return c.Writing(func() error { return c.DiskFull(build(c, onEvent)) })
}

func build(c *index.Case, onEvent func()) error {
	w, err := NewWriter(c)
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
	return w.Close()
}

// Query runs a read-only SQL statement over the case's columnar store
// (built first if anything is missing) and calls fn with the column names
// once, then with each row.
func Query(c *index.Case, query string, header func([]string) error, fn func([]any) error) error {
	if err := Build(c, nil); err != nil {
		return err
	}
	connector, err := duckdb.NewConnector(Path(c)+"?access_mode=READ_ONLY", limits)
	if err != nil {
		return fmt.Errorf("columnar store: %w", err)
	}
	defer connector.Close()
	db := sql.OpenDB(connector)
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

// ExportParquet writes the case's events as one Parquet file in dir (in
// load order: evidence file by file; sort on "@timestamp" when reading), typed
// columns and the whole event as JSON, for DuckDB, pandas, Polars or Spark.
func ExportParquet(c *index.Case, dir string) (string, error) {
	if err := Build(c, nil); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "events.parquet")
	connector, err := duckdb.NewConnector(Path(c)+"?access_mode=READ_ONLY", limits)
	if err != nil {
		return "", err
	}
	defer connector.Close()
	db := sql.OpenDB(connector)
	defer db.Close()
	_, err = db.Exec(fmt.Sprintf(`COPY events TO '%s' (FORMAT PARQUET, COMPRESSION ZSTD, ROW_GROUP_SIZE 16384)`, strings.ReplaceAll(out, "'", "''")))
	return out, err
}

// typed are the event fields a typed column holds, left out of "fields"
// (set in init: Columns refers to remainder, which refers to typed).
var typed map[string]bool

func init() {
	typed = map[string]bool{"event.original": true}
	for _, c := range Columns {
		typed[c.name] = true
	}
}

func remainder(ev *event.Event) driver.Value {
	b, ok, err := event.AppendObjectWithout(make([]byte, 0, 512), ev.Fields, typed)
	if err != nil || !ok {
		return nil
	}
	return string(b)
}

// Ready reports whether the case's columnar copy holds exactly the case:
// every evidence file of the manifest, complete (its "loaded" mark, with the
// manifest's event count), and no rows of a file an interrupted run left
// unfinished (queries then need no build first).
func Ready(c *index.Case) bool {
	if _, err := os.Stat(Path(c)); err != nil || !current(Path(c)) {
		return false
	}
	connector, err := duckdb.NewConnector(Path(c)+"?access_mode=READ_ONLY", limits)
	if err != nil {
		return false
	}
	defer connector.Close()
	db := sql.OpenDB(connector)
	defer db.Close()
	loaded := map[string]int64{}
	rows, err := db.Query("SELECT sha256, events FROM loaded")
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
	if len(loaded) != want || db.QueryRow("SELECT count(*) FROM events").Scan(&total) != nil || total != sum {
		return false
	}
	return true
}
