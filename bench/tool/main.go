// Command tool is the benchmark driver behind bench/run.sh: it generates a
// large FortiGate log and measures parse-only, parse+index and bleve's bare
// batch-index rate on the same documents, with peak RSS.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/memlimit"
	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/reports"
	"github.com/exfiltrace/exfiltrace/rules"
)

func main() {
	memlimit.Apply() // as the CLI does
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tool gen N FILE | mix N FILE M FILE | proxy N FILE | evtxgen SRC N OUT | parse FILES... | index FILES... | bare FILES...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "mix":
		err = genMix(os.Args[2:])
	case "proxy":
		err = genProxy(os.Args[2:])
	case "parse":
		err = parseOnly(os.Args[2:])
	case "index":
		err = parseIndex(os.Args[2:])
	case "bare":
		err = bare(os.Args[2:])
	case "hunt":
		err = hunt(os.Args[2:])
	case "report":
		err = reportStage(os.Args[2:])
	case "analyze":
		err = analyzeStream(os.Args[2:])
	case "columns":
		err = columnsSpike(os.Args[2:])
	case "evtxgen":
		err = evtxGen(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func peakRSS() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024 // KiB → MiB
}

func sizeOf(files []string) int64 {
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}

func report(name string, files []string, events int64, d time.Duration) {
	mb := float64(sizeOf(files)) / 1e6
	fmt.Printf("%-28s %10d events %8.1f MB %7.2f s %10.0f events/s %8.1f MB/s  peak RSS %6.0f MiB\n",
		name, events, mb, d.Seconds(), float64(events)/d.Seconds(), mb/d.Seconds(), peakRSS())
}

// gen writes N FortiGate traffic lines like the samples' background.
func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	fs.Parse(args)
	if fs.NArg() != 2 {
		return fmt.Errorf("gen N FILE")
	}
	var n int
	fmt.Sscan(fs.Arg(0), &n)
	f, err := os.Create(fs.Arg(1))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(7, 7))
	t := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		t = t.Add(time.Duration(r.IntN(400)) * time.Millisecond)
		lt := t.In(time.FixedZone("+0100", 3600))
		fmt.Fprintf(w, `<189>date=%s time=%s devname="FGT-BENCH" devid="FG100FTK20012345" eventtime=%d tz="+0100" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.10.%d.%d srcport=%d srcintf="port1" srcintfrole="lan" dstip=%d.%d.%d.%d dstport=443 dstintf="wan1" dstintfrole="wan" sessionid=%d proto=6 action="close" policyid=12 policytype="policy" policyname="LAN-vers-Internet" service="HTTPS" trandisp="snat" transip=203.0.113.10 transport=%d hostname="site%d.example.fr" duration=%d sentbyte=%d rcvdbyte=%d sentpkt=%d rcvdpkt=%d`+"\n",
			lt.Format("2006-01-02"), lt.Format("15:04:05"), t.UnixNano(), r.IntN(30), 2+r.IntN(250), 49152+r.IntN(16000),
			20+r.IntN(200), r.IntN(256), r.IntN(256), 1+r.IntN(254), 1000000+i, 20000+r.IntN(40000), r.IntN(500), 1+r.IntN(300),
			800+r.IntN(60000), 4000+r.IntN(3000000), 1+r.IntN(100), 1+r.IntN(2000))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func parseFiles(files []string, emit func(*event.Event)) (int64, error) {
	var n int64
	for _, p := range files {
		in, err := parsers.Open(p)
		if err != nil {
			return n, err
		}
		st, err := parsers.Parse(in, &parsers.Options{TZ: time.UTC, Year: 2025}, func(ev *event.Event) { n++; emit(ev) })
		in.Close()
		if err != nil {
			return n, err
		}
		_ = st
	}
	return n, nil
}

// parseFilesParallel parses several files at once, one per core, as ingest
// does; events are only counted.
func parseFilesParallel(files []string) (int64, error) {
	var n atomic.Int64
	var firstErr error
	var mu sync.Mutex
	jobs := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				c, err := parseFiles([]string{p}, func(*event.Event) {})
				n.Add(c)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	for _, p := range files {
		jobs <- p
	}
	close(jobs)
	wg.Wait()
	return n.Load(), firstErr
}

// cpuProfile profiles the stage into $BENCH_CPUPROFILE when it is set; the
// caller defers the returned stop.
func cpuProfile() (func(), error) {
	p := os.Getenv("BENCH_CPUPROFILE")
	if p == "" {
		return func() {}, nil
	}
	f, err := os.Create(p)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func parseOnly(files []string) error {
	stop, err := cpuProfile()
	if err != nil {
		return err
	}
	defer stop()
	start := time.Now()
	name := "parse only"
	var n int64
	if len(files) > 1 {
		name = "parse only (files in parallel)"
		n, err = parseFilesParallel(files)
	} else {
		n, err = parseFiles(files, func(*event.Event) {})
	}
	if err != nil {
		return err
	}
	report(name, files, n, time.Since(start))
	return nil
}

// parseIndex ingests into the case directory named by $BENCH_CASE (kept for
// the hunt step) or a temporary one.
func parseIndex(files []string) error {
	caseDir := os.Getenv("BENCH_CASE")
	if caseDir == "" {
		dir, err := os.MkdirTemp("", "exfiltrace-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		caseDir = filepath.Join(dir, "case")
	}
	os.RemoveAll(caseDir)
	c, err := index.OpenCase(caseDir, true)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := index.Ingest(c, files, index.IngestOptions{Parse: parsers.Options{TZ: time.UTC, Year: 2025}})
	if err != nil {
		return err
	}
	var n int64
	for _, r := range res {
		n += r.Added
	}
	report("parse + index (ingest)", files, n, time.Since(start))
	return nil
}

// bare builds the same index documents in memory first (the free text of
// events that have some), then times bleve alone indexing them in batches of
// index.BatchSize: the ceiling for ingest.
func bare(files []string) error {
	var docs []map[string]any
	var ids []string
	if _, err := parseFiles(files, func(ev *event.Event) {
		if d, _ := index.TextDocument(ev); d != nil {
			docs = append(docs, d)
			ids = append(ids, ev.Str(event.FieldID))
		}
	}); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "exfiltrace-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	m, err := index.NewMapping()
	if err != nil {
		return err
	}
	idx, err := bleve.NewUsing(filepath.Join(dir, "bare.bleve"), m, "scorch", "scorch", nil)
	if err != nil {
		return err
	}
	start := time.Now()
	b := idx.NewBatch()
	for i, d := range docs {
		if err := b.Index(ids[i], d); err != nil {
			return err
		}
		if b.Size() >= index.BatchSize {
			if err := idx.Batch(b); err != nil {
				return err
			}
			b.Reset()
		}
	}
	if err := idx.Batch(b); err != nil {
		return err
	}
	if err := idx.Close(); err != nil {
		return err
	}
	report("bleve bare batch index", files, int64(len(docs)), time.Since(start))
	return nil
}

// hunt streams a case through the built-in pack plus any Sigma rule
// directories given after the case: hunt CASE [RULEDIR...].
func hunt(args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("hunt CASE [RULEDIR...]")
	}
	c, err := index.OpenCase(args[0], false)
	if err != nil {
		return err
	}
	rs, err := rules.Builtin()
	if err != nil {
		return err
	}
	name := "hunt (built-in pack)"
	if len(args) > 1 {
		more, _, err := rules.LoadDir(args[1:]...)
		if err != nil {
			return err
		}
		rs = append(rs, more...)
		name = "hunt (pack + Sigma dirs)"
	}
	eng := rules.Compile(rs)
	stop, err := cpuProfile()
	if err != nil {
		return err
	}
	defer stop()
	start := time.Now()
	var n int64
	if os.Getenv("BENCH_DECODE") == "all" { // every field, tested in order (before 2026-12-01)
		err = index.StreamAs(c, event.DecodeJSON, func(ev *event.Event) error { eng.Process(ev); n++; return nil })
	} else {
		err = index.StreamAs(c, eng.Prepare, func(p *rules.Prepared) error { eng.ProcessPrepared(p); eng.Recycle(p); n++; return nil })
	}
	if err != nil {
		return err
	}
	d := time.Since(start)
	fmt.Printf("%-28s %10d events %7.2f s %10.0f events/s  %d rules, %d findings  peak RSS %6.0f MiB\n",
		name, n, d.Seconds(), float64(n)/d.Seconds(), len(eng.Loaded), len(eng.Findings()), peakRSS())
	return nil
}

// evtxGen writes a large EVTX file from a real one: its header, then its
// chunks repeated N times (the header's chunk count and dirty flag set so
// that every chunk is live), to measure the reader on a big file.
func evtxGen(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("evtxgen SOURCE.evtx N OUT")
	}
	src, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var n int
	fmt.Sscan(args[1], &n)
	out, err := os.Create(args[2])
	if err != nil {
		return err
	}
	defer out.Close()
	hdr := append([]byte(nil), src[:4096]...)
	chunks := src[4096:]
	total := n * (len(chunks) / 65536)
	binary.LittleEndian.PutUint16(hdr[42:], uint16(min(total, 0xffff)))
	binary.LittleEndian.PutUint32(hdr[120:], binary.LittleEndian.Uint32(hdr[120:])|1) // dirty: chunks beyond the count are live
	binary.LittleEndian.PutUint32(hdr[124:], crc32.ChecksumIEEE(hdr[:120]))
	w := bufio.NewWriterSize(out, 1<<20)
	w.Write(hdr)
	for i := 0; i < n; i++ {
		w.Write(chunks)
	}
	return w.Flush()
}

// analyzeStream parses files and feeds the analysis (rules, ledgers,
// baselines, links) as the events come, without an index: the answer's own
// cost and memory.
func analyzeStream(files []string) error {
	rs, err := rules.Builtin()
	if err != nil {
		return err
	}
	a := reports.NewAnalyzer(reports.Options{Rules: rs})
	stop, err := cpuProfile()
	if err != nil {
		return err
	}
	defer stop()
	if at, err := time.ParseDuration(os.Getenv("BENCH_HEAPAT")); err == nil {
		// A heap profile at a given time into the run (BENCH_HEAPAT=100s), where
		// BENCH_MEMPROFILE's end-of-stream one misses the peak.
		time.AfterFunc(at, func() {
			if f, err := os.Create(os.Getenv("BENCH_MEMPROFILE") + ".at"); err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		})
	}
	start := time.Now()
	n, err := parseFiles(files, a.Observe)
	if err != nil {
		return err
	}
	if p := os.Getenv("BENCH_MEMPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		runtime.GC()
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	res, err := a.Finish(reports.CaseMeta{ID: "bench", Events: n})
	if err != nil {
		return err
	}
	d := time.Since(start)
	fmt.Printf("%-28s %10d events %7.2f s %10.0f events/s  verdict %s, %d routine, %d ledger  peak RSS %6.0f MiB\n",
		"analyze (parse + answer)", n, d.Seconds(), float64(n)/d.Seconds(), res.Report.Verdict.DataTaken, len(res.Report.Routine), len(res.Report.Exfiltration), peakRSS())
	return nil
}

// report times the report stage: one pass of rules + ledger over the case,
// then HTML rendering (timed apart, for the "< 5 % of analyze" target).
func reportStage(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("report CASE")
	}
	c, err := index.OpenCase(args[0], false)
	if err != nil {
		return err
	}
	rs, err := rules.Builtin()
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := reports.Build(c, reports.Options{Rules: rs})
	if err != nil {
		return err
	}
	built := time.Since(start)
	start = time.Now()
	if err := reports.Render(io.Discard, res.Report, "html", ""); err != nil {
		return err
	}
	rendered := time.Since(start)
	fmt.Printf("%-28s %10d events %7.2f s (rules + ledger pass) + %.3f s rendering HTML; verdict %s  peak RSS %6.0f MiB\n",
		"report", c.Manifest.Events, built.Seconds(), rendered.Seconds(), res.Report.Verdict.DataTaken, peakRSS())
	return nil
}
