package index

import (
	"fmt"
	"math/rand"
	"os"
	"slices"
	"sort"
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
