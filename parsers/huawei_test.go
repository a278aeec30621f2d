package parsers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestHuaweiDeviceClock: the header's time names no zone; a session's
// epoch seconds teach its offset, and the records without epochs that
// follow are read at it (said once); before any epoch they are read in
// --tz and the file says its zone was assumed.
func TestHuaweiDeviceClock(t *testing.T) {
	const deny = `<190>Mar 15 2026 00:40:00 USG %%01POLICY/6/POLICYDENY(l):vsys=public, protocol=6, source-ip=198.51.100.77, source-port=51544, destination-ip=203.0.113.10, destination-port=3389, rule-name=default.`
	const teardown = `<190>2026-03-15 00:50:41 USG %%01SECLOG/6/SESSION_TEARDOWN(l):IPVer=4,Protocol=tcp,SourceIP=10.10.1.20,DestinationIP=31.216.145.5,SourcePort=60100,DestinationPort=443,BeginTime=1773528641,EndTime=1773532241,SendPkts=1,SendBytes=500,RcvPkts=1,RcvBytes=60,CloseReason=tcp-fin.`
	const later = `<190>Mar 15 2026 00:53:10 USG %%01POLICY/6/POLICYDENY(l):vsys=public, protocol=6, source-ip=198.51.100.78, source-port=51545, destination-ip=203.0.113.10, destination-port=22, rule-name=default.`
	for _, c := range []struct {
		name        string
		lines       []string
		times       []string
		zoneAssumed bool
	}{
		{"epoch first", []string{teardown, later}, []string{"2026-03-14T23:50:41Z", "2026-03-14T23:53:10Z"}, false},
		{"a deny before any epoch", []string{deny, teardown, later}, []string{"2026-03-15T00:40:00Z", "2026-03-14T23:50:41Z", "2026-03-14T23:53:10Z"}, true},
	} {
		p := filepath.Join(t.TempDir(), "usg.log")
		if err := os.WriteFile(p, []byte(strings.Join(c.lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		evs, st := parseFile(t, p, &Options{TZ: time.UTC})
		if st.Format != "huawei" || st.Raw != 0 || len(evs) != len(c.times) {
			t.Fatalf("%s: %+v %v", c.name, st, st.RawReasons)
		}
		for i, want := range c.times {
			if got := evs[i].Timestamp.Format(time.RFC3339); got != want {
				t.Errorf("%s: event %d at %s, want %s", c.name, i, got, want)
			}
		}
		if st.ZoneAssumed != c.zoneAssumed {
			t.Errorf("%s: zone assumed %v, want %v", c.name, st.ZoneAssumed, c.zoneAssumed)
		}
		if !strings.Contains(strings.Join(st.Warnings, "\n"), "UTC+1") {
			t.Errorf("%s: warnings %q do not give the offset learnt", c.name, st.Warnings)
		}
	}
	// No time at all: a clear error, the line kept raw.
	if err := (Huawei{}).NewDecoder(&Options{TZ: time.UTC}).Line(1, []byte(`<190>USG %%01POLICY/6/POLICYDENY(l):vsys=public.`), func(*event.Event, string) {}); err == nil {
		t.Error("a record with no time parsed")
	}
}

// TestHuaweiDeviceName: the header's host is the device that logged, also
// behind a relay's header; a header without one names none.
func TestHuaweiDeviceName(t *testing.T) {
	const body = ` %%10SHELL/5/SHELL_LOGOUT: admin-reseau@system logged out from 10.10.1.5.`
	for _, c := range []struct{ header, want string }{
		{"<189>Mar 14 23:52:33 2026 FW-MAIRIE", "FW-MAIRIE"},
		{"Mar 14 23:56:01 collecteur <189>Mar 14 23:52:33 2026 FW-MAIRIE", "FW-MAIRIE"},
		{"<189>Mar 14 23:52:33 2026", ""},
		{"<189>2026-03-14 23:52:33+01:00", ""},
	} {
		var got []string
		err := (Huawei{}).NewDecoder(&Options{TZ: time.UTC}).Line(1, []byte(c.header+body), func(ev *event.Event, _ string) {
			got = append(got, ev.Str("observer.name"))
		})
		if err != nil || len(got) != 1 || got[0] != c.want {
			t.Errorf("%q: observer.name %q (%v), want %q", c.header, got, err, c.want)
		}
	}
}
