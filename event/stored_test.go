package event

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
	"time"
)

// storedSelections are the selections the stored-form tests read with.
var storedSelections = []*Selection{
	nil,
	ExceptOriginal(),
	{Only: map[string]bool{"a": true, "source.ip": true}},
	{Only: map[string]bool{}},
	{Only: map[string]bool{"a": true, "l": true}, Except: map[string]bool{"a": true}},
}

// sameAsJSON fails unless ev reads back from the stored form exactly as
// from its JSON, with every selection, and returns whether the stored form
// was binary.
func sameAsJSON(t *testing.T, ev *Event) bool {
	t.Helper()
	js, err := ev.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := ev.AppendStored(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sel := range storedSelections {
		want, wantErr := DecodeJSONSelected(js, sel)
		got, gotErr := DecodeStoredSelected(st, sel)
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("%+v with %+v: stored error %v, JSON error %v", ev, sel, gotErr, wantErr)
		}
		if gotErr != nil {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%+v with %+v:\n stored %+v\n   JSON %+v", ev, sel, got, want)
		}
		if tm, ok := StoredTime(st); ok && !reflect.DeepEqual(tm, want.Timestamp) {
			t.Fatalf("%+v: StoredTime %v, JSON %v", ev, tm, want.Timestamp)
		}
	}
	return len(st) > 0 && st[0] == storedMagic
}

// TestStoredEqualsJSON: the event model's values and the cases the binary
// form leaves to JSON read back as their JSON does.
func TestStoredEqualsJSON(t *testing.T) {
	at := time.Date(2025, 3, 14, 22, 50, 40, 123456789, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name   string
		ev     *Event
		binary bool
	}{
		{"firewall", &Event{Timestamp: at, Fields: map[string]any{
			"event.original": `date=2025-03-14 devname="FGT" msg="a \"quoted\" <b>&</b>"` + "\n\ttab",
			"source.ip":      "10.0.0.1", "source.port": int64(51234), "source.bytes": 12_345_678_901,
			"event.category": []string{"network"}, "event.type": []string{"connection", "end"},
			"a": "é日本😀\u2028", "neg": int64(-42), "zero": int64(0), "empty": "",
		}}, true},
		{"bool, int, nil, empty and nil lists", &Event{Timestamp: at, Fields: map[string]any{
			"t": true, "f": false, "n": 7, "null": nil, "nolist": []string(nil), "l": []string{},
		}}, true},
		{"no time", &Event{Fields: map[string]any{"a": "x"}}, true},
		{"no fields", &Event{Timestamp: at, Fields: map[string]any{}}, true},
		{"year 1", &Event{Timestamp: time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), Fields: map[string]any{"a": "x"}}, true},
		{"before Unix time", &Event{Timestamp: time.Date(1601, 1, 1, 0, 0, 0, 5, time.UTC), Fields: map[string]any{"a": "x"}}, true},
		{"invalid UTF-8 value", &Event{Timestamp: at, Fields: map[string]any{"a": "caf\xe9"}}, false},
		{"invalid UTF-8 name", &Event{Timestamp: at, Fields: map[string]any{"caf\xe9": "x"}}, false},
		{"invalid UTF-8 in a list", &Event{Timestamp: at, Fields: map[string]any{"l": []string{"ok", "\xff"}}}, false},
		{"a float", &Event{Timestamp: at, Fields: map[string]any{"f": 1.5, "a": "x"}}, false},
		{"a member named @timestamp", &Event{Fields: map[string]any{"@timestamp": "2025-03-14T22:50:40Z"}}, false},
		{"year 10000", &Event{Timestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Fields: map[string]any{}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if binary := sameAsJSON(t, tc.ev); binary != tc.binary {
				t.Errorf("stored as binary: %v, want %v", binary, tc.binary)
			}
		})
	}
}

// TestStoredRefusesDamage: every truncation of a stored document, and
// bytes appended to it, are refused.
func TestStoredRefusesDamage(t *testing.T) {
	ev := &Event{Timestamp: time.Unix(1741992640, 5), Fields: map[string]any{
		"a": "x", "n": int64(300), "l": []string{"p", "q"}, "event.original": strings.Repeat("z", 200)}}
	b, _ := ev.AppendStored(nil)
	if b[0] != storedMagic {
		t.Fatal("not stored as binary")
	}
	for i := 1; i < len(b); i++ {
		for _, sel := range storedSelections {
			if _, err := DecodeStoredSelected(b[:i], sel); err == nil {
				t.Fatalf("truncated at %d of %d with %+v: accepted", i, len(b), sel)
			}
		}
	}
	if _, err := DecodeStored(append(b, 0)); err == nil {
		t.Error("a trailing byte: accepted")
	}
	bad := append([]byte{storedMagic, 0}, binary.AppendUvarint(nil, 1)...)
	bad = append(appendStr(bad, "@timestamp"), tagString, 0)
	if _, err := DecodeStored(bad); err == nil {
		t.Error("a member named @timestamp: accepted")
	}
}

// FuzzStoredEqualsJSON: events built from fuzzed bytes read back from the
// stored form exactly as from their JSON.
func FuzzStoredEqualsJSON(f *testing.F) {
	f.Add(int64(1741992640), uint32(5), "a=x;b=\xff;c=é", int64(-1), true)
	f.Add(int64(0), uint32(0), "", int64(0), false)
	f.Add(int64(-62135596800), uint32(1), "@timestamp=x", int64(1<<62), true)
	f.Add(int64(253402300800), uint32(0), "k=\"q\\\"\n", int64(7), false)
	f.Fuzz(func(t *testing.T, sec int64, nsec uint32, kv string, n int64, b bool) {
		ev := &Event{Fields: map[string]any{}}
		if sec != 0 || nsec != 0 {
			ev.Timestamp = time.Unix(sec, int64(nsec%1e9))
		}
		for i, part := range strings.Split(kv, ";") {
			k, v, _ := strings.Cut(part, "=")
			switch i % 5 {
			case 0:
				ev.Fields[k] = v
			case 1:
				ev.Fields[k] = strings.Split(v, ",")
			case 2:
				ev.Fields[k] = n + int64(len(v))
			case 3:
				ev.Fields[k] = b
			case 4:
				ev.Fields[k] = nil
			}
		}
		sameAsJSON(t, ev)
	})
}

// FuzzDecodeStored: any bytes after the binary form's first byte are
// refused or read; a selection keeps exactly the full reading's fields.
func FuzzDecodeStored(f *testing.F) {
	ev := &Event{Timestamp: time.Unix(1741992640, 5), Fields: map[string]any{"a": "x", "n": int64(300), "l": []string{"p"}}}
	b, _ := ev.AppendStored(nil)
	f.Add(b)
	f.Add([]byte{storedMagic, 1, 0x80})
	f.Add([]byte{storedMagic, 0, 2, 1, 'a', 'i', 0x81})
	f.Fuzz(func(t *testing.T, b []byte) {
		b = append([]byte{storedMagic}, b...)
		full, fullErr := DecodeStored(b)
		for _, sel := range storedSelections {
			got, err := DecodeStoredSelected(b, sel)
			if (err != nil) != (fullErr != nil) {
				t.Fatalf("%q with %+v: error %v, full reading %v", b, sel, err, fullErr)
			}
			if err != nil {
				continue
			}
			want := map[string]any{}
			for k, v := range full.Fields {
				if sel.keeps([]byte(k)) {
					want[k] = v
				}
			}
			if !reflect.DeepEqual(got.Fields, want) || !got.Timestamp.Equal(full.Timestamp) {
				t.Fatalf("%q with %+v: %v, want %v", b, sel, got.Fields, want)
			}
		}
	})
}
