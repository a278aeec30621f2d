package parsers

import (
	"strings"
	"testing"
	"time"
)

// TestFortiFieldOf: every key the decoder reads finds its number, and no
// other key finds one (a vendor key read as one of ours would move a value
// into an ECS field).
func TestFortiFieldOf(t *testing.T) {
	for f, name := range fortiFieldNames {
		if name != "" && fortiFieldOf(name) != fortiField(f) {
			t.Errorf("%q: field %d, want %d", name, fortiFieldOf(name), f)
		}
	}
	for _, k := range []string{"", "vd", "sessionid", "srcintfrole", "Date", "dat", "datex", "srcip ", "sentbytes",
		"rcvdbyt", "poluuid", "crscore", "lanin", "wanout", "appcat", "x", "\xff", "durations", "dstip6"} {
		if f := fortiFieldOf(k); f != 0 {
			t.Errorf("%q read as %q", k, fortiFieldNames[f])
		}
	}
}

func TestZoneOf(t *testing.T) {
	const notZone = 1 << 30
	for _, c := range []struct {
		in  string
		off int // seconds east; notZone: not a zone
	}{
		{"+0100", 3600}, {"-0500", -18000}, {"+01:00", 3600}, {"-05:30", -19800}, {"+05", 18000}, {"-3", -10800},
		{"UTC", 0}, {"gmt", 0}, {"Z", 0}, {"CEST", 7200}, {"UTC+1", 3600}, {"GMT-05:30", -19800}, {"UTC+05:45", 20700},
		{"", notZone}, {"+", notZone}, {"+2500", notZone}, {"+01:75", notZone}, {"+100", notZone}, {"IST", notZone}, {"local", notZone}, {"UTC+x", notZone},
	} {
		z, ok := zoneOf(c.in)
		if c.off == notZone {
			if ok {
				t.Errorf("%q read as zone %v", c.in, z)
			}
			continue
		}
		if !ok {
			t.Errorf("%q: not read", c.in)
			continue
		}
		if _, off := time.Date(2025, 1, 15, 12, 0, 0, 0, z).Zone(); off != c.off {
			t.Errorf("%q: offset %d, want %d", c.in, off, c.off)
		}
	}
	if z, ok := zoneOf("Europe/Paris"); !ok || z.String() != "Europe/Paris" {
		t.Errorf("Europe/Paris: %v %v", z, ok)
	}
}

// TestFortiTimeZones: a FortiGate's tz field, in the forms its versions and
// exports write, places the local date and time; without one (or one
// unread) the time is read in the zone given and said zoneless.
func TestFortiTimeZones(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, c := range []struct {
		tz, want string
		zoned    bool
	}{
		{`"+0100"`, "2025-07-01T09:00:00Z", true},
		{`"+01:00"`, "2025-07-01T09:00:00Z", true},
		{`"UTC"`, "2025-07-01T10:00:00Z", true},
		{`"Europe/Paris"`, "2025-07-01T08:00:00Z", true},
		{`"-0500"`, "2025-07-01T15:00:00Z", true},
		{"", "2025-07-01T08:00:00Z", false},
		{`"local"`, "2025-07-01T08:00:00Z", false},
	} {
		var l fortiLine
		l.add("date", "2025-07-01")
		l.add("time", "10:00:00")
		if c.tz != "" {
			l.add("tz", strings.Trim(c.tz, `"`))
		}
		ts, zoned, err := fortiTime(&l, paris)
		if err != nil || ts.Format(time.RFC3339) != c.want || zoned != c.zoned {
			t.Errorf("tz=%s: %s zoned %v (%v), want %s zoned %v", c.tz, ts.Format(time.RFC3339), zoned, err, c.want, c.zoned)
		}
	}
}

func BenchmarkZoneOfNamed(b *testing.B) {
	for range b.N {
		if _, ok := zoneOf("Europe/Paris"); !ok {
			b.Fatal("not read")
		}
	}
}
