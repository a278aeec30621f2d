package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/samples/scenario"
)

// run executes the CLI in-process and returns stdout.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestSamplesEndToEnd(t *testing.T) {
	c := filepath.Join(t.TempDir(), "case")
	samples := filepath.Join("..", "..", "samples", "incident")
	out, err := run(t, "ingest", "--case", c, "--json", samples)
	if err != nil {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	if !strings.Contains(out, `"added":9840`) {
		t.Errorf("ingest summary: %s", out)
	}
	// The README's main job: the exfiltrated total for the new destination, exactly.
	out, err = run(t, "top", "--case", c, "destination.ip", "--sum", "source.bytes")
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "31.216.145.5 ") {
			line = l
		}
	}
	if f := strings.Fields(line); len(f) < 3 || f[1] != "24" || f[2] != "5413491657" {
		t.Errorf("top line for 31.216.145.5: %q\n%s", line, out)
	}
	// The ingest kept the rankings that answer it.
	if out, err := run(t, "sql", "--case", c, "--json", `SELECT v, n, s FROM ranked WHERE field = 'destination.ip' AND sum = 'source.bytes' AND v = '31.216.145.5'`); err != nil || !strings.Contains(out, `"n":24,"s":5413491657`) {
		t.Errorf("ranking kept by ingest: %v\n%s", err, out)
	}
	// JSON output of top and search for pipes.
	out, err = run(t, "top", "--case", c, "destination.ip", "--sum", "source.bytes", "--json", "--limit", "2")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("top --json line %q: %v", l, err)
		}
		rows = append(rows, m)
	}
	if len(rows) != 2 || rows[0]["value"] != "51.91.120.15" || rows[1]["value"] != "31.216.145.5" {
		t.Errorf("top --json: %v", rows)
	}
	out, err = run(t, "search", "--case", c, "--json", "--limit", "0", `event.code:1102`)
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &ev); err != nil {
		t.Fatalf("search --json: %v: %s", err, out)
	}
	if ev["user.name"] != "j.martin" || ev["@timestamp"] != "2025-03-15T01:01:45Z" || ev["log.file.path"] != filepath.Join(samples, "windows", "FS01-Security.xml") {
		t.Errorf("1102 event: %v", ev)
	}
	// stats
	out, err = run(t, "stats", "--case", c, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Events    float64        `json:"events"`
		ByDataset map[string]int `json:"by_dataset"`
	}
	json.Unmarshal([]byte(out), &st)
	if st.Events != 9840 || st.ByDataset["fortinet.firewall"] != 8211 || st.ByDataset["postfix"] != 414 {
		t.Errorf("stats: %+v", st)
	}
	// Clear errors.
	if _, err := run(t, "search", "--case", c, "nosuchfield:1"); err == nil || !strings.Contains(err.Error(), "not indexed") {
		t.Errorf("bad field: %v", err)
	}
	if _, err := run(t, "search", "--case", filepath.Join(t.TempDir(), "none"), "x"); err == nil || !strings.Contains(err.Error(), "no case") {
		t.Errorf("missing case: %v", err)
	}
	if _, err := run(t, "ingest", "--case", c, "--tz", "Mars/Olympus", samples); err == nil || !strings.Contains(err.Error(), "unknown time zone") {
		t.Errorf("bad tz: %v", err)
	}
}

func TestEveryCommandHasHelpWithExample(t *testing.T) {
	for _, c := range newRoot().Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if c.Example == "" || c.Short == "" {
			t.Errorf("%s: missing example or description", c.Name())
		}
	}
}

// TestHuntSamples: on samples/incident hunt finds the staging, each
// exfiltration channel and the cover-up, and nothing on the nightly backup;
// on samples/control (same background, no intrusion) it finds nothing.
func TestHuntSamples(t *testing.T) {
	for _, name := range []string{"incident", "control"} {
		c := filepath.Join(t.TempDir(), "case")
		if out, err := run(t, "ingest", "--case", c, "--json", filepath.Join("..", "..", "samples", name)); err != nil {
			t.Fatalf("ingest %s: %v\n%s", name, err, out)
		}
		out, err := run(t, "hunt", "--case", c, "--json")
		if err != nil {
			t.Fatal(err)
		}
		titles := map[string]bool{}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l == "" {
				continue
			}
			var f struct {
				Title string   `json:"title"`
				Dests []string `json:"destinations"`
			}
			if err := json.Unmarshal([]byte(l), &f); err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			titles[f.Title] = true
			for _, d := range f.Dests {
				if d == "51.91.120.15" || d == "backup.offsite-provider.fr" {
					t.Errorf("%s: finding %q on the nightly backup", name, f.Title)
				}
			}
		}
		if name == "control" {
			if len(titles) != 0 {
				t.Errorf("control: findings %v", titles)
			}
			continue
		}
		for _, want := range []string{
			"VPN brute force followed by a successful login from the same address",
			"RDP logon from a VPN or external address",
			"Archive created with a password or on a share (data staging)",
			"Mass file access by one account",
			"File transfer tool used for exfiltration (recognised by its arguments, even renamed)",
			"Connection to a cloud file-sharing service",
			"Large outbound volume from one host to one destination",
			"Large transfer to a destination never seen before",
			"Large message to a free-mail address",
			"Shadow copies or backups deleted",
			"Event log cleared",
		} {
			if !titles[want] {
				t.Errorf("incident: no finding %q (got %v)", want, titles)
			}
		}
	}
}

// TestAnalyzeReportBatch: analyze in one go, report from a case, and batch
// reports that carry on past a broken case.
func TestAnalyzeReportBatch(t *testing.T) {
	dir := t.TempDir()
	c := filepath.Join(dir, "cases", "incident")
	html := filepath.Join(dir, "report.html")
	if _, err := run(t, "analyze", filepath.Join("..", "..", "samples", "incident"), "--case", c, "-o", html); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `data-verdict="confirmed"`) || !strings.Contains(string(b), "5413491657") {
		t.Error("analyze: HTML report lacks the verdict or the ledger")
	}
	// The case analyze kept is searchable, including one analyzed with
	// --no-index: its first search builds the index.
	c2 := filepath.Join(dir, "noindex-case")
	if _, err := run(t, "analyze", filepath.Join("..", "..", "samples", "incident"), "--case", c2, "--no-index", "-o", filepath.Join(dir, "r2.md")); err != nil {
		t.Fatal(err)
	}
	for _, cd := range []string{c, c2} {
		out, err := run(t, "top", "--case", cd, "destination.ip", "--sum", "source.bytes", "--json")
		if err != nil || !strings.Contains(out, "5413491657") {
			t.Errorf("top on analyzed case %s: %v\n%s", cd, err, out)
		}
		if out, err := run(t, "sql", "--case", cd, "--json", `SELECT s FROM ranked WHERE field = 'destination.ip' AND sum = 'source.bytes' AND v = '31.216.145.5'`); err != nil || !strings.Contains(out, `"s":5413491657`) {
			t.Errorf("ranking kept by analyze --case %s: %v\n%s", cd, err, out)
		}
	}
	// SQL over the columnar copy gives the same sum; Parquet export writes it.
	out, err := run(t, "sql", "--case", c, "--json", `SELECT "destination.ip" AS ip, sum("source.bytes")::BIGINT AS bytes FROM events GROUP BY 1 ORDER BY 2 DESC NULLS LAST`)
	if err != nil || !strings.Contains(out, `"bytes":5413491657,"ip":"31.216.145.5"`) {
		t.Errorf("sql: %v\n%s", err, out)
	}
	if out, err := run(t, "export", "--case", c, "--parquet", filepath.Join(dir, "parquet")); err != nil || !strings.Contains(out, "events.parquet") {
		t.Errorf("export --parquet: %v %s", err, out)
	}
	// The columnar copy now complete, top answers from it: the same sum.
	if out, err := run(t, "top", "--case", c, "destination.ip", "--sum", "source.bytes", "--json", "--query", "destination.port:443"); err != nil || !strings.Contains(out, `"value":"31.216.145.5","count":24,"sum":5413491657`) {
		t.Errorf("top from the columnar store: %v\n%s", err, out)
	}
	out, err = run(t, "report", "--case", c, "--format", "json", "--lang", "en")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Verdict struct {
			DataTaken string `json:"data_taken"`
			BytesOut  int64  `json:"bytes_out"`
		} `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Verdict.DataTaken != "confirmed" || rep.Verdict.BytesOut != 5468017609 {
		t.Errorf("report --format json: %v %+v", err, rep)
	}
	// Three cases, one broken: two reports, an index, the failure listed.
	if _, err := run(t, "analyze", filepath.Join("..", "..", "samples", "control"), "--case", filepath.Join(dir, "cases", "control"), "-o", filepath.Join(dir, "control.md")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "cases", "broken"), 0o755)
	os.WriteFile(filepath.Join(dir, "cases", "broken", "manifest.json"), []byte("{not json"), 0o644)
	outDir := filepath.Join(dir, "out")
	_, err = run(t, "report", "--batch", filepath.Join(dir, "cases", "*"), "--out", outDir, "--format", "html")
	if err == nil || !strings.Contains(err.Error(), "1 of 3 cases failed") {
		t.Errorf("batch error: %v", err)
	}
	idx, _ := os.ReadFile(filepath.Join(outDir, "index.html"))
	if !strings.Contains(string(idx), "incident.html") || !strings.Contains(string(idx), "control.html") || !strings.Contains(string(idx), "corrupt manifest") {
		t.Errorf("batch index: %s", idx)
	}
	for _, name := range []string{"incident.html", "control.html"} {
		if _, err := os.Stat(filepath.Join(outDir, name)); err != nil {
			t.Error(err)
		}
	}
}

// TestAnalyzeTemporaryCase: analyze without --case answers from a
// temporary case that stores only what the report reads — the same verdict
// and bytes as from a kept case — and a rules path that cannot be read
// fails before any evidence is parsed.
func TestAnalyzeTemporaryCase(t *testing.T) {
	incident := filepath.Join("..", "..", "samples", "incident")
	var rep struct {
		Verdict struct {
			DataTaken string `json:"data_taken"`
			BytesOut  int64  `json:"bytes_out"`
		} `json:"verdict"`
		Case struct {
			Events int64 `json:"events"`
		} `json:"case"`
	}
	out, err := run(t, "analyze", incident, "--quiet", "--format", "json", "--lang", "en")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Verdict.DataTaken != "confirmed" || rep.Verdict.BytesOut != 5468017609 || rep.Case.Events == 0 {
		t.Errorf("analyze, temporary case: %v %+v", err, rep)
	}
	// A firewall log exported newest first cannot be read straight into
	// the report in time order: it goes through the temporary store, says
	// so, and gives the same answer.
	reversed := t.TempDir()
	for _, d := range []string{"mail", "windows", "firewall"} {
		if err := os.CopyFS(filepath.Join(reversed, d), os.DirFS(filepath.Join(incident, d))); err != nil {
			t.Fatal(err)
		}
	}
	fw := filepath.Join(reversed, "firewall", "fortigate.log")
	b, err := os.ReadFile(fw)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	slices.Reverse(lines)
	if err := os.WriteFile(fw, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	analyzeReversed := func() string {
		root := newRoot()
		var stdout, stderr bytes.Buffer
		root.SetOut(&stdout)
		root.SetErr(&stderr)
		root.SetArgs([]string{"analyze", reversed, "--format", "json", "--lang", "en"})
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || rep.Verdict.DataTaken != "confirmed" || rep.Verdict.BytesOut != 5468017609 {
			t.Errorf("analyze, a firewall log newest first: %v %+v", err, rep)
		}
		return stderr.String()
	}
	// With the default windows, its 8,211 events, kept with the fields the
	// report reads, fit a window: it is read straight.
	if said := analyzeReversed(); strings.Contains(said, "temporary event store") {
		t.Errorf("the samples' log newest first went through a store with the default windows:\n%s", said)
	}
	// The windows made smaller than the samples' log: through the store.
	defer func(m int) { index.LiveMemory = m }(index.LiveMemory)
	index.LiveMemory = 1 << 20
	if said := analyzeReversed(); !strings.Contains(said, "fortigate.log: an event of") || !strings.Contains(said, "reading it through a temporary event store") {
		t.Errorf("analyze did not say why it read through a store:\n%s", said)
	}
	// Rules are read before the evidence: with neither readable, the rules
	// are named.
	missing := filepath.Join(t.TempDir(), "no-such-rules")
	if _, err := run(t, "analyze", filepath.Join(t.TempDir(), "no-such-evidence"), "--quiet", "--rules", missing, "--format", "json"); err == nil || !strings.Contains(err.Error(), "no-such-rules") {
		t.Errorf("analyze with unreadable rules: %v", err)
	}
}

// TestTopSumEqualsLedgerWithInterimRecords: on a FortiGate log whose long
// sessions also write interim records, the first query an analyst runs —
// top destination.ip --sum source.bytes — counts each session once, as the
// report's ledger does, and both equal the generator's truth.
func TestTopSumEqualsLedgerWithInterimRecords(t *testing.T) {
	o := scenario.Draw(scenario.VPNTheft, 4)
	o.Interim = 2 * time.Minute
	o.Missing = ""
	inc := scenario.Build(o)
	dir := filepath.Join(t.TempDir(), "evidence")
	if err := inc.Write(dir, dir+".truth.json"); err != nil {
		t.Fatal(err)
	}
	interim := strings.Count(string(inc.Files["firewall/fortigate.log"]), `action="accept"`)
	if interim < 100 {
		t.Fatalf("only %d interim records generated", interim)
	}
	want := inc.Truth.Exfil[0]
	c := filepath.Join(t.TempDir(), "case")
	zone := inc.Truth.Location().String()
	if _, err := run(t, "ingest", "--case", c, "--quiet", "--tz", inc.Truth.Offset(), "--year", fmt.Sprint(inc.Truth.Year), dir); err != nil {
		t.Fatalf("ingest (%s): %v", zone, err)
	}
	out, err := run(t, "top", "--case", c, "destination.ip", "--sum", "source.bytes", "--json", "--limit", "0")
	if err != nil {
		t.Fatal(err)
	}
	var topSum int64 = -1
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct {
			Value string `json:"value"`
			Sum   int64  `json:"sum"`
		}
		json.Unmarshal([]byte(l), &m)
		if m.Value == want.Destination {
			topSum = m.Sum
		}
	}
	rep := filepath.Join(t.TempDir(), "r.json")
	if _, err := run(t, "report", "--case", c, "--format", "json", "-o", rep); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(rep)
	var r struct {
		Exfiltration []struct {
			Destination struct{ IP string }
			Bytes       int64
		}
	}
	json.Unmarshal(b, &r)
	var ledger int64 = -1
	for _, e := range r.Exfiltration {
		if e.Destination.IP == want.Destination {
			ledger = e.Bytes
		}
	}
	if topSum != want.Bytes || ledger != want.Bytes {
		t.Errorf("%s: top --sum %d, ledger %d, truth %d (%d interim records)\n%s", want.Destination, topSum, ledger, want.Bytes, interim, out)
	}
}

// TestCaseBusyAndIncomplete: a command on a case another process writes
// says so and names the way out; a file an interrupted ingest left is
// reported by stats (table and JSON), its events not counted.
func TestCaseBusyAndIncomplete(t *testing.T) {
	c := filepath.Join(t.TempDir(), "case")
	samples := filepath.Join("..", "..", "samples", "incident", "mail")
	if out, err := run(t, "ingest", "--case", c, "--json", samples); err != nil {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	holder, err := index.OpenCase(c, true) // as another writer would
	if err != nil {
		t.Fatal(err)
	}
	_, err = run(t, "stats", "--case", c)
	if err == nil || !strings.Contains(err.Error(), "is busy") || !strings.Contains(err.Error(), "--wait") {
		t.Errorf("stats on a case being written: %v", err)
	}
	_, err = run(t, "ingest", "--case", c, samples)
	if err == nil || !strings.Contains(err.Error(), "is busy") {
		t.Errorf("ingest on a case being written: %v", err)
	}
	sha := strings.Repeat("0f", 32)
	holder.Manifest.Incomplete = []string{sha}
	if err := holder.Save(); err != nil {
		t.Fatal(err)
	}
	holder.Close()
	out, err := run(t, "stats", "--case", c, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Events     int64    `json:"events"`
		Incomplete []string `json:"incomplete"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Events != 414 || len(st.Incomplete) != 1 || st.Incomplete[0] != sha {
		t.Errorf("stats --json: %s (%v)", out, err)
	}
	out, _ = run(t, "stats", "--case", c)
	if !strings.Contains(out, sha[:12]+"  INCOMPLETE") {
		t.Errorf("stats table does not show the incomplete file:\n%s", out)
	}
}

// TestAnalyzeReadsZonelessFirewallAtItsClock: a VPN theft whose firewall
// (Cisco ASA over classic syslog) writes the town's local time (UTC+2)
// without a zone. analyze with no --tz reads it in UTC, finds the
// firewall's tunnels and RDP sessions 2 h ahead of Windows' logons, reads
// the evidence again at +02:00 and says so: the ledger's first and last
// transfers are the truth's. With --tz given, or a kept case, nothing is
// read again and the verdict says by how much the firewall's clock is off.
func TestAnalyzeReadsZonelessFirewallAtItsClock(t *testing.T) {
	inc := scenario.Generate(scenario.VPNTheft, 6)
	if err := inc.AsFirewall("cisco-asa"); err != nil {
		t.Fatal(err)
	}
	if inc.Truth.TZOffsetSeconds != 7200 || len(inc.Truth.Exfil) == 0 {
		t.Fatalf("seed 6 is no longer a UTC+2 theft: %s", inc.Truth.Notes)
	}
	dir := filepath.Join(t.TempDir(), "evidence")
	if err := inc.Write(dir, dir+".truth.json"); err != nil {
		t.Fatal(err)
	}
	type report struct {
		Verdict struct {
			Reasons []string `json:"reasons"`
		} `json:"verdict"`
		Exfiltration []struct {
			Destination struct {
				IP string `json:"ip"`
			} `json:"destination"`
			Bytes     int64     `json:"bytes"`
			FirstSeen time.Time `json:"first_seen"`
			LastSeen  time.Time `json:"last_seen"`
		} `json:"exfiltration"`
		Checks []struct {
			Reference string `json:"reference"`
			Offset    int64  `json:"offset_seconds"`
			ReadAt    string `json:"zoneless_read_at"`
		} `json:"clock_checks"`
	}
	analyze := func(extra ...string) report {
		out, err := run(t, append([]string{"analyze", dir, "--quiet", "--format", "json", "--lang", "en"}, extra...)...)
		if err != nil {
			t.Fatal(err)
		}
		var r report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	said := func(r report, prefix string) bool {
		for _, why := range r.Verdict.Reasons {
			if strings.HasPrefix(why, prefix) {
				return true
			}
		}
		return false
	}
	want := inc.Truth.Exfil[0]
	entry := func(r report) (time.Time, time.Time) {
		for _, e := range r.Exfiltration {
			if e.Destination.IP == want.Destination {
				if e.Bytes != want.Bytes {
					t.Errorf("%s: %d bytes, want %d", want.Destination, e.Bytes, want.Bytes)
				}
				return e.FirstSeen, e.LastSeen
			}
		}
		t.Fatalf("no ledger entry for %s", want.Destination)
		return time.Time{}, time.Time{}
	}

	windows := func(r report) *struct {
		Reference string `json:"reference"`
		Offset    int64  `json:"offset_seconds"`
		ReadAt    string `json:"zoneless_read_at"`
	} {
		for i, c := range r.Checks {
			if c.Reference == "windows" {
				return &r.Checks[i]
			}
		}
		return nil
	}
	r := analyze()
	first, last := entry(r)
	c := windows(r)
	if !first.Equal(want.First) || !last.Equal(want.Last) || c == nil || c.Offset != 0 || c.ReadAt != "+02:00" ||
		!said(r, "Times: the logs that name no zone (the firewall's among them) were read at UTC+02:00") || said(r, "Clocks:") {
		t.Errorf("no --tz: %s → %s, clocks %+v, reasons %q; want %s → %s read at +02:00", first, last, r.Checks, r.Verdict.Reasons, want.First, want.Last)
	}
	r = analyze("--tz", "UTC")
	first, _ = entry(r)
	if c := windows(r); !first.Equal(want.First.Add(2*time.Hour)) || c == nil || c.Offset != 7200 || c.ReadAt != "" || !said(r, "Clocks: the firewall's times run 2 h ahead") {
		t.Errorf("--tz UTC: first %s, clocks %+v, reasons %q", first, r.Checks, r.Verdict.Reasons)
	}
	r = analyze("--case", filepath.Join(t.TempDir(), "case"), "--no-index")
	if c := windows(r); c == nil || c.Offset != 7200 || !said(r, "Clocks:") || said(r, "Times:") {
		t.Errorf("kept case: clocks %+v, reasons %q", r.Checks, r.Verdict.Reasons)
	}
}

// TestAnalyzeReadsZonelessMailAtItsClock: the firewall (FortiGate) and
// Windows (XML) name their zones, the mail server writes classic syslog
// stamps in the town's local time. Read in UTC, the outbound SMTP sessions
// the firewall passed line up with the deliveries the mail log names only
// at an offset; the mail log holds no mark of being zoneless, so analyze
// tries the firewall's zone first, finds the clocks still disagree, and
// keeps the reading at the mail server's zone, which it names.
func TestAnalyzeReadsZonelessMailAtItsClock(t *testing.T) {
	var inc *scenario.Incident
	var o scenario.Options
	for seed := uint64(1); seed < 40; seed++ {
		o = scenario.Draw(scenario.VPNTheft, seed)
		if o.TZOffset > 0 {
			break
		}
	}
	o.ClassicSyslog, o.Winlogbeat, o.NXLog, o.WinExport, o.EvtxexportText, o.Missing = true, false, false, false, false, ""
	inc = scenario.Build(o)
	dir := filepath.Join(t.TempDir(), "evidence")
	if err := inc.Write(dir, dir+".truth.json"); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "analyze", dir, "--quiet", "--format", "json", "--lang", "en", "--year", strconv.Itoa(inc.Truth.Year))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Verdict struct {
			Reasons []string `json:"reasons"`
		} `json:"verdict"`
		Checks []struct {
			Reference string `json:"reference"`
			Offset    int64  `json:"offset_seconds"`
			Agreeing  int    `json:"agreeing"`
			ReadAt    string `json:"zoneless_read_at"`
		} `json:"clock_checks"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	zone := fmt.Sprintf("+%02d:%02d", o.TZOffset/3600, o.TZOffset%3600/60)
	mail := false
	for _, c := range r.Checks {
		if c.Offset != 0 || c.ReadAt != zone {
			t.Errorf("clock check %+v, want agreement once read at %s", c, zone)
		}
		mail = mail || c.Reference == "mail" && c.Agreeing >= 3
	}
	said := false
	for _, why := range r.Verdict.Reasons {
		said = said || strings.HasPrefix(why, "Times: the logs that name no zone (the mail server's among them) were read at UTC"+zone)
	}
	if !mail || !said {
		t.Errorf("checks %+v, reasons %q", r.Checks, r.Verdict.Reasons)
	}
}

// TestAnalyzeReadsYearlessLogsInTheDatedYear: a mail theft whose Postfix
// log has classic syslog stamps (no year) and whose files were copied
// without their dates (modified in 2026): read in 2026, the mail misses
// the intrusion a year earlier. analyze reads the evidence again in the
// year the mail log meets the dated logs, says so, and the ledger's mail
// entry is the truth's; --year given, nothing is read again. The same
// beside a firewall whose relay header names no year but whose own fields
// do.
func TestAnalyzeReadsYearlessLogsInTheDatedYear(t *testing.T) {
	var o scenario.Options
	for seed := uint64(1); seed < 60; seed++ {
		o = scenario.Draw(scenario.MailTheft, seed)
		if o.Missing == "" && o.TZOffset == 0 {
			break
		}
	}
	o.ClassicSyslog, o.FortiMail, o.CiscoESA = true, false, false // Postfix's year-less stamps
	// FortiGate dates its lines itself; a Sophos XG relayed by syslog
	// carries a year-less relay header before its own dated fields.
	for _, fw := range []string{"fortigate", "sophos-xg"} {
		t.Run(fw, func(t *testing.T) { yearlessMailBeside(t, o, fw) })
	}
}

func yearlessMailBeside(t *testing.T, o scenario.Options, fw string) {
	inc := scenario.Build(o)
	if err := inc.AsFirewall(fw); err != nil {
		t.Fatal(err)
	}
	copied := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if inc.Truth.Year >= copied.Year() {
		t.Fatalf("the incident is of %d", inc.Truth.Year)
	}
	dir := writeCopy(t, inc, copied)
	want := mailTheft(t, inc)
	analyze := func(extra ...string) ledgerReport {
		return analyzeJSON(t, append([]string{dir, "--tz", "UTC"}, extra...)...)
	}
	said := func(r ledgerReport) bool {
		for _, why := range r.Verdict.Reasons {
			if strings.HasPrefix(why, fmt.Sprintf("Years: the logs that name no year (mail.log) were read in %d", inc.Truth.Year)) {
				return true
			}
		}
		return false
	}
	r := analyze()
	found := false
	for _, e := range r.Exfiltration {
		if e.Destination.Email == want.Destination {
			found = e.Bytes == want.Bytes && e.FirstSeen.Equal(want.First)
		}
	}
	if !found || r.Verdict.DataTaken != inc.Truth.Verdict || !said(r) {
		t.Errorf("no --year: %+v, want %s %d B from %s and the year said", r, want.Destination, want.Bytes, want.First)
	}
	if r := analyze("--year", "2026"); said(r) {
		t.Errorf("--year 2026: the year was still guessed: %q", r.Verdict.Reasons)
	}
	r = analyze("--case", filepath.Join(t.TempDir(), "case"), "--no-index")
	advice := "Years: the logs that name no year (mail.log) were read in 2026, their files' modification year; they meet the dated logs ("
	kept := false
	for _, why := range r.Verdict.Reasons {
		kept = kept || strings.HasPrefix(why, advice) && strings.HasSuffix(why, fmt.Sprintf("only in %d: rerun with --year %d if their files are a copy without its dates.", inc.Truth.Year, inc.Truth.Year))
	}
	if said(r) || !kept {
		t.Errorf("kept case: reasons %q", r.Verdict.Reasons)
	}
}

// TestKeptCaseReadsAHolidayLogCopiedInJanuary: a mail theft over the new
// year whose Postfix log has classic stamps (no year) and whose files were
// copied in the January after. In the copy's year its December stamps
// would follow the copy: they are read in the year before, the January ones
// after them — in a kept case too, which is never read again — so the
// ledger's mail entry and the verdict are the truth's, with no year to
// advise.
func TestKeptCaseReadsAHolidayLogCopiedInJanuary(t *testing.T) {
	var o scenario.Options
	var end time.Time
	for seed := uint64(1); seed < 20000; seed++ {
		o = scenario.Draw(scenario.MailTheft, seed)
		end = o.Start.AddDate(0, 0, o.Days)
		if o.Missing == "" && o.TZOffset == 0 && o.Start.Month() == time.December && end.Year() > o.Start.Year() {
			break
		}
	}
	if o.Start.Month() != time.December || end.Year() == o.Start.Year() {
		t.Fatal("no seed draws a mail theft over the new year")
	}
	o.ClassicSyslog = true
	inc := scenario.Build(o)
	dir := writeCopy(t, inc, end.AddDate(0, 0, 3))
	want := mailTheft(t, inc)
	caseDir := filepath.Join(t.TempDir(), "case")
	r := analyzeJSON(t, dir, "--tz", "UTC", "--case", caseDir, "--no-index")
	found := false
	for _, e := range r.Exfiltration {
		found = found || e.Destination.Email == want.Destination && e.Bytes == want.Bytes && e.FirstSeen.Equal(want.First)
	}
	for _, why := range r.Verdict.Reasons {
		if strings.HasPrefix(why, "Years:") {
			t.Errorf("a year advised: %q", why)
		}
	}
	if !found || r.Verdict.DataTaken != inc.Truth.Verdict {
		t.Errorf("%s: %+v, want %s, %s %d B from %s", inc.Truth.Notes, r, inc.Truth.Verdict, want.Destination, want.Bytes, want.First)
	}
	m, err := index.OpenCase(caseDir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, f := range m.Manifest.Files {
		if filepath.Base(f.Path) == "mail.log" && (f.Year != o.Start.Year() || !f.YearGuessed || f.First.Year() != o.Start.Year() || f.Last.Year() != end.Year()) {
			t.Errorf("mail.log: year %d (%s), %s … %s", f.Year, f.YearSource, f.First, f.Last)
		}
	}
}

// TestReportSaysWhichLogsNameNoZone: a SonicWall writes its local time
// without a zone and dates a connection at its end. Beside the mail
// server's log (which names its zone), its outbound SMTP sessions place
// it: with no --tz, the report says at which offset the zoneless logs were
// read, and the ledger's times are the truth's. Without the mail log
// nothing places it: the report says the log was read in UTC and how to
// fix it; with the town's zone given, it says nothing of it and the
// ledger's times are the truth's. A FortiGate naming its zone is never
// named there.
func TestReportSaysWhichLogsNameNoZone(t *testing.T) {
	var o scenario.Options
	for seed := uint64(1); seed < 200; seed++ {
		if o = scenario.Draw(scenario.VPNTheft, seed); o.Missing == "" && o.TZOffset != 0 && o.TZOffset%3600 == 0 {
			break
		}
	}
	// Postfix names the relay each message left by, whose SMTP sessions
	// the firewall logged; a FortiMail's history does not.
	o.FortiMail = false
	inc := scenario.Build(o)
	if inc.Truth.TZOffsetSeconds == 0 || inc.Truth.TZOffsetSeconds%3600 != 0 {
		t.Fatalf("no town off UTC by whole hours: %s", inc.Truth.Notes)
	}
	zone := fmt.Sprintf("%+03d:00", inc.Truth.TZOffsetSeconds/3600)
	fortigate := filepath.Join(t.TempDir(), "fortigate")
	if err := inc.Write(fortigate, fortigate+".truth.json"); err != nil {
		t.Fatal(err)
	}
	if err := inc.AsFirewall("sonicwall"); err != nil {
		t.Fatal(err)
	}
	sonicwall := filepath.Join(t.TempDir(), "sonicwall")
	if err := inc.Write(sonicwall, sonicwall+".truth.json"); err != nil {
		t.Fatal(err)
	}
	analyze := func(dir string, extra ...string) (r ledgerReport, said string) {
		r = analyzeJSON(t, append([]string{dir}, extra...)...)
		for _, why := range r.Verdict.Reasons {
			if strings.HasPrefix(why, "Times: the log") && strings.Contains(why, "name") {
				said = why
			}
		}
		return r, said
	}
	truthFound := func(r ledgerReport, how string, mail bool) {
		t.Helper()
		for _, want := range inc.Truth.Exfil {
			if want.Channel == "email" && !mail {
				continue // its log was taken away
			}
			found := false
			for _, e := range r.Exfiltration {
				found = found || (e.Destination.IP == want.Destination || e.Destination.Email == want.Destination) && e.Bytes == want.Bytes && e.FirstSeen.Equal(want.First)
			}
			if !found || r.Verdict.DataTaken != inc.Truth.Verdict {
				t.Errorf("%s: %+v, want %s %d B from %s", how, r, want.Destination, want.Bytes, want.First)
			}
		}
	}
	r, said := analyze(sonicwall)
	if !strings.HasPrefix(said, "Times: the logs that name no zone (the firewall's among them) were read at UTC"+zone+": read in UTC, ") || !strings.Contains(said, "SMTP sessions of the firewall") {
		t.Errorf("no --tz, with the mail log: reason %q", said)
	}
	truthFound(r, "no --tz, with the mail log", true)
	if err := os.RemoveAll(filepath.Join(sonicwall, "mail")); err != nil {
		t.Fatal(err)
	}
	_, said = analyze(sonicwall)
	if !strings.HasPrefix(said, "Times: the log sonicwall.log names no zone; its times were read in UTC") || !strings.Contains(said, "--tz") {
		t.Errorf("no --tz, no mail log: reason %q", said)
	}
	r, said = analyze(sonicwall, "--tz", zone)
	if said != "" {
		t.Errorf("--tz %s: reason %q", zone, said)
	}
	truthFound(r, "--tz "+zone, false)
	if _, said := analyze(fortigate); strings.Contains(said, "fortigate") {
		t.Errorf("FortiGate: reason %q", said)
	}
}

// writeCopy writes an incident's evidence as a copy made at copied: every
// file's modification time.
func writeCopy(t *testing.T, inc *scenario.Incident, copied time.Time) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "evidence")
	if err := inc.Write(dir, dir+".truth.json"); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.Chtimes(p, copied, copied)
		}
		return nil
	})
	return dir
}

// mailTheft is the incident's theft by mail.
func mailTheft(t *testing.T, inc *scenario.Incident) scenario.Channel {
	t.Helper()
	for _, e := range inc.Truth.Exfil {
		if e.Channel == "email" {
			return e
		}
	}
	t.Fatalf("no mail theft in %s", inc.Truth.Notes)
	return scenario.Channel{}
}

// ledgerReport is what the tests of the ledger read of analyze's JSON.
type ledgerReport struct {
	Verdict struct {
		DataTaken string   `json:"data_taken"`
		Reasons   []string `json:"reasons"`
	} `json:"verdict"`
	Exfiltration []struct {
		Destination struct {
			IP    string `json:"ip"`
			Email string `json:"email"`
		} `json:"destination"`
		Bytes     int64     `json:"bytes"`
		FirstSeen time.Time `json:"first_seen"`
	} `json:"exfiltration"`
}

// analyzeJSON runs analyze with args (the evidence first) and reads its
// JSON report, in English.
func analyzeJSON(t *testing.T, args ...string) (r ledgerReport) {
	t.Helper()
	out, err := run(t, append(append([]string{"analyze"}, args...), "--quiet", "--format", "json", "--lang", "en")...)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return r
}
