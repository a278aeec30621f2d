package parsers

import (
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
)

// The forms a FortiGate writes its logs in, each read as the pairs of the
// key=value form, so that every form means what that one means: key=value
// (space-separated, or comma-separated by syslog "format csv"), syslog
// "format json", syslog "format cef", and FortiAnalyzer's CSV download.

// pairs reads a log line's pairs, in any of FortiOS' forms, and the syslog
// header before them.
func (d *fortiDecoder) pairs(s string, kv *fortiLine, hdr *syslogHeader) error {
	kvStart := strings.Index(s, "date=")
	if i := strings.Index(s, "logid="); kvStart < 0 || (i >= 0 && i < kvStart) {
		kvStart = i
	}
	jsonStart := strings.IndexByte(s, '{')
	isJSON := jsonStart >= 0 && (kvStart < 0 || jsonStart < kvStart)
	if isJSON {
		kvStart = jsonStart
	}
	cefStart := -1
	if kvStart < 0 || strings.Contains(s[:kvStart], "CEF:") { // a CEF header comes before its pairs
		cefStart = fortiCEFStart(s)
	}
	if cefStart >= 0 {
		kvStart, isJSON = cefStart, false
	}
	if kvStart < 0 {
		return fmt.Errorf("fortigate: no date= or logid= field")
	}
	if kvStart > 0 {
		prefix := strings.TrimSpace(s[:kvStart])
		if h, err := d.clock.peek(prefix + " x"); err == nil {
			*hdr = h
		}
	}
	if cefStart >= 0 {
		if err := fortiCEFPairs(s[kvStart:], kv); err != nil {
			return fmt.Errorf("fortigate: %v", err)
		}
	} else if isJSON {
		if err := fortiJSONPairs(s[kvStart:], kv); err != nil {
			return err
		}
	} else if !splitKVSep(s[kvStart:], pairSeparator(s[kvStart:]), false, kv.add) {
		return fmt.Errorf("fortigate: no key=value pairs")
	}
	return nil
}

// fortiJSONPairs reads a line of FortiOS' syslog "format json" as the
// pairs it holds, in order: a number as written, null as no value.
func fortiJSONPairs(s string, kv *fortiLine) error {
	fields, err := orderedJSONObject([]byte(s))
	if err != nil {
		return fmt.Errorf("fortigate: %v", err)
	}
	if len(fields) == 0 {
		return fmt.Errorf("fortigate: no key=value pairs")
	}
	for _, f := range fields {
		if f.v != nil {
			kv.add(f.k, jsonText(f.v))
		}
	}
	return nil
}

// FortiOS writes its logs as CEF when asked (config log syslogd setting,
// set format cef): the same fields, those CEF has a name for renamed
// (srcip → src, sentbyte → out…) and the others prefixed FTNTFGT. Such lines
// are read by the FortiGate decoder, so that they mean what the key=value
// form means — above all the byte counters: FortiOS writes sentbyte as
// "out" (its Log Message Reference's own example: sentbyte=151
// rcvdbyte=90170 → out=151 in=90170), the reverse of CEF's standard ("in":
// bytes from source to destination), so read as plain CEF an upload is
// taken for a download; and its interim records (running totals) are told
// apart only by FortiOS' own keys.

// fortiCEFKeys are FortiOS' names of the CEF keys it writes (FortiOS Log
// Message Reference, "… log support for CEF" tables and examples).
var fortiCEFKeys = map[string]string{
	"deviceExternalId": "devid", "dvchost": "devname",
	"src": "srcip", "spt": "srcport", "dst": "dstip", "dpt": "dstport",
	"shost": "srcname", "dhost": "hostname", "smac": "srcmac", "dmac": "dstmac",
	"deviceInboundInterface": "srcintf", "deviceOutboundInterface": "dstintf",
	"externalId": "sessionid", "proto": "proto", "act": "action", "app": "service",
	"sourceTranslatedAddress": "transip", "sourceTranslatedPort": "transport",
	"destinationTranslatedAddress": "tranip", "destinationTranslatedPort": "tranport",
	"out": "sentbyte", "in": "rcvdbyte",
	"duser": "user", "msg": "msg", "outcome": "status", "reason": "reason", "sproc": "ui",
	"request": "url", "requestClientApplication": "agent", "fname": "filename", "fsize": "filesize",
}

// fortiCEFLabels are the custom strings' labels FortiOS 5.6 used for keys
// later written with the FTNTFGT prefix.
var fortiCEFLabels = map[string]string{"Policy Id": "policyid", "Filter Type": "filtertype"}

// fortiCEFStart is where a FortiGate's CEF message starts ("CEF:0|Fortinet|
// Fortigate|…"; FortiOS 6.2 and later write "CEF: 0|"), -1 if the line is
// no FortiGate's CEF.
func fortiCEFStart(l string) int {
	i := strings.Index(l, "CEF:")
	if i < 0 {
		return -1
	}
	hdr, _, err := cefHeader(l[i+4:])
	if err != nil || !isFortiCEF(hdr) {
		return -1
	}
	return i
}

// isFortiCEF reports whether a CEF header's vendor and product are a
// FortiGate's.
func isFortiCEF(hdr []string) bool {
	return strings.EqualFold(strings.TrimSpace(hdr[1]), "Fortinet") &&
		strings.HasPrefix(strings.ToLower(strings.TrimSpace(hdr[2])), "fortigate")
}

// fortiCEFPairs reads a FortiGate's CEF message (from "CEF:") as the
// FortiOS pairs it holds.
func fortiCEFPairs(s string, kv *fortiLine) error {
	hdr, ext, err := cefHeader(s[4:])
	if err != nil {
		return err
	}
	m := cefExtension(ext)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // a map's order would change which of two names for one key counts
	for _, k := range keys {
		v := m[k]
		switch {
		case strings.HasPrefix(k, "FTNTFGT") && len(k) > len("FTNTFGT"):
			kv.add(k[len("FTNTFGT"):], v)
		case k == "cat": // type:subtype
			t, sub, _ := strings.Cut(v, ":")
			kv.add("type", t)
			if sub != "" {
				kv.add("subtype", sub)
			}
		case k == "deviceDirection":
			kv.add("direction", map[string]string{"0": "incoming", "1": "outgoing"}[v])
		case fortiCEFLabels[m[k+"Label"]] != "":
			kv.add(fortiCEFLabels[m[k+"Label"]], v)
		case strings.HasSuffix(k, "Label") && fortiCEFLabels[v] != "":
			// the label of a custom string read above
		case fortiCEFKeys[k] != "":
			kv.add(fortiCEFKeys[k], v)
		default:
			kv.add(k, v)
		}
	}
	if kv.get(fLogID) == "" {
		kv.add("logid", hdr[4]) // its last five digits: better than none
	}
	return nil
}

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
