// Package columns keeps a columnar copy of a case in DuckDB
// (CASE/columns.duckdb): table events, a typed column for every field the
// query language searches — time, addresses, ports, bytes, accounts, hosts,
// actions, provenance — written during ingest; and table event_fields, each
// event's other fields as JSON, written the first time something asks for
// them (they cost ingest a tenth of its time, a quarter of its memory and
// three quarters of the store's size, and only SQL and export read them).
// Analysts query it with SQL (`exfiltrace sql`) or take it away as Parquet
// (`exfiltrace export`). Both tables are built from the event store, file by
// file, so they can always be rebuilt and never hold anything it does not.
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
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
)

// FileName is the DuckDB database inside a case directory.
const FileName = "columns.duckdb"

// MemoryLimit caps DuckDB's own memory (it spills to disk beyond).
const MemoryLimit = "128MB"

// flushRows is how many rows the appender holds before writing them: one
// DuckDB row group (122,880 rows), which DuckDB writes compressed straight
// to the database file; smaller commits went through its write-ahead log
// and were compressed again at checkpoint. On 1 M FortiGate lines: ingest
// 49 s with 50,000, 29–35 s with 122,880, 46 s with twice that; 60 MiB
// more peak RSS (bench/README).
const flushRows = 122_880

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

// text is a single-valued field as text; booleans as true/false.
func text(f string) func(*event.Event) driver.Value {
	return func(ev *event.Event) driver.Value {
		if b, ok := ev.Fields[f].(bool); ok {
			return strconv.FormatBool(b)
		}
		if v := ev.Str(f); v != "" {
			return v
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
	// The other fields the query language searches (index.Fields), so that
	// every query is answered from typed columns.
	{"event.provider", "VARCHAR", str("event.provider")},
	{"source.domain", "VARCHAR", str("source.domain")},
	{"network.protocol", "VARCHAR", str("network.protocol")},
	{"network.application", "VARCHAR", str("network.application")},
	{"url.domain", "VARCHAR", str("url.domain")},
	{"user.id", "VARCHAR", str("user.id")},
	{"user.target.name", "VARCHAR", str("user.target.name")},
	{"group.name", "VARCHAR", str("group.name")},
	{"observer.name", "VARCHAR", str("observer.name")},
	{"process.name", "VARCHAR", str("process.name")},
	{"process.executable", "VARCHAR", str("process.executable")},
	{"process.parent.name", "VARCHAR", str("process.parent.name")},
	{"process.parent.executable", "VARCHAR", str("process.parent.executable")},
	{"file.name", "VARCHAR", str("file.name")},
	{"service.name", "VARCHAR", str("service.name")},
	{"email.message_id", "VARCHAR", str("email.message_id")},
	{"rule.name", "VARCHAR", str("rule.name")},
	{"winlog.channel", "VARCHAR", str("winlog.channel")},
	{"winlog.logon.type", "VARCHAR", str("winlog.logon.type")},
	{"winlog.share_name", "VARCHAR", str("winlog.share_name")},
	{"postfix.queue_id", "VARCHAR", str("postfix.queue_id")},
	{"fortinet.firewall.type", "VARCHAR", str("fortinet.firewall.type")},
	{"fortinet.firewall.subtype", "VARCHAR", str("fortinet.firewall.subtype")},
	{"evidence.carved", "VARCHAR", text("evidence.carved")},
	{"evidence.export", "VARCHAR", str("evidence.export")},
	{"tags", "VARCHAR", list("tags")},
}

// FieldColumns are table event_fields: each event's fields no typed column
// holds, as JSON text (DuckDB's json functions read VARCHAR as is), by
// event id; the original line stays in the event store.
var FieldColumns = []column{
	{"event.id", "VARCHAR", str("event.id")},
	{"evidence.sha256", "VARCHAR", str("evidence.sha256")},
	{"fields", "VARCHAR", remainder},
}

// table is one table written file by file, with its marks of the files
// it holds complete.
type table struct {
	name, marks string
	cols        []column
}

var (
	eventsTable = &table{"events", "loaded", Columns}
	fieldsTable = &table{"event_fields", "fields_loaded", FieldColumns}
)

// limits bounds DuckDB on every connection that writes: its memory (it
// spills to disk beyond), one thread (the other cores parse), and its
// allocator handing freed memory back soon — without which the process kept
// ~600 MiB whatever the case size.
func limits(ex driver.ExecerContext) error { return settings(ex, 1) }

// readLimits are limits for queries, which have every core to themselves:
// on 10 M events two threads took stats from 2.8 s to 1.1 s (bench/README).
func readLimits(ex driver.ExecerContext) error { return settings(ex, runtime.NumCPU()) }

func settings(ex driver.ExecerContext, threads int) error {
	_, err := ex.ExecContext(context.Background(), "SET memory_limit='"+MemoryLimit+"'; SET threads="+strconv.Itoa(threads)+"; SET preserve_insertion_order=false; "+
		"SET allocator_flush_threshold='16MB'; SET allocator_background_threads=true", nil)
	return err
}

func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func schema() string {
	var b strings.Builder
	for _, t := range []*table{eventsTable, fieldsTable} {
		b.WriteString("CREATE TABLE IF NOT EXISTS " + t.name + " (")
		for i, c := range t.cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quote(c.name) + " " + c.typ)
		}
		b.WriteString(");\nCREATE TABLE IF NOT EXISTS " + t.marks + " (sha256 VARCHAR PRIMARY KEY, events BIGINT);\n")
	}
	b.WriteString("CREATE TABLE IF NOT EXISTS layout (version VARCHAR);")
	return b.String()
}

// layoutVersion names the table's columns and types: a copy built by
// another version of exfiltrace with other columns is rebuilt, not mixed.
func layoutVersion() string {
	h := sha256.New()
	for _, t := range []*table{eventsTable, fieldsTable} {
		h.Write([]byte(t.name + "\n"))
		for _, c := range t.cols {
			h.Write([]byte(c.name + " " + c.typ + "\n"))
		}
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
	return c.Writing(func() error { return c.DiskFull(build(c, eventsTable, onEvent)) })
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
	return c.Writing(func() error { return c.DiskFull(build(c, fieldsTable, onEvent)) })
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

// selectsFields reports whether a statement may read event_fields: it names
// "fields", or selects every column.
var selectsFields = regexp.MustCompile(`(?i)\bfields\b|(select\s+(distinct\s+)?|,\s*|\.)\*\s*($|,|from|exclude|replace)`)

// connect opens the case's columnar store read-only (a statement cannot
// change the case, not even by attaching its file again) with view events
// joining each event's other fields when withFields (built first if
// missing).
func connect(c *index.Case, withFields bool) (*duckdb.Connector, *sql.DB, error) {
	if withFields {
		if err := BuildFields(c, nil); err != nil {
			return nil, nil, err
		}
	} else if err := Build(c, nil); err != nil {
		return nil, nil, err
	}
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
	connector, db, err := connect(c, selectsFields.MatchString(query))
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
	connector, db, err := connect(c, true)
	if err != nil {
		return "", err
	}
	defer connector.Close()
	defer db.Close()
	_, err = db.Exec(fmt.Sprintf(`COPY (SELECT * FROM events) TO '%s' (FORMAT PARQUET, COMPRESSION ZSTD, ROW_GROUP_SIZE 16384)`, sqlString(out)))
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
func Ready(c *index.Case) bool { return ready(c, eventsTable) }

func ready(c *index.Case, t *table) bool {
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
