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

// eventCounter counts events of a total not known beforehand, on a
// terminal (the caller checks interactive()).
func eventCounter(what string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(-1, progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription(what), progressbar.OptionShowCount(),
		progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
		progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
}

// indexBuildProgress shows what a first query builds before it answers: the
// full-text index of a case `analyze` left unindexed (or whose index was
// lost), or the columnar store of a case made by an older version.
func indexBuildProgress() {
	index.BeforeIndexBuild, index.OnIndexBuild = buildProgress("building the full-text index of this case first…", "indexing")
	columns.BeforeBuild, columns.OnBuild = buildProgress("building the columnar store of this case first (made by an older version)…", "columns")
}

// buildProgress says once what is being built, then counts its events.
func buildProgress(msg, what string) (before func(events int64), each func()) {
	var p *progress
	before = func(n int64) {
		if !quiet {
			os.Stderr.WriteString(msg + "\n")
		}
		p = newProgress(nil, n, what)
	}
	each = func() {
		if p != nil {
			p.add(1)
		}
	}
	return before, each
}
