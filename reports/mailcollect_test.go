package reports

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/samples/scenario"
)

// TestMailAfterCollectionWithoutIntrusion: mail thefts whose firewall
// (Sophos) logs sessions but not the VPN's brute force, so that no
// intrusion is seen: the account reads files en masse, then mails them to
// a personal address it never wrote to. The messages that follow the
// collection are the ledger's email entry, with the truth's bytes, times
// and account; the verdict is the truth's.
func TestMailAfterCollectionWithoutIntrusion(t *testing.T) {
	tied := 0
	for seed := uint64(300); seed < 312; seed++ {
		inc := scenario.Generate(scenario.MailTheft, seed)
		if err := inc.AsFirewall("sophos-xg"); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("mail-%d", seed))
		if err := inc.Write(dir, dir+".truth.json"); err != nil {
			t.Fatal(err)
		}
		r, _ := analyzeDir(t, dir, parsers.Options{TZ: inc.Truth.Location(), Year: inc.Truth.Year}, "en")
		if bad := checkIncident(r, inc.Truth); len(bad) > 0 {
			t.Errorf("seed %d (%s):\n  %s", seed, inc.Truth.Notes, strings.Join(bad, "\n  "))
		}
		for _, e := range r.Exfiltration {
			if e.Channel == "email" && strings.HasPrefix(e.Anomaly, "messages an account sent within two hours after it collected files") {
				tied++
			}
		}
	}
	if tied == 0 {
		t.Error("no incident's mail was tied to a collection without intrusion")
	}
	t.Logf("%d of 12 incidents' mail tied to a collection without intrusion", tied)
}
