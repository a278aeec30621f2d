package reports

import (
	"fmt"
	"strings"

	"github.com/exfiltrace/exfiltrace/rules"
)

// mailboxReason names, in the verdict, the mailboxes a rule saw downloaded
// from outside the network (remote email collection, T1114.002): mail
// taken with a stolen password leaves no byte in a firewall's outbound
// count — the client pulls it in — so the ledger cannot hold it, and a
// verdict silent on it would read as "nothing taken" beside a finding that
// says otherwise. It stays out of the ledger and the byte total: an owner
// reading mail from home leaves the same trace.
func mailboxReason(found []*rules.Finding, ids map[*rules.Finding]string, lang string) string {
	var parts []string
	for _, f := range found {
		if ids[f] == "" || !hasTag(f, "attack.t1114.002") {
			continue
		}
		who := strings.Join(f.Users, ", ")
		if who == "" {
			who = "?"
		}
		if len(f.Sources) > 0 {
			who += fmt.Sprintf(tr(lang, " depuis %s", " from %s"), strings.Join(f.Sources, ", "))
		}
		parts = append(parts, fmt.Sprintf(tr(lang, "%s (constat %s, %s → %s)", "%s (finding %s, %s → %s)"), who, ids[f], fmtT(f.First), fmtT(f.Last)))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf(tr(lang,
		"Boîte(s) aux lettres téléchargée(s) depuis l'extérieur du réseau : %s. Ces octets ne sont pas comptés ci-dessus (le titulaire relevant son courrier de chez lui laisse la même trace) : vérifier l'adresse et l'heure dans les journaux VPN et de connexion.",
		"Mailbox(es) downloaded from outside the network: %s. These bytes are not counted above (an owner reading mail from home leaves the same trace): check the address and the hour against the VPN and sign-in logs."),
		strings.Join(parts, "; "))
}
