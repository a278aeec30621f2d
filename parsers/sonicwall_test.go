package parsers

import "testing"

// TestSonicWallWebSiteHits: a web site hit inside a connection keeps its
// sent/rcvd as vendor fields; the connection's closing record counts the
// bytes, once.
func TestSonicWallWebSiteHits(t *testing.T) {
	lines := `<134>id=firewall sn=0017C5A1B2C3 time="2025-03-14 23:00:05" fw=198.51.100.7 pri=6 c=1024 m=97 msg="Web site hit" n=1201 src=10.10.1.20:60200:X0 dst=31.216.145.5:443:X1 proto=tcp/https op=1 sent=228392011 rcvd=1836 result=200 dstname=gfs270n102.userstorage.mega.co.nz arg=/ul/Xk2a9
<134>id=firewall sn=0017C5A1B2C3 time="2025-03-14 23:04:00" fw=198.51.100.7 pri=6 c=262144 m=537 msg="Connection Closed" n=1202 src=10.10.1.20:60200:X0 dst=31.216.145.5:443:X1 proto=tcp/https sent=228401203 rcvd=9120 dstname=gfs270n102.userstorage.mega.co.nz
`
	st, evs := parseText(t, "sonicwall.log", lines)
	if st.Format != "sonicwall" || st.Parsed != 2 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "web site hit", evs[0], "", map[string]any{"source.bytes": nil, "destination.bytes": nil,
		"sonicwall.firewall.sent": "228392011", "url.path": "/ul/Xk2a9"})
	want(t, "connection closed", evs[1], "", map[string]any{"source.bytes": int64(228401203), "destination.bytes": int64(9120)})
}
