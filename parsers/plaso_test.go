package parsers

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// plasoRepr writes a string as Python's repr does in plaso's messages.
func plasoRepr(s string) string {
	q := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = `"`
	}
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`, q, `\`+q)
	return q + r.Replace(s) + q
}

// TestPlasoAgrees: every templated record of the corpus's .evtx files,
// written as psort's dynamic CSV writes it (a row per timestamp, the
// EventData's values in a Python list, the file's path as display_name),
// gives the event the record gives, field for field, but for what plaso
// does not write (version, task, opcode, keywords, process, user,
// activity); each record once, the repeated row said in the warnings.
// Rows of plaso's other parsers are kept raw with the reason.
func TestPlasoAgrees(t *testing.T) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write([]string{"datetime", "timestamp_desc", "source", "source_long", "message", "parser", "display_name", "tag"})
	var want []*event.Event
	n := 0
	corpusRecords(t, func(f string, w *winRecord) {
		if len(w.EventData) == 0 || eventDataTemplates[strings.ToLower(w.Provider)+"/"+w.EventID] == nil || w.Channel == "" {
			return
		}
		n++
		id, _ := strconv.ParseUint(w.EventID, 10, 32)
		if q, err := strconv.ParseUint(w.Qualifiers, 10, 32); err == nil {
			id |= q << 16
		}
		var strs []string
		for i, d := range w.EventData {
			v := d.v
			if i%2 == 0 && strings.HasPrefix(v, "0x") { // libevtx's zero-padded hex, sometimes
				if x, err := strconv.ParseUint(v[2:], 16, 64); err == nil {
					v = fmt.Sprintf("0x%016x", x)
				}
			}
			strs = append(strs, plasoRepr(v))
		}
		sep := ", "
		if n%2 == 0 {
			sep = "  " // newer plaso
		}
		msg := fmt.Sprintf("[%d / 0x%04x] Provider identifier: %s Source Name: %s Strings: [%s] Computer Name: %s Record Number: %s Event Level: %s",
			id, id, w.ProviderGUID, w.Provider, strings.Join(strs, sep), w.Computer, w.RecordID, w.Level)
		// One directory per corpus file: a record is its file's and number's.
		file := `OS:\cases\` + filepath.Base(f) + `\` + strings.ReplaceAll(w.Channel, "/", "%4") + ".evtx"
		stamp := w.Time.UTC().Format("2006-01-02T15:04:05.000000-07:00")
		cw.Write([]string{stamp, "Creation Time", "EVT", "WinEVTX", msg, "winevtx", file, ""})
		if n%3 == 0 {
			cw.Write([]string{stamp, "Content Modification Time", "EVT", "WinEVTX", msg, "winevtx", file, ""})
		}
		w.Time = w.Time.Truncate(time.Microsecond)
		w.Version, w.Task, w.Opcode, w.Keywords, w.PID, w.TID, w.UserID, w.ActivityID = "", "", "", "", "", "", "", ""
		want = append(want, w.toEvent())
	})
	if len(want) < 1000 {
		t.Fatalf("only %d templated records in the corpus", len(want))
	}
	cw.Write([]string{"2020-09-19T02:28:41+00:00", "Creation Time", "FILE", "NTFS $MFT", `C:\Windows\x.exe File reference: 1234-5`, "mft", `NTFS:\$MFT`, ""})
	cw.Flush()
	p := filepath.Join(t.TempDir(), "timeline.csv")
	os.WriteFile(p, b.Bytes(), 0o644)
	got, st := parseFile(t, p, &Options{TZ: time.UTC})
	if st.Format != "plaso" || st.Parsed != int64(len(want)) || st.Raw != 1 || !strings.Contains(strings.Join(st.Warnings, " "), "not read twice") {
		t.Fatalf("%d records written: %+v", len(want), st)
	}
	failures := 0
	for i, o := range want {
		g := got[i]
		if !g.Timestamp.Equal(o.Timestamp) {
			t.Errorf("event %d: time %v, .evtx %v", i, g.Timestamp, o.Timestamp)
		}
		for _, k := range unionKeys(g, o) {
			if k == event.FieldOriginal || k == event.FieldID || k == event.FieldKind || k == event.FieldFile ||
				k == "plaso.display_name" || strings.HasPrefix(k, "evidence.") {
				continue
			}
			if a, b := fmt.Sprint(g.Fields[k]), fmt.Sprint(o.Fields[k]); a != b {
				if failures++; failures <= 20 {
					t.Errorf("record %v: %s = %q via plaso, %q from the .evtx", o.Fields["winlog.record_id"], k, a, b)
				}
			}
		}
	}
	t.Logf("%d events compared", len(got))
}
