package main

import (
	"github.com/exfiltrace/exfiltrace/columns"
	"github.com/exfiltrace/exfiltrace/index"
)

// ingestCase ingests evidence and writes the case's columnar store as it
// goes, so `top`, `stats`, `search` on structured fields and `sql` answer
// from it as soon as the ingest ends; a case from before the columnar store
// gets its older files copied in afterwards.
func ingestCase(c *index.Case, paths []string, o index.IngestOptions) ([]*index.FileResult, error) {
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
