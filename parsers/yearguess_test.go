package parsers

import (
	"testing"
	"time"
)

// TestGuessYear: year-less logs whose files' modification time says 2026,
// beside dated logs of March 2025, are read in 2025; a file that already
// meets the dated span keeps its year; nothing is guessed without dated
// logs, when the year-less files would need different years, or when they
// already meet the dated span.
func TestGuessYear(t *testing.T) {
	d := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	dated := &FileStats{Path: "fw.log", Parsed: 10, First: d("2025-03-01T00:00:00Z"), Last: d("2025-03-09T23:00:00Z")}
	mail := &FileStats{Path: "mail.log", Parsed: 5, YearGuessed: true, Year: 2026, First: d("2026-03-01T01:00:00Z"), Last: d("2026-03-09T22:00:00Z")}
	for _, tc := range []struct {
		name  string
		files []*FileStats
		year  int
		ok    bool
	}{
		{"copied a year later", []*FileStats{dated, mail}, 2025, true},
		{"no dated log", []*FileStats{mail}, 0, false},
		{"already meets", []*FileStats{dated, {Path: "m", Parsed: 3, YearGuessed: true, Year: 2025, First: d("2025-03-02T00:00:00Z"), Last: d("2025-03-03T00:00:00Z")}}, 0, false},
		{"two years needed", []*FileStats{dated, mail, {Path: "old", Parsed: 3, YearGuessed: true, Year: 2027, First: d("2027-03-02T00:00:00Z"), Last: d("2027-03-03T00:00:00Z")}}, 2025, true},
		{"one meets as read, one a year later", []*FileStats{dated, mail, {Path: "m", Parsed: 3, YearGuessed: true, Year: 2025, First: d("2025-03-02T00:00:00Z"), Last: d("2025-03-03T00:00:00Z")}}, 2025, true},
		{"one read from December 2024 meets, one needs 2025", []*FileStats{
			{Path: "fw.log", Parsed: 10, First: d("2024-12-28T00:00:00Z"), Last: d("2025-03-09T23:00:00Z")}, mail,
			{Path: "m", Parsed: 3, YearGuessed: true, Year: 2024, First: d("2024-12-30T00:00:00Z"), Last: d("2025-01-02T00:00:00Z")}}, 0, false},
		{"a device's own dates beside a relay's year-less header", []*FileStats{
			{Path: "sophos.log", Parsed: 10, YearGuessed: true, Year: 2026, First: d("2025-03-01T00:00:00Z"), Last: d("2025-03-09T23:00:00Z")}, mail}, 2025, true},
		{"dated logs months apart, no year meets one", []*FileStats{
			{Path: "jan.log", Parsed: 4, First: d("2024-01-01T00:00:00Z"), Last: d("2024-01-02T00:00:00Z")},
			{Path: "dec.log", Parsed: 4, First: d("2024-12-20T00:00:00Z"), Last: d("2024-12-20T18:00:00Z")}, mail}, 0, false},
		{"a span no year meets", []*FileStats{dated, {Path: "m", Parsed: 3, YearGuessed: true, Year: 2026, First: d("2026-07-01T00:00:00Z"), Last: d("2026-07-03T00:00:00Z")}}, 0, false},
	} {
		g, ok := GuessYear(tc.files)
		if ok != tc.ok || ok && g.Year != tc.year {
			t.Errorf("%s: %+v %v, want %d %v", tc.name, g, ok, tc.year, tc.ok)
		}
	}
	if g, _ := GuessYear([]*FileStats{dated, mail}); g.Was != 2026 || len(g.Files) != 1 || g.Files[0] != "mail.log" || !g.DatedFirst.Equal(dated.First) {
		t.Errorf("guess %+v", g)
	}
}
