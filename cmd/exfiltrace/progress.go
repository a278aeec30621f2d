package main

import (
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/exfiltrace/exfiltrace/columns"
	"github.com/exfiltrace/exfiltrace/index"
)

// progress is a terminal progress bar, silent when piped or with --quiet.
type progress struct{ bar *progressbar.ProgressBar }

func newProgress(_ *cobra.Command, total int64, what string) *progress {
	if !interactive() || total <= 0 {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions64(total, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())}
}

func (p *progress) add(n int) {
	if p.bar != nil {
		p.bar.Add(n)
	}
}

func (p *progress) done() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

// indexBuildProgress shows the full-text index being built on a first text
// query of a case `analyze` left unindexed, or the columnar store on a first
// query of a case that has none.
func indexBuildProgress() {
	var p *progress
	index.BeforeIndexBuild = func(n int64) {
		if !quiet {
			os.Stderr.WriteString("building the full-text index of this case first (analyze answered without it)…\n")
		}
		p = newProgress(nil, n, "indexing")
	}
	index.OnIndexBuild = func() {
		if p != nil {
			p.add(1)
		}
	}
	var pc *progress
	columns.BeforeBuild = func(n int64) {
		if !quiet {
			os.Stderr.WriteString("building the columnar store of this case first (made by an older version)…\n")
		}
		pc = newProgress(nil, n, "columns")
	}
	columns.OnBuild = func() {
		if pc != nil {
			pc.add(1)
		}
	}
}
