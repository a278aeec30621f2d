package columns

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/parsers"
)

func sampleCase(t *testing.T) *index.Case {
	t.Helper()
	c, err := index.OpenCase(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := index.Ingest(c, []string{filepath.Join(corpus.Root(t), "samples", "incident")},
		index.IngestOptions{Parse: parsers.Options{TZ: time.UTC}, DeferIndex: true}); err != nil {
		t.Fatal(err)
	}
	return c
}

func scalar(t *testing.T, c *index.Case, q string) any {
	t.Helper()
	var got any
	if err := Query(c, q, func([]string) error { return nil }, func(r []any) error { got = r[0]; return nil }); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return got
}

// TestColumnarStore: the columnar copy holds every event once, its typed
// columns give the same sums as the truth, a rebuild or an interrupted load
// adds nothing, and the Parquet export holds the same rows.
func TestColumnarStore(t *testing.T) {
	c := sampleCase(t)
	if err := Build(c, nil); err != nil {
		t.Fatal(err)
	}
	if n := scalar(t, c, "SELECT count(*) FROM events"); n != int64(9840) {
		t.Fatalf("%v rows, want 9840", n)
	}
	var tr struct {
		Exfil []struct {
			Destination string `json:"destination"`
			Bytes       int64  `json:"bytes"`
		} `json:"exfiltration"`
	}
	b, _ := os.ReadFile(filepath.Join(corpus.Root(t), "samples", "incident.truth.json"))
	json.Unmarshal(b, &tr)
	q := `SELECT sum("source.bytes")::BIGINT FROM events WHERE "destination.ip" = '` + tr.Exfil[0].Destination + `'`
	if got := scalar(t, c, q); got != tr.Exfil[0].Bytes {
		t.Errorf("%s = %v, want %d", q, got, tr.Exfil[0].Bytes)
	}
	// Provenance and the whole event are there.
	if got := scalar(t, c, `SELECT count(*) FROM events WHERE "event.id" IS NULL OR "evidence.sha256" IS NULL OR "evidence.location" IS NULL`); got != int64(0) {
		t.Errorf("%v rows without id, evidence hash or location", got)
	}
	// Fields without a typed column are in "fields": FortiGate's session ids.
	if got := scalar(t, c, `SELECT count(*) FROM events WHERE json_extract_string(fields, '$."fortinet.firewall.sessionid"') IS NOT NULL`); got == int64(0) {
		t.Errorf("no row with fortinet.firewall.sessionid in fields")
	}
	// A second build adds nothing; a load interrupted after its rows but
	// before its mark is redone without duplicates.
	if err := Build(c, nil); err != nil {
		t.Fatal(err)
	}
	connector, err := duckdb.NewConnector(Path(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	if _, err := db.Exec(`DELETE FROM loaded WHERE sha256 = (SELECT min(sha256) FROM loaded)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	connector.Close()
	if err := Build(c, nil); err != nil {
		t.Fatal(err)
	}
	if n := scalar(t, c, "SELECT count(*) FROM events"); n != int64(9840) {
		t.Fatalf("%v rows after rebuilds, want 9840", n)
	}
	out, err := ExportParquet(c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if n := scalar(t, c, "SELECT count(*) FROM read_parquet('"+out+"')"); n != int64(9840) {
		t.Errorf("parquet export holds %v rows, want 9840", n)
	}
}
