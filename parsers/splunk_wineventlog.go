package parsers

import (
	"strings"
	"time"
)

// Splunk's Windows inputs keep an event, unless told to render XML, as
// text: its local time on the first line ("03/14/2025 11:05:12 PM"), then
// "Key=Value" lines — LogName, EventCode, ComputerName, SourceName (the
// classic API's name: "Microsoft Windows security auditing." for the
// security log), Keywords, RecordNumber… — and last the rendered message
// after "Message=". A Splunk export's _raw holds it whole. The EventData
// are read back from the message, as for Snare.

// splunkSourceNames are the classic source names that are not the
// provider's own.
var splunkSourceNames = map[string]string{
	"microsoft windows security auditing.": "Microsoft-Windows-Security-Auditing",
}

// splunkWindowsEvent reads a WinEventLog text; ok is false for any other
// text. The time is the export's own (at), when it has one; else the
// first line's, in tz, and local is true.
func splunkWindowsEvent(text string, at time.Time, tz *time.Location) (w *winRecord, msg string, local, ok bool) {
	head, rest, found := strings.Cut(text, "\n")
	if !found || !strings.Contains(rest, "EventCode=") || !strings.Contains(rest, "LogName=") {
		return nil, "", false, false
	}
	f := map[string]string{}
	for rest != "" {
		var l string
		l, rest, _ = strings.Cut(rest, "\n")
		l = strings.TrimRight(l, "\r")
		k, v, kv := strings.Cut(l, "=")
		if !kv || strings.ContainsAny(k, " \t") {
			return nil, "", false, false // a line of no WinEventLog text before its message
		}
		if k == "Message" {
			msg = strings.TrimSpace(v + "\n" + rest)
			break
		}
		f[k] = strings.TrimSpace(v)
	}
	id, provider := f["EventCode"], f["SourceName"]
	if id == "" || f["LogName"] == "" || provider == "" || strings.Trim(id, "0123456789") != "" {
		return nil, "", false, false
	}
	if p, named := splunkSourceNames[strings.ToLower(provider)]; named {
		provider = p
	}
	w = &winRecord{Provider: provider, Channel: f["LogName"], Computer: f["ComputerName"], EventID: id,
		RecordID: f["RecordNumber"], Task: f["TaskCategory"], Time: at}
	w.setTypeWord(f["Keywords"])
	w.setTypeWord(f["Type"])
	if w.Time.IsZero() {
		t, err := time.ParseInLocation("01/02/2006 03:04:05 PM", strings.TrimSpace(strings.TrimRight(head, "\r")), tz)
		if err != nil {
			return nil, "", false, false
		}
		w.Time, local = t.UTC(), true
	}
	w.EventData = messageEventDataFor(provider, id, msg)
	return w, msg, local, true
}
