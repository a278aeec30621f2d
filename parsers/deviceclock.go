package parsers

import (
	"fmt"
	"time"
)

// deviceClock reads the times a firewall writes in its own local time
// without a zone (NetScreen's start_time and closing date, a Firebox's
// "(2025-03-14T23:41:02)"). A relay's header that names its zone, on a line
// that also holds the device's own time of the same moment, tells the
// device's offset from UTC: once a line shows it, the device's times are
// read at it rather than in --tz, and every later line that shows it
// updates it (summer time moves it). Each is said in the file's warnings.
type deviceClock struct {
	loc     *time.Location // --tz, until a line shows the offset
	off     time.Duration
	known   bool
	changes int
	warn    func(string)
	what    string // the device's times, as the warning names them
	o       *Options
}

func newDeviceClock(o *Options, what string) deviceClock {
	loc := o.TZ
	if loc == nil {
		loc = time.UTC
	}
	return deviceClock{loc: loc, warn: o.Warn, what: what, o: o}
}

// learn takes the device's offset from its wall-clock time (read as if UTC)
// and the same moment as a zoned header gives it: their difference to the
// quarter hour, when within two minutes of one.
func (c *deviceClock) learn(wall, at time.Time) {
	diff := wall.Sub(at)
	off := diff.Round(15 * time.Minute)
	if gap := diff - off; gap > 2*time.Minute || gap < -2*time.Minute || off > 14*time.Hour || off < -14*time.Hour {
		return
	}
	if c.known && off == c.off {
		return
	}
	first := !c.known
	c.off, c.known = off, true
	switch {
	case c.warn == nil:
	case first:
		c.warn(fmt.Sprintf("the device writes its own times (%s) at UTC%s, as the relay's dated header on the same lines shows; they are read at that offset, not in --tz's zone", c.what, fmtUTCOffset(off)))
	case c.changes < 3:
		c.changes++
		c.warn(fmt.Sprintf("the device's offset becomes UTC%s at %s (summer time?): its later times are read at it", fmtUTCOffset(off), at.UTC().Format(time.RFC3339)))
	}
}

// read reads a device time written in layout without a zone.
func (c *deviceClock) read(layout, s string) (time.Time, error) {
	if c.known {
		t, err := time.Parse(layout, s)
		return t.Add(-c.off), err
	}
	t, err := time.ParseInLocation(layout, s, c.loc)
	if err == nil {
		c.o.zoneRead()
	}
	return t.UTC(), err
}

// readISO reads a device time in ISO 8601: at its own zone when it names
// one, else as read does.
func (c *deviceClock) readISO(s string) (time.Time, error) {
	t, zoned, err := parseISOZoned(s, time.UTC)
	if err != nil || zoned {
		return t, err
	}
	if c.known {
		return t.Add(-c.off), nil
	}
	c.o.zoneRead()
	return parseISO(s, c.loc)
}

// learnISO is learn for an ISO 8601 device time; one naming its zone
// teaches nothing.
func (c *deviceClock) learnISO(s string, at time.Time) {
	if wall, zoned, err := parseISOZoned(s, time.UTC); err == nil && !zoned {
		c.learn(wall, at)
	}
}

// fmtUTCOffset writes an offset as "+2", "-3:30".
func fmtUTCOffset(off time.Duration) string {
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	s := fmt.Sprintf("%s%d", sign, int(off/time.Hour))
	if m := int(off % time.Hour / time.Minute); m != 0 {
		s += fmt.Sprintf(":%02d", m)
	}
	return s
}
