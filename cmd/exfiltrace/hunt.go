package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/rules"
)

var levelRank = map[string]int{"informational": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

// loadRules gathers the built-in pack (unless disabled) and rule paths.
func loadRules(paths []string, noBuiltin bool) ([]*rules.Rule, []rules.Skipped, error) {
	var all []*rules.Rule
	if !noBuiltin {
		b, err := rules.Builtin()
		if err != nil {
			return nil, nil, err
		}
		all = append(all, b...)
	}
	var skipped []rules.Skipped
	if len(paths) > 0 {
		rs, bad, err := rules.LoadDir(paths...)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, rs...)
		skipped = bad
	}
	return all, skipped, nil
}

// caseConfig reads the case's exfiltrace.yaml (or --config) over the defaults.
func caseConfig(c *index.Case, path string) (*rules.Config, string, error) {
	if path == "" {
		p := filepath.Join(c.Dir, "exfiltrace.yaml")
		if _, err := os.Stat(p); err == nil {
			path = p
		}
	}
	if path == "" {
		return rules.DefaultConfig(), "defaults", nil
	}
	cfg, err := rules.LoadConfig(path)
	return cfg, path, err
}

// HuntResult is what hunt stores in the case (findings.json).
type HuntResult struct {
	Generated   time.Time        `json:"generated"`
	Events      int64            `json:"events"`
	RulesLoaded int              `json:"rules_loaded"`
	Skipped     []rules.Skipped  `json:"rules_skipped"`
	Config      string           `json:"config"`
	Findings    []*rules.Finding `json:"findings"`
}

func huntCmd() *cobra.Command {
	var caseDir, configPath, minLevel string
	var rulePaths []string
	var noBuiltin, asJSON bool
	var ef esFlags
	cmd := &cobra.Command{
		Use:   "hunt --case DIR [--rules PATH...]",
		Short: "Run the exfiltration pack and Sigma rules over a case, in one pass in time order",
		Long: `Stream every event of the case once, in time order, through the built-in
exfiltration pack and any Sigma rules given with --rules (files or directories,
e.g. SigmaHQ's rules/windows). Findings are printed and stored in the case
(findings.json). Rules using something unsupported are listed as skipped.

Case settings (internal networks, VPN pools, known-good destinations such as
the offsite backup, free-mail domains) come from exfiltrace.yaml in the case
directory or --config; see 'exfiltrace rules list'.`,
		Example: `  exfiltrace hunt --case ./case
  exfiltrace hunt --case ./case --rules ~/sigma/rules/windows --json
  exfiltrace hunt --case ./case --config exfiltrace.yaml --min-level high`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if err := requireCase(caseDir); err != nil {
				return err
			}
			c, err := index.OpenCase(caseDir, false)
			if err != nil {
				return err
			}
			defer c.Close()
			cfg, cfgSource, err := caseConfig(c, configPath)
			if err != nil {
				return err
			}
			if err := ef.fromCase(cmd, caseDir); err != nil {
				return err
			}
			rs, bad, err := loadRules(rulePaths, noBuiltin)
			if err != nil {
				return err
			}
			eng := rules.CompileWith(rs, cfg)
			skipped := append(bad, eng.Skipped...)
			var bar *progressbar.ProgressBar
			if interactive() {
				bar = progressbar.NewOptions64(c.Manifest.Events, progressbar.OptionSetWriter(os.Stderr),
					progressbar.OptionSetDescription("hunting"), progressbar.OptionShowCount(),
					progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
			}
			var n int64
			counted := func() error {
				if n++; bar != nil && n%1000 == 0 {
					bar.Set64(n)
				}
				return nil
			}
			process := func(ev *event.Event) error { eng.Process(ev); return counted() }
			if ef.url != "" {
				// The forwarded case in Elasticsearch, in time order (point in time + search_after).
				var st *index.ESStore
				if st, err = ef.open(); err == nil {
					_, err = st.Search("", 0, process)
				}
			} else {
				// Rules are tested on every core; findings and windows in order.
				err = index.StreamAs(c, eng.Prepare, func(p *rules.Prepared) error { eng.ProcessPrepared(p); eng.Recycle(p); return counted() })
			}
			if bar != nil {
				bar.Finish()
			}
			if err != nil {
				return err
			}
			res := HuntResult{Generated: time.Now().UTC(), Events: n, RulesLoaded: len(eng.Loaded), Skipped: skipped, Config: cfgSource, Findings: eng.Findings()}
			b, _ := json.MarshalIndent(res, "", "  ")
			if err := c.WriteResult("findings.json", b); err != nil {
				return err
			}
			min := levelRank[minLevel]
			if asJSON {
				enc := json.NewEncoder(out)
				for _, f := range res.Findings {
					if levelRank[f.Level] >= min {
						if err := enc.Encode(f); err != nil {
							return err
						}
					}
				}
				return nil
			}
			printFindings(out, res.Findings, min)
			fmt.Fprintf(cmd.ErrOrStderr(), "%d events, %d rules loaded, %d skipped (reasons in %s), config: %s\n",
				n, len(eng.Loaded), len(skipped), filepath.Join(c.Dir, "findings.json"), cfgSource)
			return nil
		},
	}
	ef.register(cmd)
	cmd.Flags().StringVar(&caseDir, "case", "", "case directory")
	cmd.Flags().StringSliceVar(&rulePaths, "rules", nil, "Sigma rule files or directories (repeatable)")
	cmd.Flags().BoolVar(&noBuiltin, "no-builtin", false, "do not run the built-in exfiltration pack")
	cmd.Flags().StringVar(&configPath, "config", "", "case configuration (default: CASE/exfiltrace.yaml, else built-in defaults)")
	cmd.Flags().StringVar(&minLevel, "min-level", "low", "lowest level printed: informational, low, medium, high, critical")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one finding per line as JSON")
	return cmd
}

func printFindings(out io.Writer, fs []*rules.Finding, min int) {
	shown := 0
	for _, f := range fs {
		if levelRank[f.Level] < min {
			continue
		}
		shown++
		fmt.Fprintf(out, "[%s] %s — %d event(s), %s → %s\n", strings.ToUpper(f.Level), f.Title, f.Count,
			f.First.UTC().Format("2006-01-02T15:04:05Z"), f.Last.UTC().Format("2006-01-02T15:04:05Z"))
		if len(f.Hosts) > 0 {
			fmt.Fprintf(out, "    hosts: %s\n", strings.Join(f.Hosts, ", "))
		}
		if len(f.Users) > 0 {
			fmt.Fprintf(out, "    users: %s\n", strings.Join(f.Users, ", "))
		}
		if len(f.Sources) > 0 {
			fmt.Fprintf(out, "    sources: %s\n", strings.Join(f.Sources, ", "))
		}
		if len(f.Dests) > 0 {
			fmt.Fprintf(out, "    destinations: %s\n", strings.Join(f.Dests, ", "))
		}
		for i, e := range f.Evidence {
			if i == 3 {
				fmt.Fprintf(out, "    … %d more evidence events in findings.json\n", len(f.Evidence)-3+f.Truncated)
				break
			}
			pos := fmt.Sprintf("line %d", e.Line)
			if e.Record != 0 && e.Line == 0 {
				pos = fmt.Sprintf("record %d", e.Record)
			}
			s := e.Summary
			if len(s) > 120 {
				s = s[:120] + "…"
			}
			fmt.Fprintf(out, "    %s %s:%s %s\n", e.Time.UTC().Format("2006-01-02T15:04:05Z"), e.File, pos, s)
		}
	}
	if shown == 0 {
		fmt.Fprintln(out, "no findings at or above the requested level")
	}
}

func rulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "rules",
		Short:   "List or test detection rules (built-in pack and Sigma files)",
		Example: "  exfiltrace rules list\n  exfiltrace rules list --rules ~/sigma/rules/windows --json\n  exfiltrace rules test",
	}
	var paths []string
	var noBuiltin, asJSON bool
	list := &cobra.Command{
		Use:     "list",
		Short:   "List rules with level and ATT&CK tags, and rules skipped with the reason",
		Example: "  exfiltrace rules list\n  exfiltrace rules list --rules ./my-rules --json",
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			rs, bad, err := loadRules(paths, noBuiltin)
			if err != nil {
				return err
			}
			eng := rules.Compile(rs)
			skip := map[string]string{}
			for _, s := range append(bad, eng.Skipped...) {
				skip[s.Source+"\x00"+s.Title] = s.Reason
			}
			enc := json.NewEncoder(out)
			for _, r := range rs {
				reason := skip[r.Source+"\x00"+r.Title]
				if asJSON {
					enc.Encode(map[string]any{"id": r.ID, "title": r.Title, "level": r.Level, "tags": r.Tags, "source": r.Source, "skipped": reason})
					continue
				}
				state := "ok"
				if reason != "" {
					state = "SKIPPED: " + reason
				}
				fmt.Fprintf(out, "%-13s %-70s %s  [%s]\n", r.Level, r.Title, strings.Join(r.Tags, " "), state)
			}
			if !asJSON {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d rules, %d loaded, %d skipped\n", len(rs), len(eng.Loaded), len(eng.Skipped)+len(bad))
			}
			return nil
		},
	}
	test := &cobra.Command{
		Use:     "test",
		Short:   "Run every rule's embedded positive and negative test cases",
		Example: "  exfiltrace rules test\n  exfiltrace rules test --rules ./my-rules",
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			rs, _, err := loadRules(paths, noBuiltin)
			if err != nil {
				return err
			}
			failed := 0
			enc := json.NewEncoder(out)
			for _, r := range rules.RunTests(rs, rules.DefaultConfig()) {
				if !r.Pass {
					failed++
				}
				if asJSON {
					enc.Encode(r)
					continue
				}
				state := "PASS"
				if !r.Pass {
					state = "FAIL"
				}
				kind := "negative"
				if r.Positive {
					kind = "positive"
				}
				fmt.Fprintf(out, "%s  %-60s %s: %s (%d findings) %s\n", state, r.Rule, kind, r.Case, r.Findings, r.Error)
			}
			if failed > 0 {
				return fmt.Errorf("%d rule test(s) failed", failed)
			}
			return nil
		},
	}
	for _, c := range []*cobra.Command{list, test} {
		c.Flags().StringSliceVar(&paths, "rules", nil, "Sigma rule files or directories")
		c.Flags().BoolVar(&noBuiltin, "no-builtin", false, "leave out the built-in pack")
		c.Flags().BoolVar(&asJSON, "json", false, "JSON lines")
	}
	cmd.AddCommand(list, test)
	return cmd
}
