package main

import (
	"encoding/json"
	"fmt"
	"os"
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
		RunE: func(cmd *cobra.Command, args []string) error {
			c, b, err := openIndex(caseDir)
			if err != nil {
				return err
			}
			defer b.Close()
			st, err := b.Stats()
			if err != nil {
				return err
			}
			m := c.Manifest
			if asJSON {
				return json.NewEncoder(os.Stdout).Encode(map[string]any{
					"events": st.Total, "first": m.First, "last": m.Last,
					"by_dataset": st.ByDataset, "by_host": st.ByHost, "by_day": st.ByDay, "files": m.Files,
					"settings": m.Settings,
				})
			}
			fmt.Printf("case %s: %d events from %d files, %s → %s (UTC)\n", c.Dir, st.Total, len(m.Files),
				m.First.UTC().Format("2006-01-02T15:04:05Z"), m.Last.UTC().Format("2006-01-02T15:04:05Z"))
			fmt.Printf("timestamps without zone read as %s (%s); without year: %s\n", m.Settings.TZ, m.Settings.TZSource, m.Settings.YearSource)
			printCounts("dataset", st.ByDataset)
			printCounts("host", st.ByHost)
			printCounts("day (UTC)", st.ByDay)
			fmt.Println("\nevidence:")
			for _, f := range m.Files {
				fmt.Printf("  %s  %s  %-12s parsed=%d raw=%d lost=%d\n", f.SHA256[:12], f.Path, f.Format, f.Parsed, f.Raw, f.Lost)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&caseDir, "case", "", "case directory")
	cmd.Flags().BoolVar(&asJSON, "json", false, "JSON output")
	return cmd
}

func printCounts(title string, m map[string]int) {
	fmt.Printf("\nby %s:\n", title)
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
		fmt.Printf("  %-40s %10d\n", k, m[k])
	}
}
