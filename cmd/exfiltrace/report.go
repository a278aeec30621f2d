package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/exfiltrace/exfiltrace/columns"
	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/scratch"
	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/reports"
)

type reportFlags struct {
	format, out, lang, templateDir, configPath, title string
	rulePaths                                         []string
	noBuiltin                                         bool
}

func (f *reportFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.format, "format", "", "html, md, json or csv (default: from -o's extension, else md)")
	cmd.Flags().StringVarP(&f.out, "output", "o", "", "write the report to this file (default: standard output)")
	cmd.Flags().StringVar(&f.lang, "lang", "fr", "report language: fr or en")
	cmd.Flags().StringVar(&f.templateDir, "template", "", "directory with your own report.md.tmpl / report.html.tmpl (sprig functions available)")
	cmd.Flags().StringVar(&f.configPath, "config", "", "case configuration (default: CASE/exfiltrace.yaml, else built-in defaults)")
	cmd.Flags().StringSliceVar(&f.rulePaths, "rules", nil, "Sigma rule files or directories to run besides the built-in pack")
	cmd.Flags().BoolVar(&f.noBuiltin, "no-builtin", false, "leave out the built-in exfiltration pack")
	cmd.Flags().StringVar(&f.title, "title", "", "report title (e.g. the authority's name)")
}

func (f *reportFlags) resolveFormat() (string, error) {
	if f.format == "" {
		switch strings.ToLower(filepath.Ext(f.out)) {
		case ".html", ".htm":
			f.format = "html"
		case ".json":
			f.format = "json"
		case ".csv":
			f.format = "csv"
		default:
			f.format = "md"
		}
	}
	for _, x := range reports.Formats {
		if x == f.format || f.format == "markdown" {
			if f.lang != "fr" && f.lang != "en" {
				return "", fmt.Errorf("--lang %q: use fr or en", f.lang)
			}
			return f.format, nil
		}
	}
	return "", fmt.Errorf("--format %q: use %s", f.format, strings.Join(reports.Formats, ", "))
}

// reportOptions are the case's configuration and the rules the flags name.
func reportOptions(c *index.Case, f *reportFlags) (reports.Options, error) {
	cfg, _, err := caseConfig(c, f.configPath)
	if err != nil {
		return reports.Options{}, err
	}
	rs, _, err := loadRules(f.rulePaths, f.noBuiltin)
	if err != nil {
		return reports.Options{}, err
	}
	return reports.Options{Config: cfg, Rules: rs, Lang: f.lang, Title: f.title}, nil
}

// buildReport runs rules and ledger over the case and writes the report.
func buildReport(c *index.Case, f *reportFlags) (*reports.Result, []byte, error) {
	o, err := reportOptions(c, f)
	if err != nil {
		return nil, nil, err
	}
	return buildReportWith(c, f, o)
}

func buildReportWith(c *index.Case, f *reportFlags, o reports.Options) (*reports.Result, []byte, error) {
	res, err := reports.Build(c, o)
	if err != nil {
		return nil, nil, err
	}
	return renderReport(c, f, res)
}

// renderReport keeps the findings in the case and renders the report.
func renderReport(c *index.Case, f *reportFlags, res *reports.Result) (*reports.Result, []byte, error) {
	hr := HuntResult{Generated: res.Report.GeneratedAt, Events: res.Report.Case.Events, RulesLoaded: res.Loaded, Skipped: res.Skipped, Findings: res.Findings}
	if b, err := json.MarshalIndent(hr, "", "  "); err == nil {
		c.WriteResult("findings.json", b) // the case keeps the findings too; the report does not fail for that copy
	}
	var buf bytes.Buffer
	if err := reports.Render(&buf, res.Report, f.format, f.templateDir); err != nil {
		return nil, nil, err
	}
	return res, buf.Bytes(), nil
}

func writeOut(cmd *cobra.Command, path string, b []byte) error {
	if path == "" {
		_, err := cmd.OutOrStdout().Write(b)
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		os.MkdirAll(dir, 0o755)
	}
	return os.WriteFile(path, b, 0o644)
}

func reportCmd() *cobra.Command {
	var f reportFlags
	var caseDir, batch, outDir string
	cmd := &cobra.Command{
		Use:   "report --case DIR [-o FILE] [--format html|md|json|csv]",
		Short: "Answer 'was data taken?' for a case: verdict, byte ledger, findings, timeline",
		Long: `Run the rules and the byte ledger over a case and render the answer: the verdict
with its confidence and reasons, the ledger of bytes per destination, findings,
timeline, log coverage and a draft GDPR Article 33 notification. JSON follows
shared/contracts/findings.schema.json. --batch renders one report per case
matching a glob into --out, plus an index page, and carries on past a failing case.`,
		Example: `  exfiltrace report --case ./case -o rapport.html
  exfiltrace report --case ./case --format json --lang en
  exfiltrace report --batch 'cases/*' --out reports/ --format html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := f.resolveFormat(); err != nil {
				return err
			}
			if batch != "" {
				return runBatch(cmd, batch, outDir, &f)
			}
			if err := requireCase(caseDir); err != nil {
				return err
			}
			c, err := index.OpenCase(caseDir, false)
			if err != nil {
				return err
			}
			defer c.Close()
			res, b, err := buildReport(c, &f)
			if err != nil {
				return err
			}
			if err := writeOut(cmd, f.out, b); err != nil {
				return err
			}
			if f.out != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s\n", f.out, res.Report.Verdict.Summary)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&caseDir, "case", "", "case directory")
	cmd.Flags().StringVar(&batch, "batch", "", "glob of case directories to report on in one run")
	cmd.Flags().StringVar(&outDir, "out", "", "output directory for --batch")
	return cmd
}

func runBatch(cmd *cobra.Command, glob, outDir string, f *reportFlags) error {
	if outDir == "" {
		return fmt.Errorf("--batch needs --out DIR")
	}
	dirs, err := filepath.Glob(glob)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return fmt.Errorf("--batch %q matches no case", glob)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	type row struct{ Case, File, Verdict, Summary, Error string }
	var rows []row
	failed := 0
	ext := map[string]string{"html": ".html", "md": ".md", "json": ".json", "csv": ".csv"}[f.format]
	for _, d := range dirs {
		name := filepath.Base(d)
		c, err := index.OpenCase(d, false)
		if err != nil {
			rows = append(rows, row{Case: name, Error: err.Error()})
			failed++
			continue
		}
		res, b, err := buildReport(c, f)
		c.Close()
		if err != nil {
			rows = append(rows, row{Case: name, Error: err.Error()})
			failed++
			continue
		}
		file := name + ext
		if err := os.WriteFile(filepath.Join(outDir, file), b, 0o644); err != nil {
			rows = append(rows, row{Case: name, Error: err.Error()})
			failed++
			continue
		}
		rows = append(rows, row{Case: name, File: file, Verdict: res.Report.Verdict.DataTaken, Summary: res.Report.Verdict.Summary})
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s\n", name, res.Report.Verdict.DataTaken)
	}
	var idx bytes.Buffer
	idx.WriteString("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>exfiltrace</title></head><body><h1>exfiltrace — " + time.Now().UTC().Format("2006-01-02 15:04Z") + "</h1><table border=\"1\" cellpadding=\"4\"><tr><th>Case</th><th>Verdict</th><th>Summary / error</th></tr>")
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(&idx, "<tr><td>%s</td><td>ERROR</td><td>%s</td></tr>", htmlEsc(r.Case), htmlEsc(r.Error))
			continue
		}
		fmt.Fprintf(&idx, "<tr><td><a href=\"%s\">%s</a></td><td>%s</td><td>%s</td></tr>", htmlEsc(r.File), htmlEsc(r.Case), htmlEsc(r.Verdict), htmlEsc(r.Summary))
	}
	idx.WriteString("</table></body></html>\n")
	if err := os.WriteFile(filepath.Join(outDir, "index.html"), idx.Bytes(), 0o644); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d cases failed (listed in %s)", failed, len(dirs), filepath.Join(outDir, "index.html"))
	}
	return nil
}

func analyzeCmd() *cobra.Command {
	var f reportFlags
	var caseDir, tz string
	var year int
	var noIndex bool
	cmd := &cobra.Command{
		Use:   "analyze PATH... [-o FILE] [--case DIR]",
		Short: "Ingest evidence, hunt and report in one go",
		Long: `Read the evidence, run the rules and the byte ledger, and write the report.
Without --case nothing is stored: the files are parsed at once and their events
go straight to the report in time order (an EVTX log that wrapped around is
stored first); evidence that cannot be read so (a file going back in time
further than a window: a log exported newest first) is read through a
temporary case instead, and analyze says why. With --case DIR the case is
kept, and indexed for search.

Times that name no zone are read in --tz (default UTC), those that name no
year in --year (default: the file's modification year, the year before when
its first such stamp would follow that time). Without --case: when
logs naming no year meet the dated logs only in another year, and (without
--tz) when the firewall's VPN tunnels, remote desktop and SMTP sessions line
up with Windows' logons or the mail log's deliveries only at another offset,
the evidence is read again in that year or at that offset, and the report
says so.`,
		Example: `  exfiltrace analyze samples/incident -o report.html
  exfiltrace analyze /evidence/mairie --case ./case --format json --lang en -o findings.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := f.resolveFormat(); err != nil {
				return err
			}
			loc, tzSource, err := resolveTZ(tz, cmd.Flags().Changed("tz"))
			if err != nil {
				return err
			}
			keep := caseDir != ""
			run := &analysis{cmd: cmd, args: args, f: &f, year: year, keep: keep}
			defer run.removeScratch()
			c, res, b, err := run.once(caseDir, loc, tzSource, nil, 0, "")
			if err != nil {
				return err
			}
			// A reading taken again replaces the case; the one it replaces
			// is closed at once.
			defer func() { c.Close() }()
			adopt := func(c2 *index.Case, res2 *reports.Result, b2 []byte) {
				c.Close()
				c, res, b = c2, res2, b2
			}
			// Logs that name no year took their files' modification year: a
			// copy made without its dates can put them a year or more from
			// the dated logs. The temporary case is read again in the year in
			// which they meet those (the report says so).
			if g, ok := parsers.GuessYear(c.Manifest.Files); ok && !keep && !cmd.Flags().Changed("year") {
				if !quiet {
					fmt.Fprintf(cmd.ErrOrStderr(), "logs naming no year read in %d meet the dated logs only in %d: reading the evidence again in %d\n", g.Was, g.Year, g.Year)
				}
				run.year, run.yearGuess = g.Year, &g
				c2, res2, b2, err := run.once("", loc, tzSource, nil, 0, "")
				if err != nil {
					return err
				}
				adopt(c2, res2, b2)
			}
			// Logs that name no zone were read in the default, UTC. When the
			// firewall's clock, so read, disagrees with another log's by an
			// offset the evidence shows, the temporary case is read again at
			// that offset — the zone of the log held to be off, else the
			// other's — and kept when every clock then agrees (the report
			// says so); a kept case is not rewritten: its report says which
			// --tz to give.
			if cc := firstOffset(res.Report.Clocks); !keep && !cmd.Flags().Changed("tz") && cc != nil {
				agreed := false
				// A clock on a zone's summer time is read in that zone
				// first; the fixed offsets after, should it not agree.
				if zone, err := time.LoadLocation(cc.Zone); cc.Zone != "" && err == nil {
					if !quiet {
						fmt.Fprintf(cmd.ErrOrStderr(), "the %s log's clock follows the summer time of %s: reading the evidence again, zoneless times in %s\n", cc.Source, cc.Zone, cc.Zone)
					}
					c2, res2, b2, err := run.once("", zone, "inferred from the clocks of the firewall and the other logs, with the zone's summer time (the report says how)", cc, 0, cc.Zone)
					if err != nil {
						return err
					}
					if firstOffset(res2.Report.Clocks) == nil {
						adopt(c2, res2, b2)
						agreed = true
					} else {
						c2.Close()
					}
				}
				for _, off := range []int64{cc.OffsetSeconds, -cc.OffsetSeconds} {
					if agreed || off == 0 {
						break
					}
					zone := time.FixedZone(reports.ZoneName(off), int(off))
					if !quiet {
						fmt.Fprintf(cmd.ErrOrStderr(), "the %s log's clock and the %s log's disagree when read in UTC: reading the evidence again, zoneless times at UTC%s\n", cc.Source, cc.Reference, reports.ZoneName(off))
					}
					c2, res2, b2, err := run.once("", zone, "inferred from the clocks of the firewall and the other logs (the report says how)", cc, off, "")
					if err != nil {
						return err
					}
					if firstOffset(res2.Report.Clocks) == nil {
						adopt(c2, res2, b2)
						agreed = true
						break
					}
					c2.Close()
				}
				if !agreed {
					tried := fmt.Sprintf("at UTC%s or UTC%s", reports.ZoneName(cc.OffsetSeconds), reports.ZoneName(-cc.OffsetSeconds))
					if cc.Zone != "" {
						tried = "in " + cc.Zone + " or " + tried
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "read again %s, the clocks still disagree: the report keeps the reading in UTC\n", tried)
				}
			}
			if err := writeOut(cmd, f.out, b); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s\n", res.Report.Verdict.Summary)
			if keep {
				if interactive() {
					fmt.Fprintln(cmd.ErrOrStderr(), "ranking the case's values for top…")
				}
				if err := columns.Rank(c); err != nil {
					return fmt.Errorf("the report is written; ranking the case's values for top failed (top groups every event instead): %w", err)
				}
			}
			if keep && !noIndex {
				n := c.IndexPending()
				bar := newProgress(cmd, n, "indexing the case for search")
				err := c.BuildIndex(func() { bar.add(1) })
				bar.done()
				if err != nil {
					return fmt.Errorf("the report is written; indexing the case for search failed (search builds it on first use): %w", err)
				}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&caseDir, "case", "", "keep the case in this directory (default: a temporary one)")
	cmd.Flags().BoolVar(&noIndex, "no-index", false, "with --case: leave the search index to be built on the first search")
	cmd.Flags().StringVar(&tz, "tz", "UTC", "zone for timestamps that carry none")
	cmd.Flags().IntVar(&year, "year", 0, "year for timestamps that carry none (default: file modification year, or the year before)")
	return cmd
}

func htmlEsc(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")
	return r.Replace(s)
}

// analysis is one analyze command's evidence and settings.
type analysis struct {
	cmd  *cobra.Command
	args []string
	f    *reportFlags
	year int
	keep bool
	// yearGuess chose year, when it did (parsers.GuessYear).
	yearGuess *parsers.YearGuess
	// scratch are the temporary cases' directories, removed at the end.
	scratch []string
	// read: the evidence was read once; what could not be ingested is said
	// then, not again at each new reading.
	read bool
	// viaStore: the evidence could not be read in time order straight
	// from its files (index.ErrNotStreamable); it goes through a store.
	viaStore bool
}

func (a *analysis) removeScratch() {
	for _, d := range a.scratch {
		os.RemoveAll(d)
	}
}

// once ingests the evidence into caseDir (a temporary case when "") with
// zoneless times read in loc, and builds the report; inferred is the clock
// check that chose loc, if one did. The caller closes the case.
func (a *analysis) once(caseDir string, loc *time.Location, tzSource string, inferred *reports.ClockCheck, inferredAt int64, inferredIn string) (*index.Case, *reports.Result, []byte, error) {
	if caseDir == "" {
		tmp, err := scratch.Dir("case") // swept by a later run if this one is killed
		if err != nil {
			return nil, nil, nil, err
		}
		a.scratch = append(a.scratch, tmp)
		caseDir = filepath.Join(tmp, "case")
	}
	c, err := index.OpenCase(caseDir, true)
	if err != nil {
		return nil, nil, nil, err
	}
	fail := func(err error) (*index.Case, *reports.Result, []byte, error) { c.Close(); return nil, nil, nil, err }
	if _, err := c.ImportConfig(a.args); err != nil {
		return fail(err)
	}
	// The answer does not wait for the search index: events go to the
	// event store, the report streams it, and the index is built after
	// the report is written — only if the case is kept.
	ro, err := reportOptions(c, a.f)
	if err != nil {
		return fail(err)
	}
	ro.ZoneInferredFrom, ro.ZoneInferredAt, ro.ZoneInferredIn = inferred, inferredAt, inferredIn
	ro.YearGuess = a.yearGuess
	opts := index.IngestOptions{Parse: parsers.Options{TZ: loc, Year: a.year},
		Settings: index.Settings{TZ: loc.String(), TZSource: tzSource, Year: a.year}, DeferIndex: true}
	// A spinner counts the events read, on a terminal.
	if interactive() {
		bar := eventCounter("reading the evidence")
		defer bar.Finish()
		opts.OnEvent = func(*event.Event) { bar.Add(1) }
	}
	if !a.keep && !a.viaStore {
		// The answer does not wait for a store: the evidence goes from
		// its parsers to the report, unless its files cannot be read in
		// time order so (then through a temporary store, as a kept case).
		res, results, err := reports.BuildFromEvidence(c, a.args, opts, ro)
		if err == nil {
			a.notIngested(results)
			res, b, err := renderReport(c, a.f, res)
			if err != nil {
				return fail(err)
			}
			return c, res, b, nil
		}
		if !errors.Is(err, index.ErrNotStreamable) {
			return fail(err)
		}
		a.viaStore = true // and for the readings after this one
		if !quiet {
			fmt.Fprintf(a.cmd.ErrOrStderr(), "%v; reading it through a temporary event store\n", err)
		}
	}
	ingest := index.Ingest
	if a.keep {
		ingest = ingestCase // a kept case is queried: its columns are written as it is read
	} else {
		opts.Store = reports.ScratchFields(ro) // the case is deleted after the report
	}
	results, err := ingest(c, a.args, opts)
	if err != nil {
		return fail(err)
	}
	a.notIngested(results)
	res, b, err := buildReportWith(c, a.f, ro)
	if err != nil {
		return fail(err)
	}
	return c, res, b, nil
}

// notIngested says, at the first reading only, which files could not be
// read, or were read only up to an error.
func (a *analysis) notIngested(results []*index.FileResult) {
	for _, r := range results {
		switch {
		case r == nil || r.Stats.Error == "" || a.read:
		case r.Stats.Events() > 0:
			fmt.Fprintf(a.cmd.ErrOrStderr(), "read in part: %s: %d events, then %s\n", r.Stats.Path, r.Stats.Events(), r.Stats.Error)
		default:
			fmt.Fprintf(a.cmd.ErrOrStderr(), "not ingested: %s: %s\n", r.Stats.Path, r.Stats.Error)
		}
	}
	a.read = true
}

// firstOffset is the first clock check that found an offset, if any.
func firstOffset(checks []reports.ClockCheck) *reports.ClockCheck {
	for i := range checks {
		if checks[i].OffsetSeconds != 0 || checks[i].Zone != "" {
			return &checks[i]
		}
	}
	return nil
}
