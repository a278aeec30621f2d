package parsers

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
)

// flat turns Elastic's nested expected documents into dotted names.
func flat(prefix string, v any, out map[string]any) {
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flat(p, x, out)
		}
		return
	}
	out[prefix] = v
}

func asString(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		if len(x) == 1 {
			return asString(x[0])
		}
		return fmt.Sprint(x...)
	}
	return fmt.Sprint(v)
}

// TestElasticPairs: for every line of the */elastic/ pairs, our addresses,
// ports, bytes, user, mail addresses, action and timestamp equal Elastic's.
func TestElasticPairs(t *testing.T) {
	compared := []string{"source.ip", "source.port", "source.bytes", "destination.ip", "destination.port", "destination.bytes",
		"destination.nat.ip", "user.name", "event.action", "email.to.address", "email.sender.address", "client.ip", "server.ip"}
	for _, pair := range []struct{ dir, log, format string }{
		{"firewall/stormshield/elastic", "test-firewall.log", "stormshield"},
		{"mail/exchange/elastic", "test-messagetracking.log", "exchange"},
	} {
		dir := corpus.Dir(t, pair.dir)
		b, err := os.ReadFile(filepath.Join(dir, pair.log+"-expected.json"))
		if err != nil {
			t.Fatal(err)
		}
		var exp struct {
			Expected []map[string]any `json:"expected"`
		}
		if err := json.Unmarshal(b, &exp); err != nil {
			t.Fatal(err)
		}
		all, st := parseFile(t, filepath.Join(dir, pair.log), &Options{TZ: time.UTC})
		var evs []*event.Event // one per line; Exchange's joined message events are checked apart
		joined := 0
		for _, ev := range all {
			if ev.Str("tags") == "exchange_message_joined" {
				joined++
				continue
			}
			evs = append(evs, ev)
		}
		if pair.format == "exchange" && joined != 5 {
			t.Errorf("exchange: %d joined message events, want 5 (one per distinct message id)", joined)
		}
		if st.Format != pair.format || st.Raw != 0 {
			t.Fatalf("%s: format %s, raw %d %v", pair.log, st.Format, st.Raw, st.RawReasons)
		}
		if len(evs) != len(exp.Expected) {
			t.Fatalf("%s: %d events, Elastic has %d", pair.log, len(evs), len(exp.Expected))
		}
		for i, e := range exp.Expected {
			want := map[string]any{}
			flat("", e, want)
			ev := evs[i]
			wt, _ := time.Parse(time.RFC3339Nano, want["@timestamp"].(string))
			if !ev.Timestamp.Equal(wt) {
				t.Errorf("%s line %d: @timestamp %s, want %s", pair.log, i+1, ev.Timestamp, wt)
			}
			for _, f := range compared {
				w, ok := want[f]
				if !ok {
					continue
				}
				got := ev.Fields[f]
				if gs, ok := got.([]string); ok && len(gs) == 1 {
					got = gs[0]
				}
				if got == nil || !sameValue(asString(w), fmt.Sprint(got)) {
					t.Errorf("%s line %d: %s = %v, Elastic %v", pair.log, i+1, f, got, w)
				}
			}
		}
	}
}

// sameValue compares text, and addresses by value (Elastic keeps
// "2a02:cf40::0000:1234:5678:9abc" as written; exfiltrace stores the canonical form).
func sameValue(a, b string) bool {
	if a == b {
		return true
	}
	x, err1 := netip.ParseAddr(a)
	y, err2 := netip.ParseAddr(b)
	return err1 == nil && err2 == nil && x == y
}
