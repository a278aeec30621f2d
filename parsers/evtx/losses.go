package evtx

import (
	"fmt"
	"sort"
	"time"
)

// Records gone without a trace — a chunk zeroed whole, a file cut short —
// leave no framing to count them by; their numbers do. A log numbers its
// records one after another, chunk after chunk, and the file header
// numbers the next to write: what each chunk slot held (or its trusted
// header numbers) is kept as a slotSpan, and the numbers no chunk accounts
// for are counted lost after the walk.

// slotSpan is what one chunk slot accounts for.
type slotSpan struct {
	// lo and hi bound the record numbers the chunk holds or its trusted
	// header numbers (0 when none).
	lo, hi uint64
	// empty: the chunk gave nothing (zeroed, or unrecognisable), so the
	// records it held are unaccounted for.
	empty bool
	// The chunk's first and last records found, by number, with their
	// write times: the bounds of what is lost before or after it.
	firstID, lastID uint64
	firstT, lastT   time.Time
}

// number counts id among those the chunk accounts for.
func (s *slotSpan) number(id uint64) {
	if id == 0 {
		return
	}
	if s.lo == 0 || id < s.lo {
		s.lo = id
	}
	s.hi = max(s.hi, id)
}

// found counts a record read in the chunk's live part.
func (s *slotSpan) found(r *Record) {
	s.number(r.ID)
	if r.ID == 0 || r.Written.IsZero() {
		return
	}
	if s.firstID == 0 || r.ID < s.firstID {
		s.firstID, s.firstT = r.ID, r.Written
	}
	if r.ID > s.lastID {
		s.lastID, s.lastT = r.ID, r.Written
	}
}

// writtenBetween says when records lost were written, from the records
// around them (either may be unknown: zero).
func writtenBetween(after, before time.Time) string {
	const f = "2006-01-02T15:04:05Z"
	switch {
	case !after.IsZero() && !before.IsZero():
		return ", written between " + after.UTC().Format(f) + " and " + before.UTC().Format(f)
	case !after.IsZero():
		return ", written after " + after.UTC().Format(f)
	case !before.IsZero():
		return ", written before " + before.UTC().Format(f)
	}
	return ""
}

// countUnaccounted counts lost the records no chunk read accounts for:
// those of chunks that gave nothing, and those the file header numbers
// after the last chunk read. spans are the slots read, in file order from
// the first; slots is how many the file has.
func (rd *Reader) countUnaccounted(spans []slotSpan, slots int) {
	gone, notes := lostWithChunks(spans)
	for i, l := range gone {
		rep := rd.chunkReport(l.Chunk)
		rep.Lost += l.Records
		rep.Problems = append(rep.Problems, notes[i])
		rd.Warnings = append(rd.Warnings, Warning{Chunk: l.Chunk, Reason: notes[i]})
	}
	rd.Losses = append(rd.Losses, gone...)

	var counted, lastFound uint64
	var lastT time.Time
	for _, s := range spans {
		counted = max(counted, s.hi)
		if s.lastID > lastFound {
			lastFound, lastT = s.lastID, s.lastT
		}
	}
	// The file header numbers the next record to write: records before it
	// and after the last found (or counted lost in a chunk) are not in the
	// file — cut off, or in chunks lost. A header left dirty may lag the
	// chunks, never run ahead of them: what it promises was written.
	// (No more than the header's chunks could hold: beyond, the number is
	// not one to count by.)
	h := rd.Header
	if !h.ChecksumOK || counted == 0 || h.NextRecordID <= counted+1 ||
		h.NextRecordID-counted-1 > uint64(max(int(h.ChunkCount), slots))*(chunkSize/28) {
		return
	}
	missing := h.NextRecordID - counted - 1
	rd.Losses = append(rd.Losses, Loss{Chunk: -1, Records: int(missing),
		Reason: "records cut off: numbered by the file header, after the last record in the file", After: lastT})
	atLeast := ""
	if h.Dirty {
		atLeast = "at least "
	}
	rd.Warnings = append(rd.Warnings, Warning{Chunk: -1, Reason: fmt.Sprintf("the file header numbers records up to %d, the chunks read account for those up to %d: %s%d record(s) missing after them%s",
		h.NextRecordID-1, counted, atLeast, missing, writtenBetween(lastT, time.Time{}))})
}

// lostWithChunks counts the records of chunks that gave nothing (zeroed,
// or unrecognisable): a log's record numbers run on from chunk to chunk
// (in file order, or round the file when it wrapped), so the numbers
// missing between the two chunks around such slots are the records they
// held. A gap with no empty slot between its chunks is not counted — a
// copy assembled from several times (a shadow copy's chunks) jumps by
// hundreds of thousands without losing anything of its own. spans[i] is
// slot i's.
func lostWithChunks(spans []slotSpan) (out []Loss, notes []string) {
	var held []int // the slots that hold records, by their lowest number
	for i, s := range spans {
		if !s.empty && s.lo != 0 {
			held = append(held, i)
		}
	}
	sort.Slice(held, func(i, j int) bool { return spans[held[i]].lo < spans[held[j]].lo })
	for i := 1; i < len(held); i++ {
		ia, ib := held[i-1], held[i]
		a, b := spans[ia], spans[ib]
		if b.lo <= a.hi+1 {
			continue
		}
		// The slots after a's, round to b's, must all be empty.
		k := 0
		for j := (ia + 1) % len(spans); j != ib; j = (j + 1) % len(spans) {
			if !spans[j].empty {
				k = 0
				break
			}
			k++
		}
		if gap := b.lo - a.hi - 1; k > 0 && gap <= uint64(k)*(chunkSize/28) {
			out = append(out, Loss{Chunk: (ia + 1) % len(spans), Records: int(gap),
				Reason: "records of a chunk that gave nothing (zeroed or unrecognisable): counted by the numbers missing between the chunks around it",
				After:  a.lastT, Before: b.firstT})
			notes = append(notes, fmt.Sprintf("gave nothing (zeroed or unrecognisable); %d record(s) lost with it: numbers %d–%d, between chunk %d's and chunk %d's%s",
				gap, a.hi+1, b.lo-1, ia, ib, writtenBetween(a.lastT, b.firstT)))
		}
	}
	return out, notes
}
