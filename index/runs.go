package index

import (
	"fmt"
	"os"

	"github.com/exfiltrace/exfiltrace/internal/scratch"
)

// A merge reads at most mergeFanIn files at once. A case of more evidence
// files (a collection from hundreds of hosts, tens of thousands of small
// logs) is merged in runs: each mergeFanIn files merged into one temporary
// file of the event store's own format, then the runs merged, as an
// external sort does. Reading every file at once took a descriptor and a
// megabyte of buffers per file: 20,000 files ran out of descriptors (and
// would have needed 20 GB).
var mergeFanIn = 128 // a variable for the tests

// mergeMemory is what a merge's readers may hold between them: each
// file's read buffer and, for one not in time order, its window of events
// read ahead are cut down to share it when many files are read at once.
const mergeMemory = 128 << 20

// mergeSources calls fn with the sources' documents in time order, ties
// in the sources' order (which runs keep: each is a contiguous range).
func mergeSources(srcs []source, fn func(doc []byte) error) error {
	if len(srcs) <= mergeFanIn {
		return mergeCursors(srcs, fn)
	}
	dir, err := scratch.Dir("merge")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for level := 0; len(srcs) > mergeFanIn; level++ {
		var runs []source
		for i := 0; i < len(srcs); i += mergeFanIn {
			name := fmt.Sprintf("run-%d-%d", level, len(runs))
			if err := writeRun(dir, name, srcs[i:min(i+mergeFanIn, len(srcs))]); err != nil {
				return err
			}
			runs = append(runs, source{path: "a merge run (" + dir + ")", dir: dir, name: name, run: true, hand: srcs[0].hand})
		}
		srcs = runs
	}
	return mergeCursors(srcs, fn)
}

// writeRun merges srcs into one run of the store's format, in dir.
func writeRun(dir, name string, srcs []source) error {
	w, err := newStoreWriter(dir, name)
	if err != nil {
		return fmt.Errorf("merging the event store: %w", err)
	}
	own := make([]source, len(srcs))
	for i, src := range srcs {
		own[i] = src
		own[i].hand = nil // the run's writer says nothing of what it is done with
	}
	err = mergeCursors(own, func(doc []byte) error {
		_, err := w.Add(doc)
		return err
	})
	if err != nil {
		w.Abort()
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("merging the event store (in %s): %w", dir, err)
	}
	return nil
}
