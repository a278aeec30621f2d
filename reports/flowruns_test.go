package reports

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/samples/scenario"
)

// TestFlowRunsChangeNothing: a flow ledger that outgrows its budget and
// goes through sorted runs on disk gives the very report of one held
// whole in memory — every storyline, with FortiGate's interim records and
// Cisco ASA's two-way counters, with budgets that cut the pairs into a few
// runs and into many.
func TestFlowRunsChangeNothing(t *testing.T) {
	// Blocks of a few records: the sorter's runs are merged from many.
	defer func(n int) { sorterBlock = n }(sorterBlock)
	sorterBlock = 7
	for _, vendor := range []string{scenario.Firewalls[0], "cisco-asa"} {
		seeds := uint64(1)
		if vendor == scenario.Firewalls[0] {
			seeds = 2
		}
		for _, v := range scenario.Variants {
			for seed := uint64(1); seed <= seeds; seed++ {
				inc := scenario.Generate(v, seed)
				if vendor != scenario.Firewalls[0] {
					if err := inc.AsFirewall(vendor); err != nil {
						t.Fatal(err)
					}
				}
				dir := filepath.Join(t.TempDir(), fmt.Sprintf("%s-%s-%d", vendor, v, seed))
				if err := inc.Write(dir, dir+".truth.json"); err != nil {
					t.Fatal(err)
				}
				events, meta, _ := loadDir(t, dir, parsers.Options{TZ: inc.Truth.Location(), Year: inc.Truth.Year})
				want := analyzeEvents(t, events, meta, "en", func(a *Analyzer) { a.flows.budget = 1 << 62 })
				if len(want.Exfiltration)+len(want.Routine) == 0 && len(inc.Truth.Exfil) > 0 {
					t.Fatalf("%s %s seed %d: nothing in the ledger to compare", vendor, v, seed)
				}
				// The pairs' estimated size, for budgets that cut them in parts.
				whole := NewAnalyzer(Options{})
				for _, ev := range events {
					whole.Observe(ev)
				}
				if len(whole.flows.pairIdx) < 2 {
					continue // no firewall log in this variant: nothing to cut
				}
				for _, parts := range []int64{3, 40} {
					var fl *flowLedger
					got := analyzeEvents(t, events, meta, "en", func(a *Analyzer) {
						a.flows.budget = max(whole.flows.held/parts, 1)
						fl = a.flows
					})
					if fl.spills < 2 || fl.serviceRuns < 2 {
						t.Errorf("%s %s seed %d, budget 1/%d: %d runs while observing, %d by service: the runs were not exercised", vendor, v, seed, parts, fl.spills, fl.serviceRuns)
					}
					if fl.runDir != "" {
						t.Errorf("runs left in %s", fl.runDir)
					}
					// The same report, to the byte, but for when it was made.
					got.GeneratedAt, want.GeneratedAt = time.Time{}, time.Time{}
					if !reflect.DeepEqual(got, want) {
						a, _ := json.MarshalIndent(want, "", " ")
						b, _ := json.MarshalIndent(got, "", " ")
						t.Errorf("%s %s seed %d, budget 1/%d: reports differ\nin memory: %.3000s\nthrough runs: %.3000s", vendor, v, seed, parts, a, b)
					}
				}
			}
		}
	}
}

// TestFlowRunsRoundTrip: a record written to a run reads back the same,
// IPv6 zones and long bucket lists included; a cut run is an error.
func TestFlowRunsRoundTrip(t *testing.T) {
	recs := []flowRecord{
		{svc: "mega.co.nz", k: pairKey{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("31.216.144.5")},
			flow: pairFlow{domain: "gfs270n102.userstorage.mega.co.nz", port: 443, openEnd: 1, openSent: 77, bothBytes: -1, proxyBytes: 9,
				buckets: []flowBucket{{hour: 480000, sessions: 2, bytes: 5413491657, start: -5, end: 1741992640123456789}, {hour: 480001, sessions: 1, bytes: 0}}}},
		{k: pairKey{netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("2001:db8::7")}, flow: pairFlow{}},
		{svc: "mega.co.nz", k: pairKey{netip.MustParseAddr("10.0.0.5"), namedDestination("gfs270n102.userstorage.mega.co.nz")}, flow: pairFlow{proxyBytes: 228392011, buckets: []flowBucket{}}},
	}
	path := writeRecords(t, t.TempDir(), recs)
	var got []flowRecord
	if err := mergeRuns([]string{path}, func(r *flowRecord) error { got = append(got, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	recs[1].flow.buckets = []flowBucket{} // read back as an empty list
	if !reflect.DeepEqual(got, recs) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, recs)
	}
	b, _ := os.ReadFile(path)
	// A record longer or shorter than its fields: the first says one byte
	// more (the second record's first byte is taken as its last), then
	// one less.
	for _, d := range []byte{1, 0xff} {
		bad := append([]byte(nil), b...)
		bad[0] += d
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := mergeRuns([]string{path}, func(*flowRecord) error { return nil }); err == nil {
			t.Errorf("a run whose first record's length is off by %d read without error", int8(d))
		}
	}
	// A length no record has (a damaged prefix): an error, not a gigabyte
	// asked for.
	if err := os.WriteFile(path, binary.AppendUvarint(nil, 1<<30), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := mergeRuns([]string{path}, func(*flowRecord) error { return nil }); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("a run whose first record says 1 GB: %v", err)
	}
	for _, cut := range []int{1, 10, len(b) - 1} {
		if err := os.WriteFile(path, b[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		if err := mergeRuns([]string{path}, func(*flowRecord) error { return nil }); err == nil {
			t.Errorf("run cut at %d of %d bytes read without error", cut, len(b))
		}
	}
}

// TestRunSorterRuns: records added in any order come out of each run the
// sorter writes in order — merged from several blocks, a block partly
// filled, blocks used again after a run — every record once, as added.
func TestRunSorterRuns(t *testing.T) {
	defer func(n int) { sorterBlock = n }(sorterBlock)
	sorterBlock = 5
	rng := rand.New(rand.NewPCG(7, 43))
	svcs := []string{"", "mega.co.nz", "dropbox.com", "b.example"}
	record := func(i int) flowRecord {
		return flowRecord{svc: svcs[rng.IntN(len(svcs))],
			k:    pairKey{netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(4))}), netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)})},
			flow: pairFlow{domain: fmt.Sprint("d", i), port: int32(i), buckets: []flowBucket{{hour: int32(i), sessions: 1, bytes: int64(i)}}}}
	}
	s := &runSorter{dir: t.TempDir(), budget: 1 << 62}
	next := rng.IntN(1000)
	for _, n := range []int{23, 1, 5, 0, 41} { // runs of several blocks, one, exactly one block, none
		var want []flowRecord
		for range n {
			next++ // a destination of its own: no two records are equal
			r := record(next)
			want = append(want, r)
			if err := s.add(&r); err != nil {
				t.Fatal(err)
			}
		}
		runs := len(s.runs)
		if err := s.flush(); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			if len(s.runs) != runs {
				t.Errorf("an empty sorter wrote a run")
			}
			continue
		}
		sort.SliceStable(want, func(i, j int) bool { return want[i].less(&want[j]) })
		var got []flowRecord
		if err := mergeRuns(s.runs[len(s.runs)-1:], func(r *flowRecord) error { got = append(got, *r); return nil }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%d records: run holds\n%+v\nwant\n%+v", n, got, want)
		}
		if s.used != 0 || s.held != 0 {
			t.Errorf("after a run: %d blocks used, %d bytes held", s.used, s.held)
		}
	}
	if len(s.blocks) != 9 { // 41 records: the blocks of the first runs, used again, and more
		t.Errorf("%d blocks made, want 9", len(s.blocks))
	}
}

// TestFlowRunsMergeLikeOneLedger: random sessions — few addresses, names
// that come and go, ports of 0, hours out of order, sessions still open —
// give the same services and flows through runs as in one ledger.
func TestFlowRunsMergeLikeOneLedger(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		addr := func(n int) netip.Addr {
			if rng.IntN(8) == 0 {
				return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(rng.IntN(n))})
			}
			return netip.AddrFrom4([4]byte{93, 184, 0, byte(rng.IntN(n))})
		}
		domains := []string{"", "", "a.example.com", "b.example.com", "files.example.org", "x.co.uk"}
		whole, cut := newFlowLedger(t.TempDir()), newFlowLedger(t.TempDir())
		whole.budget = 1 << 62
		cut.budget = pairCost * int64(2+rng.IntN(5))
		// Runs that cannot be written (no such directory, nor TMPDIR: a full
		// or missing disk): the pairs stay in memory, the answer the same.
		unwritable := newFlowLedger(filepath.Join(t.TempDir(), "missing"))
		unwritable.budget = cut.budget
		t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
		base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		for i := 0; i < 400; i++ {
			k := pairKey{netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(4))}), addr(12)}
			d, port := domains[rng.IntN(len(domains))], int32(rng.IntN(3)*443)
			end := base.Add(time.Duration(i)*7*time.Minute - time.Duration(rng.IntN(40))*time.Hour)
			start := end.Add(-time.Duration(rng.IntN(90)) * time.Minute)
			n := int64(rng.IntN(1 << 20))
			for _, l := range []*flowLedger{whole, cut, unwritable} {
				l.keepWithinBudget()
				p := l.add(k, d, port, n, start, end)
				if i%17 == 0 {
					p.openEnd++
					p.openSent += n
				}
			}
		}
		if cut.spills < 2 {
			t.Fatalf("seed %d: %d runs", seed, cut.spills)
		}
		read := func(l *flowLedger) []flowRecord {
			defer l.close()
			if err := l.finish(); err != nil {
				t.Fatal(err)
			}
			j := &judge{}
			ss, err := j.services(l)
			if err != nil {
				t.Fatal(err)
			}
			var out []flowRecord
			if err := ss.scan(nil, func(s *service, pr pairRef) {
				out = append(out, flowRecord{svc: s.key, k: pr.k, flow: *pr.p})
			}, nil); err != nil {
				t.Fatal(err)
			}
			return out
		}
		if unwritable.spillErr == nil || unwritable.spills != 0 {
			t.Fatalf("seed %d: runs written to a missing directory (%d, %v)", seed, unwritable.spills, unwritable.spillErr)
		}
		want, got, kept := read(whole), read(cut), read(unwritable)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: through runs\n%+v\nin one ledger\n%+v", seed, got, want)
		}
		if !reflect.DeepEqual(kept, want) {
			t.Fatalf("seed %d: with runs that could not be written\n%+v\nin one ledger\n%+v", seed, kept, want)
		}
	}
}

// TestSortedPairsOrder: a spill lists its pairs by source, then
// destination, in netip's order — through the 64-bit shortcut when every
// address is IPv4, through netip's comparison when some are IPv6 or
// IPv4-mapped IPv6 (which sort after every IPv4 address).
func TestSortedPairsOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	v4 := func() netip.Addr {
		// few distinct high bytes: many ties on the source, shared prefixes
		return netip.AddrFrom4([4]byte{byte(r.IntN(3) * 127), byte(r.IntN(256)), byte(r.IntN(4)), byte(r.IntN(256))})
	}
	other := func() netip.Addr {
		if r.IntN(2) == 0 {
			return netip.AddrFrom16(v4().As16()) // ::ffff:a.b.c.d
		}
		var b [16]byte
		b[0], b[15] = 0x20, byte(r.IntN(256))
		return netip.AddrFrom16(b)
	}
	for _, mixed := range []bool{false, true} {
		l := newFlowLedger(t.TempDir())
		srcs := []netip.Addr{v4(), v4(), v4()}
		for i := 0; i < 5000; i++ {
			src, dst := srcs[r.IntN(len(srcs))], v4()
			if r.IntN(4) == 0 {
				src = v4()
			}
			if mixed && r.IntN(10) == 0 {
				dst = other()
			}
			l.add(pairKey{src, dst}, "", 443, 1, time.Unix(0, 0), time.Unix(1, 0))
		}
		pair := func(k uint64) pairKey { return pairKey{*l.addrs.at(uint32(k >> 32)), *l.addrs.at(uint32(k))} }
		got := l.sortedPairs(pair)
		if len(got) != len(l.pairIdx) {
			t.Fatalf("mixed %v: %d pairs listed, %d held", mixed, len(got), len(l.pairIdx))
		}
		for i := 1; i < len(got); i++ {
			a, b := pair(got[i-1].key), pair(got[i].key)
			if a.compare(b) >= 0 {
				t.Fatalf("mixed %v: pair %d %v→%v listed before %v→%v", mixed, i, a.src, a.dst, b.src, b.dst)
			}
		}
	}
}

// TestMergeRunsLongRuns: runs of many records, of few, of one merge whole
// and in order; a run cut two thirds in gives its records before the cut,
// then the error; a caller that stops early gets its own error back.
func TestMergeRunsLongRuns(t *testing.T) {
	dir := t.TempDir()
	write := func(n, step int) (string, []flowRecord) {
		var recs []flowRecord
		for i := range n {
			v := i*step + step/2
			recs = append(recs, flowRecord{svc: "s", k: pairKey{netip.AddrFrom4([4]byte{10, 0, 0, 1}), netip.AddrFrom4([4]byte{198, 51, byte(v >> 8), byte(v)})},
				flow: pairFlow{port: int32(v), buckets: []flowBucket{{hour: int32(i), bytes: int64(v)}}}})
		}
		return writeRecords(t, dir, recs), recs
	}
	var paths []string
	var want []flowRecord
	for _, r := range []struct{ n, step int }{{785, 2}, {256, 3}, {1, 5}} {
		p, recs := write(r.n, r.step)
		paths, want = append(paths, p), append(want, recs...)
	}
	sort.SliceStable(want, func(i, j int) bool { return want[i].less(&want[j]) })
	var got []flowRecord
	if err := mergeRuns(paths, func(r *flowRecord) error { got = append(got, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged %d records, want %d in order", len(got), len(want))
	}
	// Cut two thirds into the long run.
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(paths[0], b[:len(b)*2/3], 0o600); err != nil {
		t.Fatal(err)
	}
	n := 0
	err = mergeRuns(paths[:1], func(*flowRecord) error { n++; return nil })
	if err == nil || n < 500 || n >= 785 {
		t.Errorf("a run cut at two thirds: %d records, then %v", n, err)
	}
	// A caller that stops early.
	stop := errors.New("enough")
	if err := mergeRuns(paths[1:], func(*flowRecord) error { return stop }); err != stop {
		t.Errorf("stopping early gave %v", err)
	}
}

// writeRecords writes records, in the order given, to a new run in dir.
func writeRecords(t *testing.T, dir string, recs []flowRecord) string {
	t.Helper()
	path, err := writeRun(dir, slices.Values(pointers(recs)))
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func pointers[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}
