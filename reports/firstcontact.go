package reports

import "math"

// The first-contact reference is the most any internal host sent to a
// service on the day it first contacted it, during the baseline (after its
// first day): how much "new" normally weighs here. A transfer to a new
// destination is judged against it (the largest but the service's own).

// firstContact weighs service s, whose pairs sent at most most on its
// first day (routine pairs aside), into the reference.
func (j *judge) firstContact(s *service, most int64) {
	if j.fw == nil || s.knownGood || s.first < j.fw.Start.Add(baselineDay).UnixNano() || s.first >= j.before.UnixNano() {
		return
	}
	switch {
	case most > j.firstContactMax && s.key == j.firstContactTo:
		j.firstContactMax = most
	case most > j.firstContactMax:
		j.firstContact2, j.firstContact2For = j.firstContactMax, j.firstContactTo
		j.firstContactMax, j.firstContactTo = most, s.key
	case most > j.firstContact2 && s.key != j.firstContactTo:
		j.firstContact2, j.firstContact2For = most, s.key
	}
}

// firstContactRef is how much other services weighed on their first day.
func (j *judge) firstContactRef(key string) int64 {
	if key == j.firstContactTo {
		return j.firstContact2
	}
	return j.firstContactMax
}

// firstContactDay learns, as findRoutine reads a service's pairs, the most
// one pair sent on the service's first day: the reference then costs no
// pass of its own over every pair (a fifth of the judgement's time once the
// ledger is on disk). The service's first day is the earliest first day of
// its pairs, known only after the last: what each pair sent on every day
// up to the earliest seen so far is kept, the later days dropped as the
// earliest moves back.
type firstContactDay struct {
	day  int32           // the earliest first day of the service's pairs so far
	most map[int32]int64 // a day up to day → the most one counted pair sent on it
}

func (f *firstContactDay) reset() {
	f.day = math.MaxInt32
	if f.most == nil {
		f.most = map[int32]int64{}
	}
	clear(f.most)
}

// add reads one pair of the service; counted says whether its volume
// weighs (a routine job's does not).
func (f *firstContactDay) add(p *pairFlow, counted bool) {
	if d := int32(p.firstStart() / nsPerDay); d < f.day {
		f.day = d
		for k := range f.most {
			if k > d {
				delete(f.most, k)
			}
		}
	}
	if !counted {
		return
	}
	// Buckets are in hour order: a day's are together.
	var day int32
	var sent int64
	have := false
	keep := func() {
		if have && sent > f.most[day] {
			f.most[day] = sent
		}
	}
	for _, b := range p.buckets {
		d := dayOf(b.hour)
		if d > f.day {
			break
		}
		if !have || d != day {
			keep()
			day, sent, have = d, 0, true
		}
		sent += b.bytes
	}
	keep()
}
