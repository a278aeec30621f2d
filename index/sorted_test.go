package index

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// writeStore writes docs as one evidence file's event store in caseDir.
func writeStore(t *testing.T, caseDir, sha string, docs []string) {
	t.Helper()
	w, err := newStoreWriter(caseDir, sha)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if _, err := w.Add([]byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSortedCursorOrder: an unordered file comes out in time order, ties
// in file order, however its events interleave: copies of one log
// concatenated (every instant in every copy, blocks apart), a log whose
// halves were swapped (a rotation), local disorder, and a log in reverse.
func TestSortedCursorOrder(t *testing.T) {
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	doc := func(i, sec int) string {
		return fmt.Sprintf(`{"@timestamp":%q,"n":%d,"pad":%q}`, at.Add(time.Duration(sec)*time.Second).Format(time.RFC3339Nano), i, strings.Repeat("x", i%300+20000*min(1, i%97/96))) // 1 in 97: 20 KB
	}
	layouts := map[string]func(i int) int{ // position → second
		"30 copies of 1,000 instants": func(i int) int { return i % 1000 },
		"halves swapped":              func(i int) int { return (i + 15000) % 30000 },
		"local disorder":              func(i int) int { return i + 7*(i%5) - 3*(i%11) },
		"reverse":                     func(i int) int { return 30000 - i },
		"one instant":                 func(i int) int { return 0 },
	}
	for _, chunk := range []int{orderChunk, 977} { // held in memory; 31 runs on disk
		for _, bound := range []int{sortedWindowBytes, 64 << 10} {
			for name, second := range layouts {
				testSortedLayout(t, fmt.Sprintf("%s, windows of %d bytes, runs of %d", name, bound, chunk), bound, chunk, doc, second)
			}
		}
	}
}

// setOrderChunk makes runs of chunk places until the returned func.
func setOrderChunk(chunk int) func() {
	old := orderChunk
	orderChunk = chunk
	return func() { orderChunk = old }
}

// streamSorted reads an unordered file's every event in time order.
func streamSorted(t *testing.T, dir string, keep int) [][]byte {
	t.Helper()
	cur, err := newSortedCursor(dir, "abc", sortedWindowBytes, &windowReaders{}, 0, keep, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.close()
	var all [][]byte
	for {
		d, err := cur.next()
		if errors.Is(err, io.EOF) {
			return all
		}
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, d)
	}
}

// testSortedLayout checks one layout's order and, with windows bounded to
// bound bytes, that no window holds more (but one event, whatever its size);
// with runs of chunk places below the file's count, that its time order is
// sorted on disk, in runs, not held, and the runs removed at close.
func testSortedLayout(t *testing.T, name string, bound, chunk int, doc func(i, sec int) string, second func(i int) int) {
	old := sortedWindowBytes
	sortedWindowBytes = bound
	defer func() { sortedWindowBytes = old }()
	defer setOrderChunk(chunk)()
	{
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			var docs []string
			type pos struct{ i, sec int }
			var want []pos
			for i := 0; i < 30000; i++ {
				docs = append(docs, doc(i, second(i)))
				want = append(want, pos{i, second(i)})
			}
			sort.SliceStable(want, func(a, b int) bool { return want[a].sec < want[b].sec })
			writeStore(t, dir, "abc", docs)
			cur, err := newSortedCursor(dir, "abc", sortedWindowBytes, &windowReaders{}, int64(len(docs)), chunk, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cur.close()
			runs := (len(docs) + chunk - 1) / chunk
			if runs > 1 && (len(cur.order.ends) != runs || cur.order.list != nil) || runs == 1 && len(cur.order.ends) != 0 {
				t.Fatalf("%d places in %d runs on disk, %d held; want %d runs", len(docs), len(cur.order.ends), len(cur.order.list), runs)
			}
			for k, w := range want {
				got, err := cur.next()
				if err != nil {
					t.Fatalf("event %d: %v", k, err)
				}
				if string(got) != docs[w.i] {
					t.Fatalf("event %d of the stream is %.60s, want %.60s", k, got, docs[w.i])
				}
				held := len(got)
				for _, d := range cur.window {
					held += len(d)
				}
				if held > bound && held != len(got) {
					t.Fatalf("event %d: the window held %d bytes, over %d", k, held, bound)
				}
			}
			if _, err := cur.next(); !errors.Is(err, io.EOF) {
				t.Fatalf("after the last event: %v", err)
			}
			if runsDir := cur.order.dir; runs > 1 {
				cur.close()
				if _, err := os.Stat(runsDir); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("the runs' directory %s after close: %v", runsDir, err)
				}
			}
		})
	}
}

// TestSortedCursorDamagedBlock: a damaged block stops an unordered file's
// stream at its first event in time order, after every event before it,
// whether the file's time order is held in memory or sorted on disk.
func TestSortedCursorDamagedBlock(t *testing.T) {
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	var docs []string
	for i := 0; i < 3*blockEvents; i++ {
		// Two copies of one log: instants 0..n/2 twice.
		docs = append(docs, fmt.Sprintf(`{"@timestamp":%q,"n":%d}`, at.Add(time.Duration(i%(3*blockEvents/2))*time.Second).Format(time.RFC3339), i))
	}
	whole := t.TempDir()
	writeStore(t, whole, "abc", docs)
	all := streamSorted(t, whole, orderChunk)
	firstBad := -1 // the second block holds events blockEvents…2·blockEvents-1
	for k, d := range all {
		var ev struct{ N int }
		if err := json.Unmarshal(d, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.N >= blockEvents && ev.N < 2*blockEvents {
			firstBad = k
			break
		}
	}
	if firstBad <= 0 || firstBad >= len(all)-1 {
		t.Fatalf("the damaged block's first event is %d of %d: the test proves little", firstBad, len(all))
	}
	for _, chunk := range []int{orderChunk, 100} {
		t.Run(fmt.Sprintf("runs of %d", chunk), func(t *testing.T) {
			defer setOrderChunk(chunk)()
			dir := t.TempDir()
			writeStore(t, dir, "abc", docs)
			cur, err := newSortedCursor(dir, "abc", sortedWindowBytes, &windowReaders{}, 0, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cur.close()
			// Damage the second block's compressed bytes, after the cursor
			// read the file's times (as a disk error during the stream would).
			path := filepath.Join(dir, storeDir, "abc"+storeExt)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			second := cur.blocks[1] // the second block in the file
			for k := second + 4; k < second+40; k++ {
				raw[k] ^= 0xff
			}
			if err := os.WriteFile(path, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			var got [][]byte
			var streamErr error
			for {
				d, err := cur.next()
				if err != nil {
					streamErr = err
					break
				}
				got = append(got, d)
			}
			if errors.Is(streamErr, io.EOF) || streamErr == nil {
				t.Fatalf("a damaged block streamed without an error")
			}
			if len(got) != firstBad {
				t.Fatalf("%d events before the error, want the %d before the damaged block's first", len(got), firstBad)
			}
			for k := range got {
				if string(got[k]) != string(all[k]) {
					t.Fatalf("event %d differs before the damage", k)
				}
			}
		})
	}
}
