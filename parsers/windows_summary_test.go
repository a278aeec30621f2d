package parsers

import (
	"strings"
	"testing"
)

// An event without a rendered message is summed up from its first twelve
// values, each cut at 200 bytes: what a search of the message finds.
func TestWinRecordSummary(t *testing.T) {
	long := strings.Repeat("A", 250)
	w := &winRecord{Provider: "Microsoft-Windows-Security-Auditing", EventID: "4688"}
	w.EventData = append(w.EventData, kv{"SubjectUserName", "j.martin"}, kv{"Empty", ""}, kv{"Dash", "-"}, kv{"CommandLine", long})
	for i := range 12 {
		w.EventData = append(w.EventData, kv{"F" + string(rune('a'+i)), "v"})
	}
	w.UserData = []kv{{"Late", "not shown"}}
	want := "Microsoft-Windows-Security-Auditing 4688 SubjectUserName=j.martin CommandLine=" + long[:200] + "…" +
		" Fa=v Fb=v Fc=v Fd=v Fe=v Ff=v Fg=v Fh=v Fi=v Fj=v"
	if got := w.summary(); got != want {
		t.Fatalf("summary:\n got %q\nwant %q", got, want)
	}
	if got := (&winRecord{Provider: "P", EventID: "1"}).summary(); got != "P 1" {
		t.Fatalf("summary of an event without data: %q", got)
	}
}
