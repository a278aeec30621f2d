package index

import (
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestPlaceRoundTrip: a document's place gives back its event's query time
// (none for no time or a clock outside the columns' range), file, block and
// index; a place cut short, lengthened or flagged oddly is refused.
func TestPlaceRoundTrip(t *testing.T) {
	sha := "2bf0e475132a6e08" + strings.Repeat("0", 48)
	for _, tc := range []struct {
		at       time.Time
		loc      string
		hasTime  bool
		nanos    int64
		off, idx uint64
	}{
		{time.Date(2025, 3, 14, 22, 0, 0, 123456789, time.UTC), sha + "/0/0", true, 1741989600123456789, 0, 0},
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), sha + "/1319633554/511", true, 0, 1319633554, 511},
		{time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC), sha + "/300/7", false, 0, 300, 7},
		{time.Time{}, sha + "/5/1", false, 0, 5, 1},
	} {
		ev := event.New()
		ev.Timestamp = tc.at
		p, err := place(ev, tc.loc)
		if err != nil {
			t.Fatalf("%s: %v", tc.loc, err)
		}
		h, ok := parsePlace("id", []byte(p))
		if !ok || h.hasTime != tc.hasTime || h.nanos != tc.nanos || h.off != tc.off || h.idx != tc.idx || h.file != 0x2bf0e475132a6e08 {
			t.Errorf("%s at %v: %+v (%v)", tc.loc, tc.at, h, ok)
		}
		if got := h.loc(map[uint64]string{h.file: sha}); got != tc.loc {
			t.Errorf("loc %s, want %s", got, tc.loc)
		}
		for _, bad := range []string{p[:len(p)-1], p + "x", "\x02" + p[1:], ""} {
			if _, ok := parsePlace("id", []byte(bad)); ok {
				t.Errorf("%q read as a place", bad)
			}
		}
	}
	for _, bad := range []string{"", "nothex/0/0", sha + "/x/0", sha + "/0", sha[:10] + "/0/0"} {
		if _, err := place(event.New(), bad); err == nil {
			t.Errorf("location %q: no error", bad)
		}
	}
}
