package reports

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The flow ledger keeps its pairs in memory up to a budget; past it, they
// go to sorted runs on disk and are merged back when judged. A month of a
// large firewall has tens of millions of distinct pairs: held whole, the
// answer's memory would grow with the evidence. Merging gives exactly the
// pairs one unbounded ledger would hold (tests compare the two reports).

// spill writes the pairs in memory to a run, sorted by source then
// destination, and empties them.
func (l *flowLedger) spill() error {
	if l.runDir == "" {
		dir, err := makeRunDir(l.tmp)
		if err != nil && l.tmp != "" {
			// A case on read-only media: the system's temporary directory.
			dir, err = makeRunDir("")
		}
		if err != nil {
			return fmt.Errorf("flow ledger: %w", err)
		}
		l.runDir = dir
	}
	pair := func(k uint64) pairKey { return pairKey{*l.addrs.at(uint32(k >> 32)), *l.addrs.at(uint32(k))} }
	keys := l.sortedPairs(pair)
	path, err := writeRun(l.runDir, func(yield func(*flowRecord) bool) {
		var r flowRecord
		for _, k := range keys {
			r.k, r.flow = pair(k.key), *l.flows.at(l.pairIdx[k.key])
			if !yield(&r) {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	l.runs = append(l.runs, path)
	l.spills++
	l.reset()
	return nil
}

// spillKey is a pair's key in pairIdx and, when both its addresses are
// IPv4, their 64 bits, source first: netip's order among IPv4 addresses.
type spillKey struct{ order, key uint64 }

// sortedPairs lists the pairs by source, then destination. Pairs of IPv4
// addresses alone, a firewall's usual case, are sorted by their 64 bits:
// comparing netip addresses fetched through the address list was most of
// a spill's time (1 M pairs: 1.4 s of comparisons, bench/README stop 32).
func (l *flowLedger) sortedPairs(pair func(uint64) pairKey) []spillKey {
	keys := make([]spillKey, 0, len(l.pairIdx))
	all4 := true
	for k := range l.pairIdx {
		p := pair(k)
		var order uint64
		if p.src.Is4() && p.dst.Is4() {
			s, d := p.src.As4(), p.dst.As4()
			order = uint64(s[0])<<56 | uint64(s[1])<<48 | uint64(s[2])<<40 | uint64(s[3])<<32 |
				uint64(d[0])<<24 | uint64(d[1])<<16 | uint64(d[2])<<8 | uint64(d[3])
		} else {
			all4 = false
		}
		keys = append(keys, spillKey{order, k})
	}
	if all4 {
		slices.SortFunc(keys, func(a, b spillKey) int { return cmp.Compare(a.order, b.order) })
	} else {
		slices.SortFunc(keys, func(a, b spillKey) int { return pair(a.key).compare(pair(b.key)) })
	}
	return keys
}

// keepWithinBudget writes the pairs to a run once they pass the budget;
// called before a session is added, never while one is being added.
func (l *flowLedger) keepWithinBudget() {
	if l.held > l.budget && l.spillErr == nil {
		l.spillErr = l.spill()
	}
}

// flowRecord is one pair's flow in a run; svc is its service key once the
// pair is whole (empty in the runs written while observing).
type flowRecord struct {
	svc  string
	k    pairKey
	flow pairFlow
}

func (r *flowRecord) less(o *flowRecord) bool {
	return cmp.Or(strings.Compare(r.svc, o.svc), r.k.compare(o.k)) < 0
}

// cost estimates what a record holds in memory.
func (r *flowRecord) cost() int64 {
	return pairCost + int64(len(r.svc)) + bucketCost*int64(len(r.flow.buckets))
}

// writeRun writes records, given in order, to a new file in dir.
func writeRun(dir string, recs iter.Seq[*flowRecord]) (string, error) {
	f, err := os.CreateTemp(dir, "run-*")
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	var buf, body []byte
	for r := range recs {
		body = appendRecord(body[:0], r)
		buf = append(binary.AppendUvarint(buf[:0], uint64(len(body))), body...)
		if _, err := w.Write(buf); err != nil {
			break
		}
	}
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("flow ledger run: %w", err)
	}
	return f.Name(), nil
}

func appendRecord(b []byte, r *flowRecord) []byte {
	b = appendString(b, r.svc)
	b = appendAddr(b, r.k.src)
	b = appendAddr(b, r.k.dst)
	p := &r.flow
	b = appendString(b, p.domain)
	b = binary.AppendVarint(b, int64(p.port))
	b = binary.AppendVarint(b, int64(p.openEnd))
	b = binary.AppendVarint(b, p.openSent)
	b = binary.AppendVarint(b, p.bothBytes)
	b = binary.AppendVarint(b, p.proxyBytes)
	b = binary.AppendUvarint(b, uint64(len(p.buckets)))
	for _, k := range p.buckets {
		b = binary.AppendVarint(b, int64(k.hour))
		b = binary.AppendVarint(b, int64(k.sessions))
		b = binary.AppendVarint(b, k.bytes)
		b = binary.AppendVarint(b, k.start)
		b = binary.AppendVarint(b, k.end)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendAddr(b []byte, a netip.Addr) []byte {
	m, _ := a.MarshalBinary() // 4 or 16 bytes, then the zone
	return appendString(b, string(m))
}

// runReader reads one run back, record by record. Each record is prefixed
// with its length and decoded from memory: read a varint at a time through
// the buffered reader, decoding was a third of a 1 M-line analysis's work
// after its last line.
type runReader struct {
	f   *os.File
	r   *bufio.Reader
	buf []byte
	err error
}

func openRun(path string) (*runReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &runReader{f: f, r: bufio.NewReaderSize(f, 64<<10)}, nil
}

// maxRecord bounds a record's length, so that a damaged prefix cannot ask
// for gigabytes: a record is tens of bytes and up to 50 an hour of
// sessions, so 64 MB is over a century of hours.
const maxRecord = 64 << 20

// next reads the next record into rec; false at the end of the run or on
// an error (kept in err).
func (rr *runReader) next(rec *flowRecord) bool {
	if rr.err != nil {
		return false
	}
	n, err := binary.ReadUvarint(rr.r)
	if err == io.EOF {
		return false
	}
	if err == nil && n > maxRecord {
		err = errDamaged
	}
	if err == nil {
		if cap(rr.buf) < int(n) {
			rr.buf = make([]byte, n)
		}
		rr.buf = rr.buf[:n]
		_, err = io.ReadFull(rr.r, rr.buf)
	}
	if err == nil {
		err = decodeRecord(rr.buf, rec)
	}
	if err != nil {
		rr.err = fmt.Errorf("flow ledger run %s: %w", filepath.Base(rr.f.Name()), unexpected(err))
	}
	return rr.err == nil
}

var errDamaged = errors.New("damaged record")

// recordDecoder reads a record's fields from its bytes; the first problem
// sticks in err.
type recordDecoder struct {
	b   []byte
	err error
}

func (d *recordDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errDamaged
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recordDecoder) bytes() []byte {
	if d.err != nil {
		return nil
	}
	l, n := binary.Uvarint(d.b)
	if n <= 0 || l > uint64(len(d.b)-n) {
		d.err = errDamaged
		return nil
	}
	v := d.b[n : n+int(l)]
	d.b = d.b[n+int(l):]
	return v
}

func (d *recordDecoder) addr() netip.Addr {
	var a netip.Addr
	if b := d.bytes(); d.err == nil {
		d.err = a.UnmarshalBinary(b)
	}
	return a
}

func decodeRecord(b []byte, rec *flowRecord) error {
	d := recordDecoder{b: b}
	rec.svc = string(d.bytes())
	rec.k.src = d.addr()
	rec.k.dst = d.addr()
	p := &rec.flow
	p.domain = string(d.bytes())
	p.port = int32(d.varint())
	p.openEnd = int32(d.varint())
	p.openSent = d.varint()
	p.bothBytes = d.varint()
	p.proxyBytes = d.varint()
	l, n := binary.Uvarint(d.b)
	if d.err != nil || n <= 0 || l > uint64(len(d.b)-n)/5 { // a bucket takes at least 5 bytes
		return errDamaged
	}
	d.b = d.b[n:]
	p.buckets = make([]flowBucket, l)
	for i := range p.buckets {
		k := &p.buckets[i]
		k.hour = int32(d.varint())
		k.sessions = int32(d.varint())
		k.bytes = d.varint()
		k.start = d.varint()
		k.end = d.varint()
	}
	if d.err == nil && len(d.b) > 0 {
		return errDamaged // bytes the record does not account for
	}
	return d.err
}

// unexpected: inside a record, the end of the file is damage.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// mergeRuns calls fn with every record of the runs in order; records of
// equal keys come in the order of the runs (the order they were written).
// Each run is read and decoded on its own goroutine, a batch ahead of the
// merge: decoding was a third of the merge's time, and the merge runs
// alone on one core after the last event (the judgement's passes).
func mergeRuns(paths []string, fn func(*flowRecord) error) error {
	done := make(chan struct{})
	defer close(done) // the readers stop at their next batch
	h := &runHeap{}
	for i, p := range paths {
		rr, err := openRun(p)
		if err != nil {
			return err
		}
		batches := make(chan runBatch, 1)
		go rr.readAhead(batches, done)
		it := &runItem{batches: batches, run: i}
		ok, err := it.advance()
		if err != nil {
			return err
		}
		if ok {
			h.items = append(h.items, it)
		}
	}
	heap.Init(h)
	for len(h.items) > 0 {
		it := h.items[0]
		if err := fn(it.rec()); err != nil {
			return err
		}
		ok, err := it.advance()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(h, 0)
			continue
		}
		heap.Pop(h)
	}
	return nil
}

// runBatch is the next records of a run, or what stopped its reading.
type runBatch struct {
	recs []flowRecord
	err  error
}

// runBatchLen records are decoded at a time: a few hundred kilobytes per
// run, a batch being merged and one waiting.
const runBatchLen = 1024

// readAhead sends the run's records in batches, each new (fn may keep what
// it was given), then what stopped it if not the run's end, and closes out.
func (rr *runReader) readAhead(out chan<- runBatch, done <-chan struct{}) {
	defer close(out)
	defer rr.f.Close()
	send := func(b runBatch) bool {
		select {
		case out <- b:
			return true
		case <-done:
			return false
		}
	}
	for {
		recs := make([]flowRecord, runBatchLen)
		n := 0
		for n < len(recs) && rr.next(&recs[n]) {
			n++
		}
		if n > 0 && !send(runBatch{recs: recs[:n]}) {
			return
		}
		if rr.err != nil {
			send(runBatch{err: rr.err})
			return
		}
		if n < len(recs) {
			return
		}
	}
}

type runItem struct {
	batches <-chan runBatch
	run     int
	recs    []flowRecord // the batch being merged, from its current record
}

func (it *runItem) rec() *flowRecord { return &it.recs[0] }

// advance moves to the run's next record: false at its end.
func (it *runItem) advance() (bool, error) {
	if len(it.recs) > 1 {
		it.recs = it.recs[1:]
		return true, nil
	}
	it.recs = nil
	b, ok := <-it.batches
	if !ok {
		return false, nil
	}
	if b.err != nil {
		return false, b.err
	}
	it.recs = b.recs
	return true, nil
}

type runHeap struct{ items []*runItem }

func (h *runHeap) Len() int { return len(h.items) }
func (h *runHeap) Less(i, j int) bool {
	a, b := h.items[i].rec(), h.items[j].rec()
	if a.less(b) {
		return true
	}
	if b.less(a) {
		return false
	}
	return h.items[i].run < h.items[j].run
}
func (h *runHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *runHeap) Push(x any)    { h.items = append(h.items, x.(*runItem)) }
func (h *runHeap) Pop() any {
	it := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return it
}

// combine adds a later part of the same pair's flow, as add would have.
func (p *pairFlow) combine(later *pairFlow) {
	if later.domain != "" {
		p.domain = later.domain
	}
	if later.port != 0 {
		p.port = later.port
	}
	p.openEnd += later.openEnd
	p.openSent += later.openSent
	p.bothBytes += later.bothBytes
	p.proxyBytes += later.proxyBytes
	for _, b := range later.buckets {
		p.addBucket(b)
	}
}
