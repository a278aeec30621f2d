package reports

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestFirstContactInOnePass: the reference learnt while findRoutine reads
// each service's pairs once equals what a pass of its own finds — every
// counted pair's bytes on its service's first day, the services in order —
// on random services, pairs whose first session starts after their first
// hour's end (a log's start and end times crossed) included.
func TestFirstContactInOnePass(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 43))
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	fw := &Range{Start: start, End: start.Add(12 * 24 * time.Hour)}
	startHour := int32(start.Unix() / 3600)
	type pair struct {
		p       pairFlow
		counted bool
	}
	for trial := range 2000 {
		var svcs []*service
		var pairs [][]pair
		for i := range 1 + rng.IntN(8) {
			s := &service{key: string(rune('a' + i)), knownGood: rng.IntN(10) == 0, first: math.MaxInt64}
			var ps []pair
			for range 1 + rng.IntN(5) {
				var p pairFlow
				h := startHour + int32(rng.IntN(12*24))
				for range 1 + rng.IntN(6) {
					b := flowBucket{hour: h, sessions: 1, bytes: int64(1 + rng.IntN(1000))}
					b.start = int64(h)*3600e9 + rng.Int64N(3600e9)
					if rng.IntN(20) == 0 {
						b.start += int64(rng.IntN(3)) * nsPerDay
					}
					p.buckets = append(p.buckets, b)
					h += int32(1 + rng.IntN(30))
				}
				s.first = min(s.first, p.firstStart())
				ps = append(ps, pair{p, rng.IntN(4) != 0})
			}
			svcs, pairs = append(svcs, s), append(pairs, ps)
		}
		before := fw.Start.Add(time.Duration(2+rng.IntN(10)) * 24 * time.Hour)

		one := &judge{fw: fw, before: before}
		var fc firstContactDay
		for i, s := range svcs {
			fc.reset()
			for _, pr := range pairs[i] {
				fc.add(&pr.p, pr.counted)
			}
			one.firstContact(s, fc.most[fc.day])
		}

		own := &judge{fw: fw, before: before}
		from := fw.Start.Add(baselineDay).UnixNano()
		for i, s := range svcs {
			if s.first < from || s.first >= before.UnixNano() || s.knownGood {
				continue
			}
			day := int32(s.first / nsPerDay)
			for _, pr := range pairs[i] {
				if !pr.counted {
					continue
				}
				var v int64
				for _, b := range pr.p.buckets {
					if dayOf(b.hour) == day {
						v += b.bytes
					}
				}
				own.firstContact(s, v)
			}
		}
		if one.firstContactMax != own.firstContactMax || one.firstContactTo != own.firstContactTo ||
			one.firstContact2 != own.firstContact2 || one.firstContact2For != own.firstContact2For {
			t.Fatalf("trial %d: in one pass %d to %q (then %d to %q), in a pass of its own %d to %q (then %d to %q)", trial,
				one.firstContactMax, one.firstContactTo, one.firstContact2, one.firstContact2For,
				own.firstContactMax, own.firstContactTo, own.firstContact2, own.firstContact2For)
		}
	}
}
