package parsers

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestWatchGuardDeviceOffset: a Firebox relayed by a syslog server whose
// header names its zone writes its own time after its serial number
// without one. Read with --tz naming the wrong zone (UTC-05:00), the
// header and the Firebox's time of the same line give its offset (+1,
// then +2 once summer time starts) and the session is dated by them; a
// classic, zoneless relay header teaches nothing and the Firebox's time is
// read in --tz until a zoned line has taught the offset.
func TestWatchGuardDeviceOffset(t *testing.T) {
	line := func(header, own string) string {
		return header + " FW-MAIRIE 801234567890 (" + own + `) firewall: msg_id="3000-0151" Allow 1-Trusted 0-External tcp 172.16.14.21 144.76.136.153 60002 443 duration="600" sent_bytes="97877576" rcvd_bytes="1087528" (Outgoing-00)`
	}
	var warnings []string
	dec := WatchGuard{}.NewDecoder(&Options{TZ: time.FixedZone("-05:00", -5*3600), Year: 2025, Warn: func(w string) { warnings = append(warnings, w) }})
	checkDeviceTimes(t, dec, []string{
		line("Mar 14 23:41:02", "2025-03-14T23:41:02"),                     // zoneless header: --tz
		line("2025-03-14T23:41:02+01:00", "2025-03-14T23:41:02"),           // learns +1
		line("Mar 15 08:00:00", "2025-03-15T08:00:00"),                     // zoneless header, +1 known
		line("<14>2025-03-30T01:30:00Z", "2025-03-30T03:30:00"),            // summer: +2
		line("2025-03-30T03:45:00+02:00", "2025-03-30T03:45:00.250+02:00"), // the Firebox names its zone
	}, [][2]string{
		{"2025-03-15T04:41:02Z", "2025-03-15T04:31:02Z"},
		{"2025-03-14T22:41:02Z", "2025-03-14T22:31:02Z"},
		{"2025-03-15T07:00:00Z", "2025-03-15T06:50:00Z"},
		{"2025-03-30T01:30:00Z", "2025-03-30T01:20:00Z"},
		{"2025-03-30T01:45:00.25Z", "2025-03-30T01:35:00.25Z"},
	})
	if len(warnings) != 2 || !strings.Contains(warnings[0], "at UTC+1, as the relay's dated header") ||
		!strings.Contains(warnings[1], "becomes UTC+2 at 2025-03-30T01:30:00Z") {
		t.Errorf("warnings %q", warnings)
	}
}

// TestZonedHeader: which relay headers name their zone.
func TestZonedHeader(t *testing.T) {
	for h, want := range map[string]bool{
		"2025-04-23T22:12:16.000000+02:00 10.0.0.1 ssg5:": true,
		"<134>1 2025-10-26T03:00:00Z fw ssg5 - - -":       true,
		"<134>2025-10-26T03:00:00+01:00 fw":               true,
		"2025-04-23T22:12:16-05:00 fw":                    true,
		"Apr 23 22:12:16 10.0.0.1 ssg5:":                  false,
		"<134>Apr 23 22:12:16 fw":                         false,
		"2025-04-23 22:12:16 fw":                          false,
		"2025-04-23T22:12:16 fw":                          false,
		"":                                                false,
	} {
		c := syslogClock{Year: 2025, Loc: time.UTC}
		got, err := c.parse(h + " NetScreen device_id=ssg5 x")
		if got.Zoned != want || err != nil && h != "" {
			t.Errorf("parse(%q).Zoned = %v (%v)", h, got.Zoned, err)
		}
	}
}

// checkDeviceTimes decodes one session line after another and checks each
// one's time and start (times: @timestamp, event.start) and its bytes.
func checkDeviceTimes(t *testing.T, dec LineDecoder, lines []string, times [][2]string) {
	t.Helper()
	var got []*event.Event
	emit := func(ev *event.Event, _ string) { got = append(got, ev) }
	for i, l := range lines {
		if err := dec.Line(int64(i+1), []byte(l), emit); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
	if len(got) != len(times) {
		t.Fatalf("%d events, want %d", len(got), len(times))
	}
	for i, w := range times {
		want(t, "line "+strconv.Itoa(i+1), got[i], w[0], map[string]any{"event.start": w[1], "source.bytes": int64(97877576)})
	}
}
