package parsers

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestWindowsXMLDamageAndOtherReaders: XML from readers other than wevtutil
// and XML damaged in one place. Each case is testdata/smbserver.xml (three
// events on lines 2–4 inside <Events>) changed as an export would be.
func TestWindowsXMLDamageAndOtherReaders(t *testing.T) {
	base, err := os.ReadFile("testdata/smbserver.xml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(base), "\n"), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[1], "<Event ") || lines[4] != "</Events>" {
		t.Fatalf("testdata/smbserver.xml changed shape: %d lines", len(lines))
	}
	joined := func(ls ...string) string { return strings.Join(ls, "\n") + "\n" }
	share := "<Data Name='ShareName'>\\\\*\\ADMIN$</Data>"
	if !strings.Contains(lines[1], share) {
		t.Fatal("first event has no ShareName ADMIN$")
	}
	withShare := func(v string) string {
		return strings.Replace(lines[1], share, "<Data Name='ShareName'>"+v+"</Data>", 1)
	}
	broken := strings.Replace(lines[2], "</EventID>", "</EventId>", 1)

	cases := []struct {
		name, text string
		parsed     int64
		lost       int64
		lostHas    string
		warnHas    string
		share      string // first event's winlog.share_name
		lines      []int64
		records    []int64
	}{
		{name: "as wevtutil wrote it", text: string(base), parsed: 3, share: `\\*\ADMIN$`, lines: []int64{2, 3, 4}, records: []int64{1, 2, 3}},
		{name: "python-evtx's XML 1.1 declaration", text: "<?xml version=\"1.1\" encoding=\"utf-8\" standalone=\"yes\" ?>\n\n" + string(base),
			parsed: 3, share: `\\*\ADMIN$`, lines: []int64{4, 5, 6}, records: []int64{1, 2, 3}},
		{name: "evtxexport's banner, no root", text: joined("evtxexport 20181227", "", lines[1], lines[2], lines[3]),
			parsed: 3, share: `\\*\ADMIN$`, lines: []int64{3, 4, 5}, records: []int64{1, 2, 3}},
		{name: "a raw control byte in a value", text: joined(lines[0], withShare("AD\x03MIN"), lines[2], lines[3], lines[4]),
			parsed: 3, share: "AD\uFFFDMIN", lines: []int64{2, 3, 4}, records: []int64{1, 2, 3}},
		{name: "references to control characters", text: joined(lines[0], withShare("A&#x3;B&#1;C&#xE9;&amp;#x3;"), lines[2], lines[3], lines[4]),
			parsed: 3, share: "A\uFFFDB\uFFFDCé&#x3;", lines: []int64{2, 3, 4}, records: []int64{1, 2, 3}},
		{name: "one event damaged in the middle", text: joined(lines[0], lines[1], broken, lines[3], lines[4]),
			parsed: 2, lost: 1, lostHas: "event starting at line 3", share: `\\*\ADMIN$`, lines: []int64{2, 4}, records: []int64{1, 3}},
		{name: "the first event damaged", text: joined(lines[0], strings.Replace(lines[1], "</EventID>", "</EventId>", 1), lines[2], lines[3], lines[4]),
			parsed: 2, lost: 1, lostHas: "event starting at line 2", lines: []int64{3, 4}, records: []int64{2, 3}},
		{name: "cut inside the last event", text: joined(lines[0], lines[1], lines[2], lines[3][:len(lines[3])/2]),
			parsed: 2, lost: 1, lostHas: "the last event is cut", share: `\\*\ADMIN$`, lines: []int64{2, 3}, records: []int64{1, 2}},
		{name: "cut between events, root open", text: joined(lines[0], lines[1], lines[2]),
			parsed: 2, warnHas: "root element closes", share: `\\*\ADMIN$`, lines: []int64{2, 3}, records: []int64{1, 2}},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".xml")
			os.WriteFile(path, []byte(c.text), 0o644)
			evs, st := parseFile(t, path, &Options{TZ: time.UTC, Year: 2025})
			if st.Format != "windows-xml" || st.Parsed != c.parsed || st.Lost != c.lost || st.Raw != 0 {
				t.Fatalf("%+v", st)
			}
			if c.lostHas != "" && !strings.Contains(fmt.Sprint(st.LostReasons), c.lostHas) {
				t.Errorf("lost reasons %v, want one with %q", st.LostReasons, c.lostHas)
			}
			if c.warnHas != "" && !strings.Contains(strings.Join(st.Warnings, "|"), c.warnHas) {
				t.Errorf("warnings %v, want one with %q", st.Warnings, c.warnHas)
			} else if c.warnHas == "" && len(st.Warnings) > 0 {
				t.Errorf("unexpected warnings %v", st.Warnings)
			}
			if c.share != "" && evs[0].Str("winlog.share_name") != c.share {
				t.Errorf("share %q, want %q", evs[0].Str("winlog.share_name"), c.share)
			}
			for i, ev := range evs {
				if ev.Fields[event.FieldLine] != c.lines[i] || ev.Fields[event.FieldRecord] != c.records[i] {
					t.Errorf("event %d at line %v, ordinal %v; want %d, %d", i, ev.Fields[event.FieldLine], ev.Fields[event.FieldRecord], c.lines[i], c.records[i])
				}
				if ev.Str("event.code") == "" || ev.Str("winlog.record_id") == "" {
					t.Errorf("event %d incomplete", i)
				}
			}
		})
	}
}
