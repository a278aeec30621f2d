package rules

import "testing"

// TestBuiltinPack: every built-in rule loads, has tests, fires on its
// positive cases and stays silent on its negative ones.
func TestBuiltinPack(t *testing.T) {
	rs, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	e := Compile(rs)
	for _, s := range e.Skipped {
		t.Errorf("built-in rule %q skipped: %s", s.Title, s.Reason)
	}
	withTests := 0
	for _, r := range rs {
		if r.Tests != nil {
			withTests++
			if len(r.Tests.Positive) == 0 || len(r.Tests.Negative) == 0 {
				t.Errorf("%s: needs a positive and a negative case", r.Title)
			}
		} else if r.Level != "informational" {
			t.Errorf("%s: a finding rule without tests", r.Title)
		}
	}
	for _, res := range RunTests(rs, DefaultConfig()) {
		if !res.Pass {
			t.Errorf("%s / %s (positive=%v): %d findings %s", res.Rule, res.Case, res.Positive, res.Findings, res.Error)
		}
	}
	if withTests < 14 {
		t.Errorf("only %d tested rules in the pack", withTests)
	}
}

// TestBuiltinRulesHaveFrenchTitles: French reports name every built-in rule in French.
func TestBuiltinRulesHaveFrenchTitles(t *testing.T) {
	rs, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.TitleFR == "" || r.TitleFR == r.Title {
			t.Errorf("%s: %q has no French title", r.Source, r.Title)
		}
	}
}
