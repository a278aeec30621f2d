package event

import (
	"testing"
	"time"
)

func TestRecycleTakesOnlyReusableEvents(t *testing.T) {
	held := New() // a parser that keeps its events (a mail log's pending messages)
	held.Set("source.ip", "10.0.0.1")
	if Recycle(held) {
		t.Fatal("Recycle took an event made by New: its parser may still hold it")
	}
	if held.Str("source.ip") != "10.0.0.1" {
		t.Fatalf("Recycle cleared an event it did not take: %v", held.Fields)
	}
	if Recycle(nil) {
		t.Fatal("Recycle(nil) said it took an event")
	}

	ev := NewReusable()
	ev.Timestamp = time.Date(2025, 3, 1, 2, 3, 4, 0, time.UTC)
	ev.Set("destination.ip", "203.0.113.9")
	ev.SetInt("source.bytes", 1234)
	if !Recycle(ev) {
		t.Fatal("Recycle refused an event from NewReusable")
	}
	if len(ev.Fields) != 0 || !ev.Timestamp.IsZero() {
		t.Fatalf("a recycled event keeps %d fields, time %v", len(ev.Fields), ev.Timestamp)
	}
	if Recycle(ev) {
		t.Fatal("an event handed back twice was taken twice: two parsers would fill one map")
	}
	again := NewReusable()
	if len(again.Fields) != 0 || !again.Timestamp.IsZero() {
		t.Fatalf("NewReusable gave an event with %d fields, time %v", len(again.Fields), again.Timestamp)
	}
	again.Set("k", "v")
	if !Recycle(again) {
		t.Fatal("an event handed out again by NewReusable could not be handed back")
	}
}
