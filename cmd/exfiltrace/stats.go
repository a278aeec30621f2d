package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"
)

func statsCmd() *cobra.Command {
	var caseDir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "stats --case DIR",
		Short:   "Summarise a case: events per dataset, host and day; time range; evidence files",
		Example: "  exfiltrace stats --case ./case\n  exfiltrace stats --case ./case --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			out := cmd.OutOrStdout()
			s, err := openCaseStore(caseDir)
			if err != nil {
				return err
			}
			defer s.Close()
			st, err := s.Stats()
			if err != nil {
				return err
			}
			c := s.Case()
			m := c.Manifest
			files := c.FilesByPath()
			if asJSON {
				return json.NewEncoder(out).Encode(map[string]any{
					"events": st.Total, "first": m.First, "last": m.Last,
					"by_dataset": st.ByDataset, "by_host": st.ByHost, "by_day": st.ByDay, "files": files,
					"settings": m.Settings, "incomplete": incompleteOrEmpty(m.Incomplete),
				})
			}
			fmt.Fprintf(out, "case %s: %d events from %d files, %s → %s (UTC)\n", c.Dir, st.Total, len(m.Files),
				m.First.UTC().Format("2006-01-02T15:04:05Z"), m.Last.UTC().Format("2006-01-02T15:04:05Z"))
			fmt.Fprintf(out, "timestamps without zone read as %s (%s); without year: %s\n", m.Settings.TZ, m.Settings.TZSource, m.Settings.YearSource)
			printCounts(out, "dataset", st.ByDataset)
			printCounts(out, "host", st.ByHost)
			printCounts(out, "day (UTC)", st.ByDay)
			fmt.Fprintln(out, "\nevidence:")
			for _, f := range files {
				fmt.Fprintf(out, "  %s  %s  %-12s parsed=%d raw=%d carved=%d lost=%d\n", f.SHA256[:12], f.Path, f.Format, f.Parsed, f.Raw, f.Carved, f.Lost)
			}
			for _, sha := range m.Incomplete {
				fmt.Fprintf(out, "  %s  INCOMPLETE: an ingest of this file was interrupted; its events are hidden until the same ingest is run again\n", sha[:12])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&caseDir, "case", "", "case directory")
	cmd.Flags().BoolVar(&asJSON, "json", false, "JSON output")
	return cmd
}

// incompleteOrEmpty keeps the JSON field a list, never null.
func incompleteOrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func printCounts(out io.Writer, title string, m map[string]int) {
	fmt.Fprintf(out, "\nby %s:\n", title)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if title == "day (UTC)" {
			return keys[i] < keys[j]
		}
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		fmt.Fprintf(out, "  %-40s %10d\n", k, m[k])
	}
}
