package event

import (
	"encoding/json"
	"maps"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestAppendObjectEqualsEncodingJSON: the hand-written writer gives
// encoding/json's bytes for every value type of the event model, escapes,
// invalid UTF-8, nested maps, and random documents.
func TestAppendObjectEqualsEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", "é àç", "日本", "a\"b", `back\slash`, "tab\there", "nl\n", "<script>&", "\u2028\u2029", "bad\xffutf8", "\x00\x1f", "emoji 😀", "\u007f", "a/b"}
	vals := []any{int64(0), int64(-42), int64(1 << 62), 3, true, false, nil, 1.5, 1e21, 1e-7, float64(12), []string{"a", "<b>"}, []string(nil), []any{"x", int64(1)},
		map[string]any{"z": "1", "a": []string{"q"}, "m": map[string]any{"k": "v\n"}}}
	for _, s := range strs {
		vals = append(vals, s)
	}
	for i, v := range vals {
		m := map[string]any{"k": v, strs[i%len(strs)] + "key": "v"}
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := AppendObject(nil, m)
		if err != nil || string(got) != string(want) {
			t.Errorf("%#v:\n got %s (%v)\nwant %s", v, got, err, want)
		}
	}
	r := rand.New(rand.NewSource(1))
	for n := 0; n < 2000; n++ {
		m := map[string]any{}
		for j := r.Intn(12); j >= 0; j-- {
			b := make([]byte, r.Intn(10))
			for i := range b {
				b[i] = byte(r.Intn(256))
			}
			m[string(b)] = vals[r.Intn(len(vals))]
			m["s"+string(b)] = string(b)
		}
		want, _ := json.Marshal(m)
		got, err := AppendObject(nil, m)
		if err != nil || string(got) != string(want) {
			t.Fatalf("random document %d:\n got %s\nwant %s", n, got, want)
		}
	}
	// An event with a time: @timestamp takes its place among the keys.
	e := New()
	e.Timestamp = time.Date(2025, 3, 14, 22, 50, 40, 123000000, time.FixedZone("CET", 3600))
	e.Fields["source.ip"] = "10.0.0.1"
	e.Fields["aaa"] = int64(1)
	e.Fields["@timestamp"] = "ignored"
	got, _ := e.MarshalJSON()
	want, _ := json.Marshal(e.Document())
	if string(got) != string(want) {
		t.Errorf("event:\n got %s\nwant %s", got, want)
	}
}

// Every golden event of the format tests is written identically.
func TestAppendObjectOnGoldens(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "parsers", "testdata", "formats", "*.golden.json"))
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var docs []map[string]any
		if err := json.Unmarshal(b, &docs); err != nil {
			var one map[string]any
			if json.Unmarshal(b, &one) != nil {
				t.Fatalf("%s: %v", f, err)
			}
			docs = []map[string]any{one}
		}
		for _, d := range docs {
			want, _ := json.Marshal(d)
			got, err := AppendObject(nil, d)
			if err != nil || string(got) != string(want) {
				t.Fatalf("%s: %s\nwant %s", f, got, want)
			}
			n++
		}
	}
	if n < 50 {
		t.Fatalf("only %d golden documents compared", n)
	}
}

func TestAppendObjectWithout(t *testing.T) {
	m := map[string]any{"a": "1", "b": int64(2), "c": []string{"x"}}
	skip := map[string]bool{"b": true}
	got, ok, err := AppendObjectWithout(nil, m, skip)
	if err != nil || !ok || string(got) != `{"a":"1","c":["x"]}` {
		t.Errorf("got %s %v %v", got, ok, err)
	}
	if got, ok, _ := AppendObjectWithout(nil, map[string]any{"b": "x"}, skip); ok || len(got) != 0 {
		t.Errorf("all skipped: %s %v", got, ok)
	}
}

// FuzzAppendString: any string is written as encoding/json writes it.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `a"b\c`, "<&>", "\x00\x1f\x7f", "bad\xffutf8", "\u2028\u2029", "é日本😀", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}

// TestKeyOrderFollowsEachDocument: the remembered key order is used only
// for the same set of keys; a document of as many keys but another set, a
// skip list or the time member gets its own order.
func TestKeyOrderFollowsEachDocument(t *testing.T) {
	docs := []map[string]any{
		{"b": "1", "a": "2", "c": "3"},
		{"b": "1", "a": "2", "c": "3"},
		{"b": "1", "a": "2", "d": "3"},
		{"z": "1", "a": "2", "d": "3"},
		{"z": "1", "a": "2"},
		{"z": "1", "a": "2", "d": "3", "0": "x"},
	}
	for i, m := range docs {
		want, _ := json.Marshal(m)
		got, err := AppendObject(nil, m)
		if err != nil || string(got) != string(want) {
			t.Errorf("document %d: got %s want %s", i, got, want)
		}
		got, _, _ = AppendObjectWithout(nil, m, map[string]bool{"a": true})
		delete(m, "a")
		want, _ = json.Marshal(m)
		if string(got) != string(want) {
			t.Errorf("document %d without a: got %s want %s", i, got, want)
		}
	}
}

// TestKeyOrdersInTurn: kinds of document written in turn — more kinds than
// are remembered, of the same number of keys, one kind's keys a shift of
// another's, with and without a time — are each written as encoding/json
// writes them.
func TestKeyOrdersInTurn(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}
	t0 := time.Date(2025, 3, 14, 22, 50, 40, 0, time.UTC)
	for _, kinds := range []int{2, 3, maxKeyOrders, maxKeyOrders + 1, maxKeyOrders + 3} {
		for round := 0; round < 4; round++ {
			for k := 0; k < kinds; k++ {
				m := map[string]any{}
				for j := 0; j < 4; j++ { // four keys each: kind k holds names k..k+3
					m[names[(k+j)%len(names)]] = int64(round*100 + k)
				}
				ev := &Event{Fields: m}
				if k%2 == 1 {
					ev.Timestamp = t0
				}
				got, err := ev.AppendJSON(nil)
				want := map[string]any{}
				for n, v := range m {
					want[n] = v
				}
				if k%2 == 1 {
					want["@timestamp"] = t0.Format(time.RFC3339Nano)
				}
				w, _ := json.Marshal(want)
				if err != nil || string(got) != string(w) {
					t.Fatalf("%d kinds, round %d, kind %d: got %s want %s", kinds, round, k, got, w)
				}
			}
		}
	}
}

// FuzzAppendObjectSequence: documents written one after the other — of the
// same keys, of other keys, with and without a time, a skip list or a
// selection, nested — are each written as encoding/json writes what is
// left of them, whatever order the one before left remembered.
func FuzzAppendObjectSequence(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{7, 7, 7, 1, 1, 1, 200, 201, 202, 9, 9, 9, 9})
	f.Add([]byte("the same keys again and again and again"))
	names := []string{"a", "b", "source.ip", "@timestamp", "0x", "é", "postfix.queue_id", "z.relay_ip", "event.original"}
	sels := []*Selection{
		{Only: map[string]bool{"a": true, "source.ip": true}, Suffixes: []string{".queue_id"}},
		{Except: map[string]bool{"event.original": true}},
	}
	skip := map[string]bool{"b": true, "event.original": true}
	t0 := time.Date(2025, 3, 14, 22, 50, 40, 123456789, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) >= 3 {
			// One document: a bitmask of names, a kind of call, a value seed.
			mask, call, seed := int(b[0])|int(b[1])<<8, b[2], b[2]
			b = b[3:]
			m := map[string]any{}
			for i, n := range names {
				if mask&(1<<i) == 0 {
					continue
				}
				switch (int(seed) + i) % 4 {
				case 0:
					m[n] = n + "\"v\\"
				case 1:
					m[n] = int64(i) * int64(seed)
				case 2:
					m[n] = []string{n, "x"}
				case 3:
					m[n] = map[string]any{"k" + n: "v", "a": int64(i)}
				}
			}
			ev := &Event{Fields: m}
			if call&8 != 0 {
				ev.Timestamp = t0
			}
			var got []byte
			var err error
			want := map[string]any{}
			switch call % 4 {
			case 0:
				got, err = AppendObject(nil, m)
				maps.Copy(want, m)
			case 1:
				got, _, err = AppendObjectWithout(nil, m, skip)
				for k, v := range m {
					if !skip[k] {
						want[k] = v
					}
				}
				if len(want) == 0 {
					continue
				}
			case 2:
				got, err = ev.AppendJSON(nil)
				maps.Copy(want, m)
			case 3:
				sel := sels[int(call/4)%len(sels)]
				got, err = ev.AppendJSONSelected(nil, sel)
				for k, v := range m {
					if sel.keeps([]byte(k)) {
						want[k] = v
					}
				}
			}
			if call%4 >= 2 && !ev.Timestamp.IsZero() {
				want["@timestamp"] = t0.Format(time.RFC3339Nano)
			}
			if err != nil {
				t.Fatal(err)
			}
			w, _ := json.Marshal(want)
			if string(got) != string(w) {
				t.Fatalf("call %d on %v:\n got %s\nwant %s", call, m, got, w)
			}
		}
	})
}
