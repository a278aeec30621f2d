package parsers

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"

	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/parsers/evtx"
)

// TestEventDataTemplates checks every template against the EventData names
// of the real events in the corpus's .evtx files: each event of a
// templated provider and id must carry exactly the template's first names,
// in its order.
func TestEventDataTemplates(t *testing.T) {
	checked := map[string]int{}
	corpusRecords(t, func(f string, w *winRecord) {
		key := strings.ToLower(w.Provider) + "/" + w.EventID
		tmpl, ok := eventDataTemplates[key]
		if !ok {
			return
		}
		var names []string
		for _, d := range w.EventData {
			names = append(names, d.k)
		}
		if len(names) == 0 { // UserData: its element's leaves
			for _, d := range w.UserData {
				names = append(names, d.k[strings.LastIndexByte(d.k, '.')+1:])
			}
		}
		if len(names) == 0 {
			return
		}
		if len(names) > len(tmpl) || strings.Join(names, ",") != strings.Join(tmpl[:len(names)], ",") {
			if checked[key+" wrong"]++; checked[key+" wrong"] == 1 {
				t.Errorf("%s in %s (version %s): EventData %v, template %v", key, filepath.Base(f), w.Version, names, tmpl)
			}
			return
		}
		checked[key]++
	})
	for key := range eventDataTemplates {
		if checked[key] == 0 {
			t.Logf("%s: no event in the corpus, template from Windows' documentation only", key)
		}
	}
	t.Logf("events checked per template: %v", checked)
}

// TestWindowsExportAgrees writes every templated event of the corpus's
// .evtx files as Windows PowerShell's ConvertTo-Json of Get-WinEvent would
// (values only, in Properties; no message) and reads the file back: each
// event must carry the fields the .evtx gives, but its message and a time
// cut to the millisecond.
func TestWindowsExportAgrees(t *testing.T) {
	var objs []map[string]any
	var want []*event.Event
	corpusRecords(t, func(_ string, w *winRecord) {
		if len(w.EventData) == 0 || eventDataTemplates[strings.ToLower(w.Provider)+"/"+w.EventID] == nil {
			return
		}
		var props []map[string]string
		for _, d := range w.EventData {
			props = append(props, map[string]string{"Value": d.v})
		}
		kw, _ := strconv.ParseUint(strings.TrimPrefix(w.Keywords, "0x"), 16, 64)
		o := map[string]any{"Id": w.EventID, "Version": w.Version, "Level": w.Level, "Task": w.Task, "Opcode": w.Opcode,
			"Keywords": int64(kw), "RecordId": w.RecordID, "ProviderName": w.Provider, "ProviderId": strings.Trim(w.ProviderGUID, "{}"),
			"LogName": w.Channel, "ProcessId": w.PID, "ThreadId": w.TID, "MachineName": w.Computer, "UserId": w.UserID,
			"ActivityId": w.ActivityID, "TimeCreated": fmt.Sprintf("/Date(%d)/", w.Time.UnixMilli()), "Properties": props}
		if w.Qualifiers != "" {
			o["Qualifiers"] = w.Qualifiers
		}
		w.Time = w.Time.Truncate(time.Millisecond)
		objs = append(objs, o)
		want = append(want, w.toEvent())
	})
	if len(objs) < 1000 {
		t.Fatalf("only %d templated events in the corpus", len(objs))
	}
	b, _ := json.MarshalIndent(objs, "", "    ")
	p := filepath.Join(t.TempDir(), "winevent.json")
	os.WriteFile(p, b, 0o644)
	got, st := parseFile(t, p, &Options{TZ: time.UTC})
	if st.Format != "windows-export" || st.Parsed != int64(len(objs)) {
		t.Fatalf("%d events written: %+v", len(objs), st)
	}
	failures := 0
	for i, g := range got {
		o := want[i]
		if !g.Timestamp.Equal(o.Timestamp) {
			t.Errorf("event %d: time %v, .evtx %v", i, g.Timestamp, o.Timestamp)
		}
		for _, k := range unionKeys(g, o) {
			if k == "message" || k == event.FieldOriginal || k == event.FieldID || k == event.FieldKind || k == event.FieldFile ||
				strings.HasPrefix(k, "evidence.") {
				continue
			}
			if a, b := fmt.Sprint(g.Fields[k]), fmt.Sprint(o.Fields[k]); a != b {
				if failures++; failures <= 20 {
					t.Errorf("record %v: %s = %q via the export, %q from the .evtx", o.Fields["winlog.record_id"], k, a, b)
				}
			}
		}
	}
	t.Logf("%d events compared", len(got))
}

// corpusRecords hands every record of the corpus's .evtx files (not the
// carved ones) to fn, as the reader's winRecord, EventData in order.
func corpusRecords(t *testing.T, fn func(file string, w *winRecord)) {
	files, _ := filepath.Glob(filepath.Join(corpus.Dir(t, "evtx"), "*", "*.evtx"))
	if len(files) == 0 {
		t.Fatal("no .evtx file in the corpus")
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := fh.Stat()
		rd, err := evtx.NewReader(fh, st.Size())
		if err != nil {
			fh.Close()
			continue
		}
		rd.Flat = true
		rd.Walk(1, func(rec *evtx.Record) any {
			if rec.Carved {
				return nil
			}
			var w *winRecord
			var err error
			if rec.Flat != nil {
				w, err = winRecordFromFlat(rec.Flat)
			} else {
				w, err = winRecordFromNode(rec.Root)
			}
			if err == nil {
				fn(f, w)
			}
			return nil
		}, func(*evtx.Record, any) error { return nil })
		fh.Close()
	}
}
