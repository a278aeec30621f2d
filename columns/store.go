package columns

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
)

// Store answers a local case's queries: structured terms in SQL over the
// columnar store, free-text terms by the full-text index, whose matches are
// loaded into a temporary table and joined on event.id. Events come whole
// from the event store. It is the case's index.Store, as Elasticsearch is a
// forwarded case's.
type Store struct {
	c         *index.Case
	connector *duckdb.Connector
	db        *sql.DB
	conn      *sql.Conn // one connection: the temporary tables are its own
	text      *index.Bleve
	sets      map[string]string // free-text term → its condition on event.id
	fields    bool              // events carries each event's other fields
}

var _ index.Store = (*Store)(nil)

// BeforeBuild and OnBuild, when set (the CLI's progress display), hear of
// a columnar store built on first query (a case from an older version).
var (
	BeforeBuild func(events int64)
	OnBuild     func()
)

// Open opens a case's columnar store for queries, building first whatever
// it lacks. The Store owns the case: Close releases it.
func Open(c *index.Case) (*Store, error) {
	if !Ready(c) {
		if BeforeBuild != nil {
			BeforeBuild(c.Manifest.Events)
		}
		if err := buildLocked(c, eventsTable, OnBuild); err != nil {
			return nil, err
		}
	}
	s := &Store{c: c}
	if err := s.connect(false); err != nil {
		return nil, err
	}
	return s, nil
}

// connect (re)opens the columnar store, with each event's other fields
// (built first if missing) or not; temporary tables of free-text matches go
// with the old connection.
func (s *Store) connect(withFields bool) error {
	s.disconnect()
	if withFields {
		if err := BuildFields(s.c, nil); err != nil {
			return err
		}
	}
	connector, db, err := connect(s.c, withFields)
	if err != nil {
		return err
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		db.Close()
		connector.Close()
		return fmt.Errorf("columnar store: %w", err)
	}
	s.connector, s.db, s.conn, s.fields, s.sets = connector, db, conn, withFields, map[string]string{}
	return nil
}

func (s *Store) disconnect() {
	if s.conn != nil {
		s.conn.Close()
		s.db.Close()
		s.connector.Close()
		s.conn = nil
	}
}

// Case is the case the store answers for.
func (s *Store) Case() *index.Case { return s.c }

// Close closes the stores and releases the case.
func (s *Store) Close() error {
	if s.text != nil {
		s.text.Close()
	}
	s.disconnect()
	return s.c.Close()
}

// condition parses q and renders it as SQL, resolving free-text terms.
func (s *Store) condition(q string) (string, []any, error) {
	node, err := index.ParseQueryString(q)
	if err != nil {
		return "", nil, fmt.Errorf("query %q: %w", q, err)
	}
	cond, args, err := where(node, s.textSet)
	if err != nil {
		return "", nil, fmt.Errorf("query %q: %w", q, err)
	}
	return cond, args, nil
}

// textSet loads the ids of the events a free-text term matches into a
// temporary table (once per distinct term) and returns the condition that
// an event is among them.
func (s *Store) textSet(n *index.Node) (string, error) {
	key := n.Field + "\x00" + n.Value + "\x00" + strconv.FormatBool(n.Phrase)
	if cond, ok := s.sets[key]; ok {
		return cond, nil
	}
	if err := s.openText(); err != nil {
		return "", err
	}
	t := "text_" + strconv.Itoa(len(s.sets))
	ctx := context.Background()
	if _, err := s.conn.ExecContext(ctx, "CREATE TEMP TABLE "+t+" (id VARCHAR)"); err != nil {
		return "", err
	}
	matched, err := s.appendIDs(t, func(add func(id string) error) error { return s.text.TextMatches(n, add) })
	if err == nil && n.Phrase && matched > 0 {
		// The index gave the events holding the phrase's words; those
		// holding them in its order are kept.
		matched, err = s.inOrder(t, n)
	}
	if err != nil {
		return "", fmt.Errorf("full-text index: %w", err)
	}
	cond := quote("event.id") + " IN (SELECT id FROM temp." + t + ")"
	if matched == 0 {
		cond = "FALSE" // nothing to join: spares scanning every event's id
	}
	s.sets[key] = cond
	return cond, nil
}

// openText opens the case's full-text index, once.
func (s *Store) openText() error {
	if s.text != nil {
		return nil
	}
	b, err := s.c.OpenText()
	if err != nil {
		return err
	}
	s.text = b
	return nil
}

// appendIDs fills temporary table t with the ids each calls add with.
func (s *Store) appendIDs(t string, each func(add func(id string) error) error) (int, error) {
	n := 0
	err := s.conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", t)
		if err != nil {
			return err
		}
		err = each(func(id string) error { n++; return app.AppendRow(id) })
		if cerr := app.Close(); err == nil {
			err = cerr
		}
		return err
	})
	return n, err
}

// inOrder replaces the candidates of phrase term n in table t with the
// events whose text holds its words in order, read from the event store.
func (s *Store) inOrder(t string, n *index.Node) (int, error) {
	ctx := context.Background()
	rows, err := s.conn.QueryContext(ctx, `SELECT "event.id", "evidence.location" FROM events WHERE "event.id" IN (SELECT id FROM temp.`+t+`) ORDER BY "evidence.location"`)
	if err != nil {
		return 0, err
	}
	store := s.c.OpenStored()
	defer store.Close()
	field := n.Field
	if field == "" {
		field = "message"
	}
	sel := &event.Selection{Only: map[string]bool{field: true}} // the text the phrase is in, not the whole event
	var keep []string
	for rows.Next() {
		var id, loc string
		if err := rows.Scan(&id, &loc); err != nil {
			rows.Close()
			return 0, err
		}
		ev, err := store.EventSelected(loc, sel)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("event %s: %w", loc, err)
		}
		if n.Match(ev) {
			keep = append(keep, id)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	if _, err := s.conn.ExecContext(ctx, "DELETE FROM temp."+t); err != nil {
		return 0, err
	}
	return s.appendIDs(t, func(add func(id string) error) error {
		for _, id := range keep {
			if err := add(id); err != nil {
				return err
			}
		}
		return nil
	})
}

// count is the number of events matching a condition.
func (s *Store) count(cond string, args []any) (uint64, error) {
	var n uint64
	err := s.conn.QueryRowContext(context.Background(), "SELECT count(*) FROM events WHERE "+cond, args...).Scan(&n)
	return n, err
}

// Search streams the events matching q in time order (events without a
// time last), then by event id, up to limit (0 = all), read whole from the
// event store; it returns the number of matches.
func (s *Store) Search(q string, limit int, fn func(*event.Event) error) (uint64, error) {
	if total, ok, err := s.searchText(q, limit, fn); ok || err != nil {
		return total, err
	}
	cond, args, err := s.condition(q)
	if err != nil {
		return 0, err
	}
	total, err := s.count(cond, args)
	if err != nil {
		return 0, err
	}
	ctx := context.Background()
	stmt := `SELECT "evidence.location" FROM events WHERE ` + cond + ` ORDER BY "@timestamp" NULLS LAST, "event.id"`
	if limit > 0 {
		stmt += " LIMIT " + strconv.Itoa(limit)
	}
	rows, err := s.conn.QueryContext(ctx, stmt, args...)
	if err != nil {
		return total, err
	}
	defer rows.Close()
	store := s.c.OpenStored()
	defer store.Close()
	for rows.Next() {
		var loc string
		if err := rows.Scan(&loc); err != nil {
			return total, err
		}
		ev, err := store.Event(loc)
		if err != nil {
			return total, fmt.Errorf("event %s: %w", loc, err)
		}
		if err := fn(ev); err != nil {
			return total, err
		}
	}
	return total, rows.Err()
}

// textLimit bounds the events a search lists from the full-text index: it
// keeps the first of them in memory while it counts.
const textLimit = 100_000

// blockWorth is how many of the case's events one block read from the
// event store is worth: the join scans every event id of the case (60–100
// ns each), where the full-text index's candidates that need checking are
// read from the store a block (up to 512 events, 256 KiB) at a time
// (0.35–0.5 ms each, most of it zstd; bench/README stop 31). Below the case's events over
// it (and 64 blocks in any case), reading them is the faster answer.
const blockWorth = 4096

// searchText answers from the full-text index and the event store a query
// whose matches all hold some free text (index.SearchText); ok is false
// when it cannot: no such text, every match asked for, more of the event
// store to read than the join is worth, or an index written by a version
// that kept no places. An invalid query is left to the columnar path to name.
func (s *Store) searchText(q string, limit int, fn func(*event.Event) error) (uint64, bool, error) {
	node, err := index.ParseQueryString(q)
	if err != nil || node == nil || limit <= 0 || limit > textLimit {
		return 0, false, nil
	}
	if _, _, err := where(node, func(*index.Node) (string, error) { return "TRUE", nil }); err != nil {
		return 0, false, nil
	}
	if err := s.openText(); err != nil {
		return 0, false, err
	}
	maxBlocks := max(64, int(s.c.Manifest.Events/blockWorth))
	total, ok, err := s.text.SearchText(s.c, node, limit, maxBlocks, fn)
	if err != nil {
		return total, true, fmt.Errorf("full-text index: %w", err)
	}
	return total, ok, nil
}

// Top ranks the values of a field among the events matching q (each value
// of a list counts), with the sum of a numeric field and the first and last
// times, by sum, then count, then value; n = 0 gives every value.
func (s *Store) Top(field, sum, q string, n int) ([]index.TopRow, uint64, error) {
	for _, f := range []string{field, sum} {
		if f != "" && !fieldName.MatchString(f) {
			return nil, 0, fmt.Errorf("%q is not a field name", f)
		}
	}
	if !s.fields && (!hasColumn(field) || sum != "" && !hasColumn(sum)) {
		// A field without a typed column is read from the event's other fields.
		if err := s.connect(true); err != nil {
			return nil, 0, err
		}
	}
	cond, args, err := s.condition(q)
	if err != nil {
		return nil, 0, err
	}
	total, err := s.count(cond, args)
	if err != nil {
		return nil, 0, err
	}
	if rows, ok, err := s.ranked(field, sum, cond, n); ok || err != nil {
		return rows, total, err
	}
	ctx := context.Background()
	sumExpr := "NULL::BIGINT"
	if sum != "" {
		sumExpr = number(sum)
	}
	var stmt string
	if hasColumn(field) && !listColumns[field] {
		stmt = fmt.Sprintf(`SELECT CAST(%s AS VARCHAR) AS v, count(*) AS n, coalesce(sum(%s), 0)::BIGINT AS s, count(%s) AS seen, min("@timestamp"), max("@timestamp")
			FROM events WHERE %s IS NOT NULL AND (%s) GROUP BY 1`, quote(field), sumExpr, sumExpr, quote(field), cond)
	} else {
		stmt = fmt.Sprintf(`SELECT v, count(*) AS n, coalesce(sum(x), 0)::BIGINT AS s, count(x) AS seen, min(t), max(t) FROM
			(SELECT unnest(%s) AS v, %s AS x, "@timestamp" AS t FROM events WHERE (%s))
			WHERE v IS NOT NULL AND v <> '' GROUP BY 1`, values(field), sumExpr, cond)
	}
	stmt += " ORDER BY " + topOrder
	if n > 0 {
		stmt += " LIMIT " + strconv.Itoa(n)
	}
	rows, err := s.conn.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, 0, err
	}
	out, err := topRows(rows)
	return out, total, err
}

// topRows reads and closes rows of value, count, sum, seen, first, last.
func topRows(rows *sql.Rows) ([]index.TopRow, error) {
	defer rows.Close()
	var out []index.TopRow
	for rows.Next() {
		var r index.TopRow
		var first, last sql.NullTime
		if err := rows.Scan(&r.Value, &r.Count, &r.Sum, &r.SumSeen, &first, &last); err != nil {
			return nil, err
		}
		r.First, r.Last = first.Time.UTC(), last.Time.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// Stats counts the case's events per dataset, per host (lower-cased: host
// names match case-insensitively) and per UTC day, at most 1,000 values per
// table with the rest counted as "(other)".
func (s *Store) Stats() (*index.CaseStats, error) {
	ctx := context.Background()
	st := &index.CaseStats{}
	if err := s.conn.QueryRowContext(ctx, "SELECT count(*) FROM events").Scan(&st.Total); err != nil {
		return nil, err
	}
	// count groups the events by key, then names each group by label(g):
	// a cast or lower() runs once per group, not once per event in the
	// filter and again in the grouping (`stats` on the 10 M mix: 1.13–1.18
	// → 0.48–0.54 s, same output; bench/README).
	count := func(key string, label func(g string) string) (map[string]int, error) {
		rows, err := s.conn.QueryContext(ctx, "SELECT "+label("g")+" AS v, sum(n)::BIGINT AS n FROM (SELECT "+key+" AS g, count(*) AS n FROM events WHERE "+key+" IS NOT NULL GROUP BY 1) GROUP BY 1 ORDER BY n DESC, v")
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
	var err error
	as := func(g string) string { return g }
	if st.ByDataset, err = count(quote("event.dataset"), as); err != nil {
		return nil, err
	}
	if st.ByHost, err = count(quote("host.name"), func(g string) string { return "lower(" + g + ")" }); err != nil {
		return nil, err
	}
	if st.ByDay, err = count("CAST("+quote("@timestamp")+" AS DATE)", func(g string) string { return "CAST(" + g + " AS VARCHAR)" }); err != nil {
		return nil, err
	}
	return st, nil
}
