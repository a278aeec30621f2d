package reports

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
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
}

// Result is the report plus the raw hunt output.
type Result struct {
	Report   *Report
	Findings []*rules.Finding
	Skipped  []rules.Skipped
	Loaded   int
}

// Build streams the case once, in time order, through the rules and the byte
// ledger, then decides the verdict.
func Build(c *index.Case, o Options) (*Result, error) {
	if o.Config == nil {
		o.Config = rules.DefaultConfig()
	}
	if o.LargeBytes == 0 {
		o.LargeBytes = 100_000_000
	}
	if o.Lang == "" {
		o.Lang = "fr"
	}
	eng := rules.CompileWith(o.Rules, o.Config)
	acc := newAccumulator(o.Config)
	if err := c.Stream(func(ev *event.Event) error {
		eng.Process(ev)
		acc.observe(ev)
		return nil
	}); err != nil {
		return nil, err
	}
	r := &Report{
		SchemaVersion: SchemaVersion,
		GeneratedAt:   time.Now().UTC().Truncate(time.Second),
		Tool:          Tool{Name: "exfiltrace", Version: index.Version},
		Case:          CaseInfo{ID: filepath.Base(filepath.Clean(c.Dir)), Title: o.Title, Events: c.Manifest.Events, TimeRange: Range{Start: c.Manifest.First, End: c.Manifest.Last}},
		Lang:          o.Lang,
	}
	for _, f := range c.Manifest.Files {
		if f.Error != "" && f.Parsed+f.Raw == 0 {
			continue
		}
		ef := EvidenceFile{Path: f.Path, SHA256: f.SHA256, SizeBytes: f.Size, Format: f.Format, Events: f.Parsed + f.Raw, Unparsed: f.Raw}
		if !f.First.IsZero() {
			ef.TimeRange = &Range{Start: f.First, End: f.Last}
		}
		r.Evidence = append(r.Evidence, ef)
	}
	found := eng.Findings()
	r.Findings = contractFindings(found)
	r.Coverage = acc.coverage()
	r.Links = acc.links()
	window := incidentWindow(found)
	r.Exfiltration = acc.ledger(found, r.Findings, window, o)
	r.HourlyBytes = acc.hourly(r.Exfiltration)
	r.Verdict = decide(r, found, window, acc.totalBytesOut(r.Exfiltration), o)
	r.Timeline = timeline(r, found)
	// The contract wants arrays, never null.
	if r.Exfiltration == nil {
		r.Exfiltration = []LedgerEntry{}
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
	r.Breach = acc.breachDraft(r, window, o.Lang)
	return &Result{Report: r, Findings: found, Skipped: eng.Skipped, Loaded: len(eng.Loaded)}, nil
}

// ---------------------------------------------------------------- accumulation

type destStats struct {
	ip        string
	port      int64
	domains   []string
	bytes     int64
	events    int64
	first     time.Time // earliest session start
	last      time.Time
	firstSeen time.Time   // first event of any size
	sources   []string    // at most maxSources, kept small: there is one destStats per external address
	hours     []hourBytes // in time order (the stream is)
	excluded  int64       // interim logs not summed
}

type hourBytes struct {
	hour  int64 // unix hour
	bytes int64
}

const maxSources = 20

func addHour(h []hourBytes, t time.Time, n int64) []hourBytes {
	u := t.Unix() / 3600
	for i := len(h) - 1; i >= 0 && i >= len(h)-3; i-- {
		if h[i].hour == u {
			h[i].bytes += n
			return h
		}
	}
	return append(h, hourBytes{u, n})
}

func hourMap(h []hourBytes) map[string]int64 {
	out := make(map[string]int64, len(h))
	for _, x := range h {
		out[time.Unix(x.hour*3600, 0).UTC().Format(time.RFC3339)] += x.bytes
	}
	return out
}

type mailStats struct {
	to       string
	bytes    int64
	messages int64
	first    time.Time
	last     time.Time
	senders  map[string]bool
	users    map[string]bool
	clients  map[string]bool
	queueIDs map[string]bool
	hours    map[string]int64
}

type accumulator struct {
	cfg       *rules.Config
	internal  []netip.Prefix
	ownMail   []string
	dests     map[string]*destStats
	mail      map[string]*mailStats
	cov       map[string]*Coverage
	hostOf    map[string]Link
	userOf    map[string]Link
	paths     map[string]int
	msgSizes  map[string]int64           // queue id (per file) → size, for the byte total without double counting
	relayOf   map[string]map[string]bool // recipient → relay addresses that carried mail to it
	assetsCfg map[string]string
}

func newAccumulator(cfg *rules.Config) *accumulator {
	a := &accumulator{cfg: cfg, dests: map[string]*destStats{}, mail: map[string]*mailStats{}, cov: map[string]*Coverage{},
		hostOf: map[string]Link{}, userOf: map[string]Link{}, paths: map[string]int{}, msgSizes: map[string]int64{}, assetsCfg: map[string]string{}, relayOf: map[string]map[string]bool{}}
	for _, s := range cfg.Placeholders["internal_networks"] {
		if p, err := netip.ParsePrefix(s); err == nil {
			a.internal = append(a.internal, p)
		}
	}
	a.ownMail = cfg.Placeholders["own_mail_domains"]
	// assets: "10.10.1.20=FS01.agglo.local"
	for _, s := range cfg.Placeholders["assets"] {
		if ip, host, ok := strings.Cut(s, "="); ok {
			a.assetsCfg[strings.TrimSpace(ip)] = strings.TrimSpace(host)
			a.hostOf[strings.TrimSpace(ip)] = Link{From: strings.TrimSpace(ip), To: strings.TrimSpace(host), Kind: "host", How: "asset list in the case configuration", Source: "exfiltrace.yaml"}
		}
	}
	return a
}

func (a *accumulator) isInternal(ip string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	for _, p := range a.internal {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func sourceKind(ev *event.Event) string {
	ds := ev.Str(event.FieldDataset)
	switch {
	case strings.HasPrefix(ds, "fortinet."), ds == "stormshield", strings.HasPrefix(ds, "sonicwall."), strings.HasPrefix(ds, "cisco."), ds == "panw.panos", ds == "zeek.conn", ds == "suricata.flow",
		ds == "cef", ds == "leef", ds == "checkpoint":
		return "firewall" // session logs with byte counts
	case ds == "netfilter", ds == "pf":
		// Packet logs: they show connections but not how much data left.
		return "firewall-packets"
	case ds == "postfix", ds == "exim", ds == "sendmail", strings.HasPrefix(ds, "microsoft.exchange"):
		return "mail"
	case ev.Str("winlog.channel") != "":
		return "windows"
	}
	return ds
}

func (a *accumulator) observe(ev *event.Event) {
	kind := sourceKind(ev)
	cv := a.cov[kind]
	if cv == nil {
		cv = &Coverage{Source: kind}
		a.cov[kind] = cv
	}
	cv.Events++
	if !ev.Timestamp.IsZero() {
		if cv.Range == nil {
			cv.Range = &Range{Start: ev.Timestamp, End: ev.Timestamp}
		}
		if ev.Timestamp.After(cv.Range.End) {
			cv.Range.End = ev.Timestamp
		}
	}
	switch {
	case kind == "firewall":
		a.observeTraffic(ev)
	case kind == "mail" && ev.Str("event.action") == "message":
		a.observeMail(ev)
	case kind == "windows":
		a.observeWindows(ev)
	}
}

func (a *accumulator) observeTraffic(ev *event.Event) {
	if tip := firstNonEmpty(ev.Str("fortinet.firewall.assigned_ip"), ev.Str("cisco.vpn.assigned_ip")); tip != "" && ev.Str("event.action") != "tunnel-down" {
		if u := ev.Str("user.name"); u != "" {
			a.userOf[tip] = Link{From: tip, To: u, Kind: "account", How: fmt.Sprintf("VPN tunnel opened by %s from %s", u, ev.Str("source.ip")),
				Source: fmt.Sprintf("%s line %s", ev.Str(event.FieldFile), ev.Str(event.FieldLine))}
		}
		return
	}
	src, dst := ev.Str("source.ip"), ev.Str("destination.ip")
	if src == "" || dst == "" || !a.isInternal(src) || a.isInternal(dst) {
		return
	}
	d := a.dests[dst]
	if d == nil {
		d = &destStats{ip: dst, firstSeen: ev.Timestamp}
		a.dests[dst] = d
	}
	if dom := ev.Str("destination.domain"); dom != "" && !contains(d.domains, dom) {
		d.domains = append(d.domains, dom)
	}
	n, ok := ev.Int("source.bytes")
	if !ok {
		return
	}
	// FortiGate interim logs (sentdelta) repeat bytes the session's close log
	// carries in full: sum close logs only.
	if ev.Str("fortinet.firewall.sentdelta") != "" && ev.Str("event.action") == "accept" {
		d.excluded++
		return
	}
	d.bytes += n
	d.events++
	if len(d.sources) < maxSources && !contains(d.sources, src) {
		d.sources = append(d.sources, src)
	}
	if p, ok := ev.Int("destination.port"); ok {
		d.port = p
	}
	start := ev.Timestamp
	if s := ev.Str("event.start"); s != "" {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			start = t
		}
	}
	if d.first.IsZero() || start.Before(d.first) {
		d.first = start
	}
	if ev.Timestamp.After(d.last) {
		d.last = ev.Timestamp
	}
	d.hours = addHour(d.hours, ev.Timestamp, n)
}

func (a *accumulator) observeMail(ev *event.Event) {
	size, _ := ev.Int("email.size")
	ds := ev.Str(event.FieldDataset)
	qid := ev.Str(event.FieldSHA256) + "/" + ev.Str(ds+".queue_id") + "/" + ev.Str(event.FieldLine)
	for _, to := range ev.Strings("email.to.address") {
		dom := strings.ToLower(to[strings.LastIndexByte(to, '@')+1:])
		if contains(a.ownMail, dom) {
			continue
		}
		m := a.mail[to]
		if m == nil {
			m = &mailStats{to: to, senders: map[string]bool{}, users: map[string]bool{}, clients: map[string]bool{}, queueIDs: map[string]bool{}, hours: map[string]int64{}}
			a.mail[to] = m
		}
		if m.queueIDs[qid] {
			continue
		}
		m.queueIDs[qid] = true
		m.bytes += size
		m.messages++
		if m.first.IsZero() || ev.Timestamp.Before(m.first) {
			m.first = ev.Timestamp
		}
		if ev.Timestamp.After(m.last) {
			m.last = ev.Timestamp
		}
		if s := ev.Str("email.from.address"); s != "" {
			m.senders[s] = true
		}
		if u := ev.Str("user.name"); u != "" {
			m.users[u] = true
		}
		if c := ev.Str("source.ip"); c != "" {
			m.clients[c] = true
		}
		m.hours[ev.Timestamp.UTC().Truncate(time.Hour).Format(time.RFC3339)] += size
		a.msgSizes[qid] = size
		for _, ip := range ev.Strings(ds + ".relay_ip") {
			if a.relayOf[to] == nil {
				a.relayOf[to] = map[string]bool{}
			}
			a.relayOf[to][ip] = true
		}
	}
}

func (a *accumulator) observeWindows(ev *event.Event) {
	code := ev.Str("event.code")
	switch {
	case code == "4624":
		// A computer account logging on from an address names that address's host.
		u, ip := ev.Str("user.name"), ev.Str("source.ip")
		if strings.HasSuffix(u, "$") && ip != "" && a.assetsCfg[ip] == "" {
			host := strings.TrimSuffix(u, "$")
			a.hostOf[ip] = Link{From: ip, To: host, Kind: "host", How: "computer-account logon (4624) from this address",
				Source: fmt.Sprintf("%s record/line %s", ev.Str(event.FieldFile), firstNonEmpty(ev.Str(event.FieldLine), ev.Str(event.FieldRecord)))}
		}
	case code == "3" && ev.Str("winlog.provider_name") == "Microsoft-Windows-Sysmon":
		ip := ev.Str("source.ip")
		if ip != "" && a.assetsCfg[ip] == "" && a.isInternal(ip) {
			if _, ok := a.hostOf[ip]; !ok {
				a.hostOf[ip] = Link{From: ip, To: ev.Str("host.name"), Kind: "host", How: "Sysmon 3 network connection logged by this host from this address",
					Source: fmt.Sprintf("%s record %s", ev.Str(event.FieldFile), ev.Str(event.FieldRecord))}
			}
		}
	case code == "4663" || code == "5145":
		if p := ev.Str("file.path"); p != "" {
			a.paths[dirOf(p)]++
		}
	}
}

func dirOf(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i > 0 {
		return p[:i]
	}
	return p
}

func (a *accumulator) coverage() []Coverage {
	var out []Coverage
	for _, c := range a.cov {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

func (a *accumulator) links() []Link {
	var out []Link
	for _, l := range a.hostOf {
		out = append(out, l)
	}
	for _, l := range a.userOf {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].From+out[i].Kind < out[j].From+out[j].Kind })
	return out
}

// ---------------------------------------------------------------- findings

func contractFindings(fs []*rules.Finding) []Finding {
	var out []Finding
	for i, f := range fs {
		if f.Level == "informational" {
			continue
		}
		cf := Finding{ID: fmt.Sprintf("F%02d", i+1), RuleID: f.RuleID, Title: f.Title, Severity: f.Level, Count: f.Count,
			FirstSeen: f.First, LastSeen: f.Last, Hosts: f.Hosts, Users: f.Users}
		if cf.RuleID == "" {
			cf.RuleID = f.Title
		}
		for _, tag := range f.Tags {
			t := strings.TrimPrefix(tag, "attack.")
			switch {
			case len(t) > 1 && (t[0] == 't' || t[0] == 'T') && t[1] >= '0' && t[1] <= '9':
				if cf.Technique == "" {
					cf.Technique = strings.ToUpper(t)
				}
			case strings.HasPrefix(tag, "attack.") && cf.Tactic == "":
				cf.Tactic = t
			}
		}
		for _, e := range f.Evidence {
			cf.Refs = append(cf.Refs, EvidenceRef{Path: e.File, Line: e.Line, Record: e.Record, EventID: e.EventID})
		}
		out = append(out, cf)
	}
	return out
}

func hasTag(f *rules.Finding, prefix string) bool {
	for _, t := range f.Tags {
		if strings.HasPrefix(t, prefix) {
			return true
		}
	}
	return false
}

// incidentWindow spans the findings of medium level and above.
func incidentWindow(fs []*rules.Finding) *Range {
	var w *Range
	for _, f := range fs {
		if f.Level == "informational" || f.Level == "low" {
			continue
		}
		if w == nil {
			w = &Range{Start: f.First, End: f.Last}
			continue
		}
		if f.First.Before(w.Start) {
			w.Start = f.First
		}
		if f.Last.After(w.End) {
			w.End = f.Last
		}
	}
	return w
}

func findingID(all []Finding, title string) string {
	for _, f := range all {
		if f.Title == title {
			return f.ID
		}
	}
	return ""
}

// ledger lists the destinations that exfiltration findings point at, with
// every byte sent to them summed from the logs.
func (a *accumulator) ledger(found []*rules.Finding, cfs []Finding, window *Range, o Options) []LedgerEntry {
	exfilDest := map[string][]string{} // destination (ip, domain or address) → finding ids
	cloud := map[string]bool{}
	hostUsers := map[string]map[string]bool{}
	for _, f := range found {
		if f.Level == "informational" {
			continue
		}
		id := findingID(cfs, f.Title)
		if hasTag(f, "attack.exfiltration") {
			for _, d := range f.Dests {
				exfilDest[d] = append(exfilDest[d], id)
			}
		}
		if hasTag(f, "attack.t1567") {
			for _, d := range f.Dests {
				cloud[d] = true
			}
		}
		if !hasTag(f, "attack.collection") && !hasTag(f, "attack.exfiltration") {
			continue // accounts are taken from what collected or moved data, not from service installs
		}
		for _, h := range f.Hosts {
			if hostUsers[strings.ToLower(h)] == nil {
				hostUsers[strings.ToLower(h)] = map[string]bool{}
			}
			for _, u := range f.Users {
				hostUsers[strings.ToLower(h)][u] = true
			}
		}
	}
	// SMTP sessions that carried flagged mail to its recipients' servers are
	// the email channel itself: counting them as network too would count the
	// same bytes twice.
	mailTransport := map[string]bool{}
	for to, relays := range a.relayOf {
		if len(exfilDest[to]) > 0 {
			for ip := range relays {
				mailTransport[ip] = true
			}
		}
	}
	var out []LedgerEntry
	for _, d := range a.dests {
		if mailTransport[d.ip] {
			continue
		}
		var ids []string
		isCloud := cloud[d.ip]
		ids = append(ids, exfilDest[d.ip]...)
		for _, dom := range d.domains {
			ids = append(ids, exfilDest[dom]...)
			isCloud = isCloud || cloud[dom]
		}
		if len(ids) == 0 || d.bytes == 0 {
			continue
		}
		e := LedgerEntry{Channel: "network", Destination: Destination{IP: d.ip, Port: d.port}, Bytes: d.bytes, Events: d.events,
			FirstSeen: d.first, LastSeen: d.last, FindingIDs: uniq(ids),
			Method: "sum of source.bytes (FortiGate sentbyte) of sessions from internal addresses; interim logs excluded"}
		if len(d.domains) > 0 {
			e.Destination.Domain = d.domains[0]
		}
		if isCloud {
			e.Channel = "cloud"
		}
		if window != nil {
			e.SeenBeforeIncident = d.firstSeen.Before(window.Start)
		}
		users := map[string]bool{}
		srcs := append([]string(nil), d.sources...)
		sort.Strings(srcs)
		for _, ip := range srcs {
			s := Source{IP: ip}
			if l, ok := a.hostOf[ip]; ok {
				s.Host = l.To
			}
			e.Sources = append(e.Sources, s)
			if s.Host != "" {
				for u := range hostUsers[strings.ToLower(s.Host)] {
					users[u] = true
				}
			}
			if l, ok := a.userOf[ip]; ok {
				users[l.To] = true
			}
		}
		e.Users = sortedKeys(users)
		out = append(out, e)
	}
	for _, m := range a.mail {
		ids := exfilDest[m.to]
		if len(ids) == 0 {
			continue
		}
		e := LedgerEntry{Channel: "email", Destination: Destination{Email: m.to, Domain: m.to[strings.LastIndexByte(m.to, '@')+1:]},
			Bytes: m.bytes, Events: m.messages, FirstSeen: m.first, LastSeen: m.last, FindingIDs: uniq(ids), Users: sortedKeys(m.users),
			Method: "sum of message sizes (Postfix size=) of messages to this address, each message once"}
		for _, ip := range sortedKeys(m.clients) {
			s := Source{IP: ip}
			if l, ok := a.hostOf[ip]; ok {
				s.Host = l.To
			}
			e.Sources = append(e.Sources, s)
		}
		if window != nil {
			e.SeenBeforeIncident = m.first.Before(window.Start)
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Bytes != out[j].Bytes {
			return out[i].Bytes > out[j].Bytes
		}
		return out[i].Destination.IP+out[i].Destination.Email < out[j].Destination.IP+out[j].Destination.Email
	})
	return out
}

func (a *accumulator) hourly(ledger []LedgerEntry) []HourlySeries {
	var out []HourlySeries
	for _, e := range ledger {
		var pts map[string]int64
		name := e.Destination.IP
		if e.Channel == "email" {
			pts, name = a.mail[e.Destination.Email].hours, e.Destination.Email
		} else {
			pts = hourMap(a.dests[e.Destination.IP].hours)
		}
		out = append(out, HourlySeries{Destination: name, Points: pts})
	}
	return out
}

// totalBytesOut sums the ledger without counting a message twice when it went
// to several listed recipients.
func (a *accumulator) totalBytesOut(ledger []LedgerEntry) int64 {
	var n int64
	seenMsg := map[string]bool{}
	for _, e := range ledger {
		if e.Channel != "email" {
			n += e.Bytes
			continue
		}
		for q := range a.mail[e.Destination.Email].queueIDs {
			if !seenMsg[q] {
				seenMsg[q] = true
				n += a.msgSizes[q]
			}
		}
	}
	return n
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
