package columns

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/memlimit"
)

// `top FIELD` over a whole case groups every event by the field: on 8 M
// FortiGate sessions to ~8 M destinations that is 1.9–2.1 s however the
// address is typed (bench/README, stop 26), the hash table of 8 M groups
// being the cost. So the first rankedRows rows of each ranking `top` shows
// over the whole case — by count, or by the sum of a byte count — are kept
// in table ranked when an ingest ends, for the fields whose number of
// values grows with the evidence (addresses, domains, accounts, hosts,
// ports, senders): `top destination.ip --sum source.bytes` then reads at
// most rankedRows rows. A ranking with a query, or asking for more rows,
// groups the events as before. Table ranked_of holds the stamp of the case
// the rankings were computed on (its files and event counts, the fields
// and sums ranked): rankings of any other state of the case are not read.

// rankMemory is what ranking holds outside Go's heap: DuckDB's limit.
const rankMemory = 128 << 20

// rankedRows is how many rows of each ranking are kept: more than a screen
// or a report shows (`top` prints 20 by default).
var rankedRows = 1000

// rankings are the single-valued typed columns ranked at ingest, each by
// count ("") and by the sums that measure it: sessions' byte counts for
// endpoints and accounts, message sizes for senders. Each sum costs the
// grouping memory: with the four byte sums and email.size, ranking 8 M
// destinations took 8.7 s instead of 2.5 (bench/README).
var rankings = []ranking{
	{"source.ip", byteSums},
	{"destination.ip", byteSums},
	{"destination.port", byteSums},
	{"destination.domain", byteSums},
	{"url.domain", byteSums},
	{"user.name", byteSums},
	{"host.name", byteSums},
	{"email.from.address", []string{"", "email.size"}},
}

type ranking struct {
	field string
	sums  []string
}

var byteSums = []string{"", "source.bytes", "destination.bytes", "network.bytes"}

// topOrder is the order of `top`'s rows, which rankStatement's selection key
// (minus the sum, minus the count, the value) follows.
const topOrder = "s DESC, n DESC, v"

const rankedSchema = `CREATE TABLE IF NOT EXISTS ranked (field VARCHAR, sum VARCHAR, v VARCHAR, n BIGINT, s BIGINT, seen BIGINT, first TIMESTAMP_NS, last TIMESTAMP_NS);
CREATE TABLE IF NOT EXISTS ranked_of (stamp VARCHAR);`

// rankingStamp is the stamp of the case's current state: its files'
// "loaded" marks, and what is ranked.
func rankingStamp(query func(q string) (string, error)) (string, error) {
	loaded, err := query(`SELECT coalesce(string_agg(sha256 || ':' || events, ',' ORDER BY sha256), '') FROM loaded`)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%d\n", rankedRows)
	for _, r := range rankings {
		fmt.Fprintf(h, "%s %s\n", r.field, strings.Join(r.sums, ","))
	}
	h.Write([]byte(loaded))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Rank keeps the rankings of the case as it is (see Writer.Rank), holding
// it for writing meanwhile: an ingest calls it once its files are in, an
// analysis once its report is written.
func Rank(c *index.Case) error {
	// DuckDB groups beside Go's heap, which the ingest has just left full.
	defer memlimit.Beside(rankMemory)()
	return c.Writing(func() error {
		w, err := NewWriter(c)
		if err != nil {
			return err
		}
		err = w.Rank()
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		return c.DiskFull(err)
	})
}

// Rank keeps the rankings of the case as the writer leaves it, unless they
// are kept already. It replaces them in one transaction: an interrupted
// run leaves the previous rankings with the previous stamp, never read for
// this state. The ingest's parsers are done by then: the query has every
// core.
func (w *Writer) Rank() error {
	if w.t != eventsTable {
		return nil
	}
	if err := w.commit(); err != nil {
		return err
	}
	first := func(q string) (string, error) {
		v, err := w.query(q)
		if err != nil || len(v) == 0 {
			return "", err
		}
		return v[0], nil
	}
	stamp, err := rankingStamp(first)
	if err != nil {
		return err
	}
	if kept, err := first("SELECT stamp FROM ranked_of"); err != nil || kept == stamp {
		return err
	}
	if err := w.exec("SET threads=" + strconv.Itoa(runtime.NumCPU()) + "; SET memory_limit='" + MemoryLimit + "'"); err != nil {
		return err
	}
	stmts := []string{"BEGIN TRANSACTION", "DELETE FROM ranked", "DELETE FROM ranked_of"}
	for _, r := range rankings {
		stmts = append(stmts, rankStatement(r.field, r.sums))
	}
	stmts = append(stmts, "INSERT INTO ranked_of VALUES ('"+stamp+"')", "COMMIT")
	for _, s := range stmts {
		if err := w.exec(s); err != nil {
			w.exec("ROLLBACK")
			return fmt.Errorf("ranking: %w", err)
		}
	}
	return nil
}

// rankStatement ranks field by count and by each sum in one grouping: per
// sum, the rankedRows first groups in the order Top gives (sum, then count
// descending, then value), found by min_by's bounded selection rather than
// by sorting every group. The lists are unnested from one row: through a
// CTE read once per sum, or CREATE TABLE … AS, the same selection took
// three to four times as long (8 M destinations: 7.5–11.9 s, against 2.5).
func rankStatement(field string, sums []string) string {
	var aggs, picks, names []string
	for i, sum := range sums {
		s, seen := "0::BIGINT", "0::BIGINT"
		if sum != "" {
			aggs = append(aggs, fmt.Sprintf("coalesce(sum(%s), 0)::BIGINT AS s%d, count(%s) AS c%d", quote(sum), i, quote(sum), i))
			s, seen = "s"+strconv.Itoa(i), "c"+strconv.Itoa(i)
		}
		picks = append(picks, fmt.Sprintf("min_by({v: v, n: n, s: %s, seen: %s, first: f, last: l}, {a: -(%s::HUGEINT), b: -n, c: v}, %d)", s, seen, s, rankedRows))
		names = append(names, "'"+sum+"'")
	}
	group := fmt.Sprintf(`SELECT CAST(%s AS VARCHAR) AS v, count(*) AS n, %s, min("@timestamp") AS f, max("@timestamp") AS l FROM events WHERE %s IS NOT NULL GROUP BY 1`,
		quote(field), strings.Join(aggs, ", "), quote(field))
	return fmt.Sprintf("INSERT INTO ranked SELECT '%s', sum, unnest(r, recursive := true) FROM (SELECT unnest([%s]) AS sum, unnest([%s]) AS r FROM (%s))",
		field, strings.Join(names, ", "), strings.Join(picks, ", "), group)
}

// ranked answers Top from the kept rankings when it can: the whole case,
// a ranked field and sum, at most rankedRows rows, and rankings of the
// case as it is. ok is false otherwise (or when the store predates them).
func (s *Store) ranked(field, sum, cond string, n int) (rows []index.TopRow, ok bool, err error) {
	if cond != "TRUE" || n <= 0 || n > rankedRows || !slices.ContainsFunc(rankings, func(r ranking) bool { return r.field == field && slices.Contains(r.sums, sum) }) {
		return nil, false, nil
	}
	ctx := context.Background()
	first := func(q string) (string, error) {
		var v string
		return v, s.conn.QueryRowContext(ctx, q).Scan(&v)
	}
	stamp, err := rankingStamp(first)
	if err != nil {
		return nil, false, nil
	}
	if kept, err := first("SELECT stamp FROM ranked_of"); err != nil || kept != stamp {
		return nil, false, nil
	}
	q, err := s.conn.QueryContext(ctx, "SELECT v, n, s, seen, first, last FROM ranked WHERE field = ? AND sum = ? ORDER BY "+topOrder+" LIMIT ?", field, sum, n)
	if err != nil {
		return nil, false, err
	}
	rows, err = topRows(q)
	return rows, err == nil, err
}
