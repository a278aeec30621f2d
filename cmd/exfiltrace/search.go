package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/exfiltrace/exfiltrace/event"
)

func searchCmd() *cobra.Command {
	var caseDir string
	var limit int
	var asJSON bool
	var ef esFlags
	cmd := &cobra.Command{
		Use:   "search --case DIR 'QUERY'",
		Short: "Search a case with a query string over ECS field names, in time order",
		Long: `Search with a Lucene-style query string over ECS field names:
  field:value  field:"quoted value"  +must -mustnot  AND OR NOT  field:(a OR b)  field:*
  numeric and time ranges: source.bytes:>1000000  @timestamp:>="2025-03-14T00:00:00Z"
Names (user.name, host.name, file.path, mail addresses…) match case-insensitively;
addresses, ids and codes exactly; message, command lines, script blocks and mail
subjects by word ("…" for a phrase); a bare word searches message.
'*' or '' matches everything. Results are sorted by time, then event id.
Free-text terms are answered by the case's full-text index, the rest by its
columnar store, in one query.`,
		Example: `  exfiltrace search --case ./case 'destination.ip:"185.220.101.4" AND source.bytes:>1000000'
  exfiltrace search --case ./case 'event.code:4624 AND winlog.logon.type:RemoteInteractive' --json
  exfiltrace search --case ./case 'email.to.address:*@gmail.com' --limit 20
  exfiltrace search --es https://soc:9200 --api-key-env ES_KEY 'destination.ip:"31.216.145.5"'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			q := ""
			if len(args) == 1 {
				q = args[0]
			}
			st, err := openStore(cmd, caseDir, &ef)
			if err != nil {
				return err
			}
			defer st.Close()
			enc := json.NewEncoder(out)
			if !asJSON {
				fmt.Fprintf(out, "%-24s %-22s %-40s %s\n", "@timestamp", "dataset", "who/where", "what")
			}
			shown := 0
			total, err := st.Search(q, limit, func(ev *event.Event) error {
				shown++
				if asJSON {
					return enc.Encode(ev.Document())
				}
				fmt.Fprintln(out, eventLine(ev))
				return nil
			})
			if err != nil {
				return err
			}
			if !asJSON {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d of %d matching events shown\n", shown, total)
			}
			return nil
		},
	}
	ef.register(cmd)
	cmd.Flags().StringVar(&caseDir, "case", "", "case directory")
	cmd.Flags().IntVar(&limit, "limit", 100, "maximum events to print (0 = all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON document per line (flat ECS names)")
	return cmd
}

// eventLine is the one-line table form of an event.
func eventLine(ev *event.Event) string {
	who := ev.Str("host.name")
	if src := ev.Str("source.ip"); src != "" {
		who = src
		if d := firstOf(ev, "destination.domain", "destination.ip"); d != "" {
			who += " → " + d
			if p := ev.Str("destination.port"); p != "" {
				who += ":" + p
			}
		}
	}
	if u := ev.Str("user.name"); u != "" {
		who += " (" + u + ")"
	}
	what := ev.Str("event.action")
	if c := ev.Str("event.code"); c != "" && ev.Str("winlog.channel") != "" {
		what = c + " " + what
	}
	if n, ok := ev.Int("source.bytes"); ok {
		what += fmt.Sprintf(" sent=%d", n)
	}
	if n, ok := ev.Int("destination.bytes"); ok {
		what += fmt.Sprintf(" rcvd=%d", n)
	}
	msg := ev.Str("message")
	if ev.Str(event.FieldKind) == event.KindRaw {
		msg = "RAW (" + ev.Str(event.FieldError) + "): " + ev.Str(event.FieldOriginal)
	}
	if len(msg) > 160 {
		msg = msg[:160] + "…"
	}
	ts := ""
	if !ev.Timestamp.IsZero() {
		ts = ev.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return fmt.Sprintf("%-24s %-22s %-40s %s %s", ts, ev.Str("event.dataset"), who, strings.TrimSpace(what), strings.ReplaceAll(msg, "\n", " "))
}

func firstOf(ev *event.Event, keys ...string) string {
	for _, k := range keys {
		if v := ev.Str(k); v != "" {
			return v
		}
	}
	return ""
}
