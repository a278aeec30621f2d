package event

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestDecodeJSONRoundTrip: what MarshalJSON writes, DecodeJSON reads back identically.
func TestDecodeJSONRoundTrip(t *testing.T) {
	ev := New()
	ev.Timestamp = time.Date(2025, 3, 14, 22, 50, 40, 123456789, time.UTC)
	ev.Fields["source.bytes"] = int64(5413491657)
	ev.Fields["message"] = "quote \" backslash \\ tab \t newline \n unicode é → 😀 <script>"
	ev.Fields["email.to.address"] = []string{"a@b.fr", "c@d.fr"}
	ev.Fields["ratio"] = 0.5
	ev.Fields["event.original"] = "\x01control"
	b, err := ev.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Timestamp.Equal(ev.Timestamp) || !reflect.DeepEqual(got.Fields, ev.Fields) {
		t.Errorf("round trip:\n got %v %#v\nwant %v %#v", got.Timestamp, got.Fields, ev.Timestamp, ev.Fields)
	}
	// Same result as encoding/json + FromDocument.
	var m map[string]any
	json.Unmarshal(b, &m)
	ref, _ := FromDocument(m)
	if !reflect.DeepEqual(ref.Fields, got.Fields) {
		t.Errorf("differs from encoding/json: %#v vs %#v", ref.Fields, got.Fields)
	}
	for _, bad := range []string{"", "{", `{"a":}`, `{"a":"x"`, `{"a":[1,}`, `["x"]`} {
		if _, err := DecodeJSON([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"@timestamp":"2025-03-14T22:50:40Z","a":"b\u00e9\n","n":-12,"f":1.5e3,"l":["x",2],"t":true,"z":null}`))
	f.Add([]byte(`{"k":"a\\\"b\u00e9\ud83d\ude00\ud800x","k2":"plain"}`))
	f.Add([]byte(`{"@timestamp":"","":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeJSON(b)
		// Where encoding/json reads the document as an object, DecodeJSON
		// accepts it exactly when FromDocument does (both refuse a stored
		// @timestamp that is not RFC 3339), and every string reads the same.
		var want map[string]any
		if !utf8.Valid(b) || json.Unmarshal(b, &want) != nil {
			return
		}
		_, refErr := FromDocument(want)
		if (err != nil) != (refErr != nil) {
			t.Fatalf("%s: DecodeJSON error %v, FromDocument error %v", b, err, refErr)
		}
		if err != nil {
			return
		}
		for k, v := range want {
			s, ok := v.(string)
			if !ok || k == "@timestamp" {
				continue
			}
			if got := ev.Fields[k]; got != s {
				t.Fatalf("%s: %q = %q, encoding/json %q", b, k, got, s)
			}
		}
	})
}

// FuzzDecodeJSONSelected: reading past fields changes nothing else. Any
// input is accepted by DecodeJSONSelected exactly when DecodeJSON accepts
// it, and the fields kept are DecodeJSON's, value for value.
func FuzzDecodeJSONSelected(f *testing.F) {
	f.Add([]byte(`{"@timestamp":"2025-03-14T22:50:40Z","a":"b\u00e9\n","n":-12,"f":1.5e3,"l":["x",2],"t":true,"z":null}`))
	f.Add([]byte(`{"a":"x","k":"a\\\"b\u00e9\ud83d\ude00\ud800x","k2":"plain"}`))
	f.Add([]byte(`{"k":"a\q","a":1}`))
	f.Add([]byte(`{"k":[1,"\u00zz"],"a":1}`))
	f.Add([]byte(`{"k":1-2,"a":1}`))
	f.Add([]byte(`{"\u0061":"escaped name","k":"v"}`))
	selections := []*Selection{
		{Only: map[string]bool{"a": true}},
		{Except: map[string]bool{"k": true, "l": true}},
		{Only: map[string]bool{}},
		{Only: map[string]bool{"a": true, "k2": true}, Except: map[string]bool{"a": true}},
		{Only: map[string]bool{"a": true}, Suffixes: []string{"2", ".x"}},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		full, fullErr := DecodeJSON(b)
		for _, sel := range selections {
			ev, err := DecodeJSONSelected(b, sel)
			if (err != nil) != (fullErr != nil) {
				t.Fatalf("%s with %+v: error %v, DecodeJSON error %v", b, sel, err, fullErr)
			}
			if err != nil {
				continue
			}
			if !ev.Timestamp.Equal(full.Timestamp) {
				t.Fatalf("%s: time %v, DecodeJSON %v", b, ev.Timestamp, full.Timestamp)
			}
			want := map[string]any{}
			for k, v := range full.Fields {
				if sel.keeps([]byte(k)) {
					want[k] = v
				}
			}
			if !reflect.DeepEqual(ev.Fields, want) {
				t.Fatalf("%s with %+v: %v, want %v", b, sel, ev.Fields, want)
			}
		}
	})
}

// TestSelectionSuffixes: fields named after their dataset are kept by the
// end of their name, beside the named ones; Except still wins.
func TestSelectionSuffixes(t *testing.T) {
	doc := []byte(`{"@timestamp":"2025-03-14T22:50:40Z","a":"1","b":"2","postfix.queue_id":"Q1","exim.queue_id":"Q2","queue_id":"Q3","postfix.relay_ip":["10.0.0.1"],"x.queue_idx":"Q4"}`)
	sel := &Selection{Only: map[string]bool{"a": true}, Suffixes: []string{".queue_id", ".relay_ip"}, Except: map[string]bool{"exim.queue_id": true}}
	ev, err := DecodeJSONSelected(doc, sel)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": "1", "postfix.queue_id": "Q1", "postfix.relay_ip": []string{"10.0.0.1"}}
	if !reflect.DeepEqual(ev.Fields, want) {
		t.Fatalf("kept %v, want %v", ev.Fields, want)
	}
}

// TestSkipEscapedAsDecoded: a field the selection leaves out is skipped
// eight bytes at a time; skipping must accept and refuse exactly what
// decoding it does, wherever the escape or the closing quote falls.
func TestSkipEscapedAsDecoded(t *testing.T) {
	only := &Selection{Only: map[string]bool{"a": true}}
	for n := 0; n < 40; n++ {
		pad := strings.Repeat("x", n)
		for _, c := range []struct{ value, desc string }{
			{`\"` + pad + `\"`, "escaped quotes"},
			{pad + `\\`, "escaped backslash last"},
			{pad + `\u00e9` + pad, "unicode escape"},
			{`\` + pad, "bad escape"},
			{pad + `\q`, "bad escape late"},
			{pad + `\u00z9`, "bad unicode escape"},
			{`\"` + pad, "unterminated"},
			{`\"` + pad + `\`, "backslash at the end"},
		} {
			for _, doc := range []string{
				`{"k":"` + c.value + `","a":"1"}`,
				`{"a":"1","k":"` + c.value + `"}`,
				`{"a":"1","k":"` + c.value, // the document ends inside the string
			} {
				_, fullErr := DecodeJSON([]byte(doc))
				ev, err := DecodeJSONSelected([]byte(doc), only)
				if (err != nil) != (fullErr != nil) {
					t.Fatalf("%s, %d bytes: %s: skipped with error %v, decoded with %v", c.desc, n, doc, err, fullErr)
				}
				if err == nil && ev.Str("a") != "1" {
					t.Fatalf("%s: a = %q", doc, ev.Str("a"))
				}
			}
		}
	}
}

// TestNamesRememberedByPlace: a name is recognised at the place it held in
// the document before; documents whose names shift, grow or carry escapes
// at that place must still read as encoding/json reads them.
func TestNamesRememberedByPlace(t *testing.T) {
	docs := []string{
		`{"a":"1","b":"2","c":"3"}`,
		`{"a":"1","bb":"2","c":"3"}`,
		`{"a":"1","b\"":"2","c":"3"}`,
		`{"b":"1","a":"2"}`,
		`{"a":"1","b":"2","c":"3"}`,
		`{"a":"1","b`,
		`{"a":"1","b":"2","c":"3"}`,
		`{"":"1","b":"2"}`,
		`{"a":"1","b":"2","c":"3","d":"4"}`,
	}
	for _, sel := range []*Selection{nil, {Only: map[string]bool{"b": true, "c": true}}} {
		for round := 0; round < 2; round++ {
			for _, doc := range docs {
				ev, err := DecodeJSONSelected([]byte(doc), sel)
				var want map[string]any
				if json.Unmarshal([]byte(doc), &want) != nil {
					if err == nil {
						t.Fatalf("%s accepted", doc)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", doc, err)
				}
				for k, v := range want {
					if sel != nil && !sel.Only[k] {
						v = nil
					}
					if got := ev.Fields[k]; v == nil && got != nil || v != nil && got != v {
						t.Fatalf("%s with %v: %q = %v, want %v", doc, sel, k, got, v)
					}
				}
				if len(ev.Fields) > len(want) {
					t.Fatalf("%s: extra fields %v", doc, ev.Fields)
				}
			}
		}
	}
}

// TestValuesRememberedByPlace: a value equal to the one read at the same
// place before is shared; one that differs in any way (longer, shorter,
// escaped, a number, a list) must read as encoding/json reads it.
func TestValuesRememberedByPlace(t *testing.T) {
	vals := []string{`"close"`, `"close"`, `"closed"`, `"clos"`, `"close"`, `"clo\"se"`, `"close"`, `12`, `"close"`,
		`["close"]`, `"close"`, `""`, `"close"`, `"cl\u006fse"`, `null`, `"close"`}
	for _, sel := range []*Selection{nil, {Only: map[string]bool{"event.action": true}}} {
		for _, v := range vals {
			doc := `{"@timestamp":"2025-03-14T22:50:40Z","event.action":` + v + `,"z":"1"}`
			ev, err := DecodeJSONSelected([]byte(doc), sel)
			if err != nil {
				t.Fatalf("%s: %v", doc, err)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(doc), &m); err != nil {
				t.Fatal(err)
			}
			want, _ := FromDocument(m)
			if got, w := fmt.Sprint(ev.Fields["event.action"]), fmt.Sprint(want.Fields["event.action"]); got != w {
				t.Fatalf("%s: event.action = %s, want %s", doc, got, w)
			}
		}
	}
}
