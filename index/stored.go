package index

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/exfiltrace/exfiltrace/event"
)

// EachStored calls fn with every event one evidence file left in the event
// store, and its location there, in the order it was parsed. It reads sequentially, for bulk copies
// (the columnar store); time order across files is Stream's job.
//
// Blocks are decompressed and decoded on every core while fn runs, and
// handed to fn in the store's order: writing the fields of 10 M events into
// the columnar store took 4 min 48 s with the decoding in fn's goroutine.
// At most storedAhead blocks are held beyond the one fn reads.
func (c *Case) EachStored(sha string, fn func(ev *event.Event, loc string) error) error {
	f, codec, err := openStoreFile(filepath.Join(c.Dir, storeDir), sha)
	if err != nil {
		return err
	}
	defer f.Close()
	type block struct {
		start int64
		comp  []byte
		n     uint64
		evs   []*event.Event
		err   error
		done  chan struct{}
	}
	workers := max(1, runtime.NumCPU())
	queue := make(chan *block, storedAhead) // in the store's order, for fn
	work := make(chan *block, storedAhead)  // the same blocks, for the decoders
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				b.evs, b.err = decodeBlock(b.comp, b.n, codec, sha)
				b.comp = nil
				close(b.done)
			}
		}()
	}
	go func() {
		defer close(queue)
		defer close(work)
		cr := &countReader{r: bufio.NewReaderSize(f, 1<<20)}
		for {
			b := &block{start: cr.n, done: make(chan struct{})}
			b.comp, b.n, b.err = readCompressed(cr)
			if errors.Is(b.err, io.EOF) {
				return
			}
			if b.err != nil {
				close(b.done)
			}
			select {
			case queue <- b:
			case <-stop:
				return
			}
			if b.err != nil {
				return
			}
			work <- b
		}
	}()
	// On return: stop the reader, let what it queued go, wait for the
	// decoders (deferred calls run last first).
	defer wg.Wait()
	defer func() {
		for range queue {
		}
	}()
	defer close(stop)
	for b := range queue {
		<-b.done
		if b.err != nil {
			return b.err
		}
		prefix := sha + "/" + strconv.FormatInt(b.start, 10) + "/"
		for i, ev := range b.evs {
			if err := fn(ev, prefix+strconv.Itoa(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// storedAhead is how many blocks EachStored decodes ahead of fn.
const storedAhead = 8

// readCompressed reads one block's header and compressed bytes.
func readCompressed(br byteReader) (comp []byte, n uint64, err error) {
	clen, n, err := readHeader(br)
	if err != nil {
		return nil, 0, err
	}
	comp = make([]byte, clen)
	if _, err := io.ReadFull(br, comp); err != nil {
		return nil, 0, unexpected(err)
	}
	return comp, n, nil
}

// decodeBlock decompresses a block and decodes its events.
func decodeBlock(comp []byte, n uint64, c codec, sha string) ([]*event.Event, error) {
	var b blockBuffers
	lines, err := b.lines(comp, n, c)
	if err != nil {
		return nil, err
	}
	evs := make([]*event.Event, len(lines))
	for i, doc := range lines {
		if evs[i], err = event.DecodeJSON(doc); err != nil {
			return nil, fmt.Errorf("stored event of %s: %w", sha, err)
		}
	}
	return evs, nil
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
