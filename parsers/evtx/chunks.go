package evtx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"sort"
	"strconv"
	"time"
)

// Records calls fn for every record that can be decoded: the live records in
// file order, then the carved ones. Undecodable records are in r.Losses,
// what was wrong with each chunk in r.Chunks. fn returning an error stops
// the walk and returns that error.
func (rd *Reader) Records(fn func(*Record) error) error {
	return rd.Walk(runtime.NumCPU(), nil, func(r *Record, _ any) error { return fn(r) })
}

// Walk decodes the file's 64 KiB chunks on several goroutines — they are
// independent — and calls fn on the caller's goroutine for every live record
// in file order, then for every carved record. prepare, when not nil, runs on
// the decoding goroutine for each live record (mapping it to an event, say)
// and its result is handed to fn. At most 2×workers chunks are in flight, and
// carved records are remembered by position only until the end (see
// emitCarved), so memory does not grow with the file.
func (rd *Reader) Walk(workers int, prepare func(*Record) any, fn func(*Record, any) error) error {
	if workers < 1 {
		workers = 1
	}
	slots := 0
	if rd.size > rd.base {
		slots = int((rd.size - rd.base + chunkSize - 1) / chunkSize)
	}
	livePrep := prepare
	if prepare != nil {
		livePrep = func(r *Record) any {
			if r.Carved {
				return nil
			}
			return prepare(r)
		}
	}
	window := 2 * workers
	results := make([]chan *chunkResult, slots)
	for i := range results {
		results[i] = make(chan *chunkResult, 1)
	}
	stop := make(chan struct{})
	defer close(stop)
	jobs := make(chan int)
	sem := make(chan struct{}, window)
	go func() {
		defer close(jobs)
		for i := 0; i < slots; i++ {
			select {
			case sem <- struct{}{}:
			case <-stop:
				return
			}
			select {
			case jobs <- i:
			case <-stop:
				return
			}
		}
	}()
	for w := 0; w < workers; w++ {
		go func() {
			buf := make([]byte, chunkSize)
			for idx := range jobs {
				results[idx] <- rd.decodeSlot(idx, buf, livePrep)
			}
		}()
	}
	registry := map[uint32][]item{}
	live := idSet{}
	var spans []slotSpan // what each chunk slot read held, in file order
	var carved []carvedRef
	var pending []*chunkResult
	for idx := 0; idx < slots; idx++ {
		res := <-results[idx]
		<-sem
		if res.err != nil {
			return res.err
		}
		for id, t := range res.templates {
			if _, ok := registry[id]; !ok {
				registry[id] = t
			}
		}
		spans = append(spans, res.held)
		for _, d := range res.live {
			live.addRecord(d.rec)
			if err := fn(d.rec, d.prep); err != nil {
				return err
			}
		}
		for _, d := range res.carved {
			carved = append(carved, refOf(d.rec))
		}
		rd.Losses = append(rd.Losses, res.losses...)
		rd.Warnings = append(rd.Warnings, res.warnings...)
		rd.Chunks = append(rd.Chunks, res.report)
		if len(res.pending) > 0 {
			// Only the places of the records left to decode are kept: the
			// chunk's bytes are read again then, and its records already
			// handed to fn (with what prepare made of them) are let go.
			pending = append(pending, &chunkResult{pending: res.pending, report: ChunkReport{Index: res.report.Index}})
		} else if res.stop {
			break
		}
	}
	rd.countUnaccounted(spans, slots)
	// Records whose template was overwritten in their own chunk, decoded
	// with the same template read in another chunk of the file.
	buf := make([]byte, chunkSize)
	for _, res := range pending {
		rep := rd.chunkReport(res.report.Index)
		var err error
		if res.data, _, err = rd.readChunk(res.report.Index, buf); err != nil {
			return err
		}
		err = decodeLenient(res, registry, rd.Flat, func(p pendingRecord, root *Node, flat *Flat, lenientUsed bool, err error) error {
			if (err != nil || !consistent(root, flat, p.rec.ID)) && p.rec.CarveReason == CarveZeroedSizeCopy {
				rd.Losses = append(rd.Losses, Loss{Chunk: p.rec.Chunk, Offset: p.rec.Offset, Records: 1, Reason: lostZeroedSizeCopy})
				rep.Lost++
				return nil
			}
			if err != nil {
				if p.rec.Carved { // an unreadable fragment of old data, not a lost live record
					rd.Unreadable = append(rd.Unreadable, Loss{Chunk: p.rec.Chunk, Offset: p.rec.Offset, Records: 1, Reason: errClass(err)})
					return nil
				}
				rd.Losses = append(rd.Losses, Loss{Chunk: p.rec.Chunk, Offset: p.rec.Offset, Records: 1,
					Reason: fmt.Sprintf("undecodable binary XML (%v)", errClass(err))})
				rep.Lost++
				return nil
			}
			if (p.rec.Carved || lenientUsed) && !consistent(root, flat, p.rec.ID) {
				if !p.rec.Carved {
					rd.Losses = append(rd.Losses, Loss{Chunk: p.rec.Chunk, Offset: p.rec.Offset, Records: 1,
						Reason: "template overwritten: the definition at its offset does not decode this record"})
					rep.Lost++
				}
				return nil
			}
			if p.rec.Carved {
				carved = append(carved, refOf(p.rec))
				return nil
			}
			p.rec.Root, p.rec.Flat = root, flat
			var prep any
			if prepare != nil {
				prep = prepare(p.rec)
			}
			live.addRecord(p.rec)
			rep.Live++
			return fn(p.rec, prep)
		})
		if err != nil {
			return err
		}
	}
	// Carved records last, leaving out those also read live (a chunk copied
	// in a shadow copy holds records the live chunks have too).
	kept := carved[:0]
	for _, c := range carved {
		if !live.has(c.id) {
			kept = append(kept, c)
		}
	}
	return rd.emitCarved(kept, registry, prepare, fn)
}

// carvedRef is where a carved record that decoded was found. Until every
// live record is known, a carved one may turn out to be a copy of one, and
// a file with many copied chunks (shadow copies, a log copied into itself)
// has as many carved records as live ones: keeping them decoded until the
// end would make memory grow with the file.
type carvedRef struct {
	id     uint64
	chunk  int
	offset int64
}

func refOf(r *Record) carvedRef { return carvedRef{id: r.ID, chunk: r.Chunk, offset: r.Offset} }

// emitCarved decodes again the chunks holding the carved records that are
// not copies of live ones, one chunk at a time, and calls fn for those
// records in file order. Decoding a chunk is deterministic and the template
// registry is complete by now, so each decodes as it did the first time.
func (rd *Reader) emitCarved(refs []carvedRef, registry map[uint32][]item, prepare func(*Record) any, fn func(*Record, any) error) error {
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].offset < refs[j].offset })
	buf := make([]byte, chunkSize)
	for i := 0; i < len(refs); {
		idx := refs[i].chunk
		want := map[int64]bool{}
		for ; i < len(refs) && refs[i].chunk == idx; i++ {
			want[refs[i].offset] = true
		}
		res := rd.decodeSlot(idx, buf, func(r *Record) any {
			if r.Carved && want[r.Offset] && prepare != nil {
				return prepare(r)
			}
			return nil
		})
		if res.err != nil {
			return res.err
		}
		var found []decoded
		for _, d := range res.carved {
			if want[d.rec.Offset] {
				found = append(found, d)
			}
		}
		err := decodeLenient(res, registry, rd.Flat, func(p pendingRecord, root *Node, flat *Flat, _ bool, err error) error {
			if err != nil || !p.rec.Carved || !want[p.rec.Offset] || !consistent(root, flat, p.rec.ID) {
				return nil
			}
			p.rec.Root, p.rec.Flat = root, flat
			d := decoded{rec: p.rec}
			if prepare != nil {
				d.prep = prepare(p.rec)
			}
			found = append(found, d)
			return nil
		})
		if err != nil {
			return err
		}
		sort.SliceStable(found, func(a, b int) bool { return found[a].rec.Offset < found[b].rec.Offset })
		for _, d := range found {
			rd.chunkReport(d.rec.Chunk).Carved++
			if err := fn(d.rec, d.prep); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeLenient decodes a chunk's records that name a template the chunk no
// longer holds, with the file's registry of templates, and hands each
// outcome to fn; lenientUsed says a template was taken whose id differs.
func decodeLenient(res *chunkResult, registry map[uint32][]item, flatOK bool, fn func(p pendingRecord, root *Node, flat *Flat, lenientUsed bool, err error) error) error {
	if len(res.pending) == 0 {
		return nil
	}
	ck := newChunk(res.data)
	ck.registry = registry
	ck.lenient = true
	for _, p := range res.pending {
		ck.lenientUsed = false
		var root *Node
		var flat *Flat
		var err error
		if flatOK {
			if flat, err = ck.decodeFlat(p.pos+24, p.pos+p.size-4); err != nil {
				flat = nil
			}
		}
		if flat == nil {
			root, err = ck.decodeRecord(p.pos+24, p.pos+p.size-4)
		}
		if err := fn(p, root, flat, ck.lenientUsed, err); err != nil {
			return err
		}
	}
	return nil
}

func (rd *Reader) chunkReport(idx int) *ChunkReport {
	// Reports are appended slot by slot from the first: a chunk's is at its
	// index (a cleared log's carved records, by the hundred thousand, each
	// find theirs without a scan).
	if idx >= 0 && idx < len(rd.Chunks) && rd.Chunks[idx].Index == idx {
		return &rd.Chunks[idx]
	}
	for i := range rd.Chunks {
		if rd.Chunks[i].Index == idx {
			return &rd.Chunks[i]
		}
	}
	rd.Chunks = append(rd.Chunks, ChunkReport{Index: idx})
	return &rd.Chunks[len(rd.Chunks)-1]
}

type decoded struct {
	rec  *Record
	prep any
}

type pendingRecord struct {
	pos, size uint32
	rec       *Record
}

type chunkResult struct {
	live, carved []decoded
	pending      []pendingRecord
	data         []byte // the chunk's bytes: buf, valid until it is reused
	templates    map[uint32][]item
	losses       []Loss
	warnings     []Warning
	report       ChunkReport
	held         slotSpan // the record numbers the chunk accounts for (losses.go)
	stop         bool     // the file ends in this chunk
	err          error
}

// Time bounds for a record header's write time: outside them the bytes are
// not a record, whatever they look like.
var (
	minWritten = time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC)
	maxWritten = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// readChunk reads chunk slot idx into buf (a chunk's size), zero-padded
// when the file ends inside it; n is how much the file holds.
func (rd *Reader) readChunk(idx int, buf []byte) (data []byte, n int, err error) {
	off := rd.base + int64(idx)*chunkSize
	n, err = rd.r.ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return nil, n, fmt.Errorf("evtx: reading chunk %d at offset %d: %w", idx, off, err)
	}
	clear(buf[n:])
	return buf, n, nil
}

// decodeSlot reads chunk slot idx and decodes every record whose framing
// validates: signature, size, trailing size copy, plausible write time. It
// does not depend on the chunk being well formed: a bad signature, a bad
// header or data checksum, a free-space offset out of range, records whose
// size fields disagree are reported, and the records around them still read.
func (rd *Reader) decodeSlot(idx int, buf []byte, prepare func(*Record) any) *chunkResult {
	off := rd.base + int64(idx)*chunkSize
	res := &chunkResult{report: ChunkReport{Index: idx, Offset: off}}
	data, n, err := rd.readChunk(idx, buf)
	if err != nil {
		res.err = err
		return res
	}
	problem := func(format string, a ...any) {
		msg := fmt.Sprintf(format, a...)
		res.report.Problems = append(res.report.Problems, msg)
		res.warnings = append(res.warnings, Warning{Chunk: idx, Reason: msg})
	}
	if allZero(data[:n]) {
		res.stop = n < chunkSize
		res.held.empty = true
		return res
	}
	end := uint32(n)
	if n < chunkSize {
		res.stop = true
		problem("file truncated: last chunk has %d of %d bytes", n, chunkSize)
	}
	le := binary.LittleEndian
	magicOK := bytes.Equal(data[:8], chunkMagic)
	hdrOK := false
	var firstID, lastID uint64
	free := end
	if magicOK {
		hc := crc32.NewIEEE()
		hc.Write(data[:120])
		hc.Write(data[128:512])
		hdrOK = hc.Sum32() == le.Uint32(data[124:])
		if !hdrOK {
			problem("chunk header checksum mismatch")
		}
		firstID, lastID = le.Uint64(data[24:]), le.Uint64(data[32:])
		if f := le.Uint32(data[48:]); f >= chunkHeaderSize && f <= end {
			free = f
			if sum := le.Uint32(data[52:]); sum != 0 && crc32.ChecksumIEEE(data[chunkHeaderSize:free]) != sum {
				problem("chunk record-data checksum mismatch")
			}
		} else {
			problem("chunk free-space offset %d out of range; records read to the end of the chunk", f)
		}
	} else {
		problem("bad chunk signature %q: records read from their own framing", printable(data[:8]))
	}
	// A header whose checksum fails (or was never written: zero) is still
	// trusted when its fields agree with the records: the first record
	// carries the first id, and the range and free offset are sane.
	trusted := magicOK && (hdrOK || (free > chunkHeaderSize && firstID <= lastID && lastID-firstID < chunkSize/28 &&
		framed(data, chunkHeaderSize, end) && le.Uint64(data[chunkHeaderSize+8:]) == firstID))
	// A chunk the header no longer counts holds old records (a cleared or
	// rolled-over log), unless the header is stale (log not closed cleanly).
	beyond := idx >= int(rd.Header.ChunkCount) && !rd.Header.Dirty && rd.Header.ChecksumOK
	ck := newChunk(data)
	lost := 0
	liveEnd := end
	if trusted {
		liveEnd = free
	}
	// A trusted header says which records the chunk holds (firstID to
	// lastID): seen marks those found in its live part, partial counts the
	// records lost whose numbers are unknown (framing overwritten).
	var seen []bool
	var written []time.Time // when each record seen was written: the bounds of those missing
	partial := 0
	// (A chunk holds at most chunkSize/28 records: a header claiming more,
	// checksum or not, says nothing to count by.)
	if trusted && !beyond && firstID != 0 && lastID >= firstID && lastID-firstID < chunkSize/28 {
		seen = make([]bool, lastID-firstID+1)
		written = make([]time.Time, len(seen))
	}
	writtenAt := func(id uint64) time.Time {
		if id < firstID || id-firstID >= uint64(len(written)) {
			return time.Time{}
		}
		return written[id-firstID]
	}
	for pos := uint32(chunkHeaderSize); pos+28 <= end; {
		cutTail := false
		if !framed(data, pos, end) && pos < liveEnd && !beyond && zeroedSizeCopy(data, pos, end) {
			cutTail = true
		} else if !framed(data, pos, end) {
			next := nextFramed(data, pos+1, end)
			region := data[pos:next]
			if !allZero(region) && pos < liveEnd && !beyond {
				if k := partialRecords(region); k > 0 {
					lost += k
					partial += k
					res.losses = append(res.losses, Loss{Chunk: idx, Offset: off + int64(pos), Records: k,
						Reason: "record overwritten or cut: its framing does not validate"})
				}
			}
			pos = next
			continue
		}
		size := le.Uint32(data[pos+4:])
		rec := &Record{ID: le.Uint64(data[pos+8:]), Written: filetime(le.Uint64(data[pos+16:])), Chunk: idx, Offset: off + int64(pos)}
		if seen != nil && pos < liveEnd && rec.ID >= firstID && rec.ID <= lastID {
			seen[rec.ID-firstID], written[rec.ID-firstID] = true, rec.Written
		}
		if !beyond && pos < liveEnd && !(trusted && (rec.ID < firstID || rec.ID > lastID)) {
			res.held.found(rec)
		}
		switch {
		case cutTail:
			rec.Carved, rec.CarveReason = true, CarveZeroedSizeCopy
		case beyond:
			rec.Carved, rec.CarveReason = true, "chunk beyond the header's chunk count (old or cleared records)"
		case trusted && pos >= free:
			rec.Carved, rec.CarveReason = true, "slack after the chunk's last record"
		case trusted && (firstID != 0 || lastID != 0) && (rec.ID < firstID || rec.ID > lastID):
			rec.Carved, rec.CarveReason = true, "record of another generation of this chunk (id outside its range)"
		}
		var root *Node
		var flat *Flat
		var err error
		if rd.Flat && !cutTail {
			flat, err = ck.decodeFlat(pos+24, pos+size-4)
			if _, no := err.(errNotFlat); no {
				flat, err = nil, nil
			}
		}
		if flat == nil && err == nil {
			root, err = ck.decodeRecord(pos+24, pos+size-4)
		}
		rec.Flat = flat
		var need errNeedTemplate
		switch {
		case errors.As(err, &need):
			res.pending = append(res.pending, pendingRecord{pos: pos, size: size, rec: rec})
		case (err != nil || !consistent(root, flat, rec.ID)) && cutTail:
			lost++
			res.losses = append(res.losses, Loss{Chunk: idx, Offset: rec.Offset, Records: 1, Reason: lostZeroedSizeCopy})
		case err != nil && rec.Carved:
			// Old data that no longer decodes: not a live record lost.
		case err != nil:
			lost++
			res.losses = append(res.losses, Loss{Chunk: idx, Offset: rec.Offset, Records: 1,
				Reason: fmt.Sprintf("undecodable binary XML (%v)", errClass(err))})
		case rec.Carved && !consistent(root, flat, rec.ID):
			// Decodes, but not to the record its header announces: not kept.
		default:
			rec.Root = root
			d := decoded{rec: rec}
			if prepare != nil {
				d.prep = prepare(rec)
			}
			if rec.Carved {
				res.carved = append(res.carved, d)
			} else {
				res.live = append(res.live, d)
			}
		}
		pos += size
	}
	// Records of the header's range found nowhere in the chunk's bytes were
	// wiped (zeroed, overwritten without a trace of their framing) or cut
	// off with the file: each is a live record lost, counted by its number.
	if seen != nil {
		// A header whose checksum fails is trusted for its first record
		// (found where it says), not for its last: then only the numbers
		// missing below the last record found are counted.
		if !hdrOK {
			last := -1
			for i, ok := range seen {
				if ok {
					last = i
				}
			}
			seen = seen[:last+1]
			lastID = firstID + uint64(last)
		}
		gone, from, to := 0, uint64(0), uint64(0)
		for i, ok := range seen {
			if !ok {
				if gone == 0 {
					from = firstID + uint64(i)
				}
				gone, to = gone+1, firstID+uint64(i)
			}
		}
		if gone -= partial; gone > 0 {
			lost += gone
			why := "records wiped: numbered in the chunk's header, no trace of them in its bytes (zeroed or overwritten)"
			if n < chunkSize {
				why = "records cut off: numbered in the chunk's header, the file ends before them"
			}
			res.losses = append(res.losses, Loss{Chunk: idx, Offset: off, Records: gone, Reason: why, After: writtenAt(from - 1), Before: writtenAt(to + 1)})
			problem("its header numbers records %d–%d; %d of them are not in its bytes (among %d–%d%s)", firstID, lastID, gone, from, to,
				writtenBetween(writtenAt(from-1), writtenAt(to+1)))
		}
		res.held.number(firstID)
		res.held.number(lastID)
	}
	res.held.empty = res.held.lo == 0 && !beyond
	res.templates = ck.byID
	res.report.Live, res.report.Lost = len(res.live), lost
	res.data = data
	if lost > 0 {
		res.report.Problems = append(res.report.Problems, fmt.Sprintf("%d live record(s) could not be read", lost))
	}
	return res
}

// consistent checks that a carved record decodes to the event its header
// announces: an Event whose System/EventRecordID is the header's id.
func consistent(root *Node, flat *Flat, id uint64) bool {
	if flat != nil {
		return flat.Sys[SysRecordID] == strconv.FormatUint(id, 10)
	}
	if root == nil || root.Name != "Event" {
		return false
	}
	rid := root.Child("System").Child("EventRecordID")
	return rid != nil && rid.Text == strconv.FormatUint(id, 10)
}

// CarveZeroedSizeCopy is why a record in the live part of a chunk is
// flagged carved: its closing copy of its size was zeroed — its tail
// overwritten with zeros, so the values at its end may be cut short (a
// string ends early, a number reads 0) — but its header is sound and its
// content decodes to the record the header announces. python-evtx, which
// does not check the copy, shows such records as if whole; a reader of this
// package should keep them apart from intact ones.
const CarveZeroedSizeCopy = "framing damaged: the record's closing size copy and possibly more of its tail are zeroed, so values at its end may be cut; read from its header"

// lostZeroedSizeCopy is why such a record is lost when its content does not decode.
const lostZeroedSizeCopy = "record overwritten or cut: its framing does not validate (closing size copy zeroed) and its content does not decode"

// zeroedSizeCopy reports a record header at pos that would frame a record
// but for a zero where its closing size copy belongs.
func zeroedSizeCopy(data []byte, pos, end uint32) bool {
	le := binary.LittleEndian
	if pos+28 > end || le.Uint32(data[pos:]) != recordMagic {
		return false
	}
	size := le.Uint32(data[pos+4:])
	ft := le.Uint64(data[pos+16:])
	return size >= 28 && uint64(pos)+uint64(size) <= uint64(end) && le.Uint32(data[pos+size-4:]) == 0 &&
		ft != 0 && plausibleWritten(ft)
}

// framed checks a record header at pos: signature, a size that fits, the
// trailing size copy and a plausible write time.
func framed(data []byte, pos, end uint32) bool {
	le := binary.LittleEndian
	if pos+28 > end || le.Uint32(data[pos:]) != recordMagic {
		return false
	}
	size := le.Uint32(data[pos+4:])
	if size < 28 || uint64(pos)+uint64(size) > uint64(end) || le.Uint32(data[pos+size-4:]) != size {
		return false
	}
	return plausibleWritten(le.Uint64(data[pos+16:]))
}

// plausibleWritten accepts a record header's write time between 1995 and
// 2100, or zero: some exporters leave it unset.
func plausibleWritten(ft uint64) bool {
	if ft == 0 {
		return true
	}
	w := filetime(ft)
	return !w.Before(minWritten) && w.Before(maxWritten)
}

func nextFramed(data []byte, from, end uint32) uint32 {
	for p := from; p+28 <= end; p++ {
		j := bytes.Index(data[p:end], []byte{0x2a, 0x2a, 0, 0})
		if j < 0 {
			break
		}
		p += uint32(j)
		if framed(data, p, end) {
			return p
		}
	}
	return end
}

// partialRecords counts record headers in a region whose framing broke: a
// signature with a plausible write time (or, when the time is unset, a
// plausible size) is a record cut or overwritten; stray signature bytes
// inside other data are not.
func partialRecords(region []byte) int {
	le := binary.LittleEndian
	n := 0
	for p := 0; p+24 <= len(region); p++ {
		j := bytes.Index(region[p:], []byte{0x2a, 0x2a, 0, 0})
		if j < 0 {
			break
		}
		p += j
		if p+24 > len(region) {
			break
		}
		size := le.Uint32(region[p+4:])
		ft := le.Uint64(region[p+16:])
		// A plausible write time, or a plausible size: a record whose size
		// field was zeroed is still a record lost.
		if (ft != 0 && plausibleWritten(ft)) || (size >= 28 && size <= chunkSize && ft == 0) {
			n++
		}
	}
	return n
}

// idSet holds record ids as sorted, merged ranges: live ids are nearly
// contiguous, so a million records take a few ranges.
type idSet struct{ r [][2]uint64 }

func (s *idSet) add(id uint64) {
	i := sort.Search(len(s.r), func(i int) bool { return s.r[i][1]+1 >= id })
	switch {
	case i < len(s.r) && s.r[i][0] <= id+1 && id <= s.r[i][1]+1:
		if id < s.r[i][0] {
			s.r[i][0] = id
		}
		if id > s.r[i][1] {
			s.r[i][1] = id
			if i+1 < len(s.r) && s.r[i+1][0] <= id+1 {
				s.r[i][1] = s.r[i+1][1]
				s.r = append(s.r[:i+1], s.r[i+2:]...)
			}
		}
	default:
		s.r = append(s.r, [2]uint64{})
		copy(s.r[i+1:], s.r[i:])
		s.r[i] = [2]uint64{id, id}
	}
}

// addRecord adds a live record's header id and, when it differs (exported
// logs renumber their headers), the EventRecordID its XML carries.
func (s *idSet) addRecord(r *Record) {
	s.add(r.ID)
	if x, ok := r.recordID(); ok && x != r.ID {
		s.add(x)
	}
}

func (s *idSet) has(id uint64) bool {
	i := sort.Search(len(s.r), func(i int) bool { return s.r[i][1] >= id })
	return i < len(s.r) && s.r[i][0] <= id
}
