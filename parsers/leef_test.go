package parsers

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestLEEFForms: LEEF as products write it — tab, caret or space between
// attributes, devTime in the format devTimeFormat names (or another), a
// zone abbreviation, no syslog header — each line read whole by the LEEF
// reader and, twice in a file, detected as LEEF.
func TestLEEFForms(t *testing.T) {
	cases := []struct {
		name, line, time string
		zoneAssumed      bool
		warns            bool
		want             map[string]any
	}{{
		name: "web gateway, tabs, zone abbreviation, no syslog header",
		line: "LEEF:1.0|Zscaler|NSSWeblog|5.7|Allowed|cat=Web Browsing\tdevTime=Mar 14 2026 23:50:41 CET\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\tsrc=10.10.1.20\tsrcPostNAT=198.51.100.7\tdst=31.216.145.5\tusrName=j.martin@mairie.example\tsrcBytes=73400320\tdstBytes=812\turl=mega.nz/upload/chunk\tpolicy=Allow All",
		time: "2026-03-14T22:50:41Z",
		want: map[string]any{"source.ip": "10.10.1.20", "source.nat.ip": "198.51.100.7", "destination.ip": "31.216.145.5", "user.name": "j.martin@mairie.example",
			"source.bytes": int64(73400320), "destination.bytes": int64(812), "url.original": "mega.nz/upload/chunk", "event.action": "Web Browsing",
			"leef.policy": "Allow All", "observer.vendor": "Zscaler"},
	}, {
		name: "1.0 with spaces between attributes, values with spaces",
		line: "<9>Mar 14 22:51:02 sensor LEEF:1.0|Vendor|Sensor|2.5.0|Alert|devTime=Mar 14 2026 23:51:00 devTimeFormat=MMM dd yyyy HH:mm:ss sev=2 cat=Sensor Alerts dst=10.10.1.30 msg=Device 10.10.1.30 is suspected to be disconnected (unresponsive).",
		time: "2026-03-14T23:51:00Z", zoneAssumed: true,
		want: map[string]any{"destination.ip": "10.10.1.30", "leef.cat": "Sensor Alerts", "leef.msg": "Device 10.10.1.30 is suspected to be disconnected (unresponsive).", "leef.sev": "2"},
	}, {
		name: "2.0 with a caret delimiter and an ISO time with its offset",
		line: "LEEF:2.0|Vendor|Gateway|1.13|console_login|^|devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ^devTime=2026-03-14T23:52:03.060+0100^usrName=admin.mairie^src=10.10.1.21",
		time: "2026-03-14T22:52:03.06Z",
		want: map[string]any{"user.name": "admin.mairie", "source.ip": "10.10.1.21"},
	}, {
		name: "2.0 without its delimiter field",
		line: "LEEF:2.0|Vendor|Portal|v4|login|src=10.10.1.22\tusrName=s.durand\tdevTimeFormat=ISO8601\tdevTime=2026-03-14T23:53:00Z",
		time: "2026-03-14T23:53:00Z",
		want: map[string]any{"user.name": "s.durand", "source.ip": "10.10.1.22"},
	}, {
		name: "a time in another form than the one named, hex delimiter",
		line: "LEEF:2.0|Vendor|Cloud|1.0|THREAT|x09|cat=THREAT\tdevTime=Mar-14-2026 23:54:00 GMT\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\tresource=MAIRIE\\PC-12\tsev=7",
		time: "2026-03-14T23:54:00Z",
		want: map[string]any{"leef.resource": `MAIRIE\PC-12`, "event.action": "THREAT"},
	}, {
		name: "epoch milliseconds",
		line: "LEEF:1.0|Vendor|FW|1|traffic|devTime=1773532500000\tsrc=10.10.1.23\tdst=31.216.145.5\tsrcBytes=10\tproto=17",
		time: "2026-03-14T23:55:00Z",
		want: map[string]any{"network.transport": "udp", "source.bytes": int64(10)},
	}, {
		name: "an unreadable devTime behind a syslog header: the header dates it",
		line: "<134>1 2026-03-14T23:56:00+01:00 fw leef - - - LEEF:1.0|Vendor|FW|1|traffic|devTime=someday\tsrc=10.10.1.24",
		time: "2026-03-14T22:56:00Z", warns: true,
		want: map[string]any{"source.ip": "10.10.1.24"},
	}}
	for _, c := range cases {
		var got *event.Event
		var warnings []string
		o := &Options{TZ: time.UTC, Year: 2026, Warn: func(s string) { warnings = append(warnings, s) }}
		if err := (LEEF{}).NewDecoder(o).Line(1, []byte(c.line), func(ev *event.Event, _ string) { got = ev }); err != nil || got == nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want(t, c.name, got, c.time, c.want)
		if (len(warnings) > 0) != c.warns {
			t.Errorf("%s: warnings %q", c.name, warnings)
		}
		p := filepath.Join(t.TempDir(), "siem.log")
		if err := os.WriteFile(p, []byte(c.line+"\n"+c.line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		evs, st := parseFile(t, p, &Options{TZ: time.UTC, Year: 2026})
		if st.Format != "leef" || st.Parsed != 2 || st.Raw != 0 {
			t.Fatalf("%s: stats %+v %v", c.name, st, st.RawReasons)
		}
		want(t, c.name, evs[1], c.time, c.want)
		if st.ZoneAssumed != c.zoneAssumed {
			t.Errorf("%s: zone assumed %v, want %v", c.name, st.ZoneAssumed, c.zoneAssumed)
		}
	}
	// No time anywhere: a clear error, the line kept raw.
	err := (LEEF{}).NewDecoder(&Options{TZ: time.UTC}).Line(1, []byte("LEEF:1.0|V|P|1|e|devTime=someday\tsrc=10.0.0.1"), func(*event.Event, string) {})
	if err == nil {
		t.Error("a line with no readable time parsed")
	}
}
