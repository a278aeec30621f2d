package reports

import (
	"cmp"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/rules"
)

// Options shape one analysis.
type Options struct {
	Config *rules.Config
	Rules  []*rules.Rule // built-in pack plus any Sigma rules
	Lang   string        // fr (default) or en
	Title  string
	// LargeBytes is the volume that makes a transfer significant (default 100 MB).
	LargeBytes int64
	// decodeWhole makes Build decode every field of each event but its
	// original line, as it did before it decoded only what is read (tests
	// compare both).
	decodeWhole bool
	// TempDir holds the flow ledger's runs when it outgrows memory (default:
	// the system's temporary directory; Build uses the case's, on the disk
	// the case is on rather than a /tmp that may be memory).
	TempDir string
	// ZoneInferredFrom is the clock check of a first reading, in UTC, that
	// chose ZoneInferredAt, the offset (seconds) the logs naming no zone
	// were read at this time.
	ZoneInferredFrom *ClockCheck
	ZoneInferredAt   int64
	// ZoneInferredIn is the zone (IANA) they were read in instead, when
	// the firewall's clock followed its summer time (ClockCheck.Zone).
	ZoneInferredIn string
	// YearGuess is the year the logs naming no year were read in this time,
	// from the dated logs they meet (parsers.GuessYear).
	YearGuess *parsers.YearGuess
}

// Result is the report plus the raw hunt output.
type Result struct {
	Report   *Report
	Findings []*rules.Finding
	Skipped  []rules.Skipped
	Loaded   int
}

// CaseMeta describes the case being analysed, for the report's header and
// chain of custody.
type CaseMeta struct {
	ID        string
	Title     string
	Events    int64
	TimeRange Range
	Evidence  []EvidenceFile
	// YearMissed: logs naming no year, read in their files' modification
	// year, meet the dated logs only in another (parsers.GuessYear).
	YearMissed *parsers.YearGuess
	// ZoneGiven: the times written without a zone were read in one the
	// analyst gave (--tz) or the clock check inferred, not UTC by default.
	ZoneGiven bool
	// ZoneAssumed are the evidence files some of whose times named no zone
	// (parsers.FileStats.ZoneAssumed), read in ZoneRead.
	ZoneAssumed []string
	ZoneRead    string
}

// Analyzer answers "was data taken" from one pass over a case's events in
// time order: the rules, the byte ledgers, the links between addresses,
// hosts and accounts, and the coverage of each kind of log are all fed by
// Observe; Finish judges. Memory is bounded by distinct destinations and
// accounts, not by events.
type Analyzer struct {
	o Options
	// tunnelXfers are the VPN tunnels' sessions with internal servers
	// (tunnels.go), listed once Finish begins.
	tunnelXfers []TunnelTransfer
	eng         *rules.Engine
	flows       *flowLedger
	proxy       *proxyUploads
	mail        *mailLedger
	links       *linker
	clocks      *clockCheck
	cov         *coverage
	folders     map[string]int
	// zonelessFiles are the evidence files of events read without a zone;
	// zoneGiven says the zone they were read in was given or inferred.
	zonelessFiles map[string]bool
	zonelessKinds map[string]bool // sourceKind of those files' events
	zoneGiven     bool
	zoneAssumed   bool // some log's times named no zone and were read in the default
	internal      []netip.Prefix
	info          []entryInfo // per ledger entry, set by ledger
}

const maxFolders = 10000

// NewAnalyzer prepares an analysis.
func NewAnalyzer(o Options) *Analyzer {
	if o.Config == nil {
		o.Config = rules.DefaultConfig()
	}
	if o.LargeBytes == 0 {
		o.LargeBytes = 100_000_000
	}
	if o.Lang == "" {
		o.Lang = "fr"
	}
	a := &Analyzer{o: o, eng: newEngine(o), flows: newFlowLedger(o.TempDir), proxy: newProxyUploads(o.TempDir), cov: newCoverage(), folders: map[string]int{}, zonelessFiles: map[string]bool{}, zonelessKinds: map[string]bool{}}
	a.internal = prefixes(o.Config.Placeholders["internal_networks"])
	a.mail = newMailLedger(a.isInternal, o.Config.Placeholders["own_mail_domains"])
	a.links = newLinker(a.isInternal, o.Lang, o.Config.Placeholders["assets"])
	a.clocks = newClockCheck(a.isInternal)
	return a
}

// newEngine compiles an analysis's rules, reading of each stored event the
// fields they and the Analyzer read.
func newEngine(o Options) *rules.Engine {
	eng := rules.CompileWith(withoutVolumeRules(o.Rules), o.Config)
	eng.AlsoRead(analyzerReads, analyzerSuffixes)
	return eng
}

// ScratchFields is what a case made for one report (and deleted after it)
// needs to store of each event for Build with the same options: the
// fields Build decodes. Build decodes every field but the original line of
// an event a keyword rule may match, so with keyword rules (Sigma's) that
// is what is stored.
func ScratchFields(o Options) *event.Selection {
	if o.Config == nil {
		o.Config = rules.DefaultConfig()
	}
	return newEngine(o).StoredFields()
}

// withoutVolumeRules leaves out the volume rules (signal: volume) and the
// base rules only they use: the report judges volumes against its baselines,
// and these rules' state (a window per source→destination pair) is the
// largest part of a hunt's memory on a busy firewall.
func withoutVolumeRules(rs []*rules.Rule) []*rules.Rule {
	usedByKept, usedByDropped := map[string]bool{}, map[string]bool{}
	for _, r := range rs {
		if r.Correlation == nil {
			continue
		}
		for _, ref := range r.Correlation.Rules {
			if r.Signal == "volume" {
				usedByDropped[ref] = true
			} else {
				usedByKept[ref] = true
			}
		}
	}
	var out []*rules.Rule
	for _, r := range rs {
		if r.Signal == "volume" {
			continue
		}
		if r.Correlation == nil && (usedByDropped[r.Name] || usedByDropped[r.ID]) && !usedByKept[r.Name] && !usedByKept[r.ID] {
			continue
		}
		out = append(out, r)
	}
	return out
}

func prefixes(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out
}

func (a *Analyzer) isInternal(ip string) bool {
	addr, err := netip.ParseAddr(ip)
	return err == nil && a.internalAddr(addr)
}

func (a *Analyzer) internalAddr(addr netip.Addr) bool {
	for _, p := range a.internal {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Observe takes the next event of the case, in time order.
func (a *Analyzer) Observe(ev *event.Event) {
	a.eng.Process(ev)
	a.observe(ev)
}

// observePrepared is Observe for an event whose rules were tested apart.
func (a *Analyzer) observePrepared(p *rules.Prepared) {
	a.eng.ProcessPrepared(p)
	a.observe(p.Event)
}

// observe is what Observe does beside the rules.
func (a *Analyzer) observe(ev *event.Event) {
	kind := sourceKind(ev)
	a.cov.observe(kind, ev.Timestamp)
	a.links.observe(ev, kind)
	a.clocks.observe(ev, kind)
	if ev.Str("event.timezone") != "" {
		if f := ev.Str(event.FieldFile); !a.zonelessFiles[f] {
			a.zonelessFiles[f] = true
			a.zonelessKinds[kind] = true
		}
	}
	switch kind {
	case "firewall":
		srcIP, dstIP := ev.Str("source.ip"), ev.Str("destination.ip")
		src, err1 := netip.ParseAddr(srcIP)
		dst, err2 := netip.ParseAddr(dstIP)
		switch {
		case err1 != nil || err2 != nil:
		case a.internalAddr(src) && !a.internalAddr(dst):
			a.flows.observe(ev, src, dst)
		case len(a.links.tunnels) > 0 && a.internalAddr(dst):
			a.links.observeTunnel(ev, srcIP, dstIP)
		}
	case "proxy":
		a.observeProxy(ev)
	case "mail":
		if ev.Str("event.action") == "message" {
			a.mail.observe(ev)
		}
	case "windows":
		if c := ev.Str("event.code"); (c == "4663" || c == "5145") && len(a.folders) < maxFolders {
			if p := ev.Str("file.path"); p != "" {
				a.folders[dirOf(p)]++
			}
		}
	}
}

func dirOf(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i > 0 {
		return p[:i]
	}
	return p
}

// Build streams the case once, in time order, through an Analyzer.
func Build(c *index.Case, o Options) (*Result, error) {
	if o.TempDir == "" {
		o.TempDir = c.Dir
	}
	a := NewAnalyzer(o)
	// Rules are tested on every core as events are decoded, of each only
	// the fields the rules and the Analyzer read; what needs their order
	// (findings, windows, ledgers) runs in order.
	prepare := a.eng.Prepare
	if o.decodeWhole {
		prepare = func(doc []byte) (*rules.Prepared, error) {
			ev, err := event.DecodeJSONSelected(doc, event.ExceptOriginal())
			if err != nil {
				return nil, err
			}
			return a.eng.PrepareEvent(ev), nil
		}
	}
	if err := index.StreamAs(c, prepare, func(p *rules.Prepared) error {
		a.observePrepared(p)
		a.eng.Recycle(p) // as hunt does: nothing of it is kept but copies of its values
		return nil
	}); err != nil {
		return nil, err
	}
	return a.Finish(caseMeta(c, o))
}

// BuildFromEvidence is Build on evidence read straight from its files
// into the report, not through a case's store (index.StreamEvidence): c
// is a new case, which ends with the files listed and none of their
// events. The error wraps index.ErrNotStreamable when the evidence must
// go through the store (Ingest, then Build) to be read in time order.
func BuildFromEvidence(c *index.Case, paths []string, in index.IngestOptions, o Options) (*Result, []*index.FileResult, error) {
	if o.TempDir == "" {
		o.TempDir = c.Dir
	}
	a := NewAnalyzer(o)
	in.Store = ScratchFields(o) // for a file stored first (StreamEvidence)
	in.Parse.Keep = in.Store    // nor need the parsers set more
	results, err := index.StreamEvidence(c, paths, in, a.eng.PrepareEvent, a.eng.Prepare, func(p *rules.Prepared) error {
		a.observePrepared(p)
		// Neither the rules nor the Analyzer keep an event once observed:
		// its map goes back to the parsers when its parser keeps nothing of
		// it either (event.Recycle), and its Prepared without it (a stored
		// file's events are decoded into maps sized for what is read).
		event.Recycle(p.Event)
		p.Event = nil
		a.eng.Recycle(p)
		return nil
	})
	if err != nil {
		a.discard()
		return nil, results, err
	}
	res, err := a.Finish(caseMeta(c, o))
	return res, results, err
}

// discard removes what an Analyzer that will not Finish keeps on disk.
func (a *Analyzer) discard() {
	a.flows.close()
	a.proxy.flows.close()
	a.proxy.tunnels.close()
}

// caseMeta is what the report says of the case and its evidence files.
func caseMeta(c *index.Case, o Options) CaseMeta {
	meta := CaseMeta{ID: filepath.Base(filepath.Clean(c.Dir)), Title: o.Title, Events: c.Manifest.Events,
		TimeRange: Range{Start: c.Manifest.First, End: c.Manifest.Last},
		ZoneGiven: c.Manifest.Settings.TZSource == index.TZSourceGiven || o.ZoneInferredFrom != nil, ZoneRead: c.Manifest.Settings.TZ}
	for _, f := range c.FilesByPath() {
		if f.Error != "" && f.SHA256 == "" {
			continue // never opened: nothing to list it by
		}
		if f.ZoneAssumed {
			meta.ZoneAssumed = append(meta.ZoneAssumed, f.Path)
		}
		ef := EvidenceFile{Path: f.Path, SHA256: f.SHA256, SizeBytes: f.Size, Format: f.Format, Events: f.Events(), Unparsed: f.Raw, Status: noEventsWhy(f), Lost: f.Lost, LostWhen: f.LostWhen, ReadError: f.Error}
		if f.Error != "" {
			ef.Status = "read_error"
		}
		if !f.First.IsZero() {
			ef.TimeRange = &Range{Start: f.First, End: f.Last}
		}
		meta.Evidence = append(meta.Evidence, ef)
	}
	if g, ok := parsers.GuessYear(c.Manifest.Files); ok {
		meta.YearMissed = &g
	}
	return meta
}

// Finish judges what was observed and writes the report. It fails only
// on the flow ledger's own runs on disk: the last one cannot be written,
// or one cannot be read back.
func (a *Analyzer) Finish(meta CaseMeta) (*Result, error) {
	lang := a.o.Lang
	a.zoneGiven = meta.ZoneGiven
	a.zoneAssumed = !meta.ZoneGiven && len(meta.ZoneAssumed) > 0
	defer a.flows.close()
	defer a.proxy.flows.close()
	defer a.proxy.tunnels.close()
	if err := a.countProxyUploads(); err != nil {
		return nil, err
	}
	if err := a.flows.finish(); err != nil {
		return nil, err
	}
	a.links.resolveRDP()
	found := a.eng.Findings()
	r := &Report{
		SchemaVersion: SchemaVersion,
		GeneratedAt:   time.Now().UTC().Truncate(time.Second),
		Tool:          Tool{Name: "exfiltrace", Version: index.Version},
		Case:          CaseInfo{ID: meta.ID, Title: meta.Title, Events: meta.Events, TimeRange: meta.TimeRange},
		Evidence:      meta.Evidence,
		Lang:          lang,
	}
	ids := map[*rules.Finding]string{}
	r.Findings = contractFindings(found, lang, ids)
	r.Coverage = a.cov.list()
	acts := activities(found)
	window := intrusionWindow(acts)

	j := &judge{o: a.o, lang: lang, fw: a.cov.rng("firewall"), fwLog: firewallLog, window: window,
		knownGood: prefixes(a.o.Config.Placeholders["known_good_destinations"]), names: exfiltrationNames(found, ids), ids: ids}
	// The proxy's requests measure uploads too: the baseline is the period
	// either log covers.
	if pr := a.proxy.cov.rng("proxy"); pr != nil && a.proxy.counted > 0 {
		switch {
		case j.fw == nil:
			j.fw, j.fwLog = pr, proxyLog
		case pr.Start.Before(j.fw.Start) || pr.End.After(j.fw.End):
			j.fw, j.fwLog = &Range{Start: minTime(j.fw.Start, pr.Start), End: maxTime(j.fw.End, pr.End)}, bothLogs
		}
	}
	j.before = r.Case.TimeRange.End.Add(time.Second)
	if j.fw != nil {
		j.before = j.fw.End.Add(time.Second)
	}
	if window != nil {
		j.before = window.Start
	}
	j.sourceActive = func(ip string, t1, t2 time.Time) bool { return len(a.activityFor(acts, ip, "", nil, t1, t2)) > 0 }
	svcs, err := j.services(a.flows)
	if err != nil {
		return nil, err
	}
	if err := j.findRoutine(svcs); err != nil {
		return nil, err
	}
	routine, cands, err := j.judgeAll(svcs)
	if err != nil {
		return nil, err
	}
	mailCands := a.mailCandidates(found, ids, acts, window)
	cands = dropMailTransport(cands, mailCands, a.mail)
	intrusion := window != nil
	if window == nil {
		window = a.insiderWindow(acts, cands, mailCands)
	}
	r.IncidentWindow = window
	via, err := a.proxyVia(cands)
	if err != nil {
		return nil, err
	}
	a.tunnelXfers = a.links.tunnelTransfers()
	r.Exfiltration = a.ledger(cands, mailCands, acts, window, via)
	r.Routine = routine
	r.HourlyBytes = hourly(r.Exfiltration, cands, mailCands)
	r.Links = a.links.links()
	r.VPNTransfers = a.tunnelXfers
	r.OwnMailDomains = a.mail.ownDomains()
	if j.fw != nil {
		r.Baseline = &Baseline{Firewall: j.fw, Before: j.before, FirstContactMaxBytes: j.firstContactMax, FirstContactMaxTo: j.firstContactTo, Services: svcs.n}
	}
	r.Verdict = a.decide(r, acts, window, intrusion)
	if why := mailboxReason(found, ids, lang); why != "" {
		r.Verdict.Reasons = append(r.Verdict.Reasons, why)
	}
	if why := tunnelReason(r.VPNTransfers, a.links.tunnelsLeftOut, lang); why != "" {
		r.Verdict.Reasons = append(r.Verdict.Reasons, why)
		qualifyByTunnels(&r.Verdict, r.VPNTransfers, a.o.LargeBytes, lang)
	}
	r.Clocks = a.clocks.results()
	offset := false
	for _, c := range r.Clocks {
		if why := clockReason(c, lang); why != "" {
			r.Verdict.Reasons = append(r.Verdict.Reasons, why)
			offset = true
		}
	}
	if !meta.ZoneGiven && !offset && len(meta.ZoneAssumed) > 0 {
		r.Verdict.Reasons = append(r.Verdict.Reasons, zoneAssumedReason(meta.ZoneAssumed, cmp.Or(meta.ZoneRead, "UTC"), lang))
	}
	if g := a.o.YearGuess; g != nil {
		r.Verdict.Reasons = append(r.Verdict.Reasons, yearReason(g, lang))
	} else if g := meta.YearMissed; g != nil {
		r.Verdict.Reasons = append(r.Verdict.Reasons, yearMissedReason(g, lang))
	}
	if f := a.o.ZoneInferredFrom; f != nil {
		if a.o.ZoneInferredIn != "" {
			r.Verdict.Reasons = append(r.Verdict.Reasons, zoneInferredReason(*f, lang))
		} else {
			r.Verdict.Reasons = append(r.Verdict.Reasons, inferredReason(*f, a.o.ZoneInferredAt, lang))
		}
		for i := range r.Clocks {
			r.Clocks[i].ReadAt = zoneReadName(a.o.ZoneInferredIn, a.o.ZoneInferredAt)
		}
	}
	r.Timeline = timeline(r, lang)
	r.Breach = a.breachDraft(r, window)
	// The contract wants arrays, never null.
	if r.Exfiltration == nil {
		r.Exfiltration = []LedgerEntry{}
	}
	if r.Routine == nil {
		r.Routine = []RoutineTransfer{}
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if r.Evidence == nil {
		r.Evidence = []EvidenceFile{}
	}
	if r.Timeline == nil {
		r.Timeline = []TimelineEntry{}
	}
	if r.Verdict.Reasons == nil {
		r.Verdict.Reasons = []string{}
	}
	return &Result{Report: r, Findings: found, Skipped: a.eng.Skipped, Loaded: len(a.eng.Loaded)}, nil
}

// exfiltrationNames indexes the exfiltration findings by the destinations
// they name, for the services they point at.
func exfiltrationNames(found []*rules.Finding, ids map[*rules.Finding]string) map[string][]*rules.Finding {
	names := map[string][]*rules.Finding{}
	for _, f := range found {
		// Volume rules do not name a destination: the baselines judge volumes.
		if ids[f] == "" || !hasTag(f, "attack.exfiltration") || f.Signal == "volume" {
			continue
		}
		for _, d := range f.Dests {
			names[strings.ToLower(d)] = append(names[strings.ToLower(d)], f)
		}
	}
	return names
}

func hasTag(f *rules.Finding, prefix string) bool {
	for _, t := range f.Tags {
		if strings.HasPrefix(t, prefix) {
			return true
		}
	}
	return false
}

// noEventsWhy says why a file read gave no events, from its account: an
// artefact that is not a log, or an empty log ("" otherwise).
func noEventsWhy(f *parsers.FileStats) string {
	if f.Events() > 0 {
		return ""
	}
	for _, w := range f.Warnings {
		switch {
		case strings.HasPrefix(w, "not a log"):
			return "not_a_log"
		case strings.HasPrefix(w, "empty:"):
			return "empty"
		}
	}
	return ""
}
