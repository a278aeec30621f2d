package parsers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// WindowsExport reads Windows events exported as a table with the tools an
// administrator has at hand when no one kept the .evtx files: PowerShell's
// Get-WinEvent or Get-EventLog piped to Export-Csv (with or without its
// "#TYPE" line, comma or a French culture's semicolon) or ConvertTo-Json,
// Log Parser 2.2's CSV of an .evtx, or printed by Format-List into a file
// (windows_export_list.go), and Event Viewer's "Save All Events As" CSV or tab-separated text (English
// or French headers). Such tables keep the event's id, provider, times and
// rendered message, but not EventData's names: ConvertTo-Json's values are
// named by their template (windows_templates.go); Export-Csv writes
// "System.Collections.Generic.List`1[…]" instead, so there the fields the
// ECS mapping needs are read back from the message, as for Snare. Times are the exporting machine's local
// time in its culture's pattern, without zone (read in --tz); JSON's
// "/Date(ms)/" and ISO times with an offset are exact.
type WindowsExport struct{}

func (WindowsExport) Name() string { return "windows-export" }
func (WindowsExport) Description() string {
	return "Windows events exported by Get-WinEvent/Get-EventLog (Export-Csv, ConvertTo-Json, Format-List), Log Parser or Event Viewer (Save As CSV/text); EventData read back from the message"
}

// winExportColumns name the columns of the three writers, lower-cased:
// PowerShell's property names, Event Viewer's English and French headers.
// Level, Keywords and Task hold numbers in PowerShell's tables and words
// in Event Viewer's; both are read.
var winExportColumns = map[string]string{
	"id": "id", "eventid": "id", "event id": "id", "id de l'événement": "id", "instanceid": "instance",
	"qualifiers": "qualifiers", "version": "version",
	"level": "level", "niveau": "level", "leveldisplayname": "levelname",
	"keywords": "keywords", "mots clés": "keywords", "mots-clés": "keywords", "keywordsdisplaynames": "keywordnames",
	"task": "task", "task category": "task", "catégorie de la tâche": "task", "category": "task", "taskdisplayname": "taskname",
	"opcode": "opcode", "recordid": "record", "index": "record",
	"providername": "provider", "source": "provider", "providerid": "providerguid",
	"logname": "channel", "machinename": "computer", "userid": "user", "username": "username",
	"processid": "pid", "threadid": "tid", "activityid": "activity",
	"timecreated": "time", "timegenerated": "time", "date and time": "time", "date et heure": "time",
	"message": "message", "entrytype": "entrytype", "properties": "props", "replacementstrings": "props",
	// Log Parser 2.2's EVT input (LogParser "SELECT * INTO x.csv FROM
	// Security.evtx"): its Strings are EventData's values joined by "|".
	"eventlog": "channel", "recordnumber": "record", "eventtype": "entrytype", "eventtypename": "entrytype",
	"eventcategory": "task", "eventcategoryname": "taskname", "sourcename": "provider", "computername": "computer",
	"sid": "user", "strings": "strings",
}

func winExportColumn(name string) string {
	n := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")))
	return winExportColumns[strings.ReplaceAll(n, "’", "'")]
}

// winExportHeader reports whether cols are a Windows event table's.
func winExportHeader(cols []string) bool {
	has := map[string]bool{}
	for _, c := range cols {
		has[winExportColumn(c)] = true
	}
	// Without an id, the message's first sentence names the event
	// (Select-Object TimeCreated, Message).
	return (has["id"] || has["instance"] || has["message"]) && has["time"] && (has["provider"] || has["message"] || has["channel"])
}

func (WindowsExport) Detect(head []byte) bool {
	h := strings.TrimLeft(strings.TrimPrefix(string(head), "\ufeff"), " \t\r\n")
	if h == "" {
		return false
	}
	if isWinListHead([]byte(h)) {
		return true
	}
	if h[0] == '[' || h[0] == '{' {
		return (strings.Contains(h, `"TimeCreated"`) || strings.Contains(h, `"TimeGenerated"`)) &&
			(strings.Contains(h, `"Id"`) || strings.Contains(h, `"EventID"`)) &&
			(strings.Contains(h, `"ProviderName"`) || strings.Contains(h, `"EntryType"`) || strings.Contains(h, `"LogName"`))
	}
	cols, ok := exportHeaderColumns([]byte(h))
	return ok && winExportHeader(cols)
}

// winRow is one exported event: its columns by winExportColumns' names.
type winRow struct {
	f        map[string]string
	props    []string // EventData's values without names (ConvertTo-Json)
	pos      string
	at       int64  // line (CSV) or row (JSON) where the event starts
	original string // the row as written
	err      error  // the row could not be read
}

type winExport struct {
	kind  string // evidence.export: which writer
	zone  zoneless
	order dateOrder
}

func (WindowsExport) ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error {
	opts := *o
	opts.Warn = st.Warn
	x := &winExport{zone: newZoneless(&opts)}
	// A first pass, only as long as the dates need it, finds the order of
	// their day and month; what it meets is counted by the second.
	_ = x.rows(in, &FileStats{}, func(r *winRow) bool {
		s := ""
		if r.err == nil {
			s = strings.TrimSpace(r.f["time"])
		}
		if strings.HasPrefix(s, "/Date(") || isISODate(s) {
			return false // exact times: no order to find
		}
		return !x.order.see(s)
	})
	x.order.settle(st.Warn)
	return x.rows(in, st, func(r *winRow) bool {
		err := r.err
		var e *event.Event
		if err == nil {
			e, err = x.event(r)
		}
		if err != nil {
			e = event.New()
			e.Fields[event.FieldKind] = event.KindRaw
			e.Fields[event.FieldError] = "windows-export: " + err.Error()
		}
		e.Fields[event.FieldOriginal] = r.original
		if strings.HasPrefix(r.pos, "R") {
			e.Fields["evidence.row"] = r.at
		} else {
			e.Fields[event.FieldLine] = r.at
		}
		emit(e, r.pos)
		return true
	})
}

func isWinNumber(v string) bool {
	_, err := strconv.ParseInt(v, 10, 64)
	_, uerr := strconv.ParseUint(v, 10, 64)
	return err == nil || uerr == nil || strings.HasPrefix(v, "0x")
}

func (x *winExport) event(r *winRow) (*event.Event, error) {
	f := r.f
	id := f["id"]
	if id == "" {
		id = f["instance"]
	}
	named := false
	if id == "" {
		// An export of the time and message only: the message's first
		// sentence names the event and its source, when it is one the
		// reader knows.
		w, provider, ok := sentenceOf(f["provider"], strings.TrimSpace(f["message"]))
		if !ok {
			return nil, fmt.Errorf("no event id, and the message's first sentence names no single event the reader knows")
		}
		id, named = w.id, true
		f["provider"] = provider
		if f["channel"] == "" {
			f["channel"] = w.channel
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(id), 10, 32)
	if err != nil {
		return nil, fmt.Errorf("event id %q is not a number", id)
	}
	if strs := f["strings"]; strs != "" && r.props == nil {
		r.props = strings.Split(strs, "|")
	}
	w := &winRecord{
		Provider: f["provider"], ProviderGUID: braced(f["providerguid"]), Channel: logName(f["channel"]), Computer: f["computer"],
		UserID: f["user"], ActivityID: f["activity"], EventID: strconv.FormatUint(n&0xffff, 10), Qualifiers: f["qualifiers"],
		Version: f["version"], Opcode: f["opcode"], RecordID: f["record"], PID: f["pid"], TID: f["tid"], Task: f["task"],
	}
	if inst, err := strconv.ParseUint(f["instance"], 10, 32); err == nil && inst>>16 != 0 && w.Qualifiers == "" {
		w.Qualifiers = strconv.FormatUint(inst>>16, 10)
	} else if n>>16 != 0 {
		w.Qualifiers = strconv.FormatUint(n>>16, 10)
	}
	if w.Task == "" {
		w.Task = f["taskname"]
	}
	// Numbers as Windows writes them; words (Event Viewer, EntryType,
	// the display names) as the keywords and level they stand for.
	for _, k := range []string{"keywords", "level", "entrytype", "keywordnames", "levelname"} {
		for _, v := range strings.Split(f[k], "\n") {
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			switch {
			case k == "keywords" && isWinNumber(v):
				if w.Keywords == "" {
					w.Keywords = keywordsHex(v)
				}
			case k == "level" && isWinNumber(v):
				if w.Level == "" {
					w.Level = v
				}
			default:
				w.setTypeWord(v)
			}
		}
	}
	t, zoned, err := x.time(f["time"])
	if err != nil {
		return nil, err
	}
	w.Time = t
	inferred := false
	if w.Channel == "" {
		w.Channel = channelOfProvider(w.Provider, w.EventID)
		inferred = w.Channel != ""
	}
	msg := strings.TrimSpace(f["message"])
	// EventData's values without names are named by the event's template;
	// without one, they are read back from the message, and kept as
	// param1… when that gives nothing.
	mapping := []string{}
	if w.EventData = templateEventData(w.Provider, w.EventID, r.props); w.EventData != nil {
		mapping = append(mapping, "EventData named by the event's template (the export keeps their values only)")
	} else if w.EventData = messageEventDataFor(w.Provider, w.EventID, msg); len(w.EventData) > 0 {
		mapping = append(mapping, "EventData read back from the rendered message")
	} else {
		w.EventData = paramEventData(r.props)
	}
	if inferred {
		mapping = append(mapping, "channel named after the provider (the export has none)")
	}
	if named {
		mapping = append(mapping, "event ID and source named from the message's first sentence (the export has neither)")
	}
	ev := w.toEvent()
	if msg != "" {
		ev.Fields["message"] = msg
	}
	if len(mapping) > 0 {
		ev.Fields["evidence.mapping"] = strings.Join(mapping, "; ")
	}
	setWinlogUser(ev, strings.TrimSpace(f["username"]))
	if !zoned {
		x.zone.mark(ev, "the export writes the exporting machine's local time without a zone", "that machine's")
	}
	ev.Fields["evidence.export"] = x.kind
	return ev, nil
}

// dotNetDate reads .NET's JSON date: "/Date(1710508387000)/", or with the
// writer's offset after the milliseconds, which are UTC either way; ok is
// false for any other text.
func dotNetDate(s string) (t time.Time, ok bool, err error) {
	rest, ok := strings.CutPrefix(s, "/Date(")
	if !ok {
		return time.Time{}, false, nil
	}
	body, closed := strings.CutSuffix(rest, ")/")
	if i := strings.LastIndexAny(body, "+-"); i > 0 {
		body = body[:i]
	}
	ms, err := strconv.ParseInt(body, 10, 64)
	if !closed || err != nil {
		return time.Time{}, true, fmt.Errorf("time %q", s)
	}
	return time.UnixMilli(ms).UTC(), true, nil
}

// time reads an exported time: JSON's "/Date(ms)/" (UTC), ISO 8601 with or
// without offset, or the culture's pattern (local, order of the file).
func (x *winExport) time(s string) (time.Time, bool, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false, fmt.Errorf("no time")
	}
	if t, ok, err := dotNetDate(s); ok {
		return t, err == nil, err
	}
	if isISODate(s) {
		t, zoned, err := parseISOZoned(s, x.zone.tz)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("time %q: %v", s, err)
		}
		return t, zoned, nil
	}
	d, err := parseLocalDate(s)
	if err != nil {
		return time.Time{}, false, err
	}
	if !x.order.decided && !x.order.observe(d) {
		// Only a file whose first pass stopped at an exact time gets here.
		x.order.assume(d)
		if x.zone.warn != nil {
			x.zone.warn(x.order.assumed)
		}
	}
	t, err := x.order.time(d, x.zone.tz)
	return t, false, err
}

// logName is the log an export names: Log Parser writes the path of the
// file it read (C:\cases\Security.evtx) where Windows writes "Security";
// a log's own name may hold a slash (Microsoft-Windows-Sysmon/Operational).
func logName(v string) string {
	v = strings.TrimSpace(v)
	lower := strings.ToLower(v)
	if !strings.HasSuffix(lower, ".evtx") && !strings.HasSuffix(lower, ".evt") {
		return v
	}
	if i := strings.LastIndexAny(v, `\/`); i >= 0 {
		v = v[i+1:]
	}
	// Windows names a log's file with "%4" for its slash.
	return strings.ReplaceAll(v[:strings.LastIndexByte(v, '.')], "%4", "/")
}
