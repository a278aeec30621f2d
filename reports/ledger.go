package reports

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/rules"
)

// mailCandidate is an outside recipient that an exfiltration finding names.
type mailCandidate struct {
	r    *recipient
	ids  []string
	keep func(mailMessage) bool
	// afterCollection: kept for following the sender's collection of
	// files, there being no intrusion (mailAfterCollection).
	afterCollection bool
	// zoneUncertain: …which only some zone of a log naming none puts
	// before them.
	zoneUncertain bool
}

// entryInfo is what the verdict needs to know of a ledger entry beyond what
// the contract carries.
type entryInfo struct {
	strong       bool // above its evidence-derived reference
	corroborated bool // collection or a transfer tool tied to its source
	byTimeOnly   bool // …tied only by time, the source being unresolved
	// zoneUncertain: …by activity that falls in the day before the entry
	// only in some zone of a log naming none (the activity's or the
	// entry's).
	zoneUncertain bool
	corrWhy       string // the activity that corroborates it
	inWindow      bool   // during the incident window
}

// mailCandidates lists the outside recipients named by exfiltration
// findings; during an incident only the messages of the window count.
func (a *Analyzer) mailCandidates(found []*rules.Finding, ids map[*rules.Finding]string, acts []activity, window *Range) []mailCandidate {
	named := map[string][]string{}
	for _, f := range found {
		if ids[f] == "" || !hasTag(f, "attack.exfiltration") {
			continue
		}
		for _, d := range f.Dests {
			if strings.Contains(d, "@") {
				named[strings.ToLower(d)] = append(named[strings.ToLower(d)], ids[f])
			}
		}
	}
	var out []mailCandidate
	for _, r := range a.mail.outside() {
		fids := named[strings.ToLower(r.addr)]
		if len(fids) == 0 {
			if mc, ok := a.mailFromIntrusion(r, acts, window); ok {
				out = append(out, mc)
			} else if mc, ok := a.mailAfterCollection(r, acts, window); ok {
				out = append(out, mc)
			}
			continue
		}
		mc := mailCandidate{r: r, ids: uniq(fids)}
		if window != nil {
			w := *window
			mc.keep = func(m mailMessage) bool { return !m.t.Before(w.Start) && !m.t.After(w.End.Add(episodeGap)) }
			if b, _, _, _ := r.totals(mc.keep); b == 0 {
				mc.keep = nil // flagged outside the window: count what the finding saw
			}
		}
		out = append(out, mc)
	}
	return out
}

// mailFromIntrusion: mail sent during the intrusion, by an account or from
// an address the intrusion touched, to an outside address that had never
// received mail before — whatever its size, no rule threshold applies.
func (a *Analyzer) mailFromIntrusion(r *recipient, acts []activity, window *Range) (mailCandidate, bool) {
	if window == nil {
		return mailCandidate{}, false
	}
	w := *window
	end := w.End.Add(episodeGap)
	tied := map[string]bool{}
	for _, m := range r.messages {
		if m.t.Before(w.Start) {
			return mailCandidate{}, false // a correspondent from before the incident
		}
		if m.t.After(end) {
			continue
		}
		// Sent from an address the intrusion used, or by an account it used
		// within two hours of acting with it (the account's owner may be
		// mailing partners by day between an intruder's nights).
		if len(a.activityFor(acts, m.client, "", nil, w.Start, end)) > 0 ||
			(m.user != "" && len(a.activityFor(acts, "", "", []string{m.user}, m.t.Add(-2*time.Hour), m.t.Add(30*time.Minute))) > 0) {
			tied[m.key] = true
		}
	}
	if len(tied) == 0 {
		return mailCandidate{}, false
	}
	return mailCandidate{r: r, keep: func(m mailMessage) bool { return tied[m.key] }}, true
}

// minCollectedMail is what the messages an account sends to a new outside
// address after collecting files must carry in all to count: a document
// attached (a plain message is tens of kilobytes), not a reply.
const minCollectedMail = 1 << 20

// mailAfterCollection: without an intrusion, mail an account sent to an
// outside address within two hours after it collected files (mass reads,
// an archive), when that address had received nothing before the
// collection began and the messages carry files — an insider mailing out
// what it gathered, as insiderWindow does for network transfers. When the
// collection's log or the mail log names no zone, no zone being given, the
// collection counts where some zone would put it so (relativeShift), said
// as such.
func (a *Analyzer) mailAfterCollection(r *recipient, acts []activity, window *Range) (mailCandidate, bool) {
	if window != nil || len(r.messages) == 0 {
		return mailCandidate{}, false
	}
	tied := map[string]bool{}
	var bytes int64
	uncertain := false
	for _, m := range r.messages {
		if m.user == "" || tied[m.key] {
			continue
		}
		for _, ac := range a.activityFor(acts, "", "", []string{m.user}, m.t.Add(-2*time.Hour-zoneBefore), m.t.Add(zoneBefore)) {
			if !ac.collects() {
				continue
			}
			// The shifts of the collection's times that put its start
			// before the address's first message and its end within two
			// hours before this one.
			lo, hi := m.t.Add(-2*time.Hour).Sub(ac.last), r.messages[0].t.Sub(ac.first)
			exact := lo <= 0 && hi >= 0
			zlo, zhi, zoned := a.relativeShift(a.readZoneless(ac), a.zonelessKinds["mail"])
			if !exact && !(zoned && max(lo, zlo) <= min(hi, zhi)) {
				continue
			}
			tied[m.key] = true
			bytes += m.size
			uncertain = uncertain || !exact
			break
		}
	}
	if bytes < minCollectedMail {
		return mailCandidate{}, false
	}
	return mailCandidate{r: r, keep: func(m mailMessage) bool { return tied[m.key] }, afterCollection: true, zoneUncertain: uncertain}, true
}

// dropMailTransport removes the SMTP sessions that carried flagged mail to
// its recipients' servers: they are the email channel itself, and counting
// them as network too would count the same bytes twice. A relay the mail
// log names is known by its address; where the log names only the gateway
// that passed the mail (FortiMail), its sessions to an SMTP port are.
func dropMailTransport(cands []candidate, mail []mailCandidate, ml *mailLedger) []candidate {
	relays, gateways := map[string]bool{}, map[string]bool{}
	for _, m := range mail {
		for ip := range ml.relayOf[m.r.addr] {
			relays[ip] = true
		}
		for ip := range ml.gatewayOf[m.r.addr] {
			gateways[ip] = true
		}
	}
	if len(relays) == 0 && len(gateways) == 0 {
		return cands
	}
	out := cands[:0]
	for _, c := range cands {
		smtp := c.pair.p != nil && (c.pair.p.port == 25 || c.pair.p.port == 465 || c.pair.p.port == 587)
		if !relays[c.pair.k.dst.String()] && !(smtp && gateways[c.pair.k.src.String()]) {
			out = append(out, c)
		}
	}
	return out
}

// activityFor returns the activity tied to a source over a period: on its
// host, from its address, or by the accounts behind it.
func (a *Analyzer) activityFor(acts []activity, ip, host string, users []string, t1, t2 time.Time) []activity {
	if host == "" {
		if lk, ok := a.links.hostAt(ip, t1, t2); ok {
			host = lk.To
		}
	}
	var out []activity
	for _, ac := range acts {
		if ac.first.After(t2) || ac.last.Before(t1) {
			continue
		}
		if (ip != "" && ac.src == ip) || (host != "" && sameHost(ac.host, host)) || containsFold(users, ac.user) {
			out = append(out, ac)
		}
	}
	return out
}

// sameHost compares host names, short or fully qualified (FS01 = FS01.agglo.local).
func sameHost(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	if a == "" || b == "" {
		return false
	}
	return a == b || strings.HasPrefix(a, b+".") || strings.HasPrefix(b, a+".")
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if v != "" && strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// insiderWindow: without intrusion, the anomalous transfers and the
// collection tied to their source in the day before define the window.
func (a *Analyzer) insiderWindow(acts []activity, cands []candidate, mail []mailCandidate) *Range {
	var w *Range
	grow := func(s, e time.Time) {
		if w == nil {
			w = &Range{Start: s, End: e}
			return
		}
		if s.Before(w.Start) {
			w.Start = s
		}
		if e.After(w.End) {
			w.End = e
		}
	}
	for _, c := range cands {
		if !c.strong {
			continue
		}
		s, e := c.totals.first, c.totals.last
		for _, ac := range a.activityFor(acts, c.pair.k.src.String(), "", nil, s.Add(-24*time.Hour), e) {
			if ac.collects() && ac.first.Before(s) {
				s = ac.first
			}
		}
		grow(s, e)
	}
	for _, m := range mail {
		b, _, s, e := m.r.totals(m.keep)
		if b == 0 {
			continue
		}
		var users []string
		for _, msg := range m.r.messages {
			if (m.keep == nil || m.keep(msg)) && msg.user != "" {
				users = append(users, msg.user)
			}
		}
		for _, ac := range a.activityFor(acts, "", "", uniq(users), s.Add(-24*time.Hour), e) {
			if ac.collects() && ac.first.Before(s) {
				s = ac.first
			}
		}
		grow(s, e)
	}
	return w
}

// ledger turns the candidates into ledger entries, one per service and
// channel, with sources resolved to hosts and accounts.
// via holds, per service, the workstations behind a proxy the firewall
// counted (proxyVia).
func (a *Analyzer) ledger(cands []candidate, mail []mailCandidate, acts []activity, window *Range, via map[string]map[netip.Addr]int64) []LedgerEntry {
	lang := a.o.Lang
	type group struct {
		svc   *service
		cands []candidate
	}
	groups := map[string]*group{}
	var order []string
	for _, c := range cands {
		g := groups[c.svc.key]
		if g == nil {
			g = &group{svc: c.svc}
			groups[c.svc.key] = g
			order = append(order, c.svc.key)
		}
		g.cands = append(g.cands, c)
	}
	var out []LedgerEntry
	a.info = nil
	for _, key := range order {
		g := groups[key]
		e := LedgerEntry{Channel: "network", Sources: []Source{}, FindingIDs: g.svc.named}
		if g.svc.cloud {
			e.Channel = "cloud"
		}
		dests := map[netip.Addr]int64{}
		srcs := map[netip.Addr]bool{}
		var whys []string
		info := entryInfo{}
		openEnd := int32(0)
		both, proxied := int64(0), int64(0)
		for _, c := range g.cands {
			e.Bytes += c.totals.bytes
			e.Events += c.totals.sessions
			if e.FirstSeen.IsZero() || c.totals.first.Before(e.FirstSeen) {
				e.FirstSeen = c.totals.first
			}
			if c.totals.last.After(e.LastSeen) {
				e.LastSeen = c.totals.last
			}
			dests[c.pair.k.dst] += c.totals.bytes
			srcs[c.pair.k.src] = true
			e.SeenBeforeIncident = e.SeenBeforeIncident || c.seenPre
			whys = append(whys, c.why)
			info.strong = info.strong || c.strong
			openEnd += c.pair.p.openEnd
			both += c.pair.p.bothBytes
			proxied += min(c.pair.p.proxyBytes, c.totals.bytes)
			if e.Destination.Port == 0 {
				e.Destination.Port = int64(c.pair.p.port)
			}
		}
		for ip := range via[key] {
			srcs[ip] = true
		}
		top := topAddr(dests)
		e.Destination.IP = addrText(top)
		for _, c := range g.cands {
			if c.pair.k.dst == top && c.pair.p.domain != "" {
				e.Destination.Domain = c.pair.p.domain
			}
		}
		if window != nil && !time.Unix(0, g.svc.first).After(window.Start) {
			e.SeenBeforeIncident = true
		}
		e.Anomaly = strings.Join(uniq(whys), " ; ")
		e.Method = tr(lang, "somme de source.bytes (octets envoyés par la machine interne) des sessions, chacune une fois : les enregistrements intermédiaires des sessions longues ne sont pas additionnés",
			"sum of source.bytes (bytes sent by the internal host) of the sessions, each once: interim records of long sessions are not summed")
		switch {
		case proxied > 0 && proxied >= e.Bytes:
			e.Method = tr(lang, "somme des octets envoyés par les postes dans les requêtes journalisées par le proxy web (source.bytes, cs-bytes), chaque requête une fois, refusées exclues",
				"sum of the bytes the workstations sent in the requests the web proxy logged (source.bytes, cs-bytes), each request once, refused ones left out")
		case proxied > 0:
			e.Method += fmt.Sprintf(tr(lang, " ; dont %d octets des requêtes du proxy web (ce que chaque poste y a envoyé)",
				"; %d bytes of them from the web proxy's requests (what each workstation sent through it)"), proxied)
		}
		if openEnd > 0 {
			e.Method += fmt.Sprintf(tr(lang, " ; %d session(s) sans enregistrement de fin (encore ouverte(s) à la fin du journal, ou muette(s) un jour), comptée(s) jusqu'à leur dernier enregistrement intermédiaire",
				"; %d session(s) without a closing record (still open when the log ends, or silent for a day), counted up to their last interim record"), openEnd)
		}
		if len(dests) > 1 {
			e.Method += fmt.Sprintf(tr(lang, " ; %d adresses du service %s", "; %d addresses of the service %s"), len(dests), g.svc.key)
		}
		if both > 0 {
			e.Method += fmt.Sprintf(tr(lang, " ; %d octets comptés dans les deux sens (le pare-feu, Cisco ASA, ne sépare pas envoi et réception) : une borne haute de ce qui est sorti",
				"; %d bytes counted in both directions (the firewall, Cisco ASA, does not separate sent and received): an upper bound of what left"), both)
		}
		var users []string
		for _, ip := range sortedAddrs(srcs) {
			s := Source{IP: ip.String()}
			if lk, ok := a.links.hostAt(s.IP, e.FirstSeen, e.LastSeen); ok {
				s.Host = lk.To
			}
			e.Sources = append(e.Sources, s)
			for _, at := range a.links.accountsFor(s.IP, s.Host, e.FirstSeen, e.LastSeen) {
				e.Attribution = appendAttribution(e.Attribution, at)
			}
			for _, ac := range a.activityFor(acts, s.IP, s.Host, nil, e.FirstSeen.Add(-24*time.Hour), e.LastSeen) {
				if ac.collects() && ac.user != "" && !machineAccount(ac.user) {
					e.Attribution = appendAttribution(e.Attribution, Attribution{Account: ac.user,
						How:    fmt.Sprintf(tr(lang, "%s : « %s » sur %s à %s", "%s: \"%s\" on %s at %s"), ac.user, findingTitle(ac.finding, lang), ac.host, fmtT(ac.first)),
						Source: evidenceOf(ac.finding)})
				}
			}
		}
		for _, at := range e.Attribution {
			users = append(users, at.Account)
		}
		e.Users = uniqFold(users)
		if len(via[key]) > 0 {
			e.Method += viaProxyText(lang, via[key], e.Sources)
		}
		info = a.corroborate(info, acts, e, window)
		out = append(out, e)
		a.info = append(a.info, info)
	}
	for _, m := range mail {
		b, n, first, last := m.r.totals(m.keep)
		if b == 0 {
			continue
		}
		e := LedgerEntry{Channel: "email", Destination: Destination{Email: m.r.addr, Domain: domainOf(m.r.addr)},
			Bytes: b, Events: n, FirstSeen: first, LastSeen: last, FindingIDs: m.ids, Sources: []Source{},
			Method: tr(lang, "somme des tailles des messages vers cette adresse (size= du journal de messagerie), chaque message une fois",
				"sum of the sizes of the messages to this address (the mail log's size=), each message once")}
		if m.keep != nil {
			pb, _, _, _ := m.r.totals(func(x mailMessage) bool { return x.t.Before(first) })
			e.SeenBeforeIncident = pb > 0
		}
		clients, senders := map[string]bool{}, map[string]string{}
		for _, msg := range m.r.messages {
			if m.keep != nil && !m.keep(msg) {
				continue
			}
			if msg.client != "" {
				clients[msg.client] = true
			}
			if msg.user != "" && senders[msg.user] == "" {
				senders[msg.user] = msg.ref
			}
		}
		for _, ip := range sortedKeys(clients) {
			s := Source{IP: ip}
			if lk, ok := a.links.hostAt(ip, e.FirstSeen, e.LastSeen); ok {
				s.Host = lk.To
			}
			e.Sources = append(e.Sources, s)
		}
		for _, u := range sortedKeysOf(senders) {
			e.Attribution = appendAttribution(e.Attribution, Attribution{Account: u,
				How: fmt.Sprintf(tr(lang, "compte authentifié (SASL) qui a envoyé les messages à %s", "authenticated (SASL) account that sent the messages to %s"), m.r.addr), Source: senders[u]})
		}
		var users []string
		for _, at := range e.Attribution {
			users = append(users, at.Account)
		}
		e.Users = uniqFold(users)
		if len(m.ids) > 0 {
			e.Anomaly = fmt.Sprintf(tr(lang, "messages vers une adresse extérieure signalée par une détection d'exfiltration (%s)", "messages to an outside address an exfiltration finding names (%s)"), strings.Join(m.ids, ", "))
		} else if m.afterCollection && m.zoneUncertain {
			e.Anomaly = tr(lang, "messages envoyés par un compte, à une adresse extérieure jamais écrite auparavant, à quelques heures du moment où il a rassemblé des fichiers (un journal n'indique pas de fuseau : dans certains fuseaux la collecte les précède de moins de deux heures)",
				"messages an account sent to an outside address never written to before, within hours of when it collected files (a log names no zone: in some zones the collection precedes them by less than two hours)")
		} else if m.afterCollection {
			e.Anomaly = tr(lang, "messages envoyés par un compte dans les deux heures après qu'il a rassemblé des fichiers, à une adresse extérieure jamais écrite auparavant",
				"messages an account sent within two hours after it collected files, to an outside address never written to before")
		} else {
			e.Anomaly = tr(lang, "messages envoyés pendant l'intrusion, par un compte ou depuis une adresse qu'elle a touchés, à une adresse extérieure jamais écrite auparavant",
				"messages sent during the intrusion, by an account or from an address it touched, to an outside address never written to before")
		}
		info := entryInfo{strong: b >= a.o.LargeBytes/10}
		info = a.corroborate(info, acts, e, window)
		info.zoneUncertain = info.zoneUncertain || m.zoneUncertain
		out = append(out, e)
		a.info = append(a.info, info)
	}
	te, ti := a.tunnelEntries(a.tunnelXfers, acts, window)
	out, a.info = append(out, te...), append(a.info, ti...)
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(x, y int) bool {
		ex, ey := out[idx[x]], out[idx[y]]
		if ex.Bytes != ey.Bytes {
			return ex.Bytes > ey.Bytes
		}
		return ex.Destination.IP+ex.Destination.Email < ey.Destination.IP+ey.Destination.Email
	})
	sorted := make([]LedgerEntry, len(out))
	infos := make([]entryInfo, len(out))
	for i, k := range idx {
		sorted[i], infos[i] = out[k], a.info[k]
	}
	a.info = infos
	return sorted
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func appendAttribution(list []Attribution, at Attribution) []Attribution {
	for _, x := range list {
		if strings.EqualFold(x.Account, at.Account) {
			return list
		}
	}
	return append(list, at)
}

func evidenceOf(f *rules.Finding) string {
	if f == nil || len(f.Evidence) == 0 {
		return ""
	}
	e := f.Evidence[0]
	if e.Record != 0 && e.Line == 0 {
		return fmt.Sprintf("%s record %d", e.File, e.Record)
	}
	return fmt.Sprintf("%s line %d", e.File, e.Line)
}

func findingTitle(f *rules.Finding, lang string) string {
	if f == nil {
		return ""
	}
	if lang != "en" && f.TitleFR != "" {
		return f.TitleFR
	}
	return f.Title
}

// hourly draws the bytes per hour of each ledger entry.
func hourly(ledger []LedgerEntry, cands []candidate, mail []mailCandidate) []HourlySeries {
	var out []HourlySeries
	for _, e := range ledger {
		pts := map[string]int64{}
		name := e.Destination.IP
		if e.Channel == "email" {
			name = e.Destination.Email
			for _, m := range mail {
				if m.r.addr != e.Destination.Email {
					continue
				}
				for _, msg := range m.r.messages {
					if m.keep == nil || m.keep(msg) {
						pts[msg.t.UTC().Truncate(time.Hour).Format(time.RFC3339)] += msg.size
					}
				}
			}
		} else {
			for _, c := range cands {
				if serviceOfEntry(c, e) {
					for _, b := range c.pair.p.buckets {
						if c.keep == nil || c.keep(b) {
							pts[time.Unix(int64(b.hour)*3600, 0).UTC().Format(time.RFC3339)] += b.bytes
						}
					}
				}
			}
		}
		out = append(out, HourlySeries{Destination: name, Points: pts})
	}
	return out
}

func serviceOfEntry(c candidate, e LedgerEntry) bool {
	for _, pr := range c.svc.pairs {
		if addrText(pr.k.dst) == e.Destination.IP && (e.Destination.IP != "" || pr.p.domain == e.Destination.Domain) {
			return true
		}
	}
	return false
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

func uniqFold(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if x != "" && !seen[strings.ToLower(x)] {
			seen[strings.ToLower(x)] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

func sortedKeysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
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

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// contractFindings converts findings to the contract's form, in the
// report's language, and records the id given to each. Findings of volume
// rules are left out: the ledger and the routine transfers answer for them.
func contractFindings(fs []*rules.Finding, lang string, ids map[*rules.Finding]string) []Finding {
	var out []Finding
	for i, f := range fs {
		// Volume rules are hunting aids; the report judges volumes against
		// the baselines (ledger and routine transfers) instead.
		if f.Level == "informational" || f.Signal == "volume" {
			continue
		}
		cf := Finding{ID: fmt.Sprintf("F%02d", i+1), RuleID: f.RuleID, Title: findingTitle(f, lang), Severity: f.Level, Count: f.Count,
			FirstSeen: f.First, LastSeen: f.Last, Hosts: f.Hosts, Users: f.Users}
		ids[f] = cf.ID
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
