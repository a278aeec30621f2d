package reports

import (
	"fmt"
	"sort"
	"time"
	_ "time/tzdata" // the zones below, on a machine without a zone database
)

// A device that writes local time without its zone changes offset twice a
// year where summer time is kept: a log spanning the change is off by one
// offset before it and another after, and no fixed offset reads all of it
// right — the firewall's clock, read at the offset most of its moments
// agree with, would leave the rest an hour off. So, besides fixed offsets,
// the clock check tries the rules of the zones that keep summer time, one
// zone per set of rules (Europe/Paris stands for every country on Central
// European Time's rules, as Europe/London for Western European Time's);
// one is claimed only when its offsets change within the moments compared
// and it explains more of them than any fixed offset does.
var summerTimeZones = []string{
	"Europe/Paris", "Europe/London", "Europe/Helsinki",
	"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
	"America/Halifax", "America/St_Johns", "America/Miquelon",
	"America/Santiago", "Australia/Sydney", "Australia/Adelaide", "Pacific/Auckland",
}

// bestSummerZone is the zone whose rules explain the most of the
// firewall's moments against ref, with how many, when one changes offset
// within them; "" when none does. refOff says which side wrote its wall
// clock without a zone: the other log (read in --tz: Windows through
// NXLog, classic syslog mail), else the firewall.
func (c *clockCheck) bestSummerZone(ref *clockRef, refOff bool) (zone string, score int, offsets [2]int64) {
	for _, name := range summerTimeZones {
		loc, err := time.LoadLocation(name)
		if err != nil {
			continue
		}
		// inZone is the moment a wall clock read as UTC meant in loc.
		lo, hi := int64(1<<62), int64(-1<<62)
		inZone := func(w time.Time) time.Time {
			at := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), loc)
			_, off := at.Zone()
			lo, hi = min(lo, int64(off)), max(hi, int64(off))
			return at
		}
		var moved map[string][]time.Time
		if refOff {
			moved = map[string][]time.Time{}
			for _, m := range c.fw {
				times, ok := ref.times[m.key]
				if _, seen := moved[m.key]; seen || !ok {
					continue
				}
				mt := make([]time.Time, len(times))
				for i, t := range times {
					mt[i] = inZone(t)
				}
				// Falling back an hour, a wall clock runs the same hour twice.
				sort.Slice(mt, func(i, j int) bool { return mt[i].Before(mt[j]) })
				moved[m.key] = mt
			}
		}
		n := 0
		for _, m := range c.fw {
			times, at := ref.times[m.key], m.at
			if refOff {
				times = moved[m.key]
			} else if len(times) > 0 {
				// The firewall's time is its wall clock read as UTC: the
				// same wall clock in the zone is the moment it meant.
				at = inZone(m.at)
			}
			if len(times) == 0 {
				continue
			}
			before, after := m.window()
			from, to := at.Add(-before), at.Add(after)
			j := sort.Search(len(times), func(k int) bool { return !times[k].Before(from) })
			if j < len(times) && !times[j].After(to) {
				n++
			}
		}
		if lo != hi && n > score {
			zone, score, offsets = name, n, [2]int64{lo, hi}
		}
	}
	return zone, score, offsets
}

// zoneReadName is how the report names the zone the zoneless logs were
// read in: an IANA name, or an offset.
func zoneReadName(zone string, offsetSeconds int64) string {
	if zone != "" {
		return zone
	}
	return ZoneName(offsetSeconds)
}

// zoneInferredReason says that the zoneless logs were read in a zone whose
// summer time the firewall's clock followed.
func zoneInferredReason(first ClockCheck, lang string) string {
	return fmt.Sprintf(tr(lang,
		"Heures : les journaux qui n'indiquent pas de fuseau (ceux %s parmi eux) ont été lus dans le fuseau %s : leur horloge suit l'heure d'été de ce fuseau (UTC%s et UTC%s selon la saison) ; lus ainsi, %d des %d %s, contre %d au mieux à un décalage fixe (%d sans décalage) ; les heures de ce rapport en tiennent compte. Un autre pays aux mêmes règles d'heure d'été donnerait les mêmes heures. --tz l'emporte sur ce choix.",
		"Times: the logs that name no zone (%s among them) were read in the zone %s: their clock follows that zone's summer time (UTC%s and UTC%s by season); so read, %d of %d %s, against %d at best at one fixed offset (%d without); this report's times are so read. Another country on the same summer-time rules would give the same times. --tz overrides this choice."),
		clockName(first.Source, lang), first.Zone, ZoneName(first.ZoneOffsets[0]), ZoneName(first.ZoneOffsets[1]), first.ZoneAgreeing, first.Moments, clockMoments(first, lang),
		first.Agreeing, first.AtZero)
}
