package parsers

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNetScreenDeviceOffset: a NetScreen relayed by a syslog server whose
// header names its zone writes its own start_time and closing date without
// one; the header and the closing date of the same line give the device's
// offset, and start_time is read at it whatever --tz says (here none: UTC).
// The offset follows summer time when the lines show it change; a line
// before any offset is known reads start_time in --tz, as before.
func TestNetScreenDeviceOffset(t *testing.T) {
	line := func(header, start string, dur int, end string) string {
		s := header + " 10.0.0.1 ssg5: NetScreen device_id=ssg5  [Root]system-notification-00257(traffic): start_time=\"" + start +
			"\" duration=" + strconv.Itoa(dur) + " policy_id=12 service=https proto=6 src zone=Trust dst zone=Untrust action=Permit sent=97877576 rcvd=1087528 src=172.16.14.21 dst=144.76.136.153 src_port=60002 dst_port=443 session_id=1399 reason=Close - TCP FIN"
		if end != "" {
			s += " (" + end + ")"
		}
		return s
	}
	var warnings []string
	dec := NetScreen{}.NewDecoder(&Options{TZ: time.UTC, Warn: func(w string) { warnings = append(warnings, w) }})
	checkDeviceTimes(t, dec, []string{
		line("2025-04-23T22:00:00.000000+02:00", "2025-04-23 21:50:00", 600, ""),                    // no closing date yet: --tz
		line("2025-04-23T22:12:16.000000+02:00", "2025-04-23 21:59:43", 753, "2025-04-23 22:12:16"), // learns +2
		line("2025-04-23T22:30:06+02:00", "2025-04-23 22:06:57", 1389, ""),                          // +2 known
		line("2025-10-26T02:30:00+01:00", "2025-10-26 02:20:00", 600, "2025-10-26 02:30:00"),        // winter: +1
		line("<134>1 2025-10-26T03:00:00Z fw", "2025-10-26 03:50:00", 600, "2025-10-26 04:00:00"),   // a relay in UTC, device +1
	}, [][2]string{
		{"2025-04-23T20:00:00Z", "2025-04-23T21:50:00Z"},
		{"2025-04-23T20:12:16Z", "2025-04-23T19:59:43Z"},
		{"2025-04-23T20:30:06Z", "2025-04-23T20:06:57Z"},
		{"2025-10-26T01:30:00Z", "2025-10-26T01:20:00Z"},
		{"2025-10-26T03:00:00Z", "2025-10-26T02:50:00Z"},
	})
	if len(warnings) != 2 || !strings.Contains(warnings[0], "at UTC+2, as the relay's dated header") ||
		!strings.Contains(warnings[1], "becomes UTC+1 at 2025-10-26T01:30:00Z") {
		t.Errorf("warnings %q", warnings)
	}
}
