package columns

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
)

// CanSearch reports whether a query names typed columns only, so the
// columnar store can answer it (free text needs the index).
func CanSearch(q string) bool {
	n, err := index.ParseQueryString(q)
	if err != nil {
		return false
	}
	_, _, ok := where(n)
	return ok
}

// Search is index.Bleve's Search answered by the columnar store: matching
// events in time order (events without a time last), then by event id, up
// to limit (0 = all), read whole from the event store; it returns the number
// of matches.
func Search(c *index.Case, q string, limit int, fn func(*event.Event) error) (uint64, error) {
	node, err := index.ParseQueryString(q)
	if err != nil {
		return 0, err
	}
	cond, args, ok := where(node)
	if !ok {
		return 0, fmt.Errorf("query %q needs the search index (free text or fields without a column)", q)
	}
	if err := Build(c, nil); err != nil {
		return 0, err
	}
	connector, err := duckdb.NewConnector(Path(c)+"?access_mode=READ_ONLY", limits)
	if err != nil {
		return 0, err
	}
	defer connector.Close()
	db := sql.OpenDB(connector)
	defer db.Close()
	ctx := context.Background()
	var total uint64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE "+cond, args...).Scan(&total); err != nil {
		return 0, err
	}
	stmt := `SELECT "evidence.location" FROM events WHERE ` + cond + ` ORDER BY "@timestamp" NULLS LAST, "event.id"`
	if limit > 0 {
		stmt += " LIMIT " + strconv.Itoa(limit)
	}
	rows, err := db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return total, err
	}
	defer rows.Close()
	store := c.OpenStored()
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
