package rules

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/parsers"
)

type regressionInfo struct {
	RuleMetadata []struct {
		ID    string `yaml:"id"`
		Title string `yaml:"title"`
	} `yaml:"rule_metadata"`
	Tests []struct {
		Name       string `yaml:"name"`
		Type       string `yaml:"type"`
		Path       string `yaml:"path"`
		MatchCount *int   `yaml:"match_count"`
	} `yaml:"regression_tests_info"`
}

// knownFailures reads testdata/sigma_known_failures.txt: "rule-id<TAB>reason".
func knownFailures(t *testing.T) map[string]string {
	out := map[string]string{}
	f, err := os.Open("testdata/sigma_known_failures.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		id, reason, _ := strings.Cut(l, "\t")
		out[id] = reason
	}
	return out
}

func parseEVTX(t *testing.T, path string) []*event.Event {
	var evs []*event.Event
	// SigmaHQ's expected counts are over the live log: records this reader
	// carves from the files' slack (old events of the machines they were
	// taken from) are left out.
	for _, ev := range parseFile(t, path, &parsers.Options{Format: "evtx"}) {
		if ev.Fields[event.FieldCarved] != true {
			evs = append(evs, ev)
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Timestamp.Before(evs[j].Timestamp) })
	return evs
}

// TestSigmaRegression runs SigmaHQ's own regression cases: each names a rule,
// an .evtx and the number of matches; every case must pass unless listed in
// testdata/sigma_known_failures.txt with its reason.
func TestSigmaRegression(t *testing.T) {
	dir := corpus.Dir(t, "sigma")
	all, _, err := LoadDir(filepath.Join(dir, "rules"))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*Rule{}
	for _, r := range all {
		byID[r.ID] = r
	}
	known := knownFailures(t)
	var infos []string
	filepath.Walk(filepath.Join(dir, "regression_data"), func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Name() == "info.yml" {
			infos = append(infos, p)
		}
		return nil
	})
	sort.Strings(infos)
	pass, fail, listed, cases := 0, 0, 0, 0
	for _, p := range infos {
		b, _ := os.ReadFile(p)
		var ri regressionInfo
		if err := yaml.Unmarshal(b, &ri); err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if len(ri.RuleMetadata) == 0 {
			continue
		}
		id := ri.RuleMetadata[0].ID
		for _, tc := range ri.Tests {
			if tc.MatchCount == nil || tc.Type != "evtx" {
				continue
			}
			cases++
			got, reason := runCase(t, byID[id], filepath.Join(dir, tc.Path))
			ok := reason == "" && got == *tc.MatchCount
			if !ok && reason == "" {
				reason = "matched " + strconv.Itoa(got) + ", want " + strconv.Itoa(*tc.MatchCount)
			}
			switch {
			case ok && known[id] != "":
				t.Errorf("%s (%s) passes but is listed as a known failure: remove it", id, ri.RuleMetadata[0].Title)
				pass++
			case ok:
				pass++
			case known[id] != "":
				listed++
			default:
				fail++
				t.Errorf("%s %q: %s", id, ri.RuleMetadata[0].Title, reason)
			}
		}
	}
	t.Logf("SigmaHQ regression: %d cases, %d pass, %d known failures, %d unexpected failures (pass rate %.1f%%)",
		cases, pass, listed, fail, 100*float64(pass)/float64(cases))
}

func runCase(t *testing.T, r *Rule, evtxPath string) (int, string) {
	if r == nil {
		return 0, "rule not in the corpus rule set"
	}
	e := Compile([]*Rule{r})
	if len(e.Skipped) > 0 {
		return 0, "rule skipped: " + e.Skipped[0].Reason
	}
	for _, ev := range parseEVTX(t, evtxPath) {
		e.Process(ev)
	}
	n := 0
	for _, f := range e.Findings() {
		n += f.Count
	}
	return n, ""
}

// TestSigmaRulesLoad loads all of SigmaHQ's rules and reports loaded vs skipped.
func TestSigmaRulesLoad(t *testing.T) {
	dir := corpus.Dir(t, "sigma")
	all, bad, err := LoadDir(filepath.Join(dir, "rules"))
	if err != nil {
		t.Fatal(err)
	}
	e := Compile(all)
	winTotal, winSkipped := 0, 0
	reasons := map[string]int{}
	for _, r := range all {
		if strings.EqualFold(r.Logsource.Product, "windows") {
			winTotal++
		}
	}
	for _, s := range e.Skipped {
		if strings.Contains(s.Source, string(filepath.Separator)+"windows"+string(filepath.Separator)) {
			winSkipped++
		}
		reason := s.Reason
		if i := strings.Index(reason, ": "); i > 0 && strings.HasPrefix(reason, "selection") {
			reason = reason[i+2:]
		}
		reasons[reason]++
	}
	t.Logf("SigmaHQ rules: %d parsed (%d invalid YAML), %d loaded, %d skipped; windows: %d of %d loaded (%.1f%%)",
		len(all), len(bad), len(e.Loaded), len(e.Skipped), winTotal-winSkipped, winTotal, 100*float64(winTotal-winSkipped)/float64(winTotal))
	for r, n := range reasons {
		t.Logf("  skipped %4d: %s", n, r)
	}
	if rate := float64(winTotal-winSkipped) / float64(winTotal); rate < 0.98 {
		t.Errorf("windows rules loaded %.1f%%, want ≥ 98%%", 100*rate)
	}
}
