package parsers

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// A SIEM or collector export (Graylog, Kibana/Elasticsearch, Wazuh, Splunk)
// is a table of rows. A row that carries the device's original line is parsed
// by that line's own format, wherever it came from; a row that carries only
// fields already parsed by the collector (ECS names) keeps them as they are.
// Either way the event says which export, which row, and what the original
// text was.

// exportTextKeys are the columns that hold the original line, best first:
// ECS's event.original, Wazuh's full_log, Splunk's _raw, GELF's full_message,
// then the shortened message most collectors keep.
var exportTextKeys = []string{"event.original", "log.original", "full_log", "_raw", "full_message", "message", "Message", "MESSAGE", "raw", "log"}

// exportTimeKeys are the columns that hold the collector's time for a row.
var exportTimeKeys = []string{"@timestamp", "timestamp", "_time", "time", "date", "EventTime", "TimeGenerated", "event.created",
	"__REALTIME_TIMESTAMP"} // journald: microseconds since the epoch, when the entry was received

// exportHostKeys and exportProgramKeys give the syslog header a collector
// stripped from the message (Graylog's source and application_name).
var exportHostKeys = []string{"source", "host", "hostname", "host.name", "host.hostname", "predecoder.hostname", "log.syslog.hostname", "agent.name", "_HOSTNAME"}
var exportProgramKeys = []string{"application_name", "program", "programname", "appname", "predecoder.program_name", "process.name", "log.syslog.appname", "syslog.appname", "SYSLOG_IDENTIFIER"}

// exportPIDKeys give the process id the syslog header carried
// ("postfix/smtpd[27525]:"), which some formats need to read a line.
var exportPIDKeys = []string{"SYSLOG_PID", "_PID", "log.syslog.procid", "process.pid", "pid"}

// ecsEventNamespaces are the ECS field sets that make a row worth keeping
// as a structured event when it has no original line.
var ecsEventNamespaces = []string{"source.", "destination.", "client.", "server.", "network.", "user.", "url.", "email.",
	"file.", "process.", "dns.", "http.", "winlog.", "rule.", "observer.", "event.action", "event.code", "event.category"}

// ecsIntegerFields are ECS fields of type long: a CSV export writes them as
// text and they must be numbers again for sums and ranges.
var ecsIntegerFields = map[string]bool{
	"source.bytes": true, "destination.bytes": true, "network.bytes": true, "source.packets": true,
	"destination.packets": true, "network.packets": true, "source.port": true, "destination.port": true,
	"client.bytes": true, "server.bytes": true, "client.port": true, "server.port": true, "event.duration": true,
	"email.size": true, "file.size": true, "http.request.bytes": true, "http.response.bytes": true,
	"http.response.status_code": true, "process.pid": true, "winlog.record_id": true, "source.nat.port": true,
	"destination.nat.port": true, "event.severity": true,
}

// exportRecord is one row of an export, flattened to dotted keys.
type exportRecord struct {
	fields map[string]any
	row    int64  // 1-based row number in the export
	offset int64  // byte offset of the row (-1 when unknown)
	raw    []byte // the row as written (JSON exports), for formats that read whole documents
}

// exportReader turns export rows into events.
type exportReader struct {
	kind   string // export flavour, recorded on every event
	o      Options
	year   bool // o.Year was chosen by the analyst
	st     *FileStats
	router *lineRouter
	emit   Emit
	// offsets counts, per whole quarter hour, how far the lines' own times
	// are from the collector's: a constant non-zero offset means devices
	// wrote local time without a zone.
	offsets  map[int64]int64
	compared int64
	noZone   bool
	legacy   legacyText
}

func newExportReader(kind string, in *Input, o *Options, st *FileStats, emit Emit) *exportReader {
	r := &exportReader{kind: kind, o: *o, year: o.Year != 0, st: st, emit: emit, offsets: map[int64]int64{}}
	if r.o.TZ == nil {
		r.o.TZ = time.UTC
	}
	st.TZ = r.o.TZ.String()
	if r.year {
		st.Year, st.YearSource = o.Year, "--year"
	} else {
		// Until a row's own time says otherwise (see record).
		r.o.Year = in.ModTime.UTC().Year()
	}
	r.router = newLineRouter(&r.o, st, kind)
	r.router.unit = "row"
	r.legacy.unit = "row"
	return r
}

// str returns a field as text ("" when absent or not scalar).
func (rec *exportRecord) str(k string) string {
	switch v := rec.fields[k].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func (rec *exportRecord) first(keys []string) (string, string) {
	for _, k := range keys {
		if v := strings.TrimSpace(rec.str(k)); v != "" && v != "-" {
			return k, v
		}
	}
	return "", ""
}

// record turns one row into an event (or a raw event with the reason).
func (r *exportReader) record(rec *exportRecord) {
	ts, tsErr := r.rowTime(rec)
	if !ts.IsZero() && !r.year && r.st.YearSource == "" {
		// Year-less lines (classic syslog) take the year of the export's
		// first dated row rather than the export file's modification time.
		r.o.Year = ts.In(r.o.TZ).Year()
		r.st.Year, r.st.YearSource = r.o.Year, "the export's own timestamps (override with --year)"
	}
	if w := wazuhWindows(rec); w != nil {
		ev := w.toEvent()
		if t := rec.str("full_log"); t != "" {
			ev.Fields[event.FieldOriginal] = t
		}
		r.provenance(ev, rec)
		r.emit(ev, "R"+strconv.FormatInt(rec.row, 10))
		return
	}
	if w := nxlogExportWindows(rec, ts, tsErr); w != nil {
		ev := w.toEvent()
		if _, t := rec.first([]string{"full_message", "Message", "message"}); t != "" {
			ev.Fields["message"] = t
		}
		r.provenance(ev, rec)
		r.emit(ev, "R"+strconv.FormatInt(rec.row, 10))
		return
	}
	if winlogRow(rec) && (rec.raw != nil || !ts.IsZero()) {
		// Winlogbeat / Elastic Agent documents: the Windows mapping reads
		// the whole document — a table's winlog.* columns (Kibana's CSV,
		// Graylog's winlogbeat_winlog_* fields) made one again.
		doc, rebuilt := rec.raw, rec.raw == nil || rec.fields["winlog.event_id"] == nil
		if rebuilt {
			doc = winlogDocument(rec, ts)
		}
		if err := (winlogbeatDecoder{}).Line(rec.row, doc, func(ev *event.Event, pos string) {
			if rebuilt {
				delete(ev.Fields, event.FieldOriginal) // no line of the export's
				ev.Fields["evidence.mapping"] = "a Winlogbeat document rebuilt from the export's winlog.* columns and time"
			}
			r.provenance(ev, rec)
			r.emit(ev, pos)
		}); err == nil {
			return
		}
	}
	textKey, text := rec.first(exportTextKeys)
	if ev, ok := windowsEventXML(text); ok {
		ev.Fields[event.FieldOriginal] = text
		r.provenance(ev, rec)
		r.emit(ev, "R"+strconv.FormatInt(rec.row, 10))
		return
	}
	if w, msg, local, ok := splunkWindowsEvent(text, ts, r.o.TZ); ok {
		ev := w.toEvent()
		ev.Fields[event.FieldOriginal] = text
		ev.Set("message", msg)
		ev.Fields["evidence.mapping"] = "Splunk's WinEventLog text: EventData read back from the rendered message"
		if local {
			r.o.zoneRead()
			ev.Fields["event.timezone"] = r.o.TZ.String()
			r.st.Warn(fmt.Sprintf("Windows events' own local time, without a zone, read in %s (--tz): the export gave no time of its own", r.o.TZ))
		}
		r.provenance(ev, rec)
		r.emit(ev, "R"+strconv.FormatInt(rec.row, 10))
		return
	}
	var reason string
	if text != "" {
		if r.routeText(rec, text, ts) {
			return
		}
		reason = fmt.Sprintf("%s export: the %s column matches no known format", r.kind, textKey)
		if hdr := r.rebuiltHeader(rec, text, ts); hdr != "" {
			if r.routeRebuilt(rec, text, hdr, ts) {
				return
			}
		}
	}
	if ev := r.structured(rec, ts); ev != nil {
		if tsErr != nil {
			r.st.Warn(tsErr.Error())
		}
		r.emit(ev, "R"+strconv.FormatInt(rec.row, 10))
		return
	}
	if reason == "" {
		reason = fmt.Sprintf("%s export: the row has no original line (%s) and no ECS event fields", r.kind, strings.Join(exportTextKeys[:4], ", "))
	}
	if text == "" {
		b, _ := json.Marshal(rec.fields)
		text = string(b)
	}
	r.raw(rec, ts, text, reason)
}

// raw keeps a row verbatim with the reason it could not be read.
func (r *exportReader) raw(rec *exportRecord, ts time.Time, text, reason string) {
	ev := event.New()
	ev.Timestamp = ts
	ev.Fields[event.FieldKind] = event.KindRaw
	ev.Fields[event.FieldError] = reason
	ev.Fields[event.FieldOriginal] = text
	r.provenance(ev, rec)
	r.emit(ev, "R"+strconv.FormatInt(rec.row, 10))
}

// routeText parses the row's text by its own format. A stateful decoder
// (Postfix joins a message's lines by queue id) may emit nothing yet.
func (r *exportReader) routeText(rec *exportRecord, text string, ts time.Time) bool {
	ok, err := r.router.Line(rec.row, []byte(text), func(ev *event.Event, pos string) {
		if ev.Fields[event.FieldLine] == rec.row {
			r.compare(ev.Timestamp, ts)
		}
		r.provenance(ev, rec)
		r.emit(ev, pos)
	})
	return ok && err == nil
}

// rebuiltHeader gives back the syslog header a collector split into columns
// (time, host, program), for messages that need one to be read.
func (r *exportReader) rebuiltHeader(rec *exportRecord, text string, ts time.Time) string {
	if ts.IsZero() {
		return ""
	}
	hostKeys := exportHostKeys
	if strings.HasPrefix(r.kind, "splunk") {
		// Splunk's source is the input ("WinEventLog:Security",
		// "/var/log/maillog"), its host the machine.
		hostKeys = exportHostKeys[1:]
	}
	_, host := rec.first(hostKeys)
	if host == "" || strings.ContainsAny(host, " \t") {
		return ""
	}
	hdr := ts.Format(time.RFC3339Nano) + " " + host + " "
	if _, prog := rec.first(exportProgramKeys); prog != "" && !strings.HasPrefix(text, prog) && !strings.ContainsAny(prog, " \t") {
		if _, pid := rec.first(exportPIDKeys); pid != "" && strings.Trim(pid, "0123456789") == "" {
			prog += "[" + pid + "]"
		}
		hdr += prog + ": "
	}
	return hdr
}

func (r *exportReader) routeRebuilt(rec *exportRecord, text, hdr string, ts time.Time) bool {
	ok, err := r.router.Line(rec.row, []byte(hdr+text), func(ev *event.Event, pos string) {
		if ev.Fields[event.FieldLine] == rec.row {
			ev.Fields[event.FieldOriginal] = text
			ev.Fields["evidence.header"] = "rebuilt from the export's time, host and program columns"
		}
		r.provenance(ev, rec)
		r.emit(ev, pos)
	})
	if ok && err == nil {
		r.st.Warn("syslog headers rebuilt from the export's time, host and program columns where the message had none")
		return true
	}
	return false
}

// provenance records where in the export the event came from: the row
// (the one a joined message began on, for stateful formats) and, for the
// current row, its byte offset and the collector's document id.
func (r *exportReader) provenance(ev *event.Event, rec *exportRecord) {
	ev.Fields["evidence.export"] = r.kind
	row := rec.row
	if n, ok := ev.Fields[event.FieldLine].(int64); ok {
		row = n
	}
	delete(ev.Fields, event.FieldLine)
	ev.Fields["evidence.row"] = row
	if row != rec.row {
		return
	}
	if rec.offset >= 0 {
		ev.Fields["log.offset"] = rec.offset
	}
	if id := rec.str("_id"); id != "" {
		ev.Fields["evidence.export_id"] = id
	} else if id := rec.str("id"); id != "" && r.kind == "wazuh" {
		ev.Fields["evidence.export_id"] = id
	}
}

// compare notes how far a line's own time is from the collector's.
func (r *exportReader) compare(line, collector time.Time) {
	if line.IsZero() || collector.IsZero() || r.noZone {
		return
	}
	d := line.Sub(collector)
	q := int64(math.Round(d.Minutes() / 15))
	if d.Abs() > 48*time.Hour {
		return
	}
	r.compared++
	r.offsets[q]++
}

// finish warns when the lines' own times sit a constant whole number of
// quarter hours from the collector's: the devices wrote local time without
// a zone, and --tz should say which.
func (r *exportReader) finish() {
	r.legacy.warn(r.st)
	r.router.Flush(func(ev *event.Event, pos string) {
		r.provenance(ev, &exportRecord{row: -1, offset: -1})
		r.emit(ev, pos)
	})
	if r.compared == 0 {
		return
	}
	var best, n int64
	for q, c := range r.offsets {
		if c > n || c == n && q < best {
			best, n = q, c
		}
	}
	if best != 0 && n*2 > r.compared {
		d := time.Duration(best) * 15 * time.Minute
		r.st.Warn(fmt.Sprintf("in %d of %d rows the line's own time is %s from the collector's timestamp: the devices wrote local time without a zone; they were read in %s — pass --tz with the devices' zone if that is wrong",
			n, r.compared, signedDuration(d), r.o.TZ))
	}
}

func signedDuration(d time.Duration) string {
	if d < 0 {
		return "-" + (-d).String()
	}
	return "+" + d.String()
}

// rowTime is the collector's time for a row.
func (r *exportReader) rowTime(rec *exportRecord) (time.Time, error) {
	for _, k := range exportTimeKeys {
		v, ok := rec.fields[k]
		if !ok {
			continue
		}
		t, zone, err := parseExportTime(v, r.o.TZ)
		if err != nil {
			continue
		}
		if !zone {
			r.noZone = true
			r.st.Warn(fmt.Sprintf("the export's %s column carries no zone: read in %s (--tz)", k, r.o.TZ))
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s export: rows without a readable time", r.kind)
}

// parseExportTime reads the time formats collectors write: RFC 3339, ISO
// with a numeric zone (Wazuh), Kibana's display format, epoch seconds or
// milliseconds. zone is false when the text carried none.
func parseExportTime(v any, loc *time.Location) (t time.Time, zone bool, err error) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		s = strings.TrimSpace(x)
	default:
		return t, false, fmt.Errorf("not a time")
	}
	if f, ok := boundedFloat(s, math.MaxInt64); ok && !strings.ContainsAny(s, "-:") {
		switch {
		case f > 1e17: // nanoseconds
			return time.Unix(0, int64(f)).UTC(), true, nil
		case f > 1e14: // microseconds (journald); a time in milliseconds passes 1e14 in the year 5138
			n, _ := strconv.ParseInt(s, 10, 64)
			return time.UnixMicro(n).UTC(), true, nil
		case f > 1e11: // milliseconds
			return time.UnixMilli(int64(f)).UTC(), true, nil
		case f > 1e8:
			sec, frac := math.Modf(f)
			return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, nil
		}
		return t, false, fmt.Errorf("not a time")
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999 -0700", "2006-01-02 15:04:05.999999999 -0700 MST", "2006-01-02T15:04:05.999999999 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true, nil
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "Jan 2, 2006 @ 15:04:05.999999999",
		"Jan _2, 2006 @ 15:04:05.999999999", "02/01/2006 15:04:05", "2006/01/02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), false, nil
		}
	}
	return t, false, fmt.Errorf("unreadable time %q", s)
}

// structured maps a row whose collector already parsed it (ECS names) to an
// event, field for field.
func (r *exportReader) structured(rec *exportRecord, ts time.Time) *event.Event {
	ecs := false
	for k := range rec.fields {
		for _, ns := range ecsEventNamespaces {
			if strings.HasPrefix(k, ns) {
				ecs = true
				break
			}
		}
		if ecs {
			break
		}
	}
	if !ecs {
		return nil
	}
	ev := event.New()
	ev.Timestamp = ts
	keys := make([]string, 0, len(rec.fields))
	for k := range rec.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "" || k[0] == '_' || k == "@timestamp" || k == "@version" || k == "event.id" || strings.HasPrefix(k, "evidence.") || k == "log.file.path" {
			continue
		}
		switch v := rec.fields[k].(type) {
		case string:
			v = strings.TrimSpace(v)
			if v == "" || v == "-" {
				continue
			}
			if ecsIntegerFields[k] {
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					ev.Fields[k] = n
					continue
				}
				if f, ok := boundedFloat(strings.ReplaceAll(v, ",", ""), math.MaxInt64); ok && f == math.Trunc(f) {
					ev.Fields[k] = int64(f)
					continue
				}
			}
			ev.Fields[k] = v
		case json.Number:
			if n, err := v.Int64(); err == nil {
				ev.Fields[k] = n
			} else if f, err := v.Float64(); err == nil {
				ev.Fields[k] = f
			}
		case bool:
			ev.Fields[k] = v
		case []any:
			var ss []string
			for _, x := range v {
				switch y := x.(type) {
				case string:
					ss = append(ss, y)
				case json.Number:
					ss = append(ss, y.String())
				default:
					b, _ := json.Marshal(y)
					ss = append(ss, string(b))
				}
			}
			if len(ss) > 0 {
				ev.Fields[k] = ss
			}
		}
	}
	for _, k := range []string{"source.ip", "destination.ip", "client.ip", "server.ip"} {
		if v, ok := ev.Fields[k].(string); ok {
			delete(ev.Fields, k)
			setIP(ev, k, v)
		}
	}
	if _, ok := ev.Fields["event.kind"]; ok && ev.Fields["event.kind"] == event.KindRaw {
		ev.Fields["event.kind"] = "event"
	}
	r.provenance(ev, rec)
	ev.Fields["evidence.mapping"] = "fields as parsed by the collector"
	return ev
}

// wazuhWindows reads a Wazuh row of a Windows event (data.win.system and
// data.win.eventdata, with the names' first letter lowered by Wazuh).
func wazuhWindows(rec *exportRecord) *winRecord {
	id := rec.str("data.win.system.eventID")
	if id == "" {
		return nil
	}
	w := &winRecord{
		Provider: rec.str("data.win.system.providerName"), ProviderGUID: rec.str("data.win.system.providerGuid"),
		Channel: rec.str("data.win.system.channel"), Computer: rec.str("data.win.system.computer"),
		EventID: id, Version: rec.str("data.win.system.version"), Level: rec.str("data.win.system.level"),
		Task: rec.str("data.win.system.task"), Opcode: rec.str("data.win.system.opcode"), Keywords: rec.str("data.win.system.keywords"),
		RecordID: rec.str("data.win.system.eventRecordID"), PID: rec.str("data.win.system.processID"),
		TID: rec.str("data.win.system.threadID"), UserID: rec.str("data.win.system.securityUserID"),
	}
	t, err := parseISO(rec.str("data.win.system.systemTime"), time.UTC)
	if err != nil {
		return nil
	}
	w.Time = t
	const pfx = "data.win.eventdata."
	var names []string
	for k := range rec.fields {
		if strings.HasPrefix(k, pfx) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		n := k[len(pfx):]
		w.EventData = append(w.EventData, kv{strings.ToUpper(n[:1]) + n[1:], rec.str(k)})
	}
	return w
}

// flattenInto writes a decoded JSON document as dotted keys.
func flattenInto(out map[string]any, prefix string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		out[prefix] = v
		return
	}
	for k, x := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := x.(map[string]any); ok {
			flattenInto(out, key, sub)
		} else if x != nil {
			out[key] = x
		}
	}
}
