package reports

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/rules"
)

// decide applies the verdict rules (README, "Verdict"):
//
//   - insufficient_data: no firewall log covers the suspicious window (or the
//     case, when nothing is suspicious) — volumes cannot be measured;
//   - confirmed: ≥ LargeBytes sent to a destination not seen before the window,
//     and staging, mass access or an exfiltration tool found on a host;
//   - likely: ≥ LargeBytes to a new destination without host corroboration, or
//     large mail to outside addresses with host corroboration;
//   - possible: any exfiltration finding or ledger entry short of the above;
//   - no_evidence: the logs cover the period and nothing points at theft.
func decide(r *Report, found []*rules.Finding, window *Range, bytesOut int64, o Options) Verdict {
	fr := o.Lang != "en"
	tr := func(f, e string) string {
		if fr {
			return f
		}
		return e
	}
	v := Verdict{BytesOut: bytesOut}
	var fw *Coverage
	for i := range r.Coverage {
		if r.Coverage[i].Source == "firewall" {
			fw = &r.Coverage[i]
		}
	}
	hostEvidence := map[string]bool{}
	anyHost := false
	exfilFindings := 0
	for _, f := range found {
		if f.Level == "informational" {
			continue
		}
		if hasTag(f, "attack.exfiltration") {
			exfilFindings++
		}
		if len(f.Hosts) > 0 && (hasTag(f, "attack.collection") || hasTag(f, "attack.exfiltration")) {
			for _, h := range f.Hosts {
				hostEvidence[strings.ToLower(h)] = true
			}
			anyHost = true
			v.Reasons = append(v.Reasons, fmt.Sprintf(tr("%s sur %s (%s, %s)", "%s on %s (%s, %s)"),
				f.Title, strings.Join(f.Hosts, ", "), strings.Join(f.Users, ", "), f.First.UTC().Format("2006-01-02 15:04Z")))
		}
	}
	// Coverage first: without firewall logs over the suspicious window, volumes
	// are unknown. With nothing suspicious, firewall logs must at least exist;
	// periods of the case they do not cover are stated.
	need := window
	if need == nil && fw != nil && fw.Range != nil {
		need = fw.Range
	}
	if fw == nil || fw.Range == nil || fw.Range.Start.After(need.Start) || fw.Range.End.Before(need.End) {
		v.DataTaken, v.Confidence = InsufficientData, 0.3
		if fw == nil || fw.Range == nil {
			v.Reasons = append([]string{tr("Aucun journal de pare-feu dans le dossier : les volumes sortis ne peuvent pas être mesurés (journaux manquants : pare-feu / firewall logs).",
				"No firewall logs in the case: outbound volumes cannot be measured (missing: firewall logs).")}, v.Reasons...)
		} else {
			v.Reasons = append([]string{fmt.Sprintf(tr("Les journaux de pare-feu couvrent %s → %s, pas toute la fenêtre suspecte %s → %s (journaux manquants : pare-feu sur la période).",
				"Firewall logs cover %s → %s, not the whole suspicious window %s → %s (missing: firewall logs for that period)."),
				fmtT(fw.Range.Start), fmtT(fw.Range.End), fmtT(need.Start), fmtT(need.End))}, v.Reasons...)
		}
		for _, e := range r.Exfiltration {
			v.Reasons = append(v.Reasons, fmt.Sprintf(tr("Au moins %s sont sortis par %s vers %s.", "At least %s left by %s to %s."), HumanBytes(e.Bytes, o.Lang), e.Channel, destName(e)))
		}
		v.Summary = tr("Données insuffisantes pour conclure : il manque les journaux de pare-feu sur la période.",
			"Not enough data to conclude: firewall logs for the period are missing.")
		if len(r.Exfiltration) > 0 {
			v.Summary += " " + fmt.Sprintf(tr("Les journaux disponibles montrent déjà au moins %s sortis.", "The logs available already show at least %s out."), HumanBytes(bytesOut, o.Lang))
		}
		return v
	}
	var confirmed, likely []LedgerEntry
	for _, e := range r.Exfiltration {
		switch {
		case e.Channel != "email" && e.Bytes >= o.LargeBytes && !e.SeenBeforeIncident && sourcesCorroborated(e, hostEvidence, anyHost):
			confirmed = append(confirmed, e)
		case e.Channel != "email" && e.Bytes >= o.LargeBytes && !e.SeenBeforeIncident:
			likely = append(likely, e)
		case e.Channel == "email" && e.Bytes >= o.LargeBytes/10 && anyHost:
			likely = append(likely, e)
		}
	}
	for _, e := range r.Exfiltration {
		v.Reasons = append(v.Reasons, fmt.Sprintf(tr("%s envoyés vers %s (%s) du %s au %s, %d événements ; destination %s.", "%s sent to %s (%s) from %s to %s, %d events; destination %s."),
			HumanBytes(e.Bytes, o.Lang), destName(e), e.Channel, fmtT(e.FirstSeen), fmtT(e.LastSeen), e.Events,
			map[bool]string{true: tr("déjà vue avant l'incident", "seen before the incident"), false: tr("jamais vue avant l'incident", "never seen before the incident")}[e.SeenBeforeIncident]))
	}
	switch {
	case len(confirmed) > 0:
		v.DataTaken, v.Confidence = Confirmed, 0.95
		if !sourcesResolved(confirmed) {
			v.Confidence = 0.85
		}
	case len(likely) > 0:
		v.DataTaken, v.Confidence = Likely, 0.7
	case len(r.Exfiltration) > 0 || exfilFindings > 0:
		v.DataTaken, v.Confidence = Possible, 0.4
	default:
		v.DataTaken, v.Confidence = NoEvidence, 0.7
		const slack = time.Hour
		if gapStart := fw.Range.Start.Sub(r.Case.TimeRange.Start); gapStart > slack {
			v.Confidence = 0.5
			v.Reasons = append(v.Reasons, fmt.Sprintf(tr("Aucun journal de pare-feu entre %s et %s : cette période n'est pas couverte.", "No firewall log between %s and %s: that period is not covered."), fmtT(r.Case.TimeRange.Start), fmtT(fw.Range.Start)))
		}
		if gapEnd := r.Case.TimeRange.End.Sub(fw.Range.End); gapEnd > slack {
			v.Confidence = 0.5
			v.Reasons = append(v.Reasons, fmt.Sprintf(tr("Aucun journal de pare-feu entre %s et %s : cette période n'est pas couverte.", "No firewall log between %s and %s: that period is not covered."), fmtT(fw.Range.End), fmtT(r.Case.TimeRange.End)))
		}
		v.Reasons = append(v.Reasons, fmt.Sprintf(tr("Journaux de pare-feu présents du %s au %s : aucun envoi massif vers une destination inconnue, aucun outil ni préparation d'archive détectés.",
			"Firewall logs present from %s to %s: no bulk transfer to an unknown destination, no tool or archive staging detected."), fmtT(fw.Range.Start), fmtT(fw.Range.End)))
	}
	v.Summary = summarize(v, r, o.Lang)
	return v
}

func sourcesCorroborated(e LedgerEntry, hostEvidence map[string]bool, anyHost bool) bool {
	resolved := false
	for _, s := range e.Sources {
		if s.Host != "" {
			resolved = true
			h := strings.ToLower(s.Host)
			for ev := range hostEvidence {
				if ev == h || strings.HasPrefix(ev, h+".") || strings.HasPrefix(h, ev+".") {
					return true
				}
			}
		}
	}
	// A source address that no evidence resolves to a host: any host-level finding corroborates.
	return !resolved && anyHost
}

func sourcesResolved(es []LedgerEntry) bool {
	for _, e := range es {
		for _, s := range e.Sources {
			if s.Host == "" {
				return false
			}
		}
	}
	return true
}

func destName(e LedgerEntry) string {
	switch {
	case e.Destination.Email != "":
		return e.Destination.Email
	case e.Destination.Domain != "":
		return e.Destination.IP + " (" + e.Destination.Domain + ")"
	}
	return e.Destination.IP
}

func fmtT(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

func summarize(v Verdict, r *Report, lang string) string {
	fr := lang != "en"
	if v.DataTaken == NoEvidence {
		if fr {
			return "Aucun élément ne montre une sortie de données : les journaux couvrent la période et rien n'indique un vol."
		}
		return "Nothing shows data leaving: the logs cover the period and nothing points at theft."
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

func timeline(r *Report, found []*rules.Finding) []TimelineEntry {
	var out []TimelineEntry
	for _, f := range r.Findings {
		s := f.Title
		if len(f.Hosts) > 0 {
			s += " — " + strings.Join(f.Hosts, ", ")
		}
		if len(f.Users) > 0 {
			s += " (" + strings.Join(f.Users, ", ") + ")"
		}
		out = append(out, TimelineEntry{Time: f.FirstSeen, Summary: s, FindingID: f.ID})
	}
	for _, e := range r.Exfiltration {
		lang := r.Lang
		out = append(out, TimelineEntry{Time: e.FirstSeen, Summary: fmt.Sprintf("→ %s: %s (%s)", destName(e), HumanBytes(e.Bytes, lang), e.Channel)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// breachDraft prepares the facts of a GDPR Article 33 notification: the
// categories of data and people are inferred from the folders read.
func (a *accumulator) breachDraft(r *Report, window *Range, lang string) *BreachDraft {
	if r.Verdict.DataTaken == NoEvidence {
		return nil
	}
	fr := lang != "en"
	cats := map[string]bool{}
	people := map[string]bool{}
	type rule struct {
		keys         []string
		catFR, catEN string
		whoFR, whoEN string
	}
	rulesList := []rule{
		{[]string{`\rh`, `\paie`, `payroll`, `salaire`}, "paie et rémunérations des agents (identité, coordonnées bancaires, salaires)", "staff payroll (identity, bank details, salaries)", "agents", "staff"},
		{[]string{`dossiers-agents`, `personnel`, `\agents`}, "dossiers individuels des agents", "staff personnel files", "agents", "staff"},
		{[]string{`etatcivil`, `naissance`, `mariage`, `deces`}, "actes d'état civil (naissances, mariages)", "civil-status records (births, marriages)", "administrés", "residents"},
		{[]string{`ccas`, `social`, `aide`}, "données d'action sociale (données sensibles)", "social-assistance records (sensitive data)", "administrés", "residents"},
		{[]string{`urbanisme`, `permis`}, "dossiers d'urbanisme (noms, adresses)", "planning files (names, addresses)", "administrés", "residents"},
	}
	for dir := range a.paths {
		l := strings.ToLower(dir)
		for _, ru := range rulesList {
			for _, k := range ru.keys {
				if strings.Contains(l, k) {
					if fr {
						cats[ru.catFR], people[ru.whoFR] = true, true
					} else {
						cats[ru.catEN], people[ru.whoEN] = true, true
					}
				}
			}
		}
	}
	d := &BreachDraft{DataCategories: sortedKeys(cats), PeopleConcerned: sortedKeys(people), Window: window}
	if fr {
		d.Nature = "Violation de confidentialité : copie et envoi de fichiers vers l'extérieur par un tiers non autorisé, suivis d'un rançongiciel."
		d.ApproxVolume = "environ " + HumanBytes(r.Verdict.BytesOut, lang)
		d.Measures = []string{"préciser les mesures prises (réinitialisation des comptes, coupure du VPN, plainte…)", "préciser le nombre de personnes concernées à partir de l'inventaire des fichiers"}
	} else {
		d.Nature = "Confidentiality breach: files copied and sent out by an unauthorised party, followed by ransomware."
		d.ApproxVolume = "about " + HumanBytes(r.Verdict.BytesOut, lang)
		d.Measures = []string{"state the measures taken (account resets, VPN shut down, complaint filed…)", "state the number of people concerned from the file inventory"}
	}
	return d
}
