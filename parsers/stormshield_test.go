package parsers

import (
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
