package parsers

import "testing"

// TestFortiFieldOf: every key the decoder reads finds its number, and no
// other key finds one (a vendor key read as one of ours would move a value
// into an ECS field).
func TestFortiFieldOf(t *testing.T) {
	for f, name := range fortiFieldNames {
		if name != "" && fortiFieldOf(name) != fortiField(f) {
			t.Errorf("%q: field %d, want %d", name, fortiFieldOf(name), f)
		}
	}
	for _, k := range []string{"", "vd", "sessionid", "srcintfrole", "Date", "dat", "datex", "srcip ", "sentbytes",
		"rcvdbyt", "poluuid", "crscore", "lanin", "wanout", "appcat", "x", "\xff", "durations", "dstip6"} {
		if f := fortiFieldOf(k); f != 0 {
			t.Errorf("%q read as %q", k, fortiFieldNames[f])
		}
	}
}
