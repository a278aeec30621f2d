package main

import (
	"github.com/exfiltrace/exfiltrace/columns"
	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/memlimit"
)

// ingestCase ingests evidence and writes the case's columnar store as it
// goes, so `top`, `stats`, `search` on structured fields and `sql` answer
// from it as soon as the ingest ends; a case from before the columnar store
// gets its older files copied in afterwards.
func ingestCase(c *index.Case, paths []string, o index.IngestOptions) ([]*index.FileResult, error) {
	// DuckDB's appender works outside Go's heap: Go's soft limit makes room
	// for it (an EVTX ingest: 601–631 → 488 MiB, same time). While the
	// full-text index was built here too, bleve's live heap seemed to need
	// that room (the 10 M mix's ingest took 891 s instead of 666); that
	// heap was the EVTX reader holding events to the end, fixed since.
	defer memlimit.Beside(columns.AppenderMemory)()
	w, err := columns.NewWriter(c)
	if err != nil {
		return nil, err
	}
	o.Sink = w
	res, err := index.Ingest(c, paths, o)
	if cerr := w.Close(); err == nil && cerr != nil {
		err = c.DiskFull(cerr)
	}
	if err == nil {
		err = columns.Build(c, nil)
	}
	return res, err
}
