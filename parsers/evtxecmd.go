package parsers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// EvtxECmd reads what Eric Zimmerman's EvtxECmd writes of EVTX files —
// KAPE's EventLogs module, the usual hand-over of a triage in place of the
// .evtx files: CSV (a header naming RecordNumber, EventRecordId,
// TimeCreated, EventId, Provider, Channel, Computer, … Payload) or JSON
// lines (--json, the same names). Payload holds the record's EventData or
// UserData whole, as JSON made of its XML ({"EventData": {"Data":
// [{"@Name": "TargetUserName", "#text": "j.martin"}, …]}}): the event is
// the one its EVTX record gives. TimeCreated is UTC, as every EZ tool
// writes it. A record EvtxECmd recovered from a chunk's slack
// (HiddenRecord) is a carved one.
type EvtxECmd struct{}

func (EvtxECmd) Name() string { return "evtxecmd" }
func (EvtxECmd) Description() string {
	return "Windows events as EvtxECmd writes them (KAPE's EventLogs module): CSV or JSON lines with the record's Payload"
}

// evtxecmdColumns are the columns that make a table EvtxECmd's.
var evtxecmdColumns = []string{"EventRecordId", "TimeCreated", "EventId", "Provider", "Channel", "MapDescription"}

func (EvtxECmd) Detect(head []byte) bool {
	h := strings.TrimLeft(strings.TrimPrefix(string(head), "\ufeff"), " \t\r\n")
	if strings.HasPrefix(h, "{") {
		first, _, _ := strings.Cut(h, "\n")
		for _, c := range evtxecmdColumns {
			if !strings.Contains(first, `"`+c+`"`) {
				return false
			}
		}
		return true
	}
	first, _, _ := strings.Cut(h, "\n")
	cols, _ := csvHeader(strings.TrimRight(first, "\r"))
	has := map[string]bool{}
	for _, c := range cols {
		has[strings.TrimSpace(c)] = true
	}
	for _, c := range evtxecmdColumns {
		if !has[c] {
			return false
		}
	}
	return true
}

func (EvtxECmd) ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error {
	br, first, rc, err := openText(in, "evtxecmd")
	if err != nil {
		return err
	}
	defer rc.Close()
	if first == '{' {
		return evtxecmdJSON(br, emit)
	}
	return evtxecmdCSV(br, emit, st)
}

func evtxecmdCSV(br *bufio.Reader, emit Emit, st *FileStats) error {
	return readTable(br, st, "evtxecmd", func(r tableRow, err error) {
		if err == nil && r.cols != r.heads {
			err = fmt.Errorf("%d columns for the header's %d", r.cols, r.heads)
		}
		evtxecmdEmit(r.f, err, string(r.original), r.line, emit)
	})
}

func evtxecmdJSON(br *bufio.Reader, emit Emit) error {
	var no int64
	for {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			no++
			var doc map[string]any
			d := json.NewDecoder(bytes.NewReader(line))
			d.UseNumber()
			perr := d.Decode(&doc)
			f := map[string]string{}
			for k, v := range doc {
				switch x := v.(type) {
				case string:
					f[k] = x
				case json.Number:
					f[k] = x.String()
				case bool:
					f[k] = strconv.FormatBool(x)
				}
			}
			evtxecmdEmit(f, perr, strings.TrimRight(string(line), "\r\n"), no, emit)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// evtxecmdLevels are EvtxECmd's level names, as Windows' levels.
var evtxecmdLevels = map[string]string{"logalways": "0", "critical": "1", "error": "2", "warning": "3", "info": "4", "information": "4", "verbose": "5"}

func evtxecmdEmit(f map[string]string, rowErr error, original string, no int64, emit Emit) {
	ev, err := evtxecmdEvent(f)
	if rowErr != nil {
		err = rowErr
	}
	if err != nil {
		rawLine(emit, no, []byte(original), "evtxecmd: "+err.Error())
		return
	}
	ev.Fields[event.FieldOriginal] = original
	ev.Fields[event.FieldLine] = no
	emit(ev, linePos(no))
}

func evtxecmdEvent(f map[string]string) (*event.Event, error) {
	id := strings.TrimSpace(f["EventId"])
	if n, err := strconv.ParseUint(id, 10, 16); err != nil {
		return nil, fmt.Errorf("event id %q is not a number", id)
	} else {
		id = strconv.FormatUint(n, 10)
	}
	t, err := evtxecmdTime(f["TimeCreated"])
	if err != nil {
		return nil, err
	}
	w := &winRecord{Provider: f["Provider"], Channel: f["Channel"], Computer: f["Computer"], EventID: id, Time: t,
		RecordID: f["EventRecordId"], PID: f["ProcessId"], TID: f["ThreadId"], UserID: f["UserId"],
		Level: evtxecmdLevels[strings.ToLower(strings.TrimSpace(f["Level"]))]}
	w.setTypeWord(f["Keywords"])
	if p := strings.TrimSpace(f["Payload"]); p != "" {
		if err := w.payload(p); err != nil {
			return nil, fmt.Errorf("Payload: %v", err)
		}
	}
	ev := w.toEvent()
	ev.Set("evtxecmd.map_description", f["MapDescription"])
	ev.Set("evtxecmd.source_file", f["SourceFile"])
	ev.Set("evtxecmd.chunk", f["ChunkNumber"])
	if strings.EqualFold(f["HiddenRecord"], "true") {
		ev.Fields[event.FieldCarved] = true
		ev.Fields[event.FieldCarveReason] = "EvtxECmd's HiddenRecord: recovered from outside the log's live records"
	}
	return ev, nil
}

// evtxecmdTime reads TimeCreated: "2025-03-14 22:05:12.1234567" (UTC), or
// RFC 3339 or .NET's "/Date(ms)/" in the JSON output.
func evtxecmdTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, ok, err := dotNetDate(s); ok {
		return t, err
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("2006-01-02 15:04:05.9999999", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("TimeCreated %q: %v", s, err)
	}
	return t, nil
}

// payload reads EvtxECmd's Payload: the record's EventData or UserData as
// JSON made of its XML — an element's attributes as "@Name", its text as
// "#text", one child as an object and several as an array, in the XML's
// order (kept, as for evtx_dump's JSON: a UserData's fields are listed as
// the XML reader lists them).
func (w *winRecord) payload(p string) error {
	d := json.NewDecoder(strings.NewReader(p))
	d.UseNumber()
	v, err := decodeOrdered(d)
	if err != nil {
		return err
	}
	doc, ok := v.(*jsonObject)
	if !ok {
		return fmt.Errorf("not an object")
	}
	if ed, ok := doc.get("EventData").(*jsonObject); ok {
		n := 0
		for _, d := range asList(ed.get("Data")) {
			name := ""
			if o, ok := d.(*jsonObject); ok {
				name, _ = o.get("@Name").(string)
			}
			value, _ := jsonValue(d)
			if name == "" {
				n++
				name = "param" + strconv.Itoa(n)
			}
			w.EventData = append(w.EventData, kv{name, value})
		}
	}
	if ud, ok := doc.get("UserData").(*jsonObject); ok {
		// Each element under UserData, its leaves named below it, as the
		// XML reader names them (flattenNode).
		for _, top := range ud.vals {
			if o, ok := top.(*jsonObject); ok {
				flattenPayload(o, "", &w.UserData)
			}
		}
	}
	return nil
}

// flattenPayload names an element's leaves by their paths below it,
// leaving out its own attributes (xmlns) and text.
func flattenPayload(o *jsonObject, prefix string, out *[]kv) {
	for i, k := range o.keys {
		if strings.HasPrefix(k, "@") || strings.HasPrefix(k, "#") {
			continue
		}
		if sub, ok := o.vals[i].(*jsonObject); ok && hasElements(sub) {
			flattenPayload(sub, prefix+k+".", out)
			continue
		}
		v, _ := jsonValue(o.vals[i])
		*out = append(*out, kv{prefix + k, v})
	}
}

func hasElements(o *jsonObject) bool {
	for _, k := range o.keys {
		if !strings.HasPrefix(k, "@") && !strings.HasPrefix(k, "#") {
			return true
		}
	}
	return false
}

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}
