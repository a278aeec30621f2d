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
