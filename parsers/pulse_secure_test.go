package parsers

import (
	"reflect"
	"testing"
)

// TestPulseSecureDetails: what the golden file does not hold — a tunnel's
// address, a closed connection's bytes, roles, the virtual system, the
// appliance's own events without an account — and lines that are not
// Connect Secure's.
func TestPulseSecureDetails(t *testing.T) {
	evs, st := parseFile(t, "testdata/formats/pulse-secure.log", &Options{Year: 2025})
	if st.Parsed != 14 || st.Raw != 0 {
		t.Fatalf("%+v", st)
	}
	byCode := map[string]map[string]any{}
	for _, ev := range evs {
		if c := ev.Str("event.code"); c != "" && byCode[c] == nil {
			byCode[c] = ev.Fields
		}
	}
	for code, want := range map[string]map[string]any{
		"NWC23464": {"pulse.assigned_ip": "10.200.0.5", "pulse.client_hostname": "KALI", "user.roles": []string{"Staff", "VPN"}},
		"NWC23465": {"pulse.assigned_ip": "10.200.0.5", "pulse.ivs": "Default Network", "user.name": "j.martin"},
		"NWC24324": {"pulse.bytes_read": int64(123456), "pulse.bytes_written": int64(9876543210), "pulse.connection": "TUN-VPN"},
		"SYS31048": {"user.name": nil, "user.roles": nil, "source.ip": "127.0.0.1"},
	} {
		for k, v := range want {
			if got := byCode[code][k]; !reflect.DeepEqual(got, v) {
				t.Errorf("%s: %s = %#v, want %#v", code, k, got, v)
			}
		}
	}
	for _, l := range []string{
		`id=firewall time="2025-03-14 23:04:01" fw="SN" startime="2025-03-14 23:00:01" src=10.10.1.20 logtype="connection"`,
		`2025-03-14 23:04:01 - some text - [x] y`,
		`<134>id=firewall sn=0017C5A1B2C3 time="2025-03-14 23:00:05" fw=198.51.100.7 pri=6 c=1024 m=97 msg="Web site hit"`,
	} {
		if (PulseSecure{}).matchLine(l) {
			t.Errorf("taken for Connect Secure: %s", l)
		}
	}
}
