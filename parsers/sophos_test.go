package parsers

import (
	"testing"
	"time"
)

// TestSophosUTMProxyRequest: the UTM's web proxy requests are a proxy's
// (observer.type proxy: covered and hunted as such), its packet filter's
// lines a firewall's.
func TestSophosUTMProxyRequest(t *testing.T) {
	evs, st := parseFile(t, "testdata/formats/sophos.log", &Options{TZ: time.UTC})
	if st.Format != "sophos-utm" && st.Format != "sophos-xg" {
		t.Fatalf("format %s", st.Format)
	}
	seen := 0
	for _, ev := range evs {
		if ev.Str("event.dataset") != "sophos.utm" {
			continue
		}
		want := "firewall"
		if ev.Str("sophos.utm.sub") == "http" {
			want = "proxy"
			seen++
		}
		if got := ev.Str("observer.type"); got != want {
			t.Errorf("line %v (%s): observer.type %q, want %q", ev.Fields["evidence.line"], ev.Str("sophos.utm.sub"), got, want)
		}
	}
	if seen == 0 {
		t.Fatal("no web proxy request in the test log")
	}
}

// TestSophosXGWebRequests: a Content Filtering record is a request inside
// a connection the Firewall log counts whole: its counters stay vendor
// fields, and the sum of source.bytes is the connection's once.
func TestSophosXGWebRequests(t *testing.T) {
	lines := `Mar 14 23:12:01 xg device_name="SFW" timestamp="2025-03-14T23:12:01+0100" log_id="050901616001" log_type="Content Filtering" log_component="HTTP" log_subtype="Allowed" user_name="j.martin" src_ip="10.20.1.15" dst_ip="31.216.145.5" protocol="TCP" src_port=51600 dst_port=443 sent_bytes=524000000 recv_bytes=1836 domain="gfs270n102.userstorage.mega.co.nz" url="https://gfs270n102.userstorage.mega.co.nz/ul/Xk2a9" category="Online Storage"
Mar 14 23:12:09 xg device_name="SFW" timestamp="2025-03-14T23:12:09+0100" log_id="010101600001" log_type="Firewall" log_component="Firewall Rule" log_subtype="Allowed" duration=912 fw_rule_id="12" src_ip="10.20.1.15" dst_ip="31.216.145.5" protocol="TCP" src_port=51600 dst_port=443 bytes_sent=524288000 bytes_received=1048576 con_event="Stop" con_id="3153941760"
`
	st, evs := parseText(t, "xg.log", lines)
	if st.Format != "sophos-xg" || st.Parsed != 2 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "web", evs[0], "2025-03-14T22:12:01Z", map[string]any{"source.bytes": nil, "destination.bytes": nil,
		"sophos.xg.bytes_sent": "524000000", "sophos.xg.bytes_received": "1836", "event.category": []string{"web", "network"}})
	want(t, "connection", evs[1], "2025-03-14T22:12:09Z", map[string]any{"source.bytes": int64(524288000), "destination.bytes": int64(1048576)})
}
