package index

import (
	"fmt"
	"hash/fnv"
	"math/rand"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestMergeInRuns: a merge of more files than it reads at once, in runs
// (several levels of them), gives every document once, in time order, ties
// in the files' order, exactly as a merge of all at once, whether the
// unordered files' time order is held or sorted on disk; the runs are
// removed.
func TestMergeInRuns(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	caseDir := t.TempDir()
	rng := rand.New(rand.NewSource(7))
	at := time.Date(2025, 3, 1, 23, 59, 0, 0, time.UTC)
	type doc struct {
		sec  int
		text string
	}
	var srcs []source
	var all []doc // in source order, then file order
	for f := range 50 {
		name := fmt.Sprintf("f%02d", f)
		ordered := f%3 != 0
		n := rng.Intn(40) // some files have one event, or none
		secs := make([]int, n)
		for i := range secs {
			secs[i] = rng.Intn(30) // many ties across files and within
		}
		if ordered {
			sort.Ints(secs)
		}
		var docs []string
		for i, s := range secs {
			d := doc{s, fmt.Sprintf(`{"@timestamp":%q,"file":%d,"i":%d}`, at.Add(time.Duration(s)*time.Second).Format(time.RFC3339Nano), f, i)}
			docs, all = append(docs, d.text), append(all, d)
		}
		if n == 0 {
			continue // as merge leaves out files without events
		}
		writeStore(t, caseDir, name, docs)
		srcs = append(srcs, source{path: name, dir: caseDir, name: name, sorted: !ordered})
	}
	slices.SortStableFunc(all, func(a, b doc) int { return a.sec - b.sec })
	var want []string
	for _, d := range all {
		want = append(want, d.text)
	}
	// Runs of 7 places: the unordered files' time order sorted on disk.
	for _, c := range []struct{ fanIn, chunk int }{{1000, orderChunk}, {16, orderChunk}, {4, orderChunk}, {2, orderChunk}, {1000, 7}, {4, 7}} {
		t.Run(fmt.Sprintf("%d at once, runs of %d", c.fanIn, c.chunk), func(t *testing.T) {
			old := mergeFanIn
			mergeFanIn = c.fanIn
			defer func() { mergeFanIn = old }()
			defer setOrderChunk(c.chunk)()
			var got []string
			if err := mergeSources(srcs, func(d []byte) error { got = append(got, string(d)); return nil }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				for i := range min(len(got), len(want)) {
					if got[i] != want[i] {
						t.Fatalf("%d documents, want %d; first difference at %d: %s, want %s", len(got), len(want), i, got[i], want[i])
					}
				}
				t.Fatalf("%d documents, want %d", len(got), len(want))
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Fatalf("runs left behind: %v", left)
			}
		})
	}
}

// TestStoreReaderManyFiles: fetching events by location from more files
// than a reader keeps open gives each its own event, with a bounded number
// of files open.
func TestStoreReaderManyFiles(t *testing.T) {
	caseDir := t.TempDir()
	const files = 3 * readerFiles
	for f := range files {
		writeStore(t, caseDir, fmt.Sprintf("f%03d", f), []string{fmt.Sprintf(`{"file":%d,"i":0}`, f), fmt.Sprintf(`{"file":%d,"i":1}`, f)})
	}
	r := newStoreReader(caseDir)
	defer r.Close()
	for round := range 2 {
		for f := range files {
			i := (f + round) % 2
			doc, err := r.Get(fmt.Sprintf("f%03d/0/%d", f, i))
			if want := fmt.Sprintf(`{"file":%d,"i":%d}`, f, i); err != nil || string(doc) != want {
				t.Fatalf("file %d, event %d: %s, %v; want %s", f, i, doc, err, want)
			}
			if len(r.files) > readerFiles {
				t.Fatalf("%d files open, want at most %d", len(r.files), readerFiles)
			}
		}
	}
}

// TestHandedBlocksReadIntoOnlyWhenDone: a cursor reads a block into the
// buffer of an earlier one only once the merge's reader says it is done
// with every document of it, however far behind the reader lags; and it
// does read into them (the allocations fall).
func TestHandedBlocksReadIntoOnlyWhenDone(t *testing.T) {
	t.Run("in time order", func(t *testing.T) { testHandedBlocks(t, false) })
	// Files out of time order are read a window at a time, each window's
	// events copied into one buffer: read into again the same way.
	old := sortedWindowBytes
	sortedWindowBytes = 64 << 10
	defer func() { sortedWindowBytes = old }()
	t.Run("out of time order", func(t *testing.T) { testHandedBlocks(t, true) })
}

func testHandedBlocks(t *testing.T, unordered bool) {
	caseDir := t.TempDir()
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	pad := strings.Repeat("x", 400) // blocks of 512 documents
	doc := func(f, i int) string {
		return fmt.Sprintf(`{"@timestamp":%q,"file":%d,"i":%d,"pad":%q}`, at.Add(time.Duration(i*3+f)*time.Millisecond).Format(time.RFC3339Nano), f, i, pad)
	}
	const files, each = 3, 6000
	for f := range files {
		var docs []string
		for i := range each {
			docs = append(docs, doc(f, i))
		}
		if unordered { // neighbours swapped: the file is out of time order
			for i := 0; i+1 < len(docs); i += 2 {
				docs[i], docs[i+1] = docs[i+1], docs[i]
			}
		}
		writeStore(t, caseDir, fmt.Sprintf("f%d", f), docs)
	}
	sum := func(b []byte) uint64 { h := fnv.New64a(); h.Write(b); return h.Sum64() }
	var want []uint64
	var raw uint64 // the documents' bytes, as blocks hold them
	for i := range each {
		for f := range files {
			want = append(want, sum([]byte(doc(f, i))))
			raw += uint64(len(doc(f, i)) + 1)
		}
	}
	run := func(hand *handBack, lag int) (got []uint64, allocated uint64) {
		var srcs []source
		for f := range files {
			srcs = append(srcs, source{path: "f", dir: caseDir, name: fmt.Sprintf("f%d", f), hand: hand, sorted: unordered})
		}
		rng := rand.New(rand.NewSource(int64(lag)))
		queue := make([][]byte, 0, 2*(lag+1))
		held := make([]uint64, 0, 2*(lag+1)) // what each queued document read when it was sent
		got = make([]uint64, 0, len(want))
		done := func() {
			if sum(queue[0]) != held[0] {
				t.Fatalf("document %d changed before its reader was done with it: now %.60s…", len(got), queue[0])
			}
			got = append(got, held[0])
			queue, held = append(queue[:0], queue[1:]...), append(held[:0], held[1:]...)
			if hand != nil {
				hand.done.Add(1)
			}
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := mergeSources(srcs, func(d []byte) error {
			if hand != nil {
				hand.sent.Add(1)
			}
			queue, held = append(queue, d), append(held, sum(d))
			for len(queue) > rng.Intn(lag+1) {
				done()
			}
			return nil
		})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		for len(queue) > 0 {
			done()
		}
		return got, after.TotalAlloc - before.TotalAlloc
	}
	_, fresh := run(nil, 0)
	for _, lag := range []int{0, 1, 511, 513, 2000, 5000} {
		got, reused := run(&handBack{}, lag)
		if !slices.Equal(got, want) {
			t.Fatalf("lag %d: %d documents, want %d in order", lag, len(got), len(want))
		}
		// All but the first blocks of each file are read into again.
		if lag <= 2000 && reused+raw/2 > fresh {
			t.Errorf("lag %d: %d bytes allocated, %d without reuse (documents: %d bytes): blocks not read into again", lag, reused, fresh, raw)
		}
	}
}
