package index

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/exfiltrace/exfiltrace/event"
)

// The answer does not wait for the index: `analyze` writes events to the
// event store only, answers from a stream of that store, and indexes
// afterwards (or never, for a throw-away case). The manifest lists the
// evidence files whose events are stored but not yet indexed; whatever needs
// the index builds what is missing first, file by file, so an interrupted
// build resumes where it stopped (event ids are deterministic: a file
// indexed twice overwrites, never duplicates).

// IndexPending is the number of stored events not yet in the index.
func (c *Case) IndexPending() int64 {
	var n int64
	for _, sha := range c.Manifest.Unindexed {
		if f := c.FileBySHA(sha); f != nil {
			n += f.Events()
		}
	}
	return n
}

// BuildIndex indexes the events ingest stored without indexing. onEvent (may
// be nil) is called per event indexed, for progress.
func (c *Case) BuildIndex(onEvent func()) error {
	if len(c.Manifest.Unindexed) == 0 {
		return nil
	}
	return c.DiskFull(c.buildIndex(onEvent))
}

func (c *Case) buildIndex(onEvent func()) error {
	if err := c.ForWriting(); err != nil {
		return err
	}
	if len(c.Manifest.Unindexed) == 0 { // another process built it meanwhile
		return nil
	}
	idx, err := OpenBleve(c.IndexDir())
	if err != nil {
		return err
	}
	for len(c.Manifest.Unindexed) > 0 {
		sha := c.Manifest.Unindexed[0]
		if err := indexStoreFile(idx, filepath.Join(c.Dir, storeDir, sha+storeExt), sha, onEvent); err != nil && !errors.Is(err, os.ErrNotExist) {
			idx.Close()
			return fmt.Errorf("indexing stored events of %s: %w", sha, err)
		}
		if err := idx.Flush(); err != nil {
			idx.Close()
			return err
		}
		c.Manifest.Unindexed = c.Manifest.Unindexed[1:]
		if err := c.Save(); err != nil {
			idx.Close()
			return err
		}
	}
	return idx.Close()
}

// indexStoreFile adds every event of one store file to the index.
func indexStoreFile(idx *Bleve, path, sha string, onEvent func()) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := &countReader{r: bufio.NewReaderSize(f, 1<<20)}
	for {
		start := cr.n
		lines, err := readBlock(cr)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		prefix := sha + "/" + strconv.FormatInt(start, 10) + "/"
		for i, doc := range lines {
			ev, err := event.DecodeJSON(doc)
			if err != nil {
				return fmt.Errorf("event %s%d: %w", prefix, i, err)
			}
			if err := idx.Add(ev, prefix+strconv.Itoa(i)); err != nil {
				return err
			}
			if onEvent != nil {
				onEvent()
			}
		}
	}
}
