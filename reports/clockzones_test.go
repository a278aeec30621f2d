package reports

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestClockSummerTime: a firewall writing local time without its zone
// across a change of summer time — its VPN tunnels, read as UTC, run one
// offset ahead of Windows' logons before the change and another after —
// is said to follow that zone's summer time, with the offsets on each
// side; the same moments at one fixed offset, across the same dates, are
// a fixed offset and no zone; read in the zone, the clocks agree.
func TestClockSummerTime(t *testing.T) {
	vpn := func(c *clockCheck, ip, user string, fw, logon time.Time) {
		ev := event.New()
		ev.Timestamp = fw
		ev.Fields["cisco.vpn.assigned_ip"] = ip
		ev.Fields["user.name"] = user
		c.observe(ev, "firewall")
		w := event.New()
		w.Timestamp = logon
		w.Fields["event.code"] = "4624"
		w.Fields["source.ip"] = ip
		w.Fields["user.name"] = user
		c.observe(w, "windows")
	}
	// wall is t's wall clock in loc, labelled UTC: what a zoneless log
	// read in UTC gives.
	wall := func(t time.Time, loc *time.Location) time.Time {
		l := t.In(loc)
		return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
	}
	cases := []struct {
		zone     string
		first    time.Time // UTC: the 10 days around a change
		want     string
		offsets  [2]int64
		fixedOff int64
	}{
		{"Europe/Paris", time.Date(2026, 3, 24, 8, 0, 0, 0, time.UTC), "Europe/Paris", [2]int64{3600, 7200}, 7200},
		{"Europe/Paris", time.Date(2026, 10, 20, 8, 0, 0, 0, time.UTC), "Europe/Paris", [2]int64{3600, 7200}, 3600},
		{"America/New_York", time.Date(2026, 3, 4, 14, 0, 0, 0, time.UTC), "America/New_York", [2]int64{-18000, -14400}, -14400},
		{"Europe/London", time.Date(2026, 3, 24, 8, 0, 0, 0, time.UTC), "Europe/London", [2]int64{0, 3600}, 3600},
		// A fixed zone across the same dates: an offset, no zone.
		{"Asia/Kolkata", time.Date(2026, 3, 24, 8, 0, 0, 0, time.UTC), "", [2]int64{}, 19800},
		{"Etc/GMT-1", time.Date(2026, 3, 24, 8, 0, 0, 0, time.UTC), "", [2]int64{}, 3600},
	}
	for _, tc := range cases {
		loc, err := time.LoadLocation(tc.zone)
		if err != nil {
			t.Fatal(err)
		}
		// Most days after the change: the fixed offset of the later side
		// explains more moments than the earlier side's.
		days := []int{0, 1, 2, 6, 7, 8, 9}
		build := func(read *time.Location) *ClockCheck {
			c := newClockCheck(func(string) bool { return false })
			for i, d := range days {
				at := tc.first.Add(time.Duration(d) * 24 * time.Hour)
				fw := wall(at, loc)
				if read != nil { // the log read again in the zone
					fw = time.Date(fw.Year(), fw.Month(), fw.Day(), fw.Hour(), fw.Minute(), fw.Second(), 0, read).UTC()
				}
				vpn(c, fmt.Sprintf("10.212.134.%d", 10+i), "agent", fw, at.Add(40*time.Second))
			}
			return c.compare("windows")
		}
		r := build(nil)
		if r == nil || r.Zone != tc.want || r.ZoneOffsets != tc.offsets || r.OffsetSeconds != tc.fixedOff {
			t.Errorf("%s from %s: %+v, want zone %q %v, fixed offset %d", tc.zone, tc.first.Format("2006-01-02"), r, tc.want, tc.offsets, tc.fixedOff)
			continue
		}
		if tc.want == "" {
			continue
		}
		if r.ZoneAgreeing != len(days) || r.Agreeing >= len(days) {
			t.Errorf("%s: zone explains %d, fixed %d of %d", tc.zone, r.ZoneAgreeing, r.Agreeing, len(days))
		}
		if reason := clockReason(*r, "en"); !strings.Contains(reason, "summer time of the zone "+tc.want) || !strings.Contains(reason, "--tz "+tc.want) {
			t.Errorf("%s: reason %q", tc.zone, reason)
		}
		if again := build(loc); again == nil || again.Zone != "" || again.OffsetSeconds != 0 {
			t.Errorf("%s: read in the zone, %+v", tc.zone, again)
		}
	}
}

// TestClockSummerTimeOfWindows: the firewall names its zone, Windows
// comes through a forwarder in Paris local time without one, across the
// change: the zone is Windows', said as such.
func TestClockSummerTimeOfWindows(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	c := newClockCheck(func(string) bool { return false })
	first := time.Date(2026, 3, 24, 8, 0, 0, 0, time.UTC)
	for i, d := range []int{0, 1, 2, 6, 7, 8, 9} {
		at := first.Add(time.Duration(d) * 24 * time.Hour)
		ip, user := fmt.Sprintf("10.212.134.%d", 10+i), "agent"
		ev := event.New()
		ev.Timestamp = at
		ev.Fields["cisco.vpn.assigned_ip"] = ip
		ev.Fields["user.name"] = user
		c.observe(ev, "firewall")
		l := at.Add(40 * time.Second).In(paris)
		w := event.New()
		w.Timestamp = time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
		w.Fields["event.code"] = "4624"
		w.Fields["source.ip"] = ip
		w.Fields["user.name"] = user
		w.Fields["event.timezone"] = "UTC" // read in --tz: its zone unnamed
		c.observe(w, "windows")
	}
	r := c.compare("windows")
	if r == nil || r.Zone != "Europe/Paris" || r.Source != "windows" || r.Reference != "firewall" || r.ZoneAgreeing != 7 || r.OffsetSeconds != 7200 {
		t.Fatalf("%+v, want Windows on Europe/Paris' summer time, 7 moments", r)
	}
	if reason := clockReason(*r, "en"); !strings.Contains(reason, "the Windows logs' times follow the summer time of the zone Europe/Paris") {
		t.Errorf("reason %q", reason)
	}
}
