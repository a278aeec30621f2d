package reports

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Routine by recurrence (baselines.go): a pair's active hours joined into
// occurrences of a job, and whether they come back at a regular period.

// occurrence of a pair's job: active hours less than episodeJoin apart.
type occurrence struct {
	start, end      time.Time
	bytes, sessions int64
	fromHour        int32
	toHour          int32
}

func pairOccurrences(p *pairFlow) []occurrence {
	var out []occurrence
	for _, b := range p.buckets {
		s, e := time.Unix(0, b.start).UTC(), time.Unix(0, b.end).UTC()
		if n := len(out); n > 0 && b.hour-out[n-1].toHour <= episodeJoin {
			o := &out[n-1]
			o.bytes += b.bytes
			o.sessions += int64(b.sessions)
			o.toHour = b.hour
			if s.Before(o.start) {
				o.start = s
			}
			if e.After(o.end) {
				o.end = e
			}
			continue
		}
		out = append(out, occurrence{start: s, end: e, bytes: b.bytes, sessions: int64(b.sessions), fromHour: b.hour, toHour: b.hour})
	}
	return out
}

// routinePattern is a recurring job found in a pair's occurrences.
type routinePattern struct {
	period     time.Duration
	median     int64
	departures []int // occurrences far above the usual volume
	text       string
}

// detectRoutine finds a regular recurrence present from the start of the
// firewall log.
func (j *judge) detectRoutine(occ []occurrence) (routinePattern, bool) {
	var rp routinePattern
	n := len(occ)
	if n < 2 || j.fw == nil {
		return rp, false
	}
	var gaps []time.Duration
	for i := 1; i < n; i++ {
		gaps = append(gaps, occ[i].start.Sub(occ[i-1].start))
	}
	p := medianDuration(gaps)
	if p < time.Hour {
		return rp, false
	}
	// Jobs start at a clock time: two hours of drift is generous for a
	// daily or weekly job; faster jobs get a quarter of their period.
	tol := 2 * time.Hour
	if p < 20*time.Hour {
		tol = p / 4
	}
	missing := 0
	for _, g := range gaps {
		k := math.Round(float64(g) / float64(p))
		if k < 1 || absDur(g-time.Duration(k)*p) > tol {
			return rp, false
		}
		missing += int(k) - 1
	}
	if missing*2 > n-1 {
		return rp, false
	}
	// Present from the start: the first occurrence the log could show is
	// there (one missed run is allowed to a job seen five times or more).
	lead := p + tol
	if n >= 5 {
		lead = 2*p + tol
	}
	if occ[0].start.Sub(j.fw.Start) > lead {
		return rp, false
	}
	var vols []int64
	for _, o := range occ {
		vols = append(vols, o.bytes)
	}
	m := medianInt(vols)
	if n == 2 && max(vols[0], vols[1]) > routineSpread*min(vols[0], vols[1]) {
		return rp, false // two runs of one job are alike; these are not
	}
	for i, o := range occ {
		if o.bytes > routineSpread*m && o.bytes-m >= j.o.LargeBytes {
			rp.departures = append(rp.departures, i)
		}
	}
	if len(rp.departures)*3 > n {
		return rp, false
	}
	rp.period, rp.median = p, m
	rp.text = j.patternText(occ, rp)
	return rp, true
}

func (j *judge) patternText(occ []occurrence, rp routinePattern) string {
	days := float64(rp.period) / float64(24*time.Hour)
	var every string
	switch {
	case math.Abs(days-1) < 0.1:
		every = tr(j.lang, "chaque jour", "every day")
	case math.Abs(days-7) < 0.3:
		every = tr(j.lang, "chaque semaine", "every week")
	case math.Abs(days-math.Round(days)) < 0.1 && days >= 2:
		every = fmt.Sprintf(tr(j.lang, "tous les %.0f jours", "every %.0f days"), days)
	default:
		every = fmt.Sprintf(tr(j.lang, "toutes les %.0f h", "every %.0f h"), rp.period.Hours())
	}
	lo, hi := int64(math.MaxInt64), int64(0)
	dep := map[int]bool{}
	for _, i := range rp.departures {
		dep[i] = true
	}
	// Clock range of the starts, relative to the first so that a job around
	// midnight reads 23:40–00:20, not 00:20–23:40.
	var ref time.Time
	var early, late time.Duration
	for i, o := range occ {
		if dep[i] {
			continue
		}
		lo, hi = min(lo, o.bytes), max(hi, o.bytes)
		if ref.IsZero() {
			ref = o.start
		}
		d := clockDiff(ref, o.start)
		early, late = min(early, d), max(late, d)
	}
	first, last := ref.Add(early), ref.Add(late)
	clock := ""
	if math.Abs(days-math.Round(days)) < 0.1 && days >= 1 {
		clock = fmt.Sprintf(tr(j.lang, ", début entre %s et %s UTC", ", starting %s–%s UTC"), first.Format("15:04"), last.Format("15:04"))
	}
	return fmt.Sprintf(tr(j.lang, "%s%s, %s à %s par occurrence, %d occurrences", "%s%s, %s to %s each time, %d occurrences"),
		every, clock, HumanBytes(lo, j.lang), HumanBytes(hi, j.lang), len(occ))
}

// clockDiff is b's time of day minus a's, in (-12h, 12h].
func clockDiff(a, b time.Time) time.Duration {
	da := time.Duration(a.Hour())*time.Hour + time.Duration(a.Minute())*time.Minute + time.Duration(a.Second())*time.Second
	db := time.Duration(b.Hour())*time.Hour + time.Duration(b.Minute())*time.Minute + time.Duration(b.Second())*time.Second
	d := db - da
	for d > 12*time.Hour {
		d -= 24 * time.Hour
	}
	for d <= -12*time.Hour {
		d += 24 * time.Hour
	}
	return d
}

func medianDuration(v []time.Duration) time.Duration {
	s := append([]time.Duration(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func medianInt(v []int64) int64 {
	s := append([]int64(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// percentile95 of volumes (the maximum when there are fewer than 20).
func percentile95(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]int64(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) < 20 {
		return s[len(s)-1]
	}
	return s[int(math.Ceil(0.95*float64(len(s))))-1]
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

const nsPerDay = int64(24 * time.Hour)

func dayOf(hour int32) int32 { return hour / 24 }
