package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/exfiltrace/exfiltrace/columns"
	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/parsers"
)

func ingestCmd() *cobra.Command {
	var caseDir, tz, format string
	var year int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ingest --case DIR PATH...",
		Short: "Parse evidence files (or directories) into a case",
		Long: `Parse evidence files into a case directory (created if needed). Files are
detected by content; gzip, bzip2, xz and zstd files and UTF-16 text are read
transparently; directories are walked; zip, tar and 7-Zip archives are read
member by member, each evidence of its own (ARCHIVE!/MEMBER), and archives
inside them too (ARCHIVE!/INNER.7z!/MEMBER).
Every line or record is parsed, or kept raw with a reason, or counted lost
with a reason. Files already in the case (same SHA-256) are skipped.

Syslog timestamps without a zone are read in --tz (default UTC); without a
year, in --year (default: the year of each file's modification time, the
year before when the file's first such stamp would follow that time). The
values used are printed and stored in the case manifest.`,
		Example: `  exfiltrace ingest --case ./case samples/incident
  exfiltrace ingest --case ./case --tz Europe/Paris --year 2025 /evidence/mail.log.1.gz
  exfiltrace ingest --case ./case /evidence/velociraptor-collection.zip
  exfiltrace ingest --case ./case --format fortigate fw.txt --json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if err := requireCase(caseDir); err != nil {
				return err
			}
			loc, tzSource, err := resolveTZ(tz, cmd.Flags().Changed("tz"))
			if err != nil {
				return err
			}
			if format != "" {
				if _, err := parsers.Lookup(format); err != nil {
					return err
				}
			}
			c, err := index.OpenCase(caseDir, true)
			if err != nil {
				return err
			}
			defer c.Close()
			yearSource := "--year"
			if year == 0 {
				yearSource = "modification time of each file"
			}
			settings := index.Settings{TZ: loc.String(), TZSource: tzSource, Year: year, YearSource: yearSource}
			if !asJSON {
				fmt.Fprintf(cmd.ErrOrStderr(), "timestamps without zone: %s (%s); without year: %s\n", loc, tzSource, yearText(year))
			}
			if src, err := c.ImportConfig(args); err != nil {
				return err
			} else if src != "" && !asJSON {
				fmt.Fprintf(cmd.ErrOrStderr(), "case configuration copied from %s\n", src)
			}
			if _, skipped, err := parsers.Expand(args); err == nil && !asJSON {
				for _, s := range skipped {
					fmt.Fprintf(cmd.ErrOrStderr(), "not evidence, not ingested: %s\n", s)
				}
			}
			opts := index.IngestOptions{Parse: parsers.Options{TZ: loc, Year: year, Format: format}, Settings: settings}
			var bar *progressbar.ProgressBar
			if interactive() {
				bar = eventCounter("indexing")
				opts.OnEvent = func(*event.Event) { bar.Add(1) }
			}
			start := time.Now()
			results, err := ingestCase(c, args, opts)
			if err == nil {
				if bar != nil {
					// Ranking takes about a second per million events, with no count to show.
					bar.Describe("ranking the case's values for top")
				}
				err = columns.Rank(c)
			}
			if bar != nil {
				bar.Finish()
			}
			printIngest(out, results, asJSON, time.Since(start))
			if err != nil {
				return err
			}
			for _, r := range results {
				if r != nil && r.Stats.Error != "" {
					return fmt.Errorf("some files could not be read (see above)")
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&caseDir, "case", "", "case directory (created if absent)")
	cmd.Flags().StringVar(&tz, "tz", "UTC", "zone for timestamps that carry none: IANA name (Europe/Paris) or offset (+01:00)")
	cmd.Flags().IntVar(&year, "year", 0, "year for timestamps that carry none (default: each file's modification year)")
	cmd.Flags().StringVar(&format, "format", "", "force a format instead of detecting it (see `exfiltrace formats`)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON line per file")
	return cmd
}

func yearText(y int) string {
	if y == 0 {
		return "year of each file's modification time, the year before for a file whose first stamp would follow it (--year to set)"
	}
	return fmt.Sprintf("%d (--year)", y)
}

// resolveTZ accepts IANA names and fixed offsets like +01:00 or -0700.
func resolveTZ(tz string, explicit bool) (*time.Location, string, error) {
	source := index.TZSourceGiven
	if !explicit {
		source = "default, --tz to change"
	}
	if tz == "" || strings.EqualFold(tz, "UTC") || tz == "Z" {
		return time.UTC, source, nil
	}
	if tz[0] == '+' || tz[0] == '-' {
		for _, layout := range []string{"-07:00", "-0700", "-07"} {
			if t, err := time.Parse(layout, tz); err == nil {
				_, off := t.Zone()
				return time.FixedZone(tz, off), source, nil
			}
		}
		return nil, "", fmt.Errorf("--tz %q: not an offset like +01:00", tz)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, "", fmt.Errorf("--tz %q: unknown time zone (use an IANA name such as Europe/Paris, or an offset such as +01:00)", tz)
	}
	return loc, source, nil
}

func printIngest(out io.Writer, results []*index.FileResult, asJSON bool, took time.Duration) {
	var parsed, raw, carved, lost, added int64
	for _, r := range results {
		if r == nil {
			continue
		}
		if asJSON {
			b, _ := json.Marshal(r)
			fmt.Fprintln(out, string(b))
		}
		parsed += r.Stats.Parsed
		raw += r.Stats.Raw
		carved += r.Stats.Carved
		lost += r.Stats.Lost
		added += r.Added
	}
	if asJSON {
		b, _ := json.Marshal(map[string]any{"summary": map[string]any{"files": len(results), "parsed": parsed, "raw": raw, "carved": carved, "lost": lost, "added": added, "seconds": took.Seconds()}})
		fmt.Fprintln(out, string(b))
		return
	}
	fmt.Fprintf(out, "%-50s %-12s %9s %7s %7s %7s  %s\n", "FILE", "FORMAT", "PARSED", "RAW", "CARVED", "LOST", "NOTES")
	for _, r := range results {
		if r == nil {
			continue
		}
		s := r.Stats
		var notes []string
		if r.Skipped != "" {
			notes = append(notes, "skipped: "+r.Skipped)
		}
		if s.Error != "" {
			notes = append(notes, "ERROR: "+s.Error)
		}
		for reason, n := range s.RawReasons {
			notes = append(notes, fmt.Sprintf("raw %d: %s", n, reason))
		}
		for reason, n := range s.LostReasons {
			notes = append(notes, fmt.Sprintf("lost %d: %s", n, reason))
		}
		switch {
		case len(s.Warnings) == 1 && s.Parsed+s.Raw+s.Carved+s.Lost == 0:
			notes = append(notes, s.Warnings[0]) // why a file gave nothing (empty)
		case len(s.Warnings) > 0:
			notes = append(notes, fmt.Sprintf("%d warnings (see manifest)", len(s.Warnings)))
		}
		if len(notes) > 4 {
			notes = append(notes[:4], fmt.Sprintf("… %d more notes in manifest.json", len(notes)-4))
		}
		fmt.Fprintf(out, "%-50s %-12s %9d %7d %7d %7d  %s\n", shorten(s.Path, 50), s.Format, s.Parsed, s.Raw, s.Carved, s.Lost, strings.Join(notes, "; "))
	}
	fmt.Fprintf(out, "total: %d parsed, %d raw, %d carved, %d lost; %d events added in %s\n", parsed, raw, carved, lost, added, took.Round(time.Millisecond))
	if carved > 0 {
		fmt.Fprintln(out, "carved: old records recovered from EVTX slack and unallocated chunks, flagged evidence.carved (search 'evidence.carved:true')")
	}
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n+1:]
}
