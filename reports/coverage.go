package reports

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/parsers"
)

// coverage tracks which kind of log covers which period, per day, so that a
// report can say what is not covered instead of assuming it is.
type coverage struct {
	kinds map[string]*kindCoverage
}

type kindCoverage struct {
	events      int64
	first, last time.Time
	days        map[int32]int64 // unix day → events
	hours       map[int32]bool  // unix hours with an event
	lastHour    int32           // the last hour added (events come in time order)
}

func newCoverage() *coverage { return &coverage{kinds: map[string]*kindCoverage{}} }

// sourceKind classes an event by what it can tell: firewall session logs with
// byte counts, packet logs, mail, Windows.
func sourceKind(ev *event.Event) string {
	ds, ot := ev.Str(event.FieldDataset), ev.Str("observer.type")
	switch {
	case ds == "squid", ds == "w3c_proxy.access", ot == "proxy":
		// A web proxy's requests: who sent how much to which site, not
		// yet counted in the ledger (verdict.go says so); first, for a web
		// gateway's requests come in CEF too.
		return "proxy"
	case strings.HasPrefix(ds, "fortinet."), ds == "stormshield", strings.HasPrefix(ds, "sonicwall."), strings.HasPrefix(ds, "cisco."), ds == "panw.panos", ds == "zeek.conn", ds == "suricata.flow",
		ds == "cef", ds == "leef", ds == "checkpoint":
		return "firewall" // session logs with byte counts
	case ds == "netfilter", ds == "pf":
		// Packet logs: they show connections but not how much data left.
		return "firewall-packets"
	case ot == "dhcp":
		return "dhcp"
	case ot == "vpn":
		return "vpn" // a VPN concentrator's logins and tunnels
	case ot == "firewall":
		// Every firewall format marks itself; those that log packets or
		// connections without volume say so in a tag.
		if hasValue(ev, "tags", "packet_log_no_session_volume") {
			return "firewall-packets"
		}
		return "firewall"
	case ds == "postfix", ds == "exim", ds == "sendmail", strings.HasPrefix(ds, "microsoft.exchange"), ds == "fortinet_fortimail.log", ds == "cisco_secure_email_gateway.log":
		return "mail"
	case ev.Str("winlog.channel") != "":
		return "windows"
	}
	return ds
}

func (c *coverage) observe(kind string, t time.Time) {
	k := c.kinds[kind]
	if k == nil {
		k = &kindCoverage{days: map[int32]int64{}, hours: map[int32]bool{}, lastHour: math.MinInt32}
		c.kinds[kind] = k
	}
	k.events++
	if t.IsZero() {
		return
	}
	if k.first.IsZero() || t.Before(k.first) {
		k.first = t
	}
	if t.After(k.last) {
		k.last = t
	}
	k.days[int32(t.Unix()/86400)]++
	if h := int32(t.Unix() / 3600); h != k.lastHour {
		k.hours[h], k.lastHour = true, h
	}
}

// nearHour reports an event of the kind in the hour given or either next
// to it: the tolerance for two devices' clocks and for a record written
// when a session ends rather than when it carried its bytes.
func (c *coverage) nearHour(kind string, h int32) bool {
	k := c.kinds[kind]
	return k != nil && (k.hours[h-1] || k.hours[h] || k.hours[h+1])
}

// rng is the period a kind of log covers, nil if it has no dated event.
func (c *coverage) rng(kind string) *Range {
	k := c.kinds[kind]
	if k == nil || k.first.IsZero() {
		return nil
	}
	return &Range{Start: k.first, End: k.last}
}

// gaps lists whole UTC days inside a kind's range with no event at all.
func (c *coverage) gaps(kind string) []Range {
	k := c.kinds[kind]
	if k == nil || k.first.IsZero() {
		return nil
	}
	var out []Range
	d0, d1 := int32(k.first.Unix()/86400), int32(k.last.Unix()/86400)
	for d := d0 + 1; d < d1; d++ {
		if k.days[d] > 0 {
			continue
		}
		start := d
		for d+1 < d1 && k.days[d+1] == 0 {
			d++
		}
		out = append(out, Range{Start: time.Unix(int64(start)*86400, 0).UTC(), End: time.Unix(int64(d+1)*86400, 0).UTC()})
	}
	return out
}

func (c *coverage) list() []Coverage {
	var out []Coverage
	for name, k := range c.kinds {
		out = append(out, Coverage{Source: name, Events: k.events, Range: c.rng(name), Gaps: c.gaps(name)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

// logLabel names a kind of log inside the report's sentences, in both
// languages: "le journal du pare-feu" / "aucun journal de pare-feu" /
// "the firewall log".
type logLabel struct{ du, de, en string }

var (
	firewallLog = logLabel{"du pare-feu", "de pare-feu", "firewall"}
	proxyLog    = logLabel{"du proxy web", "de proxy web", "web proxy"}
	bothLogs    = logLabel{"du pare-feu et du proxy web", "de pare-feu ni de proxy web", "firewall and web proxy"}
)

// of is the label after "journal" (fr) or before "log" (en).
func (l logLabel) of(lang string) string { return tr(lang, l.du, l.en) }

// none is the label after "aucun journal" (fr) or before "log" (en).
func (l logLabel) none(lang string) string { return tr(lang, l.de, l.en) }

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// coverageCaveats says what the logs do not cover that matters to the
// answer: the part of the incident window without firewall log, days
// without it, the case period it does not reach.
func (a *Analyzer) coverageCaveats(fw *Coverage, log logLabel, w *Range, r *Report) []string {
	lang := a.o.Lang
	the, no := log.of(lang), log.none(lang)
	if fw == nil || fw.Range == nil {
		return nil
	}
	var out []string
	const slack = 5 * time.Minute
	if w != nil {
		if fw.Range.Start.After(w.Start.Add(slack)) && fw.Range.Start.Before(w.End) {
			out = append(out, fmt.Sprintf(tr(lang, "Le journal %s commence le %s, %s après le début de l'intrusion (%s) : les transferts antérieurs sont inconnus.",
				"The %s log starts at %s, %s after the intrusion began (%s): transfers before it are unknown."), the, fmtT(fw.Range.Start), humanDuration(fw.Range.Start.Sub(w.Start)), fmtT(w.Start)))
		}
		if fw.Range.End.Add(slack).Before(w.End) && fw.Range.End.After(w.Start) {
			out = append(out, fmt.Sprintf(tr(lang, "Le journal %s s'arrête le %s, %s avant la dernière activité de l'intrus (%s) : les transferts postérieurs sont inconnus.",
				"The %s log ends at %s, %s before the last attacker activity (%s): transfers after it are unknown."), the, fmtT(fw.Range.End), humanDuration(w.End.Sub(fw.Range.End)), fmtT(w.End)))
		}
	}
	for _, g := range fw.Gaps {
		if w == nil || (!g.End.Before(w.Start) && !g.Start.After(w.End)) {
			out = append(out, fmt.Sprintf(tr(lang, "Aucun journal %s du %s au %s.", "No %s log from %s to %s."), no, fmtT(g.Start), fmtT(g.End)))
		}
	}
	if w == nil {
		const hour = time.Hour
		if r.Case.TimeRange.Start.Add(hour).Before(fw.Range.Start) {
			out = append(out, fmt.Sprintf(tr(lang, "Aucun journal %s entre %s et %s : cette période n'est pas couverte.", "No %s log between %s and %s: that period is not covered."), no, fmtT(r.Case.TimeRange.Start), fmtT(fw.Range.Start)))
		}
		if fw.Range.End.Add(hour).Before(r.Case.TimeRange.End) {
			out = append(out, fmt.Sprintf(tr(lang, "Aucun journal %s entre %s et %s : cette période n'est pas couverte.", "No %s log between %s and %s: that period is not covered."), no, fmtT(fw.Range.End), fmtT(r.Case.TimeRange.End)))
		}
	}
	return out
}

func humanDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < time.Hour {
		return fmt.Sprintf("%d min", int(d.Minutes()))
	}
	return fmt.Sprintf("%d h %02d", int(d.Hours()), int(d.Minutes())%60)
}

// lostRecordsReasons names the evidence files with records lost (a
// damaged log: chunks zeroed, a file cut short): whatever those records
// held — an intruder's logon, a wiped stretch of a Security log — the
// answer cannot see.
func lostRecordsReasons(files []EvidenceFile, window *Range, lang string) []string {
	var out []string
	for _, f := range files {
		if f.Lost == 0 {
			continue
		}
		s := fmt.Sprintf(tr(lang, "%s : %d enregistrement(s) perdu(s), illisibles (fichier endommagé : zones effacées ou coupées, détail dans le manifeste) ; ce qu'ils contenaient échappe à cette analyse.",
			"%s: %d record(s) lost, unreadable (a damaged file: stretches wiped or cut off, detailed in the manifest); what they held escapes this analysis."), f.Path, f.Lost)
		var when []string
		during := false
		for i, l := range f.LostWhen {
			if window != nil && (l.Before.IsZero() || l.Before.After(window.Start)) && (l.After.IsZero() || l.After.Before(window.End)) {
				during = true
			}
			if i < 3 {
				when = append(when, lostStretchText(l, lang))
			}
		}
		if len(f.LostWhen) > len(when) {
			when = append(when, "…")
		}
		if len(when) > 0 {
			s += fmt.Sprintf(tr(lang, " Écrits : %s.", " Written: %s."), strings.Join(when, tr(lang, " ; ", "; ")))
		}
		if during {
			s += tr(lang, " Une partie peut dater de la fenêtre de l'incident : effacement délibéré (anti-forensique) ou dommage, à examiner.",
				" Some may date from the incident window: deliberate wiping (anti-forensics) or damage, to be looked into.")
		}
		out = append(out, s)
	}
	return out
}

// readErrorReasons names the evidence files whose reading stopped on an
// error (a compressed stream damaged or cut, a failing disk): what
// followed is unread and uncounted — a damaged gzip stream cannot be read
// past its damage — and a stream whose checksum fails gave lines that may
// be altered, wherever they were.
func readErrorReasons(files []EvidenceFile, lang string) []string {
	var out []string
	for _, f := range files {
		if f.ReadError == "" {
			continue
		}
		out = append(out, fmt.Sprintf(tr(lang, "%s : lecture arrêtée par une erreur (%s) après %d événement(s) ; la suite du fichier, s'il en reste, échappe à cette analyse, et des lignes lues peuvent être altérées (fichier endommagé : à comparer avec une autre copie du journal).",
			"%s: reading stopped on an error (%s) after %d event(s); the rest of the file, if any, escapes this analysis, and lines read from it may be altered (a damaged file: to be compared with another copy of the log)."), f.Path, f.ReadError, f.Events))
	}
	return out
}

// lostStretchText says how many records were lost together and between
// which times they were written.
func lostStretchText(l parsers.LostStretch, lang string) string {
	switch {
	case !l.After.IsZero() && !l.Before.IsZero():
		return fmt.Sprintf(tr(lang, "%d entre %s et %s", "%d between %s and %s"), l.Records, fmtT(l.After), fmtT(l.Before))
	case !l.After.IsZero():
		return fmt.Sprintf(tr(lang, "%d après %s", "%d after %s"), l.Records, fmtT(l.After))
	}
	return fmt.Sprintf(tr(lang, "%d avant %s", "%d before %s"), l.Records, fmtT(l.Before))
}
