package parsers

import (
	"encoding/json"
	"strings"
	"time"
)

// A table of Winlogbeat documents — Kibana's CSV export (a column per
// winlog.* field), Graylog's (dots made underscores, the beat's name
// first or not) — holds each document's fields but not the document: it
// is made again from them for the Windows mapping to read.

// winlogRow says whether a row holds a Winlogbeat document's winlog
// fields: dotted (winlog.event_id), or as Graylog keeps them, dots made
// underscores, with or without the beat's name first
// (winlogbeat_winlog_event_id).
func winlogRow(rec *exportRecord) bool {
	for _, k := range [...]string{"winlog.event_id", "winlogbeat_winlog_event_id", "winlog_event_id"} {
		if _, ok := rec.fields[k]; ok {
			return true
		}
	}
	return false
}

// graylogWinlogPaths give the Winlogbeat field a Graylog name stands for,
// where its underscores are not all dots.
var graylogWinlogPaths = map[string][]string{
	"computer_name": {"computer_name"}, "event_id": {"event_id"}, "provider_name": {"provider_name"},
	"provider_guid": {"provider_guid"}, "record_id": {"record_id"}, "activity_id": {"activity_id"},
	"process_pid": {"process", "pid"}, "process_thread_id": {"process", "thread", "id"}, "user_identifier": {"user", "identifier"},
	"user_name": {"user", "name"}, "user_domain": {"user", "domain"}, "user_type": {"user", "type"},
}

// winlogPath gives the place in a Winlogbeat document's winlog object of
// a row's column, and false for a column of no winlog field.
func winlogPath(k string) ([]string, bool) {
	if rest, ok := strings.CutPrefix(k, "winlog."); ok {
		return strings.Split(rest, "."), true
	}
	rest, ok := strings.CutPrefix(strings.TrimPrefix(k, "winlogbeat_"), "winlog_")
	if !ok {
		return nil, false
	}
	if name, ok := strings.CutPrefix(rest, "event_data_"); ok {
		return []string{"event_data", name}, true // EventData names keep their own underscores
	}
	if name, ok := strings.CutPrefix(rest, "user_data_"); ok {
		// UserData's element, then its field: LogFileCleared_SubjectUserName.
		if elem, field, two := strings.Cut(name, "_"); two {
			return []string{"user_data", elem, field}, true
		}
		return []string{"user_data", name}, true
	}
	if p, ok := graylogWinlogPaths[rest]; ok {
		return p, true
	}
	return []string{rest}, true
}

// winlogDocument makes a Winlogbeat document of a table's row: its winlog
// columns nested again, the row's time, its message.
func winlogDocument(rec *exportRecord, ts time.Time) []byte {
	winlog := map[string]any{}
	for k := range rec.fields {
		parts, ok := winlogPath(k)
		v := rec.str(k)
		if !ok || v == "" {
			continue
		}
		m := winlog
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = v
	}
	if _, ok := winlog["computer_name"]; !ok {
		if _, host := rec.first([]string{"host.name", "host.hostname", "agent.hostname", "winlogbeat_host_name", "source"}); host != "" {
			winlog["computer_name"] = host
		}
	}
	doc, _ := json.Marshal(map[string]any{"@timestamp": ts.UTC().Format(time.RFC3339Nano), "message": rec.str("message"), "winlog": winlog})
	return doc
}
