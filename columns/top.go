package columns

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/exfiltrace/exfiltrace/index"
)

// listColumns hold several values joined by commas; the others one value.
var listColumns = map[string]bool{"event.category": true, "event.type": true, "email.to.address": true}

func hasColumn(name string) bool {
	for _, c := range Columns {
		if c.name == name && c.get != nil && name != "fields" {
			return true
		}
	}
	return false
}

// CanTop reports whether top FIELD --sum SUM --query Q can run on the
// columnar store: both fields are typed single-value columns and every term
// of the query names a typed column (free-text terms need the index).
func CanTop(field, sum, q string) bool {
	if !hasColumn(field) || listColumns[field] || sum != "" && (!hasColumn(sum) || listColumns[sum]) {
		return false
	}
	return CanSearch(q)
}

// where renders a parsed query as a SQL condition with its arguments, with
// the index's semantics per field kind (exact, case-insensitive, numeric,
// time; lists match any element); ok is false for what only the index can
// answer (free text, fields without a column).
func where(n *index.Node) (string, []any, bool) {
	if n == nil {
		return "TRUE", nil, true
	}
	switch n.Op {
	case "and", "or":
		var parts []string
		var args []any
		for _, c := range n.Children {
			s, a, ok := where(c)
			if !ok {
				return "", nil, false
			}
			parts = append(parts, "("+s+")")
			args = append(args, a...)
		}
		return strings.Join(parts, " "+strings.ToUpper(n.Op)+" "), args, true
	case "not":
		s, a, ok := where(n.Children[0])
		return "NOT coalesce((" + s + "), FALSE)", a, ok
	}
	field := n.Field
	kind := index.Fields[field]
	if field == "event.id" {
		kind = index.Keyword
	}
	if field == "" || kind == "" || kind == index.Text || !hasColumn(field) {
		return "", nil, false
	}
	col := quote(field)
	v := n.Value
	if n.Cmp != "" {
		v = strings.Trim(v, `"`) // field:>="2025-03-14T22:00:00Z"
	}
	if v == "*" && !n.Phrase {
		return col + " IS NOT NULL", nil, true
	}
	switch kind {
	case index.Number:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return "", nil, false
		}
		return col + " " + sqlCmp(n.Cmp) + " ?", []any{f}, true
	case index.Timestamp:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
			if t, err := time.Parse(layout, v); err == nil {
				return col + " " + sqlCmp(n.Cmp) + " ?", []any{t.UTC()}, true
			}
		}
		return "", nil, false
	}
	if n.Cmp != "" {
		return "", nil, false
	}
	expr := "CAST(" + col + " AS VARCHAR)"
	if kind == index.Name {
		expr, v = "lower("+expr+")", strings.ToLower(v)
	}
	if listColumns[field] {
		expr = "unnest(string_split(" + expr + ", ','))"
		if strings.ContainsAny(v, "*?") && !n.Phrase {
			return "EXISTS (SELECT 1 FROM (SELECT " + expr + " AS x) WHERE x LIKE ? ESCAPE '\\')", []any{likePattern(v)}, true
		}
		return "list_contains(string_split(" + strings.TrimSuffix(strings.TrimPrefix(expr, "unnest(string_split("), ", ','))") + ", ','), ?)", []any{v}, true
	}
	if strings.ContainsAny(v, "*?") && !n.Phrase {
		return expr + " LIKE ? ESCAPE '\\'", []any{likePattern(v)}, true
	}
	return expr + " = ?", []any{v}, true
}

func sqlCmp(c string) string {
	if c == "" {
		return "="
	}
	return c
}

// likePattern turns the query's * and ? wildcards into LIKE's % and _.
func likePattern(v string) string {
	r := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`, "*", "%", "?", "_")
	return r.Replace(v)
}

// Top is index.Bleve's Top answered by the columnar store: the values of a
// field among the events matching q, with their counts, the sum of another
// field, and first and last times, by sum then count then value.
func Top(c *index.Case, field, sum, q string, n int) ([]index.TopRow, uint64, error) {
	node, err := index.ParseQueryString(q)
	if err != nil {
		return nil, 0, err
	}
	cond, args, ok := where(node)
	if !ok {
		return nil, 0, fmt.Errorf("query %q needs the search index (free text or fields without a column)", q)
	}
	if err := Build(c, nil); err != nil {
		return nil, 0, err
	}
	connector, err := duckdb.NewConnector(Path(c)+"?access_mode=READ_ONLY", limits)
	if err != nil {
		return nil, 0, err
	}
	defer connector.Close()
	db := sql.OpenDB(connector)
	defer db.Close()
	ctx := context.Background()
	var total uint64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	sumExpr, seenExpr := "0", "0"
	if sum != "" {
		sumExpr, seenExpr = "coalesce(sum("+quote(sum)+"), 0)::BIGINT", "count("+quote(sum)+")"
	}
	stmt := fmt.Sprintf(`SELECT CAST(%s AS VARCHAR) AS v, count(*) AS n, %s AS s, %s AS seen, min("@timestamp"), max("@timestamp")
		FROM events WHERE %s IS NOT NULL AND (%s) GROUP BY 1 ORDER BY s DESC, n DESC, v`, quote(field), sumExpr, seenExpr, quote(field), cond)
	if n > 0 {
		stmt += " LIMIT " + strconv.Itoa(n)
	}
	rows, err := db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []index.TopRow
	for rows.Next() {
		var r index.TopRow
		var first, last sql.NullTime
		if err := rows.Scan(&r.Value, &r.Count, &r.Sum, &r.SumSeen, &first, &last); err != nil {
			return nil, 0, err
		}
		r.First, r.Last = first.Time.UTC(), last.Time.UTC()
		out = append(out, r)
	}
	return out, total, rows.Err()
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

// Stats is index.Bleve's Stats answered by the columnar store: events per
// dataset, per host (lower-cased, as the index keeps host names) and per UTC
// day, at most 1,000 values per table with the rest counted as "(other)".
func Stats(c *index.Case) (*index.CaseStats, error) {
	connector, err := duckdb.NewConnector(Path(c)+"?access_mode=READ_ONLY", limits)
	if err != nil {
		return nil, err
	}
	defer connector.Close()
	db := sql.OpenDB(connector)
	defer db.Close()
	st := &index.CaseStats{}
	if err := db.QueryRow("SELECT count(*) FROM events").Scan(&st.Total); err != nil {
		return nil, err
	}
	count := func(expr string) (map[string]int, error) {
		rows, err := db.Query("SELECT " + expr + " AS v, count(*) AS n FROM events WHERE " + expr + " IS NOT NULL GROUP BY 1 ORDER BY n DESC, v")
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[string]int{}
		i := 0
		for rows.Next() {
			var v string
			var n int
			if err := rows.Scan(&v, &n); err != nil {
				return nil, err
			}
			if i++; i > 1000 {
				out["(other)"] += n
			} else {
				out[v] = n
			}
		}
		return out, rows.Err()
	}
	if st.ByDataset, err = count(quote("event.dataset")); err != nil {
		return nil, err
	}
	if st.ByHost, err = count("lower(" + quote("host.name") + ")"); err != nil {
		return nil, err
	}
	if st.ByDay, err = count("strftime(" + quote("@timestamp") + ", '%Y-%m-%d')"); err != nil {
		return nil, err
	}
	return st, nil
}
