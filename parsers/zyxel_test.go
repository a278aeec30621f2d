package parsers

import (
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestZyxel reads lines of a USG FLEX (the first three, as a user of one
// published them: the year after the time, values unquoted after cat=) and
// of a ZyWALL USG writing every value quoted, without the year.
func TestZyxel(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	evs, st := parseFile(t, "testdata/zyxel.log", &Options{TZ: paris, Year: 2025})
	if st.Format != "zyxel" || st.Parsed != 6 || st.Raw != 0 || len(st.Warnings) != 1 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "traffic log", evs[0], "2026-05-22T15:24:03Z", map[string]any{
		"event.dataset": "zyxel.firewall", "observer.type": "firewall", "observer.vendor": "Zyxel", "observer.name": "usgflex700h",
		"source.ip": "192.168.0.61", "source.port": int64(53090), "destination.ip": "160.79.104.10", "destination.port": int64(443),
		"source.bytes": int64(930790), "destination.bytes": int64(35808), "network.bytes": int64(966598), "network.transport": "tcp",
		"network.protocol": "https", "source.nat.ip": "192.168.68.101", "user.name": "admin", "source.mac": "04-0E-3C-ED-36-2A",
		"observer.ingress.interface.name": "P5-Phones", "observer.egress.interface.name": "P2-Telmex2", "event.action": "session-closed",
		"event.type": []string{"connection", "end"}, "network.direction": "outbound", "event.duration": nil,
	})
	want(t, "policy drop", evs[1], "2026-05-22T15:24:04Z", map[string]any{
		"event.action": "connection-blocked", "event.outcome": "failure", "destination.port": int64(67), "user.name": nil,
	})
	want(t, "vpn", evs[2], "2026-05-22T15:24:05Z", map[string]any{"event.action": "vpn", "source.ip": "189.172.193.74"})
	want(t, "quoted, no year, IPv6", evs[3], "2025-03-04T22:05:01Z", map[string]any{
		"observer.name": "usg60-mairie", "destination.ip": "2001:db8::25", "destination.port": int64(443),
		"source.bytes": int64(524288000), "destination.bytes": int64(1048576), "event.duration": int64(time.Hour),
		"event.start": "2025-03-04T21:05:01Z", "user.name": nil,
	})
	want(t, "failed login", evs[4], "2025-03-04T22:07:00Z", map[string]any{
		"event.category": []string{"authentication"}, "event.outcome": "failure", "user.name": "admin", "source.ip": "185.220.101.4",
	})
	// A line of another program of the appliance is syslog, not lost.
	if evs[5].Str(event.FieldDataset) != "syslog" || evs[5].Str("message") != "link state changed" {
		t.Errorf("line without devID: %v", evs[5].Fields)
	}
}
