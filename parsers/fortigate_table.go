package parsers

import (
	"encoding/csv"
	"fmt"
	"strings"
)

// A FortiGate's logs as a table: FortiAnalyzer's and FortiCloud's CSV
// download write one column per FortiOS key (date,time,logid,type,…),
// a row per log, a value left empty where the log had no such key. Each
// row is read as the pairs it holds.

// fortiTable is the header of such a table.
type fortiTable struct {
	cols  []string
	delim rune
}

// fortiTableHeader reads a line as such a table's header: FortiOS keys as
// columns, among them the log id, its type and a time.
func fortiTableHeader(l string) *fortiTable {
	if strings.Contains(l, "=") {
		return nil
	}
	cols, delim := csvHeader(l)
	has := map[string]bool{}
	for i, c := range cols {
		cols[i] = strings.ToLower(strings.TrimSpace(c))
		has[cols[i]] = true
	}
	if !has["logid"] || !has["type"] || !(has["date"] || has["eventtime"]) || !(has["srcip"] || has["devname"] || has["subtype"]) {
		return nil
	}
	return &fortiTable{cols: cols, delim: delim}
}

// pairs reads one row into kv.
func (t *fortiTable) pairs(row string, kv *fortiLine) error {
	r := csv.NewReader(strings.NewReader(row))
	r.Comma, r.FieldsPerRecord = t.delim, -1 // strict quotes: a row cut by a line break in a value is kept raw
	rec, err := r.Read()
	if err != nil {
		return fmt.Errorf("fortigate: table row: %v", err)
	}
	if len(rec) > len(t.cols) {
		return fmt.Errorf("fortigate: table row of %d fields under a header of %d", len(rec), len(t.cols))
	}
	for i, v := range rec {
		if v != "" {
			kv.add(t.cols[i], v)
		}
	}
	return nil
}
