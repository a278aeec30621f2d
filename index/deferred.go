package index

import (
	"errors"
	"fmt"
	"os"

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

// rebuildIndex indexes every evidence file again into a new index.
func (c *Case) rebuildIndex(onEvent func()) error {
	if err := c.ForWriting(); err != nil {
		return err
	}
	if _, err := os.Stat(c.IndexDir()); err == nil { // another process rebuilt it meanwhile
		return nil
	}
	c.Manifest.Unindexed = c.Manifest.Unindexed[:0]
	for _, f := range c.Manifest.Files {
		if f.SHA256 != "" && f.Events() > 0 {
			c.Manifest.Unindexed = append(c.Manifest.Unindexed, f.SHA256)
		}
	}
	if err := c.Save(); err != nil {
		return err
	}
	if err := c.ensureIndex(); err != nil {
		return err
	}
	return c.DiskFull(c.buildIndex(onEvent))
}

// ensureIndex creates the case's full-text index, empty, if it has none.
func (c *Case) ensureIndex() error {
	if _, err := os.Stat(c.IndexDir()); err == nil {
		return nil
	}
	b, err := OpenBleve(c.IndexDir())
	if err != nil {
		return err
	}
	return b.Close()
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
		if err := c.indexStored(idx, sha, onEvent); err != nil && !errors.Is(err, os.ErrNotExist) {
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

// indexStored adds every stored event of one evidence file to the index.
func (c *Case) indexStored(idx *Bleve, sha string, onEvent func()) error {
	return c.EachStored(sha, func(ev *event.Event, loc string) error {
		if err := idx.Add(ev, loc); err != nil {
			return err
		}
		if onEvent != nil {
			onEvent()
		}
		return nil
	})
}
