package index

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/exfiltrace/exfiltrace/event"
)

// EachStored calls fn with every event one evidence file left in the event
// store, and its location there, in the order it was parsed. It reads sequentially, for bulk copies
// (the columnar store); time order across files is Stream's job.
func (c *Case) EachStored(sha string, fn func(ev *event.Event, loc string) error) error {
	f, codec, err := openStoreFile(filepath.Join(c.Dir, storeDir), sha)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := &countReader{r: bufio.NewReaderSize(f, 1<<20)}
	for {
		start := cr.n
		lines, err := readBlock(cr, codec)
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
				return fmt.Errorf("stored event of %s: %w", sha, err)
			}
			if err := fn(ev, prefix+strconv.Itoa(i)); err != nil {
				return err
			}
		}
	}
}

// StoredEvents reads whole events by their location in the event store (a
// query answered elsewhere, by the columnar store, shows events from here).
type StoredEvents struct{ r *storeReader }

// OpenStored opens the case's event store for reads by location.
func (c *Case) OpenStored() *StoredEvents { return &StoredEvents{r: newStoreReader(c.Dir)} }

// Event returns the event stored at loc.
func (s *StoredEvents) Event(loc string) (*event.Event, error) {
	src, err := s.r.Get(loc)
	if err != nil {
		return nil, err
	}
	return event.DecodeJSON(src)
}

// Close releases the store's open files.
func (s *StoredEvents) Close() { s.r.Close() }
