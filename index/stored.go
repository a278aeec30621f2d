package index

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/exfiltrace/exfiltrace/event"
)

// EachStored calls fn with every event one evidence file left in the event
// store, in the order it was parsed. It reads sequentially, for bulk copies
// (the columnar store); time order across files is Stream's job.
func (c *Case) EachStored(sha string, fn func(*event.Event) error) error {
	f, err := os.Open(filepath.Join(c.Dir, storeDir, sha+storeExt))
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	for {
		lines, err := readBlock(br)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, doc := range lines {
			ev, err := event.DecodeJSON(doc)
			if err != nil {
				return fmt.Errorf("stored event of %s: %w", sha, err)
			}
			if err := fn(ev); err != nil {
				return err
			}
		}
	}
}
