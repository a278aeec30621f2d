package parsers

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// evtxecmdLevelNames are the level names EvtxECmd writes.
var evtxecmdLevelNames = map[string]string{"0": "LogAlways", "1": "Critical", "2": "Error", "3": "Warning", "4": "Info", "5": "Verbose"}

// evtxecmdRow writes a record as EvtxECmd would: its System values in
// columns, its EventData or UserData as the Payload's JSON, TimeCreated in
// UTC with seven decimals. What EvtxECmd does not write (the provider's
// GUID, version, task, opcode, activity, keywords other than the audit
// ones) is cleared from w, which is then the event the row must give.
func evtxecmdRow(w *winRecord, n int, hidden bool) map[string]string {
	keywords := map[string]string{"0x8020000000000000": "Audit success", "0x8010000000000000": "Audit failure"}[w.Keywords]
	if keywords == "" {
		w.Keywords = ""
	}
	w.ProviderGUID, w.Version, w.Task, w.Opcode, w.ActivityID, w.Qualifiers = "", "", "", "", "", ""
	// The Payload's JSON, written by hand: its members in the XML's order,
	// as Newtonsoft writes them (a Go map would sort them).
	var parts []string
	if len(w.EventData) > 0 {
		var data []string
		for _, p := range w.EventData {
			data = append(data, fmt.Sprintf(`{"@Name":%s,"#text":%s}`, jsonString(p.k), jsonString(p.v)))
		}
		parts = append(parts, `"EventData":{"Data":[`+strings.Join(data, ",")+`]}`)
	}
	if len(w.UserData) > 0 {
		parts = append(parts, `"UserData":{"Element":{"@xmlns":"http://manifests.microsoft.com/win/2004/08/windows/eventlog",`+orderedJSON(w.UserData)+`}}`)
	}
	p := []byte("{" + strings.Join(parts, ",") + "}")
	return map[string]string{
		"RecordNumber": fmt.Sprint(n), "EventRecordId": w.RecordID, "TimeCreated": w.Time.UTC().Format("2006-01-02 15:04:05.0000000"),
		"EventId": w.EventID, "Level": evtxecmdLevelNames[w.Level], "Provider": w.Provider, "Channel": w.Channel, "ProcessId": w.PID,
		"ThreadId": w.TID, "Computer": w.Computer, "ChunkNumber": "0", "UserId": w.UserID, "MapDescription": "", "UserName": "",
		"RemoteHost": "", "PayloadData1": "", "ExecutableInfo": "", "HiddenRecord": map[bool]string{true: "True", false: "False"}[hidden],
		"SourceFile": `C:\Windows\System32\winevt\Logs\x.evtx`, "Keywords": keywords, "ExtraDataOffset": "0", "Payload": string(p),
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// orderedJSON writes fields named by dotted paths as nested members, in
// the order of their first appearance.
func orderedJSON(fields []kv) string {
	var order []string
	groups := map[string][]kv{}
	for _, f := range fields {
		head, rest, nested := strings.Cut(f.k, ".")
		if _, seen := groups[head]; !seen {
			order = append(order, head)
		}
		if nested {
			groups[head] = append(groups[head], kv{rest, f.v})
		} else {
			groups[head] = append(groups[head], kv{"", f.v})
		}
	}
	var out []string
	for _, h := range order {
		g := groups[h]
		if len(g) == 1 && g[0].k == "" {
			out = append(out, jsonString(h)+":"+jsonString(g[0].v))
		} else {
			out = append(out, jsonString(h)+":{"+orderedJSON(g)+"}")
		}
	}
	return strings.Join(out, ",")
}

// csvTable writes rows as a CSV table of header's columns.
func csvTable(header []string, rows []map[string]string, comma rune, crlf bool) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma, w.UseCRLF = comma, crlf
	w.Write(header)
	for _, r := range rows {
		rec := make([]string, len(header))
		for i, k := range header {
			rec[i] = r[k]
		}
		w.Write(rec)
	}
	w.Flush()
	return b.Bytes()
}

var evtxecmdHeader = []string{"RecordNumber", "EventRecordId", "TimeCreated", "EventId", "Level", "Provider", "Channel", "ProcessId",
	"ThreadId", "Computer", "ChunkNumber", "UserId", "MapDescription", "UserName", "RemoteHost", "PayloadData1", "PayloadData2",
	"PayloadData3", "PayloadData4", "PayloadData5", "PayloadData6", "ExecutableInfo", "HiddenRecord", "SourceFile", "Keywords",
	"ExtraDataOffset", "Payload"}

// TestEvtxECmdAgrees: every record of the corpus's .evtx files, written
// as EvtxECmd writes it — CSV with its byte-order mark and CRLF, and JSON
// lines — gives the event the record gives, field for field; a hidden
// record (recovered from slack) is a carved one.
func TestEvtxECmdAgrees(t *testing.T) {
	var rows []map[string]string
	var want []string
	corpusRecords(t, func(_ string, w *winRecord) {
		if len(rows) >= 20000 {
			return
		}
		row := evtxecmdRow(w, len(rows)+1, len(rows) == 7)
		ev := w.toEvent()
		ev.Fields["event.kind"] = "event"
		if len(rows) == 7 {
			ev.Fields["evidence.carved"] = true
		}
		rows = append(rows, row)
		want = append(want, comparable(ev))
	})
	if len(rows) < 1000 {
		t.Fatalf("%d corpus records", len(rows))
	}
	var j bytes.Buffer
	for _, r := range rows {
		doc := map[string]any{}
		for k, v := range r {
			doc[k] = v
		}
		doc["TimeCreated"] = strings.Replace(r["TimeCreated"], " ", "T", 1) + "+00:00"
		b, _ := json.Marshal(doc)
		j.Write(b)
		j.WriteString("\n")
	}
	c := append([]byte("\ufeff"), csvTable(evtxecmdHeader, rows, ',', true)...)
	// The same table as a French spreadsheet re-saves it: semicolons.
	sc := csvTable(evtxecmdHeader, rows, ';', false)
	for form, text := range map[string][]byte{"csv": c, "json": j.Bytes(), "csv with semicolons": sc} {
		p := filepath.Join(t.TempDir(), "EvtxECmd_Output")
		if err := os.WriteFile(p, text, 0o644); err != nil {
			t.Fatal(err)
		}
		got, st := parseFile(t, p, &Options{})
		if st.Format != "evtxecmd" || st.Raw != 0 || len(got) != len(rows) || st.Carved != 1 {
			t.Fatalf("%s: %s, %d events (%d carved), %d raw %v, want %d", form, st.Format, len(got), st.Carved, st.Raw, st.RawReasons, len(rows))
		}
		bad := 0
		for i := range got {
			delete(got[i].Fields, "evtxecmd.source_file")
			delete(got[i].Fields, "evtxecmd.chunk")
			delete(got[i].Fields, "evidence.carve_reason")
			if g := comparable(got[i]); g != want[i] && bad < 3 {
				bad++
				t.Errorf("%s record %d:\n got %s\nwant %s", form, i, g, want[i])
			}
		}
	}
}

// TestEvtxECmdTimes: TimeCreated as the CSV writes it, as RFC 3339 and as
// .NET's JSON date, all UTC; anything else is an error.
func TestEvtxECmdTimes(t *testing.T) {
	want := "2025-03-14T22:05:12.123Z"
	for _, s := range []string{"2025-03-14 22:05:12.1230000", "2025-03-14T22:05:12.123+00:00", "/Date(1741989912123)/", "/Date(1741989912123+0100)/"} {
		got, err := evtxecmdTime(s)
		if err != nil || got.Format("2006-01-02T15:04:05.000Z07:00") != want {
			t.Errorf("%q: %v %v, want %s", s, got, err, want)
		}
	}
	for _, s := range []string{"", "14/03/2025 23:05", "/Date(x)/", "/Date(1741990512123"} {
		if got, err := evtxecmdTime(s); err == nil {
			t.Errorf("%q read as %v", s, got)
		}
	}
}
