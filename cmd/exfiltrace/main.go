// Command exfiltrace answers, from firewall, mail and Windows logs, whether
// data was taken: how much, from where, by whom, to where and when.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/memlimit"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

var quiet bool

func main() {
	memlimit.Apply()
	// EXFILTRACE_CPUPROFILE=FILE profiles a whole command (bench/README);
	// with EXFILTRACE_CPUPROFILE_AT=FROM+FOR (e.g. 6s+6s) only that stretch
	// of it, to see what a stage that leaves a core idle is doing.
	if p := os.Getenv("EXFILTRACE_CPUPROFILE"); p != "" {
		start := func() {
			if f, err := os.Create(p); err == nil {
				pprof.StartCPUProfile(f)
			}
		}
		from, span, windowed := strings.Cut(os.Getenv("EXFILTRACE_CPUPROFILE_AT"), "+")
		f, err1 := time.ParseDuration(from)
		d, err2 := time.ParseDuration(span)
		if windowed && err1 == nil && err2 == nil {
			time.AfterFunc(f, func() {
				start()
				time.AfterFunc(d, pprof.StopCPUProfile)
			})
		} else {
			start()
		}
		defer pprof.StopCPUProfile()
	}
	// EXFILTRACE_MEMPROFILE=FILE with EXFILTRACE_HEAPAT=DURATION writes a heap
	// profile that far into a command (where memory peaks, not at its end).
	if at, err := time.ParseDuration(os.Getenv("EXFILTRACE_HEAPAT")); err == nil {
		time.AfterFunc(at, func() {
			if f, err := os.Create(os.Getenv("EXFILTRACE_MEMPROFILE")); err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		})
	}
	err := newRoot().Execute()
	pprof.StopCPUProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "exfiltrace:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "exfiltrace",
		Short: "Find data exfiltration in firewall, mail and Windows logs",
		Long: `exfiltrace builds a searchable case from evidence files — firewall, proxy, mail and
Windows logs (see 'exfiltrace formats') — and answers whether data was taken:
how much, from which servers, by which account, to where and when.`,
		Example: `  exfiltrace analyze samples/incident -o report.html
  exfiltrace ingest --case ./case samples/incident
  exfiltrace search --case ./case 'destination.ip:"185.220.101.4" AND source.bytes:>1000000'
  exfiltrace top --case ./case destination.ip --sum source.bytes`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().BoolVarP(&quiet, "quiet", "q", false, "no progress display")
	root.PersistentFlags().BoolVar(&index.WaitBusy, "wait", false, "when another process is writing the case, wait for it instead of failing")
	index.OnWait = func(msg string) { fmt.Fprintln(os.Stderr, "exfiltrace:", msg) }
	indexBuildProgress()
	root.AddCommand(ingestCmd(), searchCmd(), statsCmd(), topCmd(), huntCmd(), rulesCmd(), reportCmd(), analyzeCmd(), forwardCmd(), formatsCmd(), sqlCmd(), exportCmd())
	return root
}

// interactive reports whether progress should be drawn on stderr.
func interactive() bool {
	return !quiet && isatty.IsTerminal(os.Stderr.Fd())
}

func requireCase(dir string) error {
	if dir == "" {
		return fmt.Errorf("--case DIR is required")
	}
	return nil
}
