package parsers

import (
	"fmt"
	"slices"
	"testing"
)

type openTest struct { // a message: its id and the line it began on
	id    string
	first int64
}

// TestOpenMessages: the oldest open message goes first when too many are
// open, a queue id used again is another message, what is held follows
// the messages open (not the log's length), and the rest comes out in the
// order it began.
func TestOpenMessages(t *testing.T) {
	o := newOpenMessages(func(m *openTest) int64 { return m.first })
	var out []string
	emit := func(m *openTest) { out = append(out, fmt.Sprintf("%s@%d", m.id, m.first)) }
	line := int64(0)
	open := func(id string) {
		line++
		if _, ok := o.get(id); !ok {
			o.add(id, &openTest{id, line}, emit)
		}
	}
	// A million messages, each completed after the next one began: two
	// open at a time, never evicted.
	for i := range 1_000_000 {
		open(fmt.Sprint("q", i))
		if i > 0 {
			o.done(fmt.Sprint("q", i-1))
		}
		if len(o.order) > 1100 {
			t.Fatalf("message %d: %d ids listed for %d open", i, len(o.order), o.len())
		}
	}
	o.done("q999999")
	if len(out) != 0 || o.len() != 0 {
		t.Fatalf("emitted %v, %d open", out, o.len())
	}
	// "A" completes and its id comes back: the new A began after B.
	open("A")
	open("B")
	o.done("A")
	open("A")
	open("C")
	for range maxPendingMessages - 2 {
		open(fmt.Sprint("f", line))
	}
	if want := []string{fmt.Sprintf("B@%d", line-maxPendingMessages)}; !slices.Equal(out, want) {
		t.Fatalf("evicted %v, want %v", out, want)
	}
	out = nil
	o.drain(emit)
	if len(out) != maxPendingMessages || out[0] != fmt.Sprintf("A@%d", line-maxPendingMessages+1) || out[1] != fmt.Sprintf("C@%d", line-maxPendingMessages+2) {
		t.Fatalf("drained %d, first %v", len(out), out[:3])
	}
}
