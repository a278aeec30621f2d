package parsers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// EvtxJSON reads Windows events as evtx_dump writes them as JSON
// (omerbenamram/evtx, the reader Chainsaw and Zircolite use): one record
// per line (`-o jsonl`) or each record pretty-printed after a "Record N"
// line (`-o json`), attributes under "#attributes" or beside their element
// (`--separate-json-attributes`). Velociraptor's parse_evtx() rows (System,
// EventData, UserData at the top) are read the same way. Each record is
// mapped as the same event read from the EVTX file is.
type EvtxJSON struct{}

func (EvtxJSON) Name() string { return "evtx-json" }
func (EvtxJSON) Description() string {
	return "Windows events as JSON from evtx_dump (-o jsonl, -o json) or Velociraptor's parse_evtx()"
}

var evtxDumpRecordLine = regexp.MustCompile(`^Record \d+\s*$`)

func (EvtxJSON) Detect(head []byte) bool {
	lines := headLines(bytes.TrimPrefix(head, []byte("\ufeff")), 2)
	if len(lines) == 2 && evtxDumpRecordLine.MatchString(lines[0]) && strings.TrimSpace(lines[1]) == "{" {
		return bytes.Contains(head, []byte(`"System"`))
	}
	return mostLines(head, func(l string) bool {
		l = strings.TrimSpace(l)
		return strings.HasPrefix(l, `{"`) && strings.Contains(l, `"System"`) && strings.Contains(l, `"EventID"`) &&
			(strings.HasPrefix(l, `{"Event"`) || strings.Contains(l, `"EventRecordID"`))
	})
}

func (EvtxJSON) ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error {
	return blockReader{
		name: "evtx-json",
		// A compact document is a whole line; a pretty one follows its
		// "Record N" line ("{" alone on the next).
		isStart: func(l string) bool { return evtxDumpRecordLine.MatchString(l) || strings.HasPrefix(l, `{"`) },
		parse:   evtxJSONEvent,
	}.read(in, st, emit)
}

func evtxJSONEvent(block []string) (*event.Event, error) {
	if evtxDumpRecordLine.MatchString(block[0]) {
		block = block[1:]
	}
	dec := json.NewDecoder(strings.NewReader(strings.Join(block, "\n")))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("more than one JSON document in the record")
	}
	doc, ok := v.(*jsonObject)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	root := doc
	if e, ok := doc.get("Event").(*jsonObject); ok {
		root = e
	}
	sys, ok := root.get("System").(*jsonObject)
	if !ok {
		return nil, fmt.Errorf("no System object")
	}
	w := &winRecord{
		Provider:     jsonAttr(sys, "Provider", "Name"),
		ProviderGUID: jsonAttr(sys, "Provider", "Guid"),
		EventID:      jsonElemText(sys, "EventID"),
		Qualifiers:   jsonAttr(sys, "EventID", "Qualifiers"),
		Version:      jsonElemText(sys, "Version"),
		Level:        jsonElemText(sys, "Level"),
		Task:         jsonElemText(sys, "Task"),
		Opcode:       jsonElemText(sys, "Opcode"),
		Keywords:     jsonElemText(sys, "Keywords"),
		RecordID:     jsonElemText(sys, "EventRecordID"),
		ActivityID:   jsonAttr(sys, "Correlation", "ActivityID"),
		PID:          jsonAttr(sys, "Execution", "ProcessID"),
		TID:          jsonAttr(sys, "Execution", "ThreadID"),
		Channel:      jsonElemText(sys, "Channel"),
		Computer:     jsonElemText(sys, "Computer"),
		UserID:       jsonAttr(sys, "Security", "UserID"),
	}
	if w.Provider == "" {
		w.Provider = jsonAttr(sys, "Provider", "EventSourceName")
	}
	if w.EventID == "" {
		return nil, fmt.Errorf("no System.EventID")
	}
	if n, err := strconv.ParseUint(w.Keywords, 10, 64); err == nil {
		w.Keywords = "0x" + strconv.FormatUint(n, 16) // Velociraptor writes them as a number
	}
	t, err := jsonSystemTime(jsonAttr(sys, "TimeCreated", "SystemTime"))
	if err != nil {
		return nil, err
	}
	w.Time = t
	if ed, ok := root.get("EventData").(*jsonObject); ok {
		w.EventData = jsonEventData(ed)
	}
	if ud, ok := root.get("UserData").(*jsonObject); ok {
		for i, top := range ud.keys {
			if m, ok := ud.vals[i].(*jsonObject); ok && !isJSONAttributes(top) {
				jsonFlatten(m, "", &w.UserData)
			}
		}
	}
	ev := w.toEvent()
	if msg, ok := doc.get("Message").(string); ok && msg != "" { // Velociraptor renders it
		ev.Fields["message"] = msg
	}
	return ev, nil
}

// jsonSystemTime reads TimeCreated's SystemTime: an ISO 8601 string
// (evtx_dump) or seconds since 1970 (Velociraptor).
func jsonSystemTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("no System.TimeCreated SystemTime")
	}
	if f, ok := boundedFloat(s, math.MaxInt64/1e9); ok && !strings.ContainsAny(s, "-:T") {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e7))*100).UTC(), nil
	}
	t, err := parseISO(s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("TimeCreated SystemTime %q: %v", s, err)
	}
	return t, nil
}

// jsonEventData reads EventData's values in document order as the XML
// gives them: named ones by name, unnamed <Data> as param1, param2…
func jsonEventData(ed *jsonObject) []kv {
	var out []kv
	n := 0
	for i, k := range ed.keys {
		if isJSONAttributes(k) {
			continue
		}
		v := ed.vals[i]
		if k != "Data" {
			if s, ok := jsonValue(v); ok {
				out = append(out, kv{xmlName(ed, k), s})
			}
			continue
		}
		// Unnamed <Data>: one value, a list, or {"#text": value or list}.
		if m, ok := v.(*jsonObject); ok {
			v = m.get("#text")
		}
		list, ok := v.([]any)
		if !ok {
			list = []any{v}
		}
		for _, item := range list {
			if s, ok := jsonValue(item); ok {
				n++
				out = append(out, kv{"param" + strconv.Itoa(n), s})
			}
		}
	}
	return out
}

// jsonFlatten lists a UserData element's leaves, named dotted from it.
func jsonFlatten(m *jsonObject, prefix string, out *[]kv) {
	for i, k := range m.keys {
		if isJSONAttributes(k) {
			continue
		}
		name := prefix + xmlName(m, k)
		if sub, ok := m.vals[i].(*jsonObject); ok && sub.get("#text") == nil {
			jsonFlatten(sub, name+".", out)
			continue
		}
		if s, ok := jsonValue(m.vals[i]); ok {
			*out = append(*out, kv{name, s})
		}
	}
}

// xmlName is an element's name in the XML: evtx_dump names the second
// and later of the same name NAME_1, NAME_2… in JSON.
func xmlName(parent *jsonObject, k string) string {
	i := strings.LastIndexByte(k, '_')
	if i <= 0 {
		return k
	}
	if _, err := strconv.Atoi(k[i+1:]); err != nil || parent.get(k[:i]) == nil {
		return k
	}
	return k[:i]
}

func isJSONAttributes(k string) bool {
	return k == "#attributes" || strings.HasSuffix(k, "_attributes")
}

// jsonElemText is an element's text: the value itself, or its "#text".
func jsonElemText(parent *jsonObject, name string) string {
	s, _ := jsonValue(parent.get(name))
	return s
}

// jsonAttr is an element's attribute, under "#attributes", beside it as
// NAME_attributes, or (Velociraptor) as the element's own key.
func jsonAttr(parent *jsonObject, name, attr string) string {
	if m, ok := parent.get(name + "_attributes").(*jsonObject); ok {
		s, _ := jsonValue(m.get(attr))
		return s
	}
	m, ok := parent.get(name).(*jsonObject)
	if !ok {
		return ""
	}
	if a, ok := m.get("#attributes").(*jsonObject); ok {
		s, _ := jsonValue(a.get(attr))
		return s
	}
	s, _ := jsonValue(m.get(attr))
	return s
}

// jsonValue is a scalar as the XML would write it; false for null and
// for what has no text.
func jsonValue(v any) (string, bool) {
	switch x := v.(type) {
	case string, json.Number, bool:
		return jsonText(x), true // as NXLog's values are read
	case *jsonObject:
		if t := x.get("#text"); t != nil {
			return jsonValue(t)
		}
		if t := x.get("Value"); t != nil { // Velociraptor: {"Value": 4624}
			return jsonValue(t)
		}
		return "", false
	case []any:
		var parts []string
		for _, e := range x {
			if s, ok := jsonValue(e); ok {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ""), true
	}
	return "", false
}

// jsonObject is a JSON object that keeps its keys' order: the event's
// message lists EventData in the order the XML has it.
type jsonObject struct {
	keys []string
	vals []any
}

func (o *jsonObject) get(k string) any {
	for i, key := range o.keys {
		if key == k {
			return o.vals[i]
		}
	}
	return nil
}

// decodeOrdered reads one JSON value, objects as *jsonObject.
func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch d := tok.(type) {
	case json.Delim:
		switch d {
		case '{':
			o := &jsonObject{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				o.keys, o.vals = append(o.keys, kt.(string)), append(o.vals, v)
			}
			_, err := dec.Token() // '}'
			return o, err
		case '[':
			var a []any
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token() // ']'
			return a, err
		}
		return nil, fmt.Errorf("unexpected %v", d)
	}
	return tok, nil
}
