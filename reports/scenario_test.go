package reports

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/rules"
	"github.com/exfiltrace/exfiltrace/samples/scenario"
)

// analyzeDir parses every file of an evidence directory in memory, merges
// the events in time order the way a case streams them, and analyses them
// with no case configuration at all.
func analyzeDir(t testing.TB, dir string, po parsers.Options, lang string) (*Report, []*parsers.FileStats) {
	t.Helper()
	events, meta, stats := loadDir(t, dir, po)
	return analyzeEvents(t, events, meta, lang, nil), stats
}

// loadDir parses an evidence directory into events in the order a case
// streams them (time, then file).
func loadDir(t testing.TB, dir string, po parsers.Options) ([]*event.Event, CaseMeta, []*parsers.FileStats) {
	t.Helper()
	files, _, err := parsers.Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	type item struct {
		ev   *event.Event
		file int
	}
	var all []item
	var stats []*parsers.FileStats
	for i, f := range files {
		in, err := parsers.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		st, err := parsers.Parse(in, &po, func(ev *event.Event) { all = append(all, item{ev, i}) })
		in.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		stats = append(stats, st)
	}
	sort.SliceStable(all, func(a, b int) bool {
		if !all[a].ev.Timestamp.Equal(all[b].ev.Timestamp) {
			return all[a].ev.Timestamp.Before(all[b].ev.Timestamp)
		}
		return all[a].file < all[b].file
	})
	events := make([]*event.Event, len(all))
	for i, it := range all {
		events[i] = it.ev
	}
	meta := CaseMeta{ID: filepath.Base(dir), Events: int64(len(all)), ZoneGiven: po.TZ != nil}
	for _, st := range stats {
		meta.Evidence = append(meta.Evidence, EvidenceFile{Path: st.Path, SHA256: st.SHA256, SizeBytes: st.Size, Format: st.Format, Events: st.Parsed + st.Raw, Unparsed: st.Raw})
		if st.ZoneAssumed && po.TZ == nil {
			meta.ZoneAssumed = append(meta.ZoneAssumed, st.Path) // as a case ingested without --tz says
		}
	}
	return events, meta, stats
}

// analyzeEvents runs an Analyzer over events in time order; shape, when
// given, adjusts it before the first event (the flow ledger's budget).
func analyzeEvents(t testing.TB, events []*event.Event, meta CaseMeta, lang string, shape func(*Analyzer)) *Report {
	t.Helper()
	rs, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	a := NewAnalyzer(Options{Rules: rs, Lang: lang})
	if shape != nil {
		shape(a)
	}
	for _, ev := range events {
		a.Observe(ev)
		if meta.TimeRange.Start.IsZero() || ev.Timestamp.Before(meta.TimeRange.Start) {
			meta.TimeRange.Start = ev.Timestamp
		}
		if ev.Timestamp.After(meta.TimeRange.End) {
			meta.TimeRange.End = ev.Timestamp
		}
	}
	res, err := a.Finish(meta)
	if err != nil {
		t.Fatal(err)
	}
	return res.Report
}

// checkIncident compares a report with an incident's truth: the verdict,
// every channel's bytes, sessions, times, source and account, and that no
// routine transfer is in the ledger. It returns what is wrong, if anything.
func checkIncident(r *Report, tr scenario.Truth) []string {
	var bad []string
	ok := r.Verdict.DataTaken == tr.Verdict
	for _, v := range tr.Accept {
		ok = ok || r.Verdict.DataTaken == v
	}
	if !ok {
		bad = append(bad, fmt.Sprintf("verdict %s, want %s", r.Verdict.DataTaken, tr.Verdict))
	}
	if len(r.Exfiltration) != len(tr.Exfil) {
		var got []string
		for _, e := range r.Exfiltration {
			got = append(got, fmt.Sprintf("%s %s%s %d", e.Channel, e.Destination.IP, e.Destination.Email, e.Bytes))
		}
		bad = append(bad, fmt.Sprintf("ledger has %d entries [%s], want %d", len(r.Exfiltration), strings.Join(got, "; "), len(tr.Exfil)))
	}
	for _, want := range tr.Exfil {
		var got *LedgerEntry
		for i := range r.Exfiltration {
			e := &r.Exfiltration[i]
			if e.Destination.IP == want.Destination || e.Destination.Email == want.Destination {
				got = e
			}
		}
		if got == nil {
			bad = append(bad, "no ledger entry for "+want.Destination)
			continue
		}
		if got.Channel != want.Channel || got.Bytes != want.Bytes || got.Events != want.Sessions || !got.FirstSeen.Equal(want.First) || !got.LastSeen.Equal(want.Last) {
			bad = append(bad, fmt.Sprintf("%s: %s %d B %d sessions %s→%s, want %s %d B %d sessions %s→%s", want.Destination,
				got.Channel, got.Bytes, got.Events, fmtT(got.FirstSeen), fmtT(got.LastSeen), want.Channel, want.Bytes, want.Sessions, fmtT(want.First), fmtT(want.Last)))
		}
		srcs := got.Sources
		if want.SourceIP != "" && (len(srcs) != 1 || srcs[0].IP != want.SourceIP) {
			bad = append(bad, fmt.Sprintf("%s: sources %+v, want %s", want.Destination, got.Sources, want.SourceIP))
		}
		if want.SourceHost != "" && (len(srcs) != 1 || !sameHost(srcs[0].Host, want.SourceHost)) {
			bad = append(bad, fmt.Sprintf("%s: source host %+v, want %s", want.Destination, got.Sources, want.SourceHost))
		}
		if want.Account != "" && (len(got.Users) != 1 || got.Users[0] != want.Account) {
			bad = append(bad, fmt.Sprintf("%s: accounts %v, want %s", want.Destination, got.Users, want.Account))
		}
	}
	for _, c := range r.Clocks {
		if c.OffsetSeconds != 0 {
			bad = append(bad, fmt.Sprintf("the clock check claims %s runs %d s ahead of %s (%d of %d moments) though all were read in their zones", c.Source, c.OffsetSeconds, c.Reference, c.Agreeing, c.Moments))
		}
	}
	for _, rt := range tr.Routine {
		for _, e := range r.Exfiltration {
			if e.Destination.IP == rt.Destination {
				bad = append(bad, "routine transfer to "+rt.Destination+" is in the ledger")
			}
		}
	}
	return bad
}

// TestScenarioMatrix runs every storyline on many seeds — varied time
// zones, interim records, log start days, backup schedules, missing
// sources — with no case configuration, and checks the verdict and every
// ledger figure against the generator's truth. It prints the matrix.
func TestScenarioMatrix(t *testing.T) {
	seeds := 20
	if testing.Short() {
		seeds = 3
	}
	if n, err := strconv.Atoi(os.Getenv("EXFILTRACE_MATRIX_SEEDS")); err == nil && n > 0 {
		seeds = n // more seeds locally: EXFILTRACE_MATRIX_SEEDS=200 go test -run TestScenarioMatrix ./reports/
	}
	type row struct {
		v     scenario.Variant
		seed  uint64
		got   string
		bytes int64
		bad   []string
		notes string
	}
	var mu sync.Mutex
	var rows []row
	for _, v := range scenario.Variants {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			for seed := uint64(1); seed <= uint64(seeds); seed++ {
				inc := scenario.Generate(v, seed)
				dir := filepath.Join(t.TempDir(), fmt.Sprintf("%s-%d", v, seed))
				if err := inc.Write(dir, dir+".truth.json"); err != nil {
					t.Fatal(err)
				}
				r, _ := analyzeDir(t, dir, parsers.Options{TZ: inc.Truth.Location(), Year: inc.Truth.Year}, "en")
				bad := checkIncident(r, inc.Truth)
				validate(t, r)
				mu.Lock()
				rows = append(rows, row{v, seed, r.Verdict.DataTaken, r.Verdict.BytesOut, bad, inc.Truth.Notes})
				mu.Unlock()
				if len(bad) > 0 {
					t.Errorf("%s seed %d (%s):\n  %s\n  reasons: %s", v, seed, inc.Truth.Notes, strings.Join(bad, "\n  "), strings.Join(r.Verdict.Reasons, "\n    "))
				}
			}
		})
	}
	t.Cleanup(func() {
		sort.Slice(rows, func(i, j int) bool {
			if rows[i].v != rows[j].v {
				return rows[i].v < rows[j].v
			}
			return rows[i].seed < rows[j].seed
		})
		var sb strings.Builder
		fmt.Fprintf(&sb, "%-20s %4s  %-17s %15s  %s\n", "variant", "seed", "verdict", "bytes out", "pass")
		for _, r := range rows {
			pass := "pass"
			if len(r.bad) > 0 {
				pass = "FAIL: " + r.bad[0]
			}
			fmt.Fprintf(&sb, "%-20s %4d  %-17s %15d  %s\n", r.v, r.seed, r.got, r.bytes, pass)
		}
		if os.Getenv("EXFILTRACE_MATRIX_QUIET") == "" {
			t.Log("\n" + sb.String())
		}
	})
}

// TestScenarioFirewallVendors: the same incidents with the firewall log
// written by other vendors (Juniper SRX, Sophos, NetScreen, WatchGuard,
// Cisco ASA): the verdict and every ledger figure still match the truth as
// that vendor's log counts it (ASA: both directions together).
func TestScenarioFirewallVendors(t *testing.T) {
	for _, vendor := range scenario.Firewalls[1:] {
		t.Run(vendor, func(t *testing.T) {
			t.Parallel()
			checkRewritten(t, func(inc *scenario.Incident) error { return inc.AsFirewall(vendor) }, "/firewall/", vendor)
		})
	}
}

// TestScenarioProxy: the same incidents with the town's web traffic
// through a proxy — behind the firewall (the firewall's sessions from the
// proxy's address, the proxy's requests naming the workstations), or with
// the proxy's log alone — give the truth's verdict and ledger, each upload
// counted once, to the workstation and account that made it.
func TestScenarioProxy(t *testing.T) {
	for _, mode := range scenario.ProxyModes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			format := "w3c-proxy"
			if strings.HasSuffix(mode, "-cef") {
				format = "cef"
			}
			checkRewritten(t, func(inc *scenario.Incident) error { return inc.AsProxy(mode) }, "/proxy/", format)
		})
	}
}

// TestScenarioVPNConcentrator: the incidents' remote access logged by an
// Ivanti Connect Secure instead of the FortiGate's SSL VPN, the firewall's
// log as FortiGate, Juniper SRX (no VPN records of its own here) or Cisco
// ASA: the same verdict, ledger and accounts, the concentrator's log read
// with no line raw.
func TestScenarioVPNConcentrator(t *testing.T) {
	for _, fw := range []string{"fortigate", "juniper-srx", "cisco-asa"} {
		t.Run(fw, func(t *testing.T) {
			t.Parallel()
			checkRewritten(t, func(inc *scenario.Incident) error {
				if err := inc.AsVPN("connect-secure"); err != nil {
					return err
				}
				return inc.AsFirewall(fw)
			}, "/vpn/", "pulse-secure")
		})
	}
}

// TestScenarioVPNConcentratorLinks: behind a firewall whose log has no VPN
// records (Juniper SRX here), each tunnel the concentrator's log opened is
// in the report's links, its address tied to its account, with the line
// that tied it.
func TestScenarioVPNConcentratorLinks(t *testing.T) {
	started := regexp.MustCompile(`\] (\S+)\(Users\)\[[^\]]*\] - NWC23464: VPN Tunneling: Session started for user with IPv4 address ([0-9.]+),`)
	checked := 0
	for seed := uint64(1); checked < 3 && seed <= 20; seed++ {
		inc := scenario.Generate(scenario.VPNTheft, seed)
		if err := inc.AsVPN("connect-secure"); err != nil {
			t.Fatal(err)
		}
		if _, ok := inc.Files["vpn/connect-secure.log"]; !ok {
			continue // the firewall, and its VPN, are the missing source
		}
		checked++
		if err := inc.AsFirewall("juniper-srx"); err != nil {
			t.Fatal(err)
		}
		tunnels := started.FindAllStringSubmatch(string(inc.Files["vpn/connect-secure.log"]), -1)
		if len(tunnels) == 0 {
			t.Fatalf("seed %d: no tunnel in the concentrator's log", seed)
		}
		out := filepath.Join(t.TempDir(), fmt.Sprint(seed))
		if err := inc.Write(out, ""); err != nil {
			t.Fatal(err)
		}
		r, _ := analyzeDir(t, out, parsers.Options{TZ: inc.Truth.Location(), Year: inc.Truth.Year}, "en")
		for _, tu := range tunnels {
			found := false
			for _, l := range r.Links {
				if l.Kind == "account" && l.From == tu[2] && l.To == tu[1] && strings.Contains(l.Source, "connect-secure.log line ") {
					found = true
				}
			}
			if !found {
				t.Errorf("seed %d: tunnel %s of %s not in the links %+v", seed, tu[2], tu[1], r.Links)
			}
		}
	}
	if checked < 3 {
		t.Fatalf("%d incidents with a firewall log", checked)
	}
}

// checkRewritten rewrites incidents of every storyline (EXFILTRACE_VENDOR_SEEDS
// seeds each, 2 by default) and checks each report against the rewritten
// truth, and that the rewritten files under dir were read as format with
// no line raw.
func checkRewritten(t *testing.T, rewrite func(*scenario.Incident) error, dir, format string) {
	seeds := 2
	if n, err := strconv.Atoi(os.Getenv("EXFILTRACE_VENDOR_SEEDS")); err == nil && n > 0 {
		seeds = n
	}
	for _, v := range scenario.Variants {
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			inc := scenario.Generate(v, seed)
			if err := rewrite(inc); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), fmt.Sprintf("%s-%d", v, seed))
			if err := inc.Write(out, out+".truth.json"); err != nil {
				t.Fatal(err)
			}
			r, stats := analyzeDir(t, out, parsers.Options{TZ: inc.Truth.Location(), Year: inc.Truth.Year}, "en")
			for _, st := range stats {
				if strings.Contains(st.Path, dir) && (st.Format != format || st.Raw != 0) {
					t.Errorf("%s seed %d: %s read as %s, %d raw %v", v, seed, st.Path, st.Format, st.Raw, st.RawReasons)
				}
			}
			validate(t, r)
			if bad := checkIncident(r, inc.Truth); len(bad) > 0 {
				t.Errorf("%s seed %d (%s):\n  %s\n  reasons: %s", v, seed, inc.Truth.Notes, strings.Join(bad, "\n  "), strings.Join(r.Verdict.Reasons, "\n    "))
			}
		}
	}
}

// TestDHCPLeaseNamesTheSource: when nothing in the Windows logs ties the
// exfiltrating address to a machine, a DHCP server's lease does — the one
// in force during the transfers, not the address's next holder — and the
// report names it with the lease as evidence.
func TestDHCPLeaseNamesTheSource(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		o := scenario.Draw(scenario.Variant("insider-cloud"), seed)
		// The addresses are taken out line by line where a form quotes them:
		// Format-List's blocks and WinCollect's one-line messages print them
		// bare, so those draws keep their CSV and NXLog forms.
		if o.WinList {
			o.SetWindowsForm("export-csv")
		}
		if o.WinCollect {
			o.SetWindowsForm("nxlog")
		}
		inc := scenario.Build(o)
		var ch *scenario.Channel
		for i := range inc.Truth.Exfil {
			if inc.Truth.Exfil[i].SourceIP != "" && inc.Truth.Exfil[i].SourceHost != "" {
				ch = &inc.Truth.Exfil[i]
			}
		}
		if ch == nil {
			t.Fatalf("seed %d: no channel with a source host in the truth", seed)
		}
		// Remove every Windows event that mentions the address: no logon,
		// ticket or share access ties it to the machine any more.
		ipTag := ch.SourceIP
		for name, b := range inc.Files {
			if !strings.HasPrefix(name, "windows/") {
				continue
			}
			var keep []string
			for _, l := range strings.Split(string(b), "\n") {
				if !strings.Contains(l, ">"+ipTag+"<") && !strings.Contains(l, `"`+ipTag+`"`) && !strings.Contains(l, "'"+ipTag+"'") && !strings.Contains(l, "::ffff:"+ipTag) {
					keep = append(keep, l)
				}
			}
			inc.Files[name] = []byte(strings.Join(keep, "\n"))
		}
		r0, _ := analyzeWith(t, inc)
		for _, e := range r0.Exfiltration {
			for _, s := range e.Sources {
				if s.IP == ch.SourceIP && s.Host != "" {
					t.Fatalf("seed %d: %s is still tied to %s without the DHCP log", seed, s.IP, s.Host)
				}
			}
		}
		// The DHCP server's log: the address leased to the machine the day
		// before, renewed, and given to another machine after the theft.
		loc := inc.Truth.Location()
		d := func(tm time.Time) string { return tm.In(loc).Format("01/02/06,15:04:05") }
		host := ch.SourceHost
		var dh strings.Builder
		dh.WriteString("\t\tMicrosoft DHCP Service Activity Log\n\nEvent ID  Meaning\n00\tThe log was started.\n10\tA new IP address was leased to a client.\n\n")
		dh.WriteString("ID,Date,Time,Description,IP Address,Host Name,MAC Address,User Name, TransactionID, QResult,Probationtime, CorrelationID,Dhcid,VendorClass(Hex),VendorClass(ASCII),UserClass(Hex),UserClass(ASCII),RelayAgentInformation,DnsRegError.\n")
		fmt.Fprintf(&dh, "10,%s,Assign,%s,%s.agglo.local,A4BB6D1F0C22,,2887461234,0,,,,,,,,,0\n", d(ch.First.Add(-26*time.Hour)), ch.SourceIP, host)
		fmt.Fprintf(&dh, "11,%s,Renew,%s,%s.agglo.local,A4BB6D1F0C22,,2887461299,0,,,,,,,,,0\n", d(ch.First.Add(-2*time.Hour)), ch.SourceIP, host)
		fmt.Fprintf(&dh, "10,%s,Assign,%s,PC-ACCUEIL-02.agglo.local,001122AABBCC,,2887461300,0,,,,,,,,,0\n", d(ch.Last.Add(30*time.Hour)), ch.SourceIP)
		inc.Files["dhcp/DhcpSrvLog-Jeu.log"] = []byte(dh.String())
		r, _ := analyzeWith(t, inc)
		var got *LedgerEntry
		for i := range r.Exfiltration {
			if r.Exfiltration[i].Destination.IP == ch.Destination {
				got = &r.Exfiltration[i]
			}
		}
		if got == nil || len(got.Sources) != 1 || !sameHost(got.Sources[0].Host, host) {
			t.Fatalf("seed %d: ledger entry %+v, want source host %s", seed, got, host)
		}
		found := false
		for _, l := range r.Links {
			if l.From == ch.SourceIP && sameHost(l.To, host) && strings.Contains(l.How, "DHCP lease") && strings.Contains(l.Source, "DhcpSrvLog-Jeu.log line 8") {
				found = true
			}
		}
		if !found {
			t.Errorf("seed %d: no DHCP lease link as evidence for %s → %s: %+v", seed, ch.SourceIP, host, r.Links)
		}
	}
}

func analyzeWith(t *testing.T, inc *scenario.Incident) (*Report, []*parsers.FileStats) {
	dir := filepath.Join(t.TempDir(), "case")
	if err := inc.Write(dir, dir+".truth.json"); err != nil {
		t.Fatal(err)
	}
	return analyzeDir(t, dir, parsers.Options{TZ: inc.Truth.Location(), Year: inc.Truth.Year}, "en")
}
