package rules

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// outboundRule is the firewall rule the correlations under test count.
const outboundRule = `title: outbound
name: out
logsource: {category: firewall}
detection:
  sel: {network.direction: outbound}
  condition: sel
---
`

// refAlert is one alert of the reference evaluation: its events' ids.
type refAlert []string

// referenceValueSum evaluates a value_sum correlation the plain way: per
// group, the hits within the span, added up again at every hit, the window
// emptied after an alert.
func referenceValueSum(evs []*event.Event, span time.Duration, gte float64) []refAlert {
	type h struct {
		t  time.Time
		n  float64
		id string
	}
	groups := map[string][]h{}
	var alerts []refAlert
	for _, e := range evs {
		k := e.Str("source.ip") + "\x00" + e.Str("destination.ip")
		hits := groups[k]
		for len(hits) > 0 && e.Timestamp.Sub(hits[0].t) > span {
			hits = hits[1:]
		}
		n, _ := e.Fields["source.bytes"].(float64)
		hits = append(hits, h{e.Timestamp, n, e.Str(event.FieldID)})
		var sum float64
		for _, x := range hits {
			sum += x.n
		}
		if sum >= gte {
			a := refAlert{}
			for _, x := range hits {
				a = append(a, x.id)
			}
			alerts = append(alerts, a)
			hits = nil
		}
		groups[k] = hits
	}
	return alerts
}

// TestValueSumMeansTheSum: the running sums a value_sum window keeps give
// the alerts of adding the hits up again at every hit — whole byte counts,
// fractions, sums past 2^53 where float64 rounds — on random streams with
// hits sliding out, alerts, and quiet hours; and groups that went quiet are
// dropped as the stream moves on.
func TestValueSumMeansTheSum(t *testing.T) {
	for _, tc := range []struct {
		name  string
		gte   float64
		value func(r *rand.Rand) float64
	}{
		{"bytes", 1e9, func(r *rand.Rand) float64 { return float64(r.Int64N(400_000_000)) }},
		{"fractions", 1e3, func(r *rand.Rand) float64 { return float64(r.IntN(4000)) / 7 }},
		{"past 2^53", 2e16, func(r *rand.Rand) float64 { return float64(r.Int64N(1<<52)) + 0.5*float64(r.IntN(2)) }},
		{"mixed", 1e9, func(r *rand.Rand) float64 {
			if r.IntN(10) == 0 {
				return 0.25
			}
			return float64(r.Int64N(400_000_000))
		}},
	} {
		for seed := uint64(1); seed <= 6; seed++ {
			t.Run(fmt.Sprintf("%s/%d", tc.name, seed), func(t *testing.T) {
				rs, err := ParseRules([]byte(outboundRule+`title: big upload
correlation: {type: value_sum, rules: [out], group-by: [source.ip, destination.ip], timespan: 1h, condition: {field: source.bytes, gte: `+fmt.Sprint(tc.gte)+`}}
`), "inline")
				if err != nil {
					t.Fatal(err)
				}
				e := Compile(rs)
				r := rand.New(rand.NewPCG(seed, 99))
				at := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
				var evs []*event.Event
				for i := range 3000 {
					at = at.Add(time.Duration(r.IntN(120)) * time.Second)
					if r.IntN(400) == 0 {
						at = at.Add(3 * time.Hour) // a quiet night
					}
					x := event.New()
					x.Timestamp = at
					x.Fields["event.dataset"] = "fortinet.firewall"
					x.Fields["network.direction"] = "outbound"
					x.Fields["source.ip"] = fmt.Sprintf("10.0.0.%d", r.IntN(5))
					x.Fields["destination.ip"] = fmt.Sprintf("203.0.113.%d", r.IntN(4))
					x.Fields["source.bytes"] = tc.value(r)
					x.Fields[event.FieldID] = fmt.Sprintf("e%d", i)
					evs = append(evs, x)
					e.Process(x)
				}
				want := referenceValueSum(evs, time.Hour, tc.gte)
				var f *Finding
				for _, x := range e.Findings() {
					if x.Title == "big upload" {
						f = x
					}
				}
				if len(want) < 3 {
					t.Fatalf("the stream gave %d alerts: too few to test", len(want))
				}
				if f == nil || f.Count != len(want) {
					t.Fatalf("got %v alerts, want %d", f, len(want))
				}
				var wantIDs []string
				for _, a := range want {
					wantIDs = append(wantIDs, a...)
				}
				var gotIDs []string
				for _, ev := range f.Evidence {
					gotIDs = append(gotIDs, ev.EventID)
				}
				if n := len(gotIDs); n+f.Truncated != len(wantIDs) || strings.Join(gotIDs, " ") != strings.Join(wantIDs[:n], " ") {
					t.Fatalf("evidence %v (+%d), want %v", gotIDs, f.Truncated, wantIDs)
				}
				seen := map[string]time.Time{}
				for _, x := range evs {
					seen[x.Str("source.ip")+"\x00"+x.Str("destination.ip")+"\x00"] = x.Timestamp
				}
				last := evs[len(evs)-1].Timestamp
				for k := range e.corrs[0].groups {
					if last.Sub(seen[k]) > time.Hour {
						t.Errorf("group %q kept after it went quiet", k)
					}
				}
			})
		}
	}
}

// TestUndatedEventsDoNotCorrelate: an event without a time (a line kept
// raw) cannot be placed in a timespan: it neither counts towards nor sets
// off a correlation.
func TestUndatedEventsDoNotCorrelate(t *testing.T) {
	rs, err := ParseRules([]byte(outboundRule+`title: three in ten minutes
correlation: {type: event_count, rules: [out], group-by: [source.ip], timespan: 10m, condition: {gte: 3}}
`), "inline")
	if err != nil {
		t.Fatal(err)
	}
	e := Compile(rs)
	at := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	for i, ts := range []time.Time{at, at.Add(time.Minute), {}, at.Add(2 * time.Minute).Add(-time.Second)} {
		x := event.New()
		x.Timestamp = ts
		x.Fields["event.dataset"] = "fortinet.firewall"
		x.Fields["network.direction"] = "outbound"
		x.Fields["source.ip"] = "10.0.0.1"
		x.Fields[event.FieldID] = fmt.Sprintf("e%d", i)
		e.Process(x)
		if i == 2 {
			for _, f := range e.Findings() {
				if f.Title == "three in ten minutes" {
					t.Fatalf("two dated events and an undated one set it off: %+v", f)
				}
			}
		}
	}
	var n int
	for _, f := range e.Findings() {
		if f.Title == "three in ten minutes" {
			n = f.Count
		}
	}
	if n != 1 {
		t.Errorf("three dated events: %d alerts, want 1", n)
	}
}

// TestUndatedEventsLeaveFindingTimes: a rule that matches a line kept raw
// (no time) as well as dated events says when from the dated ones only.
func TestUndatedEventsLeaveFindingTimes(t *testing.T) {
	rs, err := ParseRules([]byte("title: mega\nlogsource: {category: firewall}\ndetection:\n  sel: {destination.domain|contains: mega}\n  condition: sel\n"), "inline")
	if err != nil {
		t.Fatal(err)
	}
	e := Compile(rs)
	at := time.Date(2025, 3, 14, 22, 0, 0, 0, time.UTC)
	for i, ts := range []time.Time{{}, at, at.Add(time.Hour)} {
		x := event.New()
		x.Timestamp = ts
		x.Fields["event.dataset"] = "fortinet.firewall"
		x.Fields["destination.domain"] = "g.api.mega.co.nz"
		x.Fields[event.FieldID] = fmt.Sprintf("e%d", i)
		e.Process(x)
	}
	f := e.Findings()
	if len(f) != 1 || f[0].Count != 3 || !f[0].First.Equal(at) || !f[0].Last.Equal(at.Add(time.Hour)) {
		t.Fatalf("findings %+v", f)
	}
	for _, o := range f[0].Occurrences {
		if o.First.IsZero() {
			t.Errorf("an occurrence without a time: %+v", f[0].Occurrences)
		}
	}
}
