package main

import (
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

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

// indexBuildProgress shows the search index being built on a first query
// of a case `analyze` left unindexed.
func indexBuildProgress() {
	var p *progress
	index.BeforeIndexBuild = func(n int64) {
		if !quiet {
			os.Stderr.WriteString("building the search index of this case first (analyze answered without it)…\n")
		}
		p = newProgress(nil, n, "indexing")
	}
	index.OnIndexBuild = func() {
		if p != nil {
			p.add(1)
		}
	}
}
