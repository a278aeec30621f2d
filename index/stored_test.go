package index

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestEachStoredInOrder: blocks decoded on every core still reach fn in
// the store's order with their locations; fn's error stops the reading at
// once; a damaged block ends it with an error after the blocks before it;
// and no goroutine is left behind.
func TestEachStoredInOrder(t *testing.T) {
	dir := t.TempDir()
	var docs []string
	for i := range 30000 {
		docs = append(docs, fmt.Sprintf(`{"@timestamp":"2025-03-01T00:00:00Z","event.id":"e%d","pad":%q}`, i, strings.Repeat("x", i%700)))
	}
	writeStore(t, dir, "abc", docs)
	c := &Case{Dir: dir}
	before := runtime.NumGoroutine()

	n := 0
	locs := map[string]bool{}
	err := c.EachStored("abc", func(ev *event.Event, loc string) error {
		if got, want := ev.Str(event.FieldID), fmt.Sprintf("e%d", n); got != want {
			return fmt.Errorf("event %d is %s", n, got)
		}
		if locs[loc] {
			return fmt.Errorf("location %s twice", loc)
		}
		locs[loc] = true
		n++
		return nil
	})
	if err != nil || n != len(docs) {
		t.Fatalf("%d events, %v; want %d", n, err, len(docs))
	}
	// Each location reads back its event.
	s := c.OpenStored()
	for loc := range locs {
		if ev, err := s.Event(loc); err != nil || !strings.HasPrefix(ev.Str(event.FieldID), "e") {
			t.Fatalf("%s: %v", loc, err)
		}
		break
	}

	stopped := errors.New("enough")
	n = 0
	err = c.EachStored("abc", func(*event.Event, string) error {
		if n++; n == 5000 {
			return stopped
		}
		return nil
	})
	if !errors.Is(err, stopped) || n != 5000 {
		t.Errorf("fn stopped at 5000: %d events, %v", n, err)
	}

	// Damage a block past the middle: the events before it come out.
	path := filepath.Join(dir, storeDir, "abc"+storeExt)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) * 2 / 3; i < len(b)*2/3+64; i++ {
		b[i] ^= 0xff
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	n = 0
	err = c.EachStored("abc", func(ev *event.Event, _ string) error {
		if got, want := ev.Str(event.FieldID), fmt.Sprintf("e%d", n); got != want {
			return fmt.Errorf("event %d is %s", n, got)
		}
		n++
		return nil
	})
	if err == nil || n == 0 || n >= len(docs) || n%blockEvents != 0 {
		t.Errorf("damaged store: %d events then %v; want whole blocks then an error", n, err)
	}

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines left behind", g-before)
	}
}
