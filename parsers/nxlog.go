package parsers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/exfiltrace/exfiltrace/event"
)

// NXLog reads Windows events forwarded by NXLog's im_msvistalog (or the
// older im_mseventlog) and written as JSON by xm_json's to_json(): one
// object per line, the System fields under NXLog's own names and each
// EventData field at the top level under its Windows name. A syslog header
// before the object (to_syslog_bsd with the JSON as message) is skipped.
// Municipal networks often forward their servers' logs this way to a syslog
// collector, which then holds the only copy of the Windows events.
type NXLog struct{}

func (NXLog) Name() string { return "nxlog-windows" }
func (NXLog) Description() string {
	return "Windows events forwarded by NXLog (im_msvistalog, to_json), one JSON object per line"
}

func (NXLog) Detect(head []byte) bool { return mostLines(head, NXLog{}.matchLine) }

func (NXLog) matchLine(l string) bool {
	i := strings.IndexByte(l, '{')
	if i < 0 {
		return false
	}
	l = l[i:]
	return strings.Contains(l, `"EventID"`) && (strings.Contains(l, `"SourceName"`) || strings.Contains(l, `"SourceModuleType"`)) &&
		(strings.Contains(l, `"EventTime"`) || strings.Contains(l, `"EventReceivedTime"`))
}

func (NXLog) NewDecoder(o *Options) LineDecoder {
	return &nxlogDecoder{zone: newZoneless(o), repeat: repeatedHour{warn: o.Warn}}
}

type nxlogDecoder struct {
	zone   zoneless
	repeat repeatedHour // EventTime in the repeated autumn hour
}

func (*nxlogDecoder) Flush(Emit) {}

func (d *nxlogDecoder) Line(no int64, line []byte, emit Emit) error {
	line = bytes.TrimSpace(line)
	i := bytes.IndexByte(line, '{')
	if i < 0 {
		return fmt.Errorf("nxlog: no JSON object on the line")
	}
	fields, err := orderedJSONObject(line[i:])
	if err != nil {
		return fmt.Errorf("nxlog: %v", err)
	}
	w, err := nxlogRecord(fields, true)
	if err != nil {
		return err
	}
	raw := nxlogString(fields, "EventTime")
	if raw == "" {
		return fmt.Errorf("nxlog: no EventTime")
	}
	var zoned bool
	if w.Time, zoned, err = nxlogTime(raw, d.zone.tz); err != nil {
		return err
	}
	if !zoned {
		w.Time = d.repeat.place(w.Time.In(d.zone.tz), d.zone.tz).UTC()
	}
	ev := w.toEvent()
	if m := nxlogString(fields, "Message"); m != "" {
		ev.Fields["message"] = m
	}
	if !zoned {
		d.zone.mark(ev, "EventTime carries no zone (NXLog writes the forwarder's local time)", "the forwarder's")
	}
	ev.Fields["evidence.line"] = no
	ev.Fields[event.FieldOriginal] = string(line)
	emit(ev, "L"+strconv.FormatInt(no, 10))
	return nil
}

// jsonField is one member of a JSON object, in the object's order: NXLog
// writes EventData in the event's own order, which the summary message keeps.
type jsonField struct {
	k string
	v any
}

// orderedJSONObject decodes one JSON object's members in order; numbers stay
// as written (a 64-bit record number or keyword mask is not rounded). A flat
// object (NXLog's always is) is read by flatJSONObject, three times faster
// than encoding/json's tokens; anything it is unsure of goes to them.
func orderedJSONObject(b []byte) ([]jsonField, error) {
	if f, ok := flatJSONObject(b); ok {
		return f, nil
	}
	return tokenJSONObject(b)
}

// flatJSONObject reads an object whose values are strings, numbers, true,
// false or null, giving what encoding/json gives (FuzzFlatJSONObject); ok
// is false for anything else — nested values, invalid UTF-8, a control
// character, a malformed number or object — which encoding/json then reads
// or refuses with its own error.
func flatJSONObject(b []byte) (out []jsonField, ok bool) {
	i := 0
	ws := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	str := func() (string, bool) {
		if i >= len(b) || b[i] != '"' {
			return "", false
		}
		start, esc := i, false
		for i++; i < len(b); i++ {
			switch c := b[i]; {
			case c == '\\':
				esc = true
				i++
			case c == '"':
				i++
				raw := b[start:i]
				if !esc {
					if !utf8.Valid(raw) {
						return "", false
					}
					return string(raw[1 : len(raw)-1]), true
				}
				var s string
				if json.Unmarshal(raw, &s) != nil || !utf8.Valid(raw) {
					return "", false
				}
				return s, true
			case c < 0x20:
				return "", false
			}
		}
		return "", false
	}
	ws()
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i++
	ws()
	if i < len(b) && b[i] == '}' {
		i++
		ws()
		return nil, i == len(b)
	}
	for {
		ws()
		k, ok := str()
		if !ok {
			return nil, false
		}
		ws()
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i++
		ws()
		if i >= len(b) {
			return nil, false
		}
		var v any
		switch c := b[i]; {
		case c == '"':
			if v, ok = str(); !ok {
				return nil, false
			}
		case c == '-' || c >= '0' && c <= '9':
			start := i
			for i < len(b) && (b[i] == '-' || b[i] == '+' || b[i] == '.' || b[i] == 'e' || b[i] == 'E' || b[i] >= '0' && b[i] <= '9') {
				i++
			}
			n := json.Number(b[start:i])
			if !json.Valid(b[start:i]) {
				return nil, false
			}
			v = n
		case bytes.HasPrefix(b[i:], []byte("true")):
			v, i = true, i+4
		case bytes.HasPrefix(b[i:], []byte("false")):
			v, i = false, i+5
		case bytes.HasPrefix(b[i:], []byte("null")):
			v, i = nil, i+4
		default:
			return nil, false
		}
		out = append(out, jsonField{k, v})
		ws()
		if i >= len(b) {
			return nil, false
		}
		if b[i] == ',' {
			i++
			continue
		}
		if b[i] != '}' {
			return nil, false
		}
		i++
		ws()
		return out, i == len(b)
	}
}

// tokenJSONObject is orderedJSONObject through encoding/json's tokens.
func tokenJSONObject(b []byte) ([]jsonField, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("invalid JSON: not an object")
	}
	var out []jsonField
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("invalid JSON: %v", err)
		}
		k, _ := t.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("invalid JSON: %v", err)
		}
		out = append(out, jsonField{k, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("invalid JSON: text after the object")
	}
	return out, nil
}

// nxlogMeta are NXLog's own fields of a Windows event (im_msvistalog's,
// im_mseventlog's, and those its other modules add); every other member is
// the event's EventData.
var nxlogMeta = map[string]bool{
	"EventTime": true, "EventTimeWritten": true, "EventReceivedTime": true, "Hostname": true, "Keywords": true,
	"EventType": true, "SeverityValue": true, "Severity": true, "EventID": true, "SourceName": true,
	"ProviderGuid": true, "Version": true, "Task": true, "TaskValue": true, "OpcodeValue": true, "Opcode": true,
	"RecordNumber": true, "ActivityID": true, "RelatedActivityID": true, "ExecutionProcessID": true,
	"ExecutionThreadID": true, "Channel": true, "Message": true, "Category": true, "UserID": true,
	"AccountName": true, "AccountType": true, "Domain": true, "SourceModuleName": true, "SourceModuleType": true,
	"MessageSourceAddress": true, "SyslogFacilityValue": true, "SyslogFacility": true, "SyslogSeverityValue": true,
	"SyslogSeverity": true, "EventSource": true,
}

// nxlogTrailer are the fields NXLog's input modules add after EventData.
var nxlogTrailer = map[string]bool{
	"EventReceivedTime": true, "SourceModuleName": true, "SourceModuleType": true, "MessageSourceAddress": true,
	"SyslogFacilityValue": true, "SyslogFacility": true, "SyslogSeverityValue": true, "SyslogSeverity": true,
}

var nxlogEventTypes = map[string]bool{"AUDIT_SUCCESS": true, "AUDIT_FAILURE": true, "INFO": true, "WARNING": true,
	"ERROR": true, "CRITICAL": true, "VERBOSE": true}

// nxlogLevels turns NXLog's normalized severity (1 DEBUG … 5 CRITICAL) back
// into the Windows level it came from (security audits, level 0, become
// INFO there and information here either way).
var nxlogLevels = map[string]string{"1": "5", "2": "4", "3": "3", "4": "2", "5": "1"}

func nxlogString(fields []jsonField, k string) string {
	for _, f := range fields {
		if f.k == k {
			return jsonText(f.v)
		}
	}
	return ""
}

// jsonText is a decoded JSON value as the text Windows would show.
func jsonText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// nxlogRecord reads an NXLog Windows event but its time. ordered says the
// fields are in the order NXLog wrote them (a JSON line; not a collector's
// columns), which tells its own fields from EventData of the same name.
func nxlogRecord(fields []jsonField, ordered bool) (*winRecord, error) {
	get := func(k string) string { return nxlogString(fields, k) }
	w := &winRecord{
		Provider: get("SourceName"), ProviderGUID: get("ProviderGuid"), Channel: get("Channel"),
		Computer: get("Hostname"), UserID: get("UserID"), ActivityID: get("ActivityID"),
		Version: get("Version"), RecordID: get("RecordNumber"), Level: nxlogLevels[get("SeverityValue")],
		Opcode: get("OpcodeValue"), PID: get("ExecutionProcessID"), TID: get("ExecutionThreadID"),
	}
	if w.Task = get("TaskValue"); w.Task == "" {
		w.Task = get("Task")
	}
	// NXLog before 2.9 named the writing process ProcessID/ThreadID; later
	// ones leave those names to EventData.
	oldNames := w.PID == ""
	if oldNames {
		w.PID, w.TID = get("ProcessID"), get("ThreadID")
	}
	w.Keywords = keywordsHex(get("Keywords"))
	id := get("EventID")
	if id == "" {
		if m := get("SourceModuleType"); m != "" {
			// NXLog's own log (im_internal) or a text file it forwards: kept
			// whole, said what it is.
			return nil, fmt.Errorf("nxlog: a record of input module %s, not a Windows event (no EventID)", m)
		}
		return nil, fmt.Errorf("nxlog: no EventID")
	}
	n, err := strconv.ParseUint(id, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("nxlog: EventID %q is not a number", id)
	}
	// The classic event log's 32-bit id holds the qualifiers above the id.
	w.EventID = strconv.FormatUint(n&0xffff, 10)
	if n > 0xffff {
		w.Qualifiers = strconv.FormatUint(n>>16, 10)
	}
	// NXLog writes its own fields first, then EventData, then what its
	// input module adds (EventReceivedTime, SourceModule*). An EventData
	// field may bear one of its names (a service's AccountName in 7045,
	// Sysmon's EventType): once EventData has begun, such a name is
	// EventData, as is a name met a second time; NXLog's EventType is one
	// of a few words, and it names the account (AccountName, Domain,
	// AccountType) only beside its UserID.
	seen := map[string]bool{}
	inData := false
	hasUser := get("UserID") != ""
	for _, f := range fields {
		own := nxlogMeta[f.k] || oldNames && (f.k == "ProcessID" || f.k == "ThreadID")
		switch f.k {
		case "EventType":
			own = nxlogEventTypes[jsonText(f.v)]
		case "AccountName", "Domain", "AccountType":
			own = hasUser
		}
		if own && !seen[f.k] && (!inData || nxlogTrailer[f.k]) {
			seen[f.k] = true
			continue
		}
		inData = ordered
		if f.v != nil {
			w.EventData = append(w.EventData, kv{f.k, jsonText(f.v)})
		}
	}
	return w, nil
}

// nxlogTime reads EventTime as NXLog writes it: the forwarder's local time
// without a zone (NXLog CE: "2025-03-01 10:11:12", read in tz like any
// zone-less time), ISO 8601 with one (NXLog EE), or a number of seconds,
// milliseconds or microseconds since 1970 (configurations that convert it
// with integer($EventTime) / 1000 for Elasticsearch; told apart by their
// size, which for dates from 1973 to 5138 never overlaps). zoned says
// whether the time carried its zone.
func nxlogTime(s string, tz *time.Location) (time.Time, bool, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case n >= 1e8 && n < 1e11:
			return time.Unix(n, 0).UTC(), true, nil
		case n >= 1e11 && n < 1e14:
			return time.UnixMilli(n).UTC(), true, nil
		case n >= 1e14 && n < 1e17:
			return time.UnixMicro(n).UTC(), true, nil
		}
		return time.Time{}, false, fmt.Errorf("nxlog: EventTime %s is no time in seconds, milliseconds or microseconds", s)
	}
	t, zoned, err := parseISOZoned(s, tz)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("nxlog: EventTime %q: %v", s, err)
	}
	return t, zoned, nil
}

// keywordsHex writes an event's keyword mask as Windows does (0x8020…):
// NXLog writes it as a decimal number, signed before 2.9.
func keywordsHex(s string) string {
	if s == "" || strings.HasPrefix(s, "0x") {
		return s
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return fmt.Sprintf("0x%x", n)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return fmt.Sprintf("0x%x", uint64(n))
	}
	return s
}

// collectorColumns are a collector's own columns (not NXLog's names).
var collectorColumns = func() map[string]bool {
	m := map[string]bool{"streams": true, "level": true, "facility": true, "timestamp": true}
	for _, keys := range [][]string{exportTextKeys, exportTimeKeys, exportHostKeys, exportProgramKeys, exportPIDKeys} {
		for _, k := range keys {
			m[k] = !nxlogMeta[k]
		}
	}
	return m
}()

// nxlogExportWindows reads a collector's row holding an NXLog Windows event
// (Graylog keeps the fields of NXLog's GELF messages as columns), or gives
// nil. The row's own time is the collector's, which knew the forwarder's
// zone; the collector's columns are not EventData.
func nxlogExportWindows(rec *exportRecord, ts time.Time, tsErr error) *winRecord {
	if tsErr != nil || rec.str("EventID") == "" || rec.str("SourceName") == "" && rec.str("Channel") == "" {
		return nil
	}
	var fields []jsonField
	for k, v := range rec.fields {
		if collectorColumns[k] || strings.HasPrefix(k, "gl2_") || strings.HasPrefix(k, "_") || strings.HasPrefix(k, "evidence.") {
			continue
		}
		fields = append(fields, jsonField{k, v})
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].k < fields[j].k })
	w, err := nxlogRecord(fields, false)
	if err != nil {
		return nil
	}
	if w.Computer == "" {
		_, w.Computer = rec.first(exportHostKeys)
	}
	w.Time = ts
	return w
}
