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
	"database/sql/driver"
	"encoding/hex"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
)

// FileName is the DuckDB database inside a case directory.
const FileName = "columns.duckdb"

// MemoryLimit caps DuckDB's own memory (it spills to disk beyond).
const MemoryLimit = "128MB"

// flushRows is how many rows the appender holds before writing them: one
// row group, which DuckDB writes compressed straight to the database file
// (smaller commits went through its write-ahead log and were compressed
// again at checkpoint: 1 M FortiGate lines took 49 s with commits of
// 50,000 rows in DuckDB's default 122,880-row groups, 29–35 s with whole
// groups). The writer attaches the case's file with row groups of this
// size: the appender's memory, outside Go's heap and DuckDB's limit, is a
// row group of every column, and DuckDB's default size cost ~250 MiB. At
// 16,384 rows: peak RSS of the 108 MB EVTX ingest 628 → 485–512 MiB, of
// 1 M FortiGate lines 457 → 368 MiB, same ingest time, same query times;
// the columns file is a third larger (64 → 87 MB for 1 M lines)
// (bench/README).
const flushRows = 16_384

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
		if t, ok := index.QueryTime(ev); ok {
			return t.UTC()
		}
		return nil
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
func limits(ex driver.ExecerContext) error { return settings(ex, 1, MemoryLimit) }

// appendLimits are the limits of the connection that appends events during
// ingest: it needs less than a query (rows arrive a row group at a time),
// and what DuckDB keeps of the blocks it wrote counts in the ingest's peak
// (1.5 M Windows events at 96 MB: see bench/README, stop 25; the 10 M mix
// at 64 MB: ~50 MiB less anonymous memory at its end, stop 27). Table
// event_fields, built from the event store for an export, keeps
// MemoryLimit: at 64 MB the export of the samples' case later ran out of
// its query memory.
func appendLimits(ex driver.ExecerContext) error { return settings(ex, 1, "64MB") }

// readLimits are limits for queries, which have every core to themselves:
// on 10 M events two threads took stats from 2.8 s to 1.1 s (bench/README).
func readLimits(ex driver.ExecerContext) error { return settings(ex, runtime.NumCPU(), MemoryLimit) }

func settings(ex driver.ExecerContext, threads int, memory string) error {
	_, err := ex.ExecContext(context.Background(), "SET memory_limit='"+memory+"'; SET threads="+strconv.Itoa(threads)+"; SET preserve_insertion_order=false; "+
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
	b.WriteString("CREATE TABLE IF NOT EXISTS layout (version VARCHAR);\n" + rankedSchema)
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

// Path is the case's columnar store.
func Path(c *index.Case) string { return filepath.Join(c.Dir, FileName) }

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
