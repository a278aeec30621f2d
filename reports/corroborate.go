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

// relativeShift is how far an activity may truly be from where it was read
// relative to a transfer (positive: later), when the log of either names no
// zone and no zone was given: the activity's own log (actZoneless), the
// transfer's (transferZoneless), or both (each in a zone of its own). ok is
// false when both were read in their zones.
func (a *Analyzer) relativeShift(actZoneless, transferZoneless bool) (lo, hi time.Duration, ok bool) {
	switch {
	case !a.zoneUnknown():
		return 0, 0, false
	case actZoneless && transferZoneless:
		return -zoneBefore, zoneBefore, true
	case actZoneless:
		return -zoneBefore, zoneAfter, true
	case transferZoneless:
		return -zoneAfter, zoneBefore, true
	}
	return 0, 0, false
}

// corroborate looks for collection or a transfer tool tied to an entry's
// sources (host, address, accounts) in the day before and during it. When
// the activity's log or the transfer's names no zone and no zone was
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
	if ac, ok := a.collectionFor(acts, e, from, to, nil); ok {
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
		transferZoneless := a.transferZoneless(e)
		fits := func(ac activity) bool {
			lo, hi, ok := a.relativeShift(a.readZoneless(ac), transferZoneless)
			return ok && !ac.first.Add(lo).After(to) && !ac.last.Add(hi).Before(from)
		}
		if ac, ok := a.collectionFor(acts, e, from.Add(-zoneBefore), to.Add(zoneBefore), fits); ok {
			info.corroborated, info.zoneUncertain = true, true
			info.corrWhy = a.corroboration(ac, len(e.Sources) > 0) + tr(lang,
				", heures lues en UTC faute de fuseau dans un des journaux : son ordre avec l'envoi n'est pas établi (--tz le fixerait)",
				", times read in UTC for want of a zone in one of the logs: its order with the transfer is not established (--tz would settle it)")
			return info
		}
	}
	return info
}

// mayMeet says whether a measuring log that misses the incident window as
// read may still cover part of it, the window's activity or the log being
// read without a zone (no zone given): then the answer is what that log
// saw, said with the doubt, not "insufficient data".
func (a *Analyzer) mayMeet(acts []activity, w *Range, meas *Coverage) bool {
	inWindow, zoneless := 0, 0
	for _, ac := range acts {
		if !ac.last.Before(w.Start) && !ac.first.After(w.End) {
			inWindow++
			if a.readZoneless(ac) {
				zoneless++
			}
		}
	}
	lo, hi, ok := a.relativeShift(inWindow > 0 && zoneless == inWindow, a.zonelessKinds[meas.Source])
	return ok && !w.Start.Add(lo).After(meas.Range.End) && !w.End.Add(hi).Before(meas.Range.Start)
}

// transferZoneless says that a ledger entry's times come from a log read
// without a zone: the mail log's for mail, else the firewall's or proxy's.
func (a *Analyzer) transferZoneless(e LedgerEntry) bool {
	if e.Channel == "email" {
		return a.zonelessKinds["mail"]
	}
	return a.zonelessKinds["firewall"] || a.zonelessKinds["proxy"]
}

// collectionFor is the first collection or transfer tool tied to the
// entry's sources, or to its accounts when it has no source, between t1 and
// t2 and, when given, that also fits.
func (a *Analyzer) collectionFor(acts []activity, e LedgerEntry, t1, t2 time.Time, also func(activity) bool) (activity, bool) {
	fits := func(ac activity) bool { return ac.collects() && (also == nil || also(ac)) }
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
