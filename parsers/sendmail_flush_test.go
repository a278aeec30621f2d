package parsers

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestSendmailFlushOrder: messages still open at the end of the log come
// out in the order they began, the same on every run.
func TestSendmailFlushOrder(t *testing.T) {
	var lines []string
	for i := range 40 {
		lines = append(lines, "Mar 14 23:05:"+strconv.Itoa(10+i)+" mx1 sm-mta[123]: 2BEN5CAB"+strconv.Itoa(100000+i)+": from=<a"+strconv.Itoa(i)+"@example.org>, size=10, nrcpts=1, relay=[192.0.2.1]")
	}
	dec := Sendmail{}.NewDecoder(&Options{TZ: time.UTC, Year: 2025})
	var got []string
	emit := func(ev *event.Event, _ string) { got = append(got, ev.Str("email.from.address")) }
	for i, l := range lines {
		if err := dec.Line(int64(i+1), []byte(l), emit); err != nil {
			t.Fatal(err)
		}
	}
	dec.Flush(emit)
	for i, f := range got {
		if f != "a"+strconv.Itoa(i)+"@example.org" {
			t.Fatalf("flushed in the order %s", strings.Join(got, " "))
		}
	}
	if len(got) != 40 {
		t.Fatalf("%d messages flushed", len(got))
	}
}
