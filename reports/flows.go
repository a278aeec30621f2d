package reports

import (
	"cmp"
	"math"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// flowLedger sums outbound session volume per internal source → external
// destination pair, in hourly buckets. Its memory is bounded by the distinct
// pairs and the hours each is active, never by the number of sessions, and
// it is everything the baselines need: no second pass over the logs.
type flowLedger struct {
	// Addresses are numbered once; a pair is then two 32-bit numbers and
	// its flow sits in a list: at a million distinct destinations this is
	// half the memory of a map keyed by address pairs. IPv4 addresses are
	// keyed by their 32 bits (a quarter of netip.Addr, and no pointer for
	// the collector to follow); the lists grow by chunks, never copied.
	addrIdx4 map[uint32]uint32
	addrIdx  map[netip.Addr]uint32 // IPv6 and zoned addresses
	addrs    chunked[netip.Addr]
	pairIdx  map[uint64]uint32 // src<<32 | dst → index in flows
	flows    chunked[pairFlow]
	// open holds sessions seen only through interim records so far; a
	// session's closing record removes it. What is left at the end was still
	// open when the log stopped; a session silent for openIdle never got
	// its closing record (lost, filtered) and is counted then, so that the
	// map holds a day of sessions, not every one of a month's log.
	open map[string]*openSession
	// swept are the sessions counted when they fell silent, with the bytes
	// so counted: one whose records resume, or whose closing record comes
	// after all, has only the rest left to count (at most maxSwept kept).
	swept map[string]int64
	// continued are the sessions seen through records of a session still
	// open whose bytes are those since its previous record (Comware's
	// active-flow records, tagged session_continues): counted as a session
	// at their first record, not again at the next ones or their closing
	// one. Each is kept with its last record's time, forgotten after
	// openIdle of silence (at most maxSwept kept).
	continued continuedSessions
	now       time.Time // the latest time observed
	nextSweep time.Time
	// domains interns destination names: thousands of pairs share a few.
	domains map[string]string

	// held estimates the memory of the pairs above; past budget they are
	// written to a sorted run in runDir (see flowruns.go).
	held, budget int64
	tmp, runDir  string
	runs         []string
	// spillErr: a run could not be written (full disk); the pairs then
	// stay in memory, the answer unchanged.
	spillErr error
	// spills and serviceRuns count the runs written, for tests.
	spills, serviceRuns int

	// exclude, when set, drops hours of pairs from the judgement (a proxy's
	// sessions out, replaced by its clients' requests: proxyflows.go);
	// excluded counts their bytes.
	exclude  func(pairKey, flowBucket) bool
	excluded int64
}

// excludeBuckets applies exclude to a pair's hours; it reports whether any
// hour is left.
func (l *flowLedger) excludeBuckets(k pairKey, p *pairFlow) bool {
	if l.exclude == nil {
		return true
	}
	kept := p.buckets[:0:0]
	for _, b := range p.buckets {
		if l.exclude(k, b) {
			l.excluded += b.bytes
			continue
		}
		kept = append(kept, b)
	}
	p.buckets = kept
	return len(kept) > 0
}

// flowBudget bounds the ledger's pairs in memory: about 130,000 pairs
// (a town's firewall reaches thousands), beside the soft heap limit
// (internal/memlimit) of the whole run. It changes where pairs wait, never
// the answer. It was 96 MiB: the heap those pairs held near the soft
// limit made the collector run more often than the runs on disk cost —
// the 10 M mix's analyze took 5 % less time at 24 MiB (bench/README).
const flowBudget = 24 << 20

// What a pair and an hourly bucket hold, with the maps and the slack of
// growing lists: measured on a ledger of 1.8 M pairs (bench/README).
const (
	pairCost   = 190
	bucketCost = 40
)

type pairKey struct{ src, dst netip.Addr }

// compare orders pairs by source, then destination: a service's pairs, and
// the runs on disk, are in this order.
func (k pairKey) compare(o pairKey) int {
	return cmp.Or(k.src.Compare(o.src), k.dst.Compare(o.dst))
}

type pairFlow struct {
	domain   string
	port     int32
	buckets  []flowBucket // hourly, in time order
	openEnd  int32        // sessions without a closing record, counted to their last interim record
	openSent int64
	// bothBytes are bytes from counters of both directions together (Cisco
	// ASA teardowns): an upper bound of what was sent, said in the ledger.
	bothBytes int64
	// proxyBytes are bytes from a web proxy's requests (proxyflows.go),
	// counted where no firewall session log covers their hour.
	proxyBytes int64
}

// flowBucket is one hour of a pair's closed sessions (by end time).
type flowBucket struct {
	hour     int32 // unix hours
	sessions int32
	bytes    int64
	start    int64 // earliest session start, unix ns
	end      int64 // latest session end, unix ns
}

type openSession struct {
	pair   pairKey
	domain string
	port   int32
	sent   int64
	start  time.Time
	last   time.Time
}

// newFlowLedger makes a ledger whose runs, if any, go under tmp ("" for
// the system's temporary directory).
func newFlowLedger(tmp string) *flowLedger {
	l := &flowLedger{open: map[string]*openSession{}, budget: flowBudget, tmp: tmp}
	l.reset()
	return l
}

// reset empties the pairs (written to a run).
func (l *flowLedger) reset() {
	l.addrIdx4, l.addrIdx = map[uint32]uint32{}, map[netip.Addr]uint32{}
	l.addrs, l.flows = chunked[netip.Addr]{}, chunked[pairFlow]{}
	l.pairIdx = map[uint64]uint32{}
	l.domains = map[string]string{}
	l.held = 0
}

// close removes the runs.
func (l *flowLedger) close() {
	if l.runDir != "" {
		os.RemoveAll(l.runDir)
		l.runDir, l.runs = "", nil
	}
}

func (l *flowLedger) addrNum(a netip.Addr) uint32 {
	if a.Is4() {
		b := a.As4()
		k := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		if n, ok := l.addrIdx4[k]; ok {
			return n
		}
		n := l.addrs.add(a)
		l.addrIdx4[k] = n
		return n
	}
	if n, ok := l.addrIdx[a]; ok {
		return n
	}
	n := l.addrs.add(a)
	l.addrIdx[a] = n
	return n
}

// chunked is an append-only list held in fixed chunks: growing it never
// copies what it holds, so a ledger of millions of pairs does not briefly
// need twice its size, and an element's address never changes.
type chunked[T any] struct {
	chunks [][]T
	n      int
}

const chunkLen = 1 << 14

func (c *chunked[T]) add(v T) uint32 {
	if c.n%chunkLen == 0 {
		c.chunks = append(c.chunks, make([]T, 0, chunkLen))
	}
	last := &c.chunks[len(c.chunks)-1]
	*last = append(*last, v)
	c.n++
	return uint32(c.n - 1)
}

func (c *chunked[T]) at(i uint32) *T { return &c.chunks[i/chunkLen][i%chunkLen] }

// each calls fn for every pair; the flows must no longer grow.
func (l *flowLedger) each(fn func(pairKey, *pairFlow)) {
	for k, i := range l.pairIdx {
		fn(pairKey{*l.addrs.at(uint32(k >> 32)), *l.addrs.at(uint32(k))}, l.flows.at(i))
	}
}

// observe takes one session-log event whose source is internal and whose
// destination is external.
func (l *flowLedger) observe(ev *event.Event, src, dst netip.Addr) {
	l.keepWithinBudget()
	port, _ := ev.Int("destination.port")
	domain := ev.Str("destination.domain")
	if ev.Timestamp.After(l.now) {
		l.now = ev.Timestamp
		if l.now.After(l.nextSweep) {
			l.sweepOpen()
		}
	}
	if key, sent, ok := interimCounters(ev); ok {
		o := l.open[key]
		if o == nil {
			o = &openSession{pair: pairKey{src, dst}, domain: l.intern(domain), port: int32(port), start: sessionStart(ev)}
			l.open[key] = o
		}
		o.sent, o.last = sent, ev.Timestamp
		return
	}
	n, ok := ev.Int("source.bytes")
	both := false
	if !ok {
		// Cisco ASA counts a connection's bytes in both directions together:
		// for a connection the inside host initiated, that total bounds
		// what it sent from above, and is counted as such, flagged.
		if b, ok2 := ev.Int("network.bytes"); ok2 && ev.Str("network.direction") == "outbound" && hasValue(ev, "tags", "bytes_not_per_direction") {
			n, ok, both = b, true, true
		}
	}
	if !ok || n < 0 {
		// A negative count is no count (a vendor's "-1" for unknown, an
		// unsigned counter read as signed): it would take bytes away.
		return
	}
	sessions := l.continued.count(ev)
	if key, ok := sessionKey(ev); ok {
		delete(l.open, key)
		if c, ok := l.swept[key]; ok {
			// Counted up to its last interim record when it fell silent:
			// the rest now, the session once.
			delete(l.swept, key)
			n, sessions = max(n-c, 0), 0
		}
	}
	end := sessionEnd(ev)
	p := l.addBucket(pairKey{src, dst}, domain, int32(port), flowBucket{hour: int32(end.Unix() / 3600), sessions: sessions, bytes: n, start: sessionStart(ev).UnixNano(), end: end.UnixNano()})
	if both {
		p.bothBytes += n
	}
}

// continuedSessions remembers the sessions seen through records of a
// session still open ("session_continues"), each record carrying the bytes
// since the previous one: the session counts at its first record only.
type continuedSessions map[string]time.Time

// count is how many sessions a record adds: one at a session's first
// record, none at the others.
func (c *continuedSessions) count(ev *event.Event) int32 {
	continues := hasValue(ev, "tags", "session_continues")
	if !continues && len(*c) == 0 {
		return 1
	}
	key := ev.Str("observer.name") + "|" + ev.Str("source.ip") + "|" + ev.Str("source.port") + "|" +
		ev.Str("destination.ip") + "|" + ev.Str("destination.port") + "|" + ev.Str("event.start")
	_, seen := (*c)[key]
	switch {
	case !continues:
		delete(*c, key)
	case seen || len(*c) < maxSwept:
		if *c == nil {
			*c = continuedSessions{}
		}
		(*c)[key] = ev.Timestamp
	}
	if seen {
		return 0
	}
	return 1
}

// maxSwept bounds the sessions remembered as counted when silent: a
// session falls silent for a day and then logs again rarely (a firewall's
// logging interrupted); past this many, later ones are not remembered
// (their closing record would count them again).
const maxSwept = 1 << 16

func (l *flowLedger) add(k pairKey, domain string, port int32, n int64, start, end time.Time) *pairFlow {
	return l.addBucket(k, domain, port, flowBucket{hour: int32(end.Unix() / 3600), sessions: 1, bytes: n, start: start.UnixNano(), end: end.UnixNano()})
}

// addBucket adds an hour of a pair's sessions.
func (l *flowLedger) addBucket(k pairKey, domain string, port int32, b flowBucket) *pairFlow {
	key := uint64(l.addrNum(k.src))<<32 | uint64(l.addrNum(k.dst))
	i, ok := l.pairIdx[key]
	if !ok {
		i = l.flows.add(pairFlow{})
		l.pairIdx[key] = i
		l.held += pairCost
	}
	p := l.flows.at(i)
	if domain != "" && domain != p.domain {
		p.domain = l.intern(domain)
	}
	if port != 0 {
		p.port = port
	}
	if p.addBucket(b) {
		l.held += bucketCost
	}
	return p
}

// addBucket adds an hour of sessions to the pair's buckets, kept in hour
// order with one bucket per hour; it reports a new bucket.
func (p *pairFlow) addBucket(nb flowBucket) bool {
	merge := func(b *flowBucket) {
		b.sessions += nb.sessions
		b.bytes += nb.bytes
		b.start = min(b.start, nb.start)
		b.end = max(b.end, nb.end)
	}
	// Logs are close to time order: the bucket is almost always among the last few.
	for i := len(p.buckets) - 1; i >= 0 && i >= len(p.buckets)-4; i-- {
		if b := &p.buckets[i]; b.hour == nb.hour {
			merge(b)
			return false
		} else if b.hour < nb.hour {
			break
		}
	}
	i, found := slices.BinarySearchFunc(p.buckets, nb.hour, func(b flowBucket, h int32) int { return cmp.Compare(b.hour, h) })
	if found {
		merge(&p.buckets[i])
		return false
	}
	p.buckets = slices.Insert(p.buckets, i, nb)
	return true
}

// intern keeps one copy of a name, never a slice of the whole log line.
func (l *flowLedger) intern(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := l.domains[s]; ok {
		return v
	}
	v := strings.Clone(s)
	l.domains[v] = v
	return v
}

// firstStart is the start of the pair's earliest session.
func (p *pairFlow) firstStart() int64 {
	first := int64(math.MaxInt64)
	for _, b := range p.buckets {
		first = min(first, b.start)
	}
	return first
}

// openIdle is how long a session seen through interim records may stay
// silent before its closing record is held lost: FortiGate writes one for
// a long session every few minutes while it lasts. A session silent for
// longer that logs again would have its bytes counted twice (its first
// count flagged as a session without its closing record).
const openIdle = 24 * time.Hour

// sweepOpen counts the sessions silent for openIdle, as finish does; run
// once an hour of the stream.
func (l *flowLedger) sweepOpen() {
	l.nextSweep = l.now.Add(time.Hour)
	if l.swept == nil {
		l.swept = map[string]int64{}
	}
	l.countOpen(func(o *openSession) bool { return l.now.Sub(o.last) > openIdle })
	for k, last := range l.continued {
		if l.now.Sub(last) > openIdle {
			delete(l.continued, k)
		}
	}
}

// countOpen counts the open sessions that done says are over up to their
// last interim record: bytes that certainly left, flagged as such.
func (l *flowLedger) countOpen(done func(*openSession) bool) {
	var keys []string
	for k, o := range l.open {
		if done(o) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		o := l.open[k]
		sent, sessions := o.sent, int32(1)
		if c, ok := l.swept[k]; ok {
			sent, sessions = max(sent-c, 0), 0 // its records resumed after a first sweep
		}
		p := l.addBucket(o.pair, o.domain, o.port, flowBucket{hour: int32(o.last.Unix() / 3600), sessions: sessions, bytes: sent, start: o.start.UnixNano(), end: o.last.UnixNano()})
		p.openEnd += sessions
		p.openSent += sent
		delete(l.open, k)
		if l.swept != nil {
			if _, ok := l.swept[k]; ok || len(l.swept) < maxSwept {
				l.swept[k] = max(o.sent, l.swept[k])
			}
		}
	}
}

// finish counts the sessions still open at the end of the log.
func (l *flowLedger) finish() error {
	l.countOpen(func(*openSession) bool { return true })
	l.open, l.swept, l.continued = nil, nil, nil
	if len(l.runs) > 0 {
		return l.spill()
	}
	return nil
}

func sessionStart(ev *event.Event) time.Time {
	if s := ev.Str("event.start"); s != "" {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t
		}
	}
	return ev.Timestamp
}

// sessionEnd is when a session's last byte went: most logs date a session
// at its end, Zeek and Stormshield at its start (their event.end says the
// end).
func sessionEnd(ev *event.Event) time.Time {
	if s := ev.Str("event.end"); s != "" {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil && t.After(ev.Timestamp) {
			return t
		}
	}
	return ev.Timestamp
}

// interimCounters reads the running totals of an interim session record
// (FortiGate: event.type info, cumulative sentbyte kept under fortinet.*).
func interimCounters(ev *event.Event) (key string, sent int64, ok bool) {
	if ev.Str(event.FieldDataset) != "fortinet.firewall" || !hasValue(ev, "event.type", "info") {
		return "", 0, false
	}
	sent, ok = ev.Int("fortinet.firewall.sentbyte")
	if !ok {
		return "", 0, false
	}
	key, ok = sessionKey(ev)
	return key, sent, ok
}

func sessionKey(ev *event.Event) (string, bool) {
	id := ev.Str("fortinet.firewall.sessionid")
	if id == "" {
		return "", false
	}
	return ev.Str("observer.serial_number") + "|" + id + "|" + ev.Str("source.ip") + "|" + ev.Str("source.port") + "|" + ev.Str("destination.ip"), true
}

func hasValue(ev *event.Event, field, v string) bool {
	for _, x := range ev.Strings(field) {
		if x == v {
			return true
		}
	}
	return false
}

// totals of a pair over its buckets, optionally restricted to [from, to) hours.
type flowTotals struct {
	bytes, sessions int64
	first, last     time.Time
}

func (p *pairFlow) totals(keep func(b flowBucket) bool) flowTotals {
	var t flowTotals
	for _, b := range p.buckets {
		if keep != nil && !keep(b) {
			continue
		}
		t.bytes += b.bytes
		t.sessions += int64(b.sessions)
		s, e := time.Unix(0, b.start).UTC(), time.Unix(0, b.end).UTC()
		if t.first.IsZero() || s.Before(t.first) {
			t.first = s
		}
		if e.After(t.last) {
			t.last = e
		}
	}
	return t
}

// serviceKey groups the addresses of one service: the registrable part of
// the destination's name when the log gives one (gfs270n102.userstorage.mega.co.nz
// → mega.co.nz), otherwise the address itself.
func serviceKey(domain string, ip netip.Addr) string {
	d := strings.TrimSuffix(strings.ToLower(domain), ".")
	if d == "" || net0(d) {
		return ip.String()
	}
	labels := strings.Split(d, ".")
	if len(labels) <= 2 {
		return d
	}
	n := 2
	// Second-level public suffixes under country codes (co.uk, com.au, gouv.fr…).
	if len(labels[len(labels)-1]) == 2 && ccSecondLevel[labels[len(labels)-2]] {
		n = 3
	}
	return strings.Join(labels[len(labels)-n:], ".")
}

var ccSecondLevel = map[string]bool{"co": true, "com": true, "net": true, "org": true, "gov": true, "gouv": true,
	"ac": true, "edu": true, "asso": true, "ne": true, "or": true, "ltd": true, "plc": true, "nom": true, "tm": true, "go": true}

// net0 reports a "domain" that is an address written as text.
func net0(d string) bool {
	_, err := netip.ParseAddr(d)
	return err == nil
}
