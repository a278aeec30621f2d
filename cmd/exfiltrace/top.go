package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

func topCmd() *cobra.Command {
	var caseDir, sum, q string
	var limit int
	var asJSON bool
	var ef esFlags
	cmd := &cobra.Command{
		Use:   "top --case DIR FIELD [--sum FIELD] [--query Q]",
		Short: "Rank the values of a field by event count, or by the sum of a numeric field",
		Example: `  exfiltrace top --case ./case destination.ip --sum source.bytes
  exfiltrace top --case ./case user.name --query 'event.code:4625'
  exfiltrace top --case ./case email.to.address --sum email.size --json
  exfiltrace top --es http://127.0.0.1:9200 --index mairie destination.ip --sum source.bytes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			out := cmd.OutOrStdout()
			st, err := openStore(cmd, caseDir, &ef)
			if err != nil {
				return err
			}
			defer st.Close()
			rows, total, err := st.Top(args[0], sum, q, limit)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(out)
				for _, r := range rows {
					if err := enc.Encode(r); err != nil {
						return err
					}
				}
				return nil
			}
			if sum != "" {
				fmt.Fprintf(out, "%-40s %10s %18s  %-20s %-20s\n", args[0], "EVENTS", "SUM("+sum+")", "FIRST", "LAST")
			} else {
				fmt.Fprintf(out, "%-40s %10s  %-20s %-20s\n", args[0], "EVENTS", "FIRST", "LAST")
			}
			for _, r := range rows {
				f, l := r.First.UTC().Format("2006-01-02T15:04:05Z"), r.Last.UTC().Format("2006-01-02T15:04:05Z")
				if sum != "" {
					fmt.Fprintf(out, "%-40s %10d %18d  %-20s %-20s\n", r.Value, r.Count, r.Sum, f, l)
				} else {
					fmt.Fprintf(out, "%-40s %10d  %-20s %-20s\n", r.Value, r.Count, f, l)
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d matching events\n", total)
			return nil
		},
	}
	ef.register(cmd)
	cmd.Flags().StringVar(&caseDir, "case", "", "case directory")
	cmd.Flags().StringVar(&sum, "sum", "", "numeric field to sum per value (e.g. source.bytes)")
	cmd.Flags().StringVar(&q, "query", "", "restrict to events matching this query")
	cmd.Flags().IntVar(&limit, "limit", 20, "rows to print (0 = all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "JSON lines")
	return cmd
}
