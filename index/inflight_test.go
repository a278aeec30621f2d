package index

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestInflightBudget: a parser waits while the events handed on hold the
// budget, goes on when they are given back, and an event larger than the
// whole budget still passes when nothing else is in flight.
func TestInflightBudget(t *testing.T) {
	f := newInflight(100)
	f.acquire(60)
	got := make(chan struct{})
	go func() { f.acquire(50); close(got) }()
	select {
	case <-got:
		t.Fatal("acquired 50 with 60 of 100 in flight")
	case <-time.After(50 * time.Millisecond):
	}
	f.release(60)
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("still waiting after the bytes were given back")
	}
	f.release(50)
	done := make(chan struct{})
	go func() { f.acquire(1000); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("an event larger than the budget never passed")
	}
	if f.used != 1000 {
		t.Fatalf("used %d, want 1000", f.used)
	}
}

// smallBatchIndex opens a new full-text index whose batches are written
// once they hold 1,000 bytes of text.
func smallBatchIndex(t *testing.T) *Bleve {
	t.Helper()
	old := BatchText
	BatchText = 1000
	t.Cleanup(func() { BatchText = old })
	b, err := OpenBleve(t.TempDir() + "/index.bleve")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// addText adds events e<from> to e<to-1>, each with text in field; it
// stops at the first error, and returns it.
func addText(b *Bleve, from, to int, field, text string) error {
	for i := from; i < to; i++ {
		ev := event.New()
		ev.Set(event.FieldID, fmt.Sprint("e", i))
		ev.Set(field, text)
		if err := b.Add(ev, strings.Repeat("ab", 32)+"/0/"+fmt.Sprint(i)); err != nil {
			return err
		}
	}
	return nil
}

// TestBleveBatchBoundedByText: a batch is written once its free text reaches
// BatchText, before BatchSize documents: large script blocks do not pile up
// in memory.
func TestBleveBatchBoundedByText(t *testing.T) {
	b := smallBatchIndex(t)
	defer b.Close()
	if err := addText(b, 0, 5, "powershell.file.script_block_text", strings.Repeat("Get-Item ", 50)); err != nil { // 450 bytes each
		t.Fatal(err)
	}
	// 450 + 450 + 450 ≥ 1000: the first three are written in the
	// background; two wait in the next batch.
	if b.writing == nil || b.n != 2 || b.text != 900 {
		t.Fatalf("batch being written: %v; batch holds %d documents of %d bytes; want 2 of 900 waiting", b.writing != nil, b.n, b.text)
	}
	if err := b.wait(); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Count(); err != nil || n != 3 {
		t.Fatalf("indexed %d (%v), want 3", n, err)
	}
}

// TestBleveWriteBehind: one batch is written in the background while the
// next fills, a batch is handed on only once the one before it is written,
// and Flush returns with everything written.
func TestBleveWriteBehind(t *testing.T) {
	b := smallBatchIndex(t)
	defer b.Close()
	add := func(from, to int) {
		if err := addText(b, from, to, "message", strings.Repeat("rclone copy ", 40)); err != nil { // 480 bytes each
			t.Fatal(err)
		}
	}
	count := func() uint64 {
		n, err := b.Count()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	add(0, 6)
	// The second batch (e3-e5) was handed on after the first was written.
	if n := count(); n < 3 || b.writing == nil || b.n != 0 {
		t.Fatalf("after 6 documents: %d indexed, writing %v, %d waiting; want at least 3, a batch being written, none waiting", n, b.writing != nil, b.n)
	}
	add(6, 8)
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 8 || b.writing != nil || b.n != 0 {
		t.Fatalf("after Flush: %d indexed, writing %v, %d waiting; want 8, none", n, b.writing != nil, b.n)
	}
}

// TestBleveWriteBehindError: a batch that fails in the background fails the
// next call, so the ingest stops with the error instead of losing the batch.
func TestBleveWriteBehindError(t *testing.T) {
	b := smallBatchIndex(t)
	if err := b.idx.Close(); err != nil { // every batch now fails
		t.Fatal(err)
	}
	failed := addText(b, 0, 6, "message", strings.Repeat("rclone copy ", 40))
	if failed == nil {
		failed = b.Flush()
	}
	if failed == nil || !strings.Contains(failed.Error(), "full-text index") {
		t.Fatalf("a failed background batch gave %v", failed)
	}
}
