package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/exfiltrace/exfiltrace/parsers"
)

func formatsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "formats",
		Short:   "List the log formats exfiltrace reads (names usable with --format)",
		Example: "  exfiltrace formats\n  exfiltrace formats --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			width := 0
			for _, f := range parsers.Formats() {
				width = max(width, len(f.Name()))
			}
			for _, f := range parsers.Formats() {
				if asJSON {
					b, _ := json.Marshal(map[string]string{"name": f.Name(), "description": f.Description()})
					fmt.Fprintln(out, string(b))
				} else {
					fmt.Fprintf(out, "%-*s %s\n", width, f.Name(), f.Description())
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "JSON lines")
	return cmd
}
