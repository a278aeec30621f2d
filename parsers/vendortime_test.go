package parsers

import (
	"testing"
	"time"
	_ "time/tzdata" // Europe/Paris on any machine: the test never skips
)

func TestReadVendorTime(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	near := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		v, format string
		loc       *time.Location
		near      time.Time
		want      string
		zoned     bool
		fails     bool
	}{
		{v: "1773532241000", want: "2026-03-14T23:50:41Z", zoned: true},
		{v: "1773532241", want: "2026-03-14T23:50:41Z", zoned: true},
		{v: "Mar 14 2026 23:50:41", want: "2026-03-14T23:50:41Z"},
		{v: "Mar 14 2026 23:50:41", loc: paris, want: "2026-03-14T22:50:41Z"},
		{v: "Mar 14 2026 23:50:41.250", want: "2026-03-14T23:50:41.25Z"},
		{v: "Mar 14 2026 23:50:41 GMT", loc: paris, want: "2026-03-14T23:50:41Z", zoned: true},
		// Go alone reads an abbreviation it does not know at offset 0.
		{v: "Mar 14 2026 23:50:41 CET", want: "2026-03-14T22:50:41Z", zoned: true},
		{v: "Jul 14 2026 23:50:41 CEST", want: "2026-07-14T21:50:41Z", zoned: true},
		{v: "Mar 14 2026 23:50:41 CET", loc: paris, want: "2026-03-14T22:50:41Z", zoned: true},
		// IST is India's, Ireland's and Israel's: the wall clock in --tz.
		{v: "Mar 14 2026 23:50:41 IST", loc: paris, want: "2026-03-14T22:50:41Z"},
		{v: "Mar 14 2026 23:50:41 +0100", want: "2026-03-14T22:50:41Z", zoned: true},
		{v: "Apr-15-2016 06:54:00 GMT", format: "MMM dd yyyy HH:mm:ss z", want: "2016-04-15T06:54:00Z", zoned: true},
		{v: "May 05 2019 15:28:54", format: "MMM dd yyyy HH:mm:ss", loc: paris, want: "2019-05-05T13:28:54Z"},
		{v: "2017-10-18T11:26:03.060+0200", format: "yyyy-MM-dd'T'HH:mm:ss.SSSZ", want: "2017-10-18T09:26:03.06Z", zoned: true},
		{v: "2017-10-18 11:26:03", format: "yyyy-MM-dd HH:mm:ss", loc: paris, want: "2017-10-18T09:26:03Z"},
		{v: "18/10/2017 11:26:03 +02:00", format: "dd/MM/yyyy HH:mm:ss XXX", want: "2017-10-18T09:26:03Z", zoned: true},
		{v: "18.10.17 11:26", format: "dd.MM.yy HH:mm", want: "2017-10-18T11:26:00Z"},
		{v: "Wed, 18 Oct 2017 11:26:03 PM", format: "EEE, d MMM yyyy hh:mm:ss a", want: "2017-10-18T23:26:03Z"},
		{v: "2026-03-14T23:50:41Z", format: "ISO8601", loc: paris, want: "2026-03-14T23:50:41Z", zoned: true},
		{v: "2026-03-14T23:50:41", format: "ISO 8601", loc: paris, want: "2026-03-14T22:50:41Z"},
		// Without a year: the one nearest the syslog header's time.
		{v: "Dec 31 23:59:59", near: near, want: "2025-12-31T23:59:59Z"},
		{v: "Jan 1 00:00:05 CET", near: near, want: "2025-12-31T23:00:05Z", zoned: true},
		{v: "Dec 31 23:59:59", fails: true},
		{v: "", fails: true},
		{v: "yesterday", fails: true},
		{v: "14/03/2026", format: "dd/MM/yyyy QQ", fails: true},
	}
	for _, c := range cases {
		loc := c.loc
		if loc == nil {
			loc = time.UTC
		}
		got, zoned, err := readVendorTime(c.v, c.format, loc, c.near)
		if c.fails {
			if err == nil {
				t.Errorf("%q (%q): read as %v, want an error", c.v, c.format, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q (%q): %v", c.v, c.format, err)
			continue
		}
		if s := got.Format(time.RFC3339Nano); s != c.want || zoned != c.zoned || got.Location() != time.UTC {
			t.Errorf("%q (%q) in %s: %s zoned=%v (%s), want %s zoned=%v", c.v, c.format, loc, s, zoned, got.Location(), c.want, c.zoned)
		}
	}
}

func TestGoLayout(t *testing.T) {
	for java, want := range map[string]string{
		"MMM dd yyyy HH:mm:ss.SSS zzz": "Jan 2 2006 15:04:05.000 MST",
		"yyyy-MM-dd'T'HH:mm:ssXXX":     "2006-01-2T15:04:05Z07:00",
		"dd/MM/yy h:mm a":              "2/01/06 3:04 PM",
		"'at' HH 'o''clock'":           "at 15 o'clock",
	} {
		if got, err := goLayout(java); err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", java, got, err, want)
		}
	}
	if _, err := goLayout("yyyy-MM-dd 'T"); err == nil {
		t.Error("an unclosed quote reads")
	}
}
