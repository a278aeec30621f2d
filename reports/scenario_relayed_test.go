package reports

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/samples/scenario"
)

// TestScenarioRelayed: the same incidents, with every firewall and mail
// log as a central syslog server kept it — behind the relay's own header,
// or in a Windows collector's tab-separated file (Kiwi Syslog Server's
// layout) — with one receive time for every line, the harshest case: the
// devices' own headers and fields date the lines, nothing is kept raw, and
// the verdict and every ledger figure still match the truth.
func TestScenarioRelayed(t *testing.T) {
	for _, env := range []struct {
		name string
		wrap func(line []byte) []byte
	}{
		{"relay header", func(l []byte) []byte { return append([]byte("Oct 20 12:00:00 relay01 "), l...) }},
		{"collector file", func(l []byte) []byte { return append([]byte("2024-10-20 12:00:00\tLocal7.Info\t10.0.0.1\t"), l...) }},
	} {
		t.Run(env.name, func(t *testing.T) {
			t.Parallel()
			for i, vendor := range scenario.Firewalls {
				seeds := uint64(1)
				if i == 0 {
					seeds = 2
				}
				for _, v := range scenario.Variants {
					for seed := uint64(1); seed <= seeds; seed++ {
						checkRelayed(t, v, seed, vendor, env.wrap)
					}
				}
			}
		})
	}
}

// checkRelayed analyses one incident with its firewall (as vendor writes it) and
// mail logs rewritten line by line by wrap.
func checkRelayed(t *testing.T, v scenario.Variant, seed uint64, vendor string, wrap func([]byte) []byte) {
	inc := scenario.Generate(v, seed)
	if err := inc.AsFirewall(vendor); err != nil {
		t.Fatal(err)
	}
	for name, b := range inc.Files {
		if !strings.HasPrefix(name, "firewall/") && !strings.HasPrefix(name, "mail/") {
			continue
		}
		var out bytes.Buffer
		for _, l := range bytes.SplitAfter(b, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				out.Write(wrap(l))
			}
		}
		inc.Files[name] = out.Bytes()
	}
	dir := filepath.Join(t.TempDir(), fmt.Sprintf("%s-%d", v, seed))
	if err := inc.Write(dir, dir+".truth.json"); err != nil {
		t.Fatal(err)
	}
	r, stats := analyzeDir(t, dir, parsers.Options{TZ: inc.Truth.Location(), Year: inc.Truth.Year}, "en")
	for _, st := range stats {
		if st.Raw != 0 {
			t.Errorf("%s %s seed %d: %s read as %s, %d raw %v", vendor, v, seed, st.Path, st.Format, st.Raw, st.RawReasons)
		}
	}
	validate(t, r)
	if bad := checkIncident(r, inc.Truth); len(bad) > 0 {
		t.Errorf("%s %s seed %d (%s):\n  %s", vendor, v, seed, inc.Truth.Notes, strings.Join(bad, "\n  "))
	}
}
