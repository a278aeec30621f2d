package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/exfiltrace/exfiltrace/columns"
	"github.com/exfiltrace/exfiltrace/index"
)

func openCaseForColumns(cmd *cobra.Command, caseDir string) (*index.Case, error) {
	if err := requireCase(caseDir); err != nil {
		return nil, err
	}
	c, err := index.OpenCase(caseDir, false)
	if err != nil {
		return nil, err
	}
	// The columnar copy is built from the event store on first use.
	bar := newProgress(cmd, c.Manifest.Events, "columnar copy")
	err = columns.Build(c, func() { bar.add(1) })
	bar.done()
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func sqlCmd() *cobra.Command {
	var caseDir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "sql --case DIR 'SELECT …'",
		Short: "Query a case with SQL (DuckDB, read-only) over typed ECS columns and each event's other fields as JSON",
		Long: `The case's events, in DuckDB: table "events" has a typed column for every searchable
ECS field (quote them: "source.ip", "source.bytes", "@timestamp", …; 'DESCRIBE events' lists
them) and, when a statement names it or selects *, "fields": each event's other fields as JSON
(json_extract_string(fields, '$."winlog.event_data.TargetUserName"')), written from the event
store the first time it is asked for. Statements are read-only: nothing can change the case.`,
		Example: `  exfiltrace sql --case ./case 'SELECT "destination.ip", sum("source.bytes") AS bytes FROM events GROUP BY 1 ORDER BY 2 DESC LIMIT 10'
  exfiltrace sql --case ./case --json 'SELECT date_trunc(''hour'', "@timestamp") h, count(*) FROM events GROUP BY 1 ORDER BY 1'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := openCaseForColumns(cmd, caseDir)
			if err != nil {
				return err
			}
			defer c.Close()
			out := cmd.OutOrStdout()
			var names []string
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			enc := json.NewEncoder(out)
			n := 0
			err = columns.Query(c, args[0], func(cols []string) error {
				names = cols
				if !asJSON {
					fmt.Fprintln(tw, strings.Join(cols, "\t"))
				}
				return nil
			}, func(row []any) error {
				n++
				if asJSON {
					m := make(map[string]any, len(row))
					for i, v := range row {
						m[names[i]] = jsonValue(v)
					}
					return enc.Encode(m)
				}
				cells := make([]string, len(row))
				for i, v := range row {
					cells[i] = cell(v)
				}
				fmt.Fprintln(tw, strings.Join(cells, "\t"))
				return nil
			})
			tw.Flush()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d rows\n", n)
			return nil
		},
	}
	cmd.Flags().StringVar(&caseDir, "case", "", "case directory")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per row")
	return cmd
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	}
	return v
}

func exportCmd() *cobra.Command {
	var caseDir, dir string
	cmd := &cobra.Command{
		Use:   "export --case DIR --parquet OUTDIR",
		Short: "Write a case's events as Parquet (typed ECS columns and each event's other fields as JSON) for DuckDB, pandas, Polars or Spark",
		Example: `  exfiltrace export --case ./case --parquet ./export
  duckdb -c "SELECT count(*) FROM './export/events.parquet'"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return fmt.Errorf("--parquet OUTDIR is required")
			}
			c, err := openCaseForColumns(cmd, caseDir)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			p, err := columns.ExportParquet(c, dir)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n", p)
			return nil
		},
	}
	cmd.Flags().StringVar(&caseDir, "case", "", "case directory")
	cmd.Flags().StringVar(&dir, "parquet", "", "directory to write events.parquet into")
	return cmd
}
