package parsers

import (
	"strings"
	"testing"
	"time"
)

// TestStormshieldAnalysisLogs: the web, plugin and ssl logs of a
// connection repeat bytes its connection log counts whole: they keep them
// under stormshield.* and carry no source.bytes, so the sum of
// source.bytes is the connection's once.
func TestStormshieldAnalysisLogs(t *testing.T) {
	lines := `id=firewall time="2025-03-14 23:00:05" fw="SN-MAIRIE" tz=+0100 startime="2025-03-14 23:00:01" pri=5 confid=01 slotlevel=2 ruleid=9 srcif="Ethernet1" srcifname="in" ipproto=tcp proto=https src=10.10.1.20 srcport=60200 dst=31.216.145.5 dstport=443 dstname=gfs270n102.userstorage.mega.co.nz user="jdupont" op="POST" result=200 arg="/ul/Xk2a9" sent=228392011 rcvd=1836 duration=4.00 action=pass cat_site="Online storage" logtype="web"
id=firewall time="2025-03-14 23:00:05" fw="SN-MAIRIE" tz=+0100 startime="2025-03-14 23:00:01" pri=5 confid=01 slotlevel=2 ruleid=9 ipproto=tcp proto=ssl src=10.10.1.20 srcport=60200 dst=31.216.145.5 dstport=443 sent=228395000 rcvd=4000 duration=240.00 action=pass logtype="plugin"
id=firewall time="2025-03-14 23:04:01" fw="SN-MAIRIE" tz=+0100 startime="2025-03-14 23:00:01" pri=5 confid=01 slotlevel=2 ruleid=9 ipproto=tcp proto=https src=10.10.1.20 srcport=60200 dst=31.216.145.5 dstport=443 dstname=gfs270n102.userstorage.mega.co.nz sent=228401203 rcvd=9120 duration=240.00 action=pass logtype="connection"
`
	st, evs := parseText(t, "sns.log", lines)
	if st.Format != "stormshield" || st.Parsed != 3 {
		t.Fatalf("stats %+v", st)
	}
	sum := sumSourceBytes(evs)
	if sum != 228401203 {
		t.Errorf("sum of source.bytes %d, want 228401203 (the connection log)", sum)
	}
	want(t, "web", evs[0], "", map[string]any{"source.bytes": nil, "destination.bytes": nil, "stormshield.sent": "228392011",
		"url.original": "/ul/Xk2a9", "user.name": "jdupont"})
	want(t, "plugin", evs[1], "", map[string]any{"source.bytes": nil, "stormshield.sent": "228395000"})
	want(t, "connection", evs[2], "", map[string]any{"source.bytes": int64(228401203), "destination.bytes": int64(9120)})
}

// TestStormshieldZones: tz= in its forms places the local time; a zone not
// read leaves it read in the zone given.
func TestStormshieldZones(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	for tz, want := range map[string]string{"+0100": "2025-03-14T22:00:01Z", "+01:00": "2025-03-14T22:00:01Z", "UTC": "2025-03-14T23:00:01Z",
		"": "2025-03-15T03:00:01Z", "?": "2025-03-15T03:00:01Z"} {
		kv := map[string]string{"time": "2025-03-14 23:00:01", "tz": tz}
		got, zoned, err := stormTime(kv, ny)
		if err != nil || got.Format(time.RFC3339) != want || zoned != (tz != "" && tz != "?") {
			t.Errorf("tz=%q: %v zoned %v (%v), want %s", tz, got, zoned, err, want)
		}
	}
}

// TestStormshieldKeptWithoutID: a record a collector kept without its
// leading id=firewall (time=, fw=, startime= and logtype= still there),
// bare or behind a syslog header, is read as the whole record is; lines of
// other devices with some of those keys are not taken for Stormshield.
// l_auth's return code says the outcome.
func TestStormshieldKeptWithoutID(t *testing.T) {
	records := []string{
		`time="2023-09-28 16:37:39" fw="SN12345678912345" tz=+0200 startime="2023-09-28 16:37:39" user="j.martin" src=185.220.101.4 domain="agglo.local" confid=1 ruleid=0 method="OPENVPN" error=3 msg="Authentication Failed" logtype="auth"`,
		`time="2023-09-28 16:38:02" fw="SN12345678912345" tz=+0200 startime="2023-09-28 16:38:02" user="j.martin" src=185.220.101.4 domain="agglo.local" confid=1 ruleid=0 method="OPENVPN" error=0 msg="User logged in" logtype="auth"`,
		`time="2023-09-28 17:02:11" fw="SN12345678912345" tz=+0200 startime="2023-09-28 16:58:01" pri=5 confid=01 slotlevel=2 ruleid=48 srcif="Ethernet3" srcifname="in" ipproto=tcp dstif="Ethernet2" dstifname="out" proto=https src=10.10.1.20 srcport=39618 srcportname=ephemeral_fw_tcp dst=31.216.145.5 dstport=443 dstportname=https ipv=4 sent=228392011 rcvd=1836 duration=250.00 action=pass logtype="connection"`,
	}
	var whole, kept string
	for _, r := range records {
		whole += "id=firewall " + r + "\n"
		kept += "<134>Sep 28 16:37:39 sns " + r + "\n"
	}
	_, want := parseText(t, "whole.log", whole)
	for _, text := range []string{strings.ReplaceAll(whole, "id=firewall ", ""), kept} {
		st, got := parseText(t, "kept.log", text)
		if st.Format != "stormshield" || st.Parsed != int64(len(records)) || len(got) != len(want) {
			t.Fatalf("%+v", st)
		}
		for i := range got {
			for _, k := range []string{"user.name", "source.ip", "destination.ip", "source.bytes", "event.outcome", "event.end", "observer.name"} {
				if got[i].Fields[k] != want[i].Fields[k] {
					t.Errorf("record %d: %s = %v, want %v", i, k, got[i].Fields[k], want[i].Fields[k])
				}
			}
			if !got[i].Timestamp.Equal(want[i].Timestamp) {
				t.Errorf("record %d: time %v, want %v", i, got[i].Timestamp, want[i].Timestamp)
			}
		}
	}
	for i, outcome := range []string{"failure", "success"} {
		if got := want[i].Str("event.outcome"); got != outcome {
			t.Errorf("auth record %d: outcome %q, want %q", i, got, outcome)
		}
	}
	if want[2].Fields["source.bytes"] != int64(228392011) {
		t.Errorf("connection: source.bytes %v", want[2].Fields["source.bytes"])
	}
	for _, l := range []string{
		`id=firewall time="2018-03-12 10:59:33" pri=6 fw=10.0.0.1 vpn=ive user=System realm="" roles="" type=mgmt proto= src=10.0.0.9 dst= dstname= msg="x"`,
		`time="2025-03-14 23:00:01" fw=x logtype=y`,
	} {
		if (Stormshield{}).matchLine(l) {
			t.Errorf("taken for Stormshield: %s", l)
		}
	}
}
