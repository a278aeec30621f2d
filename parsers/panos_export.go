package parsers

import (
	"fmt"
	"strings"
)

// PAN-OS' web interface exports a log view as CSV ("Export to CSV"): a
// header row — Domain, Receive Time, Serial #, Type, Threat/Content Type,
// … — then one row per log, the columns in the syslog format's order. The
// header is checked against that order where the decoder reads: a table
// in another order is refused row by row, not read wrongly.

// panExportColumns are the header's names (lower-cased, letters and
// digits only) at the syslog positions the decoder reads.
var panExportColumns = []panColumn{
	{panReceive, "receivetime"}, {panType, "type"}, {panSrc, "sourceaddress"}, {panDst, "destinationaddress"},
	{panSport, "sourceport"}, {panDport, "destinationport"}, {panAction, "action"},
}

// panExportOptional are names that, when present, must be at their place.
var panExportOptional = []panColumn{{32, "bytessent"}, {33, "bytesreceived"}, {panSession, "sessionid"}, {panRule, "rule"}, {panSrcUser, "sourceuser"}}

type panColumn struct {
	pos  int
	name string
}

func panColumnName(c string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(c) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// panExportHeader says whether a line is such a header, and if its columns
// are not in the syslog order, why.
func panExportHeader(l string) (ok bool, misordered error) {
	cols, delim := csvHeader(l)
	if delim != ',' || len(cols) < 30 {
		return false, nil
	}
	at := map[string]int{}
	for i, c := range cols {
		at[panColumnName(c)] = i
	}
	for _, c := range panExportColumns {
		if _, has := at[c.name]; !has {
			return false, nil
		}
	}
	for _, c := range append(panExportColumns, panExportOptional...) {
		if i, has := at[c.name]; has && i != c.pos {
			return true, fmt.Errorf("panos: an exported table whose column %q is at place %d, not %d as in the syslog format: not read", cols[i], i+1, c.pos+1)
		}
	}
	return true, nil
}
