package reports

import (
	"fmt"
	"strings"
	"time"
)

// decide applies the verdict rules (README, "Verdict"). Every ledger entry
// is a transfer judged not routine (baselines.go); each is graded:
//
//   - confirmed: ≥ LargeBytes over the network (≥ LargeBytes/10 by mail) and
//     corroborated — collection (staging, mass reading) or a transfer tool
//     tied to its source host, address or account in the day before or
//     during it (0.95; 0.85 when the tie is by time only);
//   - likely: above its evidence-derived reference (new destination beyond
//     what first contacts weigh here, far above peers or its own past), or
//     ≥ LargeBytes during the incident window, or ≥ LargeBytes/10 of mail to
//     a flagged outside address (0.7);
//   - possible: any other ledger entry, or a transfer tool seen without a
//     matching volume (0.4).
//
// Without ledger entries: insufficient_data when no session log with byte
// counts exists, or none covers any of the incident window (0.3);
// no_evidence otherwise (0.7, 0.5 when parts of the window or of the case
// are not covered, 0.4 when the log meets the window only in some zone of
// a log naming none, or when large transfers are there from the log's first
// day, with nothing earlier to judge them). Missing coverage never hides a measured theft: it
// qualifies it in the reasons.
func (a *Analyzer) decide(r *Report, acts []activity, window *Range, intrusion bool) Verdict {
	lang := a.o.Lang
	large := a.o.LargeBytes
	v := Verdict{BytesOut: a.totalBytesOut(r.Exfiltration)}
	fw := findCoverage(r.Coverage, "firewall")
	noFirewall := fw == nil || fw.Range == nil
	// Without a firewall, a web proxy that logs what its clients sent
	// measures what went through it.
	meas, measLog := fw, firewallLog
	if pr := a.proxy.cov.rng("proxy"); noFirewall && pr != nil {
		meas, measLog = &Coverage{Source: "proxy", Range: pr, Gaps: a.proxy.cov.gaps("proxy")}, proxyLog
	}
	switch {
	case noFirewall && meas != nil:
		v.Missing = append(v.Missing, tr(lang, "journaux de pare-feu (ou Zeek, Suricata…) avec les octets par session : seul ce qui est passé par le proxy web est mesuré, pas ce qui l'a contourné",
			"firewall logs (or Zeek, Suricata…) with bytes per session: only what went through the web proxy is measured, not what bypassed it"))
	case noFirewall:
		v.Missing = append(v.Missing, tr(lang, "journaux de pare-feu (ou Zeek, Suricata…) avec les octets par session : les volumes sortis ne peuvent pas être mesurés",
			"firewall logs (or Zeek, Suricata…) with bytes per session: outbound volumes cannot be measured"))
	}
	if c := findCoverage(r.Coverage, "windows"); c == nil {
		v.Missing = append(v.Missing, tr(lang, "journaux Windows (Sécurité) des serveurs et postes : préparation d'archives, outils et comptes ne peuvent pas être vus",
			"Windows (Security) logs of servers and workstations: staging, tools and accounts cannot be seen"))
	}
	if c := findCoverage(r.Coverage, "mail"); c == nil {
		v.Missing = append(v.Missing, tr(lang, "journaux du serveur de messagerie : les envois de pièces jointes ne peuvent pas être comptés",
			"mail server logs: attachments sent out cannot be counted"))
	}
	if window != nil && intrusion {
		v.Reasons = append(v.Reasons, a.intrusionReason(acts, window))
	} else if window != nil {
		v.Reasons = append(v.Reasons, fmt.Sprintf(tr(lang, "Aucune intrusion dans les journaux : la fenêtre de l'incident (%s → %s) est celle des transferts anormaux et de la collecte qui les précède.",
			"No intrusion in the logs: the incident window (%s → %s) is that of the unusual transfers and the collection leading to them."), fmtT(window.Start), fmtT(window.End)))
	}
	caveats := a.coverageCaveats(meas, measLog, window, r)
	const (
		none = iota
		possible
		likely
		confirmed
	)
	level, conf := none, 0.0
	for i, e := range r.Exfiltration {
		info := a.info[i]
		grade := possible
		switch {
		case info.corroborated && ((e.Channel != "email" && e.Bytes >= large) || (e.Channel == "email" && e.Bytes >= large/10)):
			grade = confirmed
		case e.Channel != "email" && (info.strong || (info.inWindow && e.Bytes >= large)):
			grade = likely
		case e.Channel == "email" && e.Bytes >= large/10:
			grade = likely
		}
		c := map[int]float64{possible: 0.4, likely: 0.7, confirmed: 0.95}[grade]
		if grade == confirmed && (info.byTimeOnly || info.zoneUncertain || !sourcesResolved(e)) {
			c = 0.85
		}
		if grade > level || (grade == level && c > conf) {
			level, conf = grade, c
		}
		v.Reasons = append(v.Reasons, a.entryReason(e, info))
	}
	switch level {
	case confirmed:
		v.DataTaken = Confirmed
	case likely:
		v.DataTaken = Likely
	case possible:
		v.DataTaken = Possible
	}
	v.Confidence = conf
	if level == none {
		tools := toolActivity(acts)
		missesWindow := window != nil && meas != nil && meas.Range != nil && (meas.Range.End.Before(window.Start) || meas.Range.Start.After(window.End))
		switch {
		case meas == nil || meas.Range == nil:
			v.DataTaken, v.Confidence = InsufficientData, 0.3
			v.Reasons = append([]string{tr(lang, "Aucun journal de pare-feu (sessions avec octets) dans le dossier : les volumes sortis ne peuvent pas être mesurés (journaux manquants : pare-feu / firewall logs).",
				"No firewall log (sessions with bytes) in the case: outbound volumes cannot be measured (missing: firewall logs).")}, v.Reasons...)
		case missesWindow && !a.mayMeet(acts, window, meas):
			v.DataTaken, v.Confidence = InsufficientData, 0.3
			v.Reasons = append(v.Reasons, fmt.Sprintf(tr(lang, "Les journaux %s couvrent %s → %s, rien de la fenêtre de l'incident %s → %s (journaux manquants : pare-feu sur la période).",
				"%s logs cover %s → %s, none of the incident window %s → %s (missing: firewall logs for that period)."),
				tr(lang, measLog.de, capFirst(measLog.en)), fmtT(meas.Range.Start), fmtT(meas.Range.End), fmtT(window.Start), fmtT(window.End)))
		case len(tools) > 0:
			v.DataTaken, v.Confidence = Possible, 0.4
			hinted := map[string]bool{}
			var hints []string
			for _, t := range tools {
				v.Reasons = append(v.Reasons, fmt.Sprintf(tr(lang, "« %s » sur %s (%s, %s), sans volume sortant correspondant dans les journaux %s.",
					"\"%s\" on %s (%s, %s), with no matching outbound volume in the %s logs."), findingTitle(t.finding, lang), orDash(t.host), orDash(t.user), fmtT(t.first), measLog.none(lang)))
				if !hinted[strings.ToLower(t.host)] {
					hinted[strings.ToLower(t.host)] = true
					hints = append(hints, a.routineFromToolHost(r.Routine, t.host, lang)...)
				}
			}
			v.Reasons = append(v.Reasons, hints...)
		default:
			v.DataTaken, v.Confidence = NoEvidence, 0.7
			if len(caveats) > 0 || noFirewall {
				v.Confidence = 0.5
			}
			if missesWindow {
				v.Confidence = 0.4
				v.Reasons = append(v.Reasons, fmt.Sprintf(tr(lang, "Les journaux %s couvrent %s → %s et la fenêtre de l'incident, lue en UTC, est %s → %s : faute de fuseau dans un des journaux, ils n'en couvrent une partie que dans certains fuseaux (--tz le fixerait).",
					"%s logs cover %s → %s and the incident window, read in UTC, is %s → %s: a log naming no zone, they cover part of it only in some zones (--tz would settle it)."),
					tr(lang, measLog.de, capFirst(measLog.en)), fmtT(meas.Range.Start), fmtT(meas.Range.End), fmtT(window.Start), fmtT(window.End)))
			}
			unjudged, unjudgedBytes := noHistory(r.Routine)
			judged := len(r.Routine) - unjudged
			routine := tr(lang, " ; aucun gros transfert vu.", "; no large transfer seen.")
			switch {
			case judged > 0:
				routine = fmt.Sprintf(tr(lang, " ; les gros transferts vus sont routiniers (%d, listés à confirmer).",
					"; the large transfers seen are routine (%d, listed for confirmation)."), judged)
			case len(r.Routine) > 0:
				routine = "."
			}
			v.Reasons = append(v.Reasons, fmt.Sprintf(tr(lang, "Journaux %s présents du %s au %s : aucun envoi inhabituel (nouvelle destination, volume hors de la routine apprise, machine très au-dessus des autres)",
				"%s logs present from %s to %s: no unusual transfer (new destination, volume outside the learned routine, host far above its peers)"),
				tr(lang, measLog.de, capFirst(measLog.en)), fmtT(meas.Range.Start), fmtT(meas.Range.End))+routine)
			if unjudged > 0 {
				v.Confidence = min(v.Confidence, 0.4)
				v.Reasons = append(v.Reasons, unjudgedReason(unjudged, unjudgedBytes, measLog, lang))
			}
		}
	}
	switch {
	case level != none && noFirewall && meas != nil:
		v.Reasons = append(v.Reasons, tr(lang, "Aucun journal de pare-feu : seules les sorties passées par le proxy web sont mesurées, pas celles qui l'ont contourné (autre port, accès direct) ; les volumes ci-dessus ne comptent que les canaux journalisés.",
			"No firewall log: only what left through the web proxy is measured, not what bypassed it (another port, direct access); the volumes above count only the channels that were logged."))
	case level != none && noFirewall:
		v.Reasons = append(v.Reasons, tr(lang, "Aucun journal de pare-feu : les sorties par le réseau ne peuvent pas être mesurées ; les volumes ci-dessus ne comptent que les canaux journalisés (messagerie).",
			"No firewall log: what left over the network cannot be measured; the volumes above count only the channels that were logged (mail)."))
	}
	if p := findCoverage(r.Coverage, "proxy"); p != nil && p.Range != nil {
		v.Reasons = append(v.Reasons, a.proxyReason(p.Range))
	}
	v.Reasons = append(v.Reasons, caveats...)
	v.Reasons = append(v.Reasons, lostRecordsReasons(r.Evidence, window, lang)...)
	v.Reasons = append(v.Reasons, readErrorReasons(r.Evidence, lang)...)
	if len(r.Routine) > 0 && level != none {
		v.Reasons = append(v.Reasons, fmt.Sprintf(tr(lang, "%d transfert(s) volumineux jugé(s) routinier(s) laissé(s) hors du registre (voir « transferts routiniers », à confirmer).",
			"%d large transfer(s) judged routine left out of the ledger (see \"routine transfers\", please confirm)."), len(r.Routine)))
	}
	v.WouldChange = a.wouldChange(v.DataTaken, r, window)
	v.Summary = summarize(v, r, lang)
	return v
}

// noHistory counts the large transfers there from the first day of the
// log, and their bytes: nothing earlier could say whether they are routine.
func noHistory(routine []RoutineTransfer) (n int, bytes int64) {
	for _, rt := range routine {
		if rt.noHistory {
			n, bytes = n+1, bytes+rt.Bytes
		}
	}
	return n, bytes
}

// unjudgedReason says so: a "no evidence" resting on such transfers rests
// on nothing the log could show.
func unjudgedReason(n int, bytes int64, measLog logLabel, lang string) string {
	return fmt.Sprintf(tr(lang, "%d gros transfert(s) (%s en tout) sont présents dès le premier jour des journaux %s : rien d'antérieur ne permet de dire s'ils sont routiniers. Des journaux commençant quelques jours plus tôt permettraient d'en juger ; à défaut, les confirmer auprès des équipes.",
		"%d large transfer(s) (%s in all) are there from the first day of the %s logs: nothing earlier can tell whether they are routine. Logs starting a few days earlier would settle it; failing that, have them confirmed by the teams."),
		n, HumanBytes(bytes, lang), measLog.of(lang))
}

func findCoverage(cs []Coverage, kind string) *Coverage {
	for i := range cs {
		if cs[i].Source == kind {
			return &cs[i]
		}
	}
	return nil
}

func toolActivity(acts []activity) []activity {
	var out []activity
	for _, a := range acts {
		if a.has("attack.exfiltration") {
			out = append(out, a)
		}
	}
	return out
}

func sourcesResolved(e LedgerEntry) bool {
	if e.Channel == "email" {
		return len(e.Users) > 0
	}
	for _, s := range e.Sources {
		if s.Host == "" {
			return false
		}
	}
	return len(e.Sources) > 0
}

func (a *Analyzer) intrusionReason(acts []activity, w *Range) string {
	lang := a.o.Lang
	seen := map[string]bool{}
	var titles []string
	for _, ac := range acts {
		if ac.last.Before(w.Start) || ac.first.After(w.End) {
			continue
		}
		t := findingTitle(ac.finding, lang)
		if !seen[t] {
			seen[t] = true
			titles = append(titles, t)
		}
	}
	return fmt.Sprintf(tr(lang, "Intrusion du %s au %s : %s. Les volumes sont comparés aux jours qui précèdent.",
		"Intrusion from %s to %s: %s. Volumes are judged against the days before it."), fmtT(w.Start), fmtT(w.End), strings.Join(titles, " ; "))
}

func (a *Analyzer) entryReason(e LedgerEntry, info entryInfo) string {
	lang := a.o.Lang
	s := fmt.Sprintf(tr(lang, "%s envoyés vers %s (%s) du %s au %s, %d événements",
		"%s sent to %s (%s) from %s to %s, %d events"), HumanBytes(e.Bytes, lang), destName(e), channelName(lang, e.Channel), fmtT(e.FirstSeen), fmtT(e.LastSeen), e.Events)
	if e.Anomaly != "" {
		s += " — " + e.Anomaly
	}
	if info.corroborated {
		s += fmt.Sprintf(tr(lang, " ; corroboré par %s", "; corroborated by %s"), info.corrWhy)
	}
	if len(e.Users) > 0 {
		s += fmt.Sprintf(tr(lang, " ; compte(s) : %s", "; account(s): %s"), strings.Join(e.Users, ", "))
	}
	return s + "."
}

// wouldChange says what evidence would move the verdict.
func (a *Analyzer) wouldChange(verdict string, r *Report, w *Range) []string {
	lang := a.o.Lang
	var srcs []string
	for _, e := range r.Exfiltration {
		for _, s := range e.Sources {
			srcs = append(srcs, firstNonEmpty(s.Host, s.IP))
		}
	}
	period := ""
	if w != nil {
		period = fmt.Sprintf(" (%s → %s)", fmtT(w.Start), fmtT(w.End))
	}
	switch verdict {
	case Confirmed:
		return []string{tr(lang, "Les volumes sont des minimums : des journaux manquants (autres pare-feu, proxy, accès 4G) ne peuvent que les augmenter.",
			"The volumes are lower bounds: missing logs (other firewalls, proxies, mobile links) can only add to them.")}
	case Likely:
		return []string{fmt.Sprintf(tr(lang, "Les journaux Windows (4688 création de processus, 4663 accès aux fichiers) de %s montrant une archive ou un outil de transfert confirmeraient ; la preuve qu'il s'agit d'un transfert autorisé (sauvegarde, synchronisation) l'écarterait.",
			"Windows logs (4688 process creation, 4663 file access) of %s showing an archive or a transfer tool would confirm it; proof that it is a sanctioned transfer (backup, sync) would clear it."), strings.Join(uniq(srcs), ", "))}
	case Possible:
		return []string{tr(lang, "Des volumes plus importants vers ces destinations, ou une préparation d'archive sur les machines sources, rendraient le vol probable ; des journaux montrant un usage légitime l'écarteraient.",
			"Larger volumes to these destinations, or archive staging on the source hosts, would make theft likely; logs showing legitimate use would clear it.")}
	case NoEvidence:
		return []string{tr(lang, "Un canal non journalisé (autre accès Internet, proxy, messagerie en ligne, support amovible) échappe à cette analyse : ses journaux, s'ils existent, pourraient changer la réponse.",
			"A channel without logs here (another Internet link, a proxy, webmail, removable media) escapes this analysis: its logs, if any, could change the answer.")}
	}
	return []string{fmt.Sprintf(tr(lang, "Les journaux de pare-feu (ou de sessions réseau avec octets) couvrant la période%s permettraient de mesurer les sorties.",
		"Firewall logs (or network session logs with bytes) covering the period%s would let the outbound volumes be measured."), period)}
}

func destName(e LedgerEntry) string {
	switch {
	case e.Destination.Email != "":
		return e.Destination.Email
	case e.Destination.Domain != "" && e.Destination.IP == "":
		return e.Destination.Domain
	case e.Destination.Domain != "":
		return e.Destination.IP + " (" + e.Destination.Domain + ")"
	}
	return e.Destination.IP
}

func fmtT(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

func summarize(v Verdict, r *Report, lang string) string {
	fr := lang != "en"
	switch v.DataTaken {
	case NoEvidence:
		if v.Confidence < 0.7 {
			return tr(lang, "Aucun élément ne montre une sortie de données dans ce que couvrent les journaux ; ce qu'ils ne couvrent pas est dit dans les raisons.",
				"Nothing shows data leaving in what the logs cover; what they do not cover is said in the reasons.")
		}
		if fr {
			return "Aucun élément ne montre une sortie de données : les journaux couvrent la période et rien n'indique un vol."
		}
		return "Nothing shows data leaving: the logs cover the period and nothing points at theft."
	case InsufficientData:
		s := tr(lang, "Données insuffisantes pour conclure : il manque les journaux de pare-feu sur la période.", "Not enough data to conclude: firewall logs for the period are missing.")
		return s
	}
	var parts []string
	for _, e := range r.Exfiltration {
		src := []string{}
		for _, s := range e.Sources {
			if s.Host != "" {
				src = append(src, s.Host+" ("+s.IP+")")
			} else {
				src = append(src, s.IP)
			}
		}
		who := strings.Join(e.Users, ", ")
		if fr {
			p := fmt.Sprintf("%s vers %s depuis %s entre le %s et le %s UTC", HumanBytes(e.Bytes, lang), destName(e), strings.Join(src, ", "),
				e.FirstSeen.UTC().Format("02/01/2006 15:04"), e.LastSeen.UTC().Format("02/01/2006 15:04"))
			if who != "" {
				p += ", compte " + who
			}
			parts = append(parts, p)
		} else {
			p := fmt.Sprintf("%s to %s from %s between %s and %s UTC", HumanBytes(e.Bytes, lang), destName(e), strings.Join(src, ", "),
				e.FirstSeen.UTC().Format("2006-01-02 15:04"), e.LastSeen.UTC().Format("2006-01-02 15:04"))
			if who != "" {
				p += ", account " + who
			}
			parts = append(parts, p)
		}
	}
	head := map[string][2]string{
		Confirmed: {"Oui, des données ont été volées", "Yes, data was taken"},
		Likely:    {"Probablement, des données ont été volées", "Data was probably taken"},
		Possible:  {"Possiblement, des données sont sorties", "Data may have been taken"},
	}[v.DataTaken]
	i := 1
	if fr {
		i = 0
	}
	if len(parts) == 0 {
		if fr {
			return head[i] + " : des indices d'exfiltration existent mais aucun volume n'a pu être mesuré."
		}
		return head[i] + ": there are signs of exfiltration but no volume could be measured."
	}
	total := HumanBytes(v.BytesOut, lang)
	if fr {
		return fmt.Sprintf("%s : %s au total — %s.", head[i], total, strings.Join(parts, " ; "))
	}
	return fmt.Sprintf("%s: %s in all — %s.", head[i], total, strings.Join(parts, "; "))
}

// HumanBytes prints a byte count with its exact value, in SI units.
func HumanBytes(n int64, lang string) string {
	units := []string{"o", "ko", "Mo", "Go", "To"}
	if lang == "en" {
		units = []string{"B", "kB", "MB", "GB", "TB"}
	}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	s := fmt.Sprintf("%.1f %s", f, units[i])
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	if i == 0 {
		return fmt.Sprintf("%d %s", n, units[0])
	}
	return s
}

// totalBytesOut sums the ledger without counting a message twice when it
// went to several listed recipients.
func (a *Analyzer) totalBytesOut(ledger []LedgerEntry) int64 {
	var n int64
	seenMsg := map[string]bool{}
	for _, e := range ledger {
		if e.Channel != "email" {
			n += e.Bytes
			continue
		}
		r := a.mail.to[e.Destination.Email]
		if r == nil {
			continue
		}
		for _, m := range r.messages {
			if m.t.Before(e.FirstSeen) || m.t.After(e.LastSeen) || seenMsg[m.key] {
				continue
			}
			seenMsg[m.key] = true
			n += m.size
		}
	}
	return n
}

// routineFromToolHost says which transfers judged routine leave from the
// host a transfer tool ran on: the tool's upload may be one of them — a
// nightly run looks like a job, and read in the wrong zone it can seem to
// start before the intrusion did.
func (a *Analyzer) routineFromToolHost(routine []RoutineTransfer, host, lang string) []string {
	if host == "" {
		return nil
	}
	short := strings.ToLower(host)
	if i := strings.IndexByte(short, '.'); i > 0 {
		short = short[:i]
	}
	var out []string
	for _, rt := range routine {
		from := false
		for _, s := range rt.Sources {
			h := s.Host
			if lk, ok := a.links.hostAt(s.IP, rt.FirstSeen, rt.LastSeen); h == "" && ok {
				h = lk.To
			}
			h = strings.ToLower(h)
			if i := strings.IndexByte(h, '.'); i > 0 {
				h = h[:i]
			}
			from = from || h != "" && h == short
		}
		if !from {
			continue
		}
		to := rt.Destination.IP
		if rt.Destination.Domain != "" {
			to += " (" + rt.Destination.Domain + ")"
		}
		why := tr(lang, " Vérifier que c'est bien la routine qu'il paraît être.", " Check that it is the routine it looks like.")
		if a.zoneAssumed || a.zonelessKinds["firewall"] && !a.zoneGiven {
			why = tr(lang, " Des heures ont été lues dans un fuseau supposé : si l'horloge du pare-feu est locale, ce transfert peut être celui de l'outil (relancer avec --tz nommant le fuseau du pare-feu).",
				" Some times were read in an assumed zone: if the firewall's clock is local time, this transfer may be the tool's (rerun with --tz naming the firewall's zone).")
		}
		out = append(out, fmt.Sprintf(tr(lang, "Un transfert jugé routinier part de %s : %s vers %s du %s au %s, %d jour(s).%s",
			"A transfer judged routine leaves from %s: %s to %s from %s to %s, %d day(s).%s"),
			host, HumanBytes(rt.Bytes, lang), to, fmtT(rt.FirstSeen), fmtT(rt.LastSeen), rt.Days, why))
	}
	return out
}
