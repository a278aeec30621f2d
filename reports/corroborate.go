package reports

import (
	"fmt"
	"time"
)

// A time written without its zone was read in UTC unless the analyst gave
// one (or the clock check inferred it); its true moment may then lie
// anywhere the world's zones put it: UTC−12 to UTC+14 means up to 14 h
// before the reading or 12 h after it.
const (
	zoneBefore = 14 * time.Hour
	zoneAfter  = 12 * time.Hour
)

// corroborate looks for collection or a transfer tool tied to an entry's
// sources (host, address, accounts) in the day before and during it. When
// the only such activity comes from logs naming no zone and no zone was
// given, an activity that may fall there in some zone corroborates, said as
// uncertain in order (a town's Windows logs kept in local time otherwise
// read as UTC put the collection after the mail it fed).
func (a *Analyzer) corroborate(info entryInfo, acts []activity, e LedgerEntry, window *Range) entryInfo {
	lang := a.o.Lang
	from, to := e.FirstSeen.Add(-24*time.Hour), e.LastSeen.Add(time.Hour)
	if window != nil {
		info.inWindow = !e.LastSeen.Before(window.Start) && !e.FirstSeen.After(window.End.Add(episodeGap))
	}
	resolved := false
	for _, s := range e.Sources {
		resolved = resolved || s.Host != ""
	}
	if ac, ok := a.collectionFor(acts, e, from, to, false); ok {
		info.corroborated, info.corrWhy = true, a.corroboration(ac, len(e.Sources) > 0)
		return info
	}
	// A source no evidence ties to a host or account: collection during the
	// same incident window corroborates, by time only.
	if !resolved && len(e.Users) == 0 && info.inWindow {
		for _, ac := range acts {
			if ac.collects() && !ac.first.After(to) && !ac.last.Before(window.Start) {
				info.corroborated, info.byTimeOnly = true, true
				info.corrWhy = fmt.Sprintf(tr(lang, "« %s » sur %s (%s) pendant la même fenêtre", "\"%s\" on %s (%s) in the same window"), findingTitle(ac.finding, lang), orDash(ac.host), fmtT(ac.first))
				return info
			}
		}
	}
	if a.zoneUnknown() {
		if ac, ok := a.collectionFor(acts, e, from.Add(-zoneAfter), to.Add(zoneBefore), true); ok {
			info.corroborated, info.zoneUncertain = true, true
			info.corrWhy = a.corroboration(ac, len(e.Sources) > 0) + tr(lang,
				", heure lue en UTC faute de fuseau dans son journal : son ordre avec l'envoi n'est pas établi (--tz le fixerait)",
				", its time read in UTC for want of a zone in its log: its order with the transfer is not established (--tz would settle it)")
			return info
		}
	}
	return info
}

// collectionFor is the first collection or transfer tool tied to the
// entry's sources, or to its accounts when it has no source, between t1 and
// t2; zoneless keeps only activity read from logs naming no zone.
func (a *Analyzer) collectionFor(acts []activity, e LedgerEntry, t1, t2 time.Time, zoneless bool) (activity, bool) {
	fits := func(ac activity) bool { return ac.collects() && (!zoneless || a.readZoneless(ac)) }
	for _, s := range e.Sources {
		for _, ac := range a.activityFor(acts, s.IP, s.Host, e.Users, t1, t2) {
			if fits(ac) {
				return ac, true
			}
		}
	}
	if len(e.Sources) == 0 {
		for _, ac := range a.activityFor(acts, "", "", e.Users, t1, t2) {
			if fits(ac) {
				return ac, true
			}
		}
	}
	return activity{}, false
}

// corroboration names an activity that corroborates an entry: on a host
// for an entry with sources, by an account otherwise.
func (a *Analyzer) corroboration(ac activity, onHost bool) string {
	lang := a.o.Lang
	if onHost {
		return fmt.Sprintf(tr(lang, "« %s » sur %s (%s, %s)", "\"%s\" on %s (%s, %s)"), findingTitle(ac.finding, lang), orDash(ac.host), orDash(ac.user), fmtT(ac.first))
	}
	return fmt.Sprintf(tr(lang, "« %s » par %s (%s)", "\"%s\" by %s (%s)"), findingTitle(ac.finding, lang), orDash(ac.user), fmtT(ac.first))
}

// zoneUnknown says that some events were read without a zone that the
// analyst gave or the clock check inferred.
func (a *Analyzer) zoneUnknown() bool { return !a.zoneGiven && len(a.zonelessFiles) > 0 }

// readZoneless says that every event behind an activity's finding that the
// finding lists comes from a file read without a zone.
func (a *Analyzer) readZoneless(ac activity) bool {
	if ac.finding == nil || len(ac.finding.Evidence) == 0 {
		return false
	}
	for _, ev := range ac.finding.Evidence {
		if !a.zonelessFiles[ev.File] {
			return false
		}
	}
	return true
}
