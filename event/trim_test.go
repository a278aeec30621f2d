package event

import (
	"maps"
	"testing"
)

// Trim must leave an event exactly what DecodeJSONSelected gives for the
// same selection: a report reading events straight sees what it would
// have read back from the store.
func TestTrimAsDecodeSelected(t *testing.T) {
	sels := map[string]*Selection{
		"nil":             nil,
		"except original": ExceptOriginal(),
		"only":            {Only: map[string]bool{"source.ip": true, "source.bytes": true}},
		"only+suffix":     {Only: map[string]bool{"source.ip": true}, Suffixes: []string{".queue_id"}},
		"only+except":     {Only: map[string]bool{"source.ip": true, FieldOriginal: true}, Except: map[string]bool{FieldOriginal: true}},
		"none kept":       {Only: map[string]bool{"absent": true}},
	}
	for name, sel := range sels {
		t.Run(name, func(t *testing.T) {
			ev := New()
			ev.Set("source.ip", "10.0.0.5")
			ev.SetInt("source.bytes", 1234)
			ev.Set("postfix.queue_id", "4F1A2B3C")
			ev.Set("destination.ip", "185.220.101.4")
			ev.Set(FieldOriginal, "the line")
			doc, err := ev.AppendJSONSelected(nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			want, err := DecodeJSONSelected(doc, sel)
			if err != nil {
				t.Fatal(err)
			}
			ev.Trim(sel)
			if !maps.Equal(ev.Fields, want.Fields) {
				t.Fatalf("Trim kept %v, the store's decoding %v", ev.Fields, want.Fields)
			}
		})
	}
}
