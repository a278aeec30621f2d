package reports

import "strings"

// breachDraft prepares the facts of a GDPR Article 33 notification: the
// categories of data and people are inferred from the folders read. It is a
// draft for a person to check, and says so.
func (a *Analyzer) breachDraft(r *Report, window *Range) *BreachDraft {
	lang := a.o.Lang
	if r.Verdict.DataTaken == NoEvidence || r.Verdict.DataTaken == InsufficientData && len(r.Exfiltration) == 0 {
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
		{[]string{`etatcivil`, `etat-civil`, `naissance`, `mariage`, `deces`}, "actes d'état civil (naissances, mariages)", "civil-status records (births, marriages)", "administrés", "residents"},
		{[]string{`ccas`, `social`, `aide`}, "données d'action sociale (données sensibles)", "social-assistance records (sensitive data)", "administrés", "residents"},
		{[]string{`urbanisme`, `permis`}, "dossiers d'urbanisme (noms, adresses)", "planning files (names, addresses)", "administrés", "residents"},
		{[]string{`scolaire`, `ecole`, `cantine`, `periscolaire`}, "inscriptions scolaires et périscolaires (enfants, familles)", "school and after-school enrolment (children, families)", "administrés", "residents"},
		{[]string{`elections`, `electoral`}, "listes électorales", "electoral rolls", "administrés", "residents"},
	}
	for dir := range a.folders {
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
	ransom := false
	for _, f := range r.Findings {
		if f.Tactic == "impact" {
			ransom = true
		}
	}
	if fr {
		d.Nature = "Violation de confidentialité : copie et envoi de fichiers vers l'extérieur par un tiers non autorisé."
		if ransom {
			d.Nature = "Violation de confidentialité : copie et envoi de fichiers vers l'extérieur par un tiers non autorisé, suivis d'un rançongiciel (violation de disponibilité)."
		}
		d.ApproxVolume = "environ " + HumanBytes(r.Verdict.BytesOut, lang)
		d.Measures = []string{"préciser les mesures prises (réinitialisation des comptes, coupure du VPN, plainte…)", "préciser le nombre de personnes concernées à partir de l'inventaire des fichiers"}
	} else {
		d.Nature = "Confidentiality breach: files copied and sent out by an unauthorised party."
		if ransom {
			d.Nature = "Confidentiality breach: files copied and sent out by an unauthorised party, followed by ransomware (availability breach)."
		}
		d.ApproxVolume = "about " + HumanBytes(r.Verdict.BytesOut, lang)
		d.Measures = []string{"state the measures taken (account resets, VPN shut down, complaint filed…)", "state the number of people concerned from the file inventory"}
	}
	if d.DataCategories == nil {
		d.DataCategories = []string{}
	}
	if d.PeopleConcerned == nil {
		d.PeopleConcerned = []string{}
	}
	return d
}
