package parsers

import (
	"fmt"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// zoneless reads the times a format writes without their zone (a
// forwarder's local time) in the analyst's --tz: each event says which
// zone it was read in, and the file says so once, with how to change it.
type zoneless struct {
	tz     *time.Location
	warn   func(string)
	warned bool
	taken  *bool // Options.zoneTaken
}

func newZoneless(o *Options) zoneless {
	tz := o.TZ
	if tz == nil {
		tz = time.UTC
	}
	return zoneless{tz: tz, warn: o.Warn, taken: o.zoneTaken}
}

// mark notes the zone on ev; what says which time had none, whose zone
// the analyst should give instead.
func (z *zoneless) mark(ev *event.Event, what, whose string) {
	ev.Fields["event.timezone"] = z.tz.String()
	if z.taken != nil {
		*z.taken = true
	}
	if !z.warned && z.warn != nil {
		z.warned = true
		z.warn(fmt.Sprintf("%s: read in %s — pass --tz with %s zone if that is wrong", what, z.tz, whose))
	}
}

// parseISOZoned reads an ISO 8601 time, in tz when it has no zone; zoned
// says whether it had one.
func parseISOZoned(s string, tz *time.Location) (t time.Time, zoned bool, err error) {
	if t, err = parseISO(s, tz); err != nil {
		return t, false, err
	}
	// A time whose zone is written reads the same in a zone an hour off.
	_, off := t.In(tz).Zone()
	other, _ := parseISO(s, time.FixedZone("", off+3600))
	return t, other.Equal(t), nil
}
