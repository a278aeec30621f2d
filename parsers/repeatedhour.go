package parsers

import (
	"fmt"
	"time"
)

// repeatedHour places the stamps of the hour a zone's clocks show twice,
// when summer time ends (Europe/Paris: 02:00–02:59 on the last Sunday of
// October), that name no offset. Go reads such a wall time at its second
// pass; a log written through the change shows the hour once at summer
// time, then again after its clock went back. So a stamp of that hour is
// read at its first pass until the log's clock goes back within it, at
// its second after; the file says so, since a log starting inside the
// hour cannot tell which pass it is.
type repeatedHour struct {
	warn func(string)
	// last is the previous stamp's wall clock; back, that the clock went
	// back inside the repeated hour of that day.
	last time.Time
	back time.Time // the day whose hour was passed twice
}

// place returns t (read by Go in loc) at the pass its place in the log says.
func (r *repeatedHour) place(t time.Time, loc *time.Location) time.Time {
	if loc == nil || loc == time.UTC {
		return t
	}
	wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	prev := r.last
	r.last = wall
	_, off := t.Zone()
	_, before := t.Add(-3 * time.Hour).Zone()
	if before <= off {
		return t // no clock went back in the hours before t
	}
	first := t.Add(-time.Duration(before-off) * time.Second)
	if _, o := first.Zone(); o != before || first.In(loc).Hour() != t.Hour() || first.In(loc).Minute() != t.Minute() {
		return t // the wall time is shown once
	}
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if !prev.IsZero() && wall.Before(prev.Add(-time.Minute)) && prev.Sub(wall) < 2*time.Hour {
		r.back = day // the log's clock went back: the second pass
	}
	if r.warn != nil {
		r.warn(fmt.Sprintf("stamps of %s %02d:00–%02d:59, an hour %s's clocks showed twice when summer time ended, are read at its first pass until the log's clock goes back within it, then at its second",
			t.Format("2006-01-02"), t.Hour(), t.Hour(), loc))
	}
	if r.back.Equal(day) {
		return t
	}
	return first
}
