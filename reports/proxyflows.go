package reports

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// A web proxy's request log says which workstation sent how much to which
// site (ProxySG's and Cisco's cs-bytes, TMG's bytes received from the
// client: source.bytes). A firewall behind the proxy sees only the proxy's
// own connections out, all from one address: the town's uploads merged,
// no workstation, no account. So where the proxy's address is known — it
// names itself (ProxySG's s-ip), or the firewall's sessions from one
// inside address match most of what the proxy fetched — the firewall's
// sessions from it are replaced by the proxy's requests for the hours the
// proxy logged. Where it is not known, the requests are counted only for
// the hours no firewall session log covers (counting them beside the
// firewall's sessions would count the same upload twice), and they name
// the workstations behind the firewall's count.

// proxyUploads holds a proxy's requests that sent bytes, per workstation
// and destination, until the firewall's coverage is known.
type proxyUploads struct {
	flows *flowLedger
	// tunnels are CONNECT requests: the bytes a tunnel carried. A proxy
	// that decrypts TLS also logs the requests inside the tunnel (Cisco's
	// documented "two entries for a transaction"), so the two are joined
	// per workstation, destination and hour, the larger counted (scan).
	tunnels *flowLedger
	// cov is when the proxy logged what its clients sent (requests
	// carrying source.bytes): the period its log can measure.
	cov *coverage
	// counted went to the flow ledger; shadowed was left to the firewall's
	// sessions (bytes and requests of each).
	counted, countedReq, shadowed, shadowedReq int64
	// named are the inside addresses the proxy gave as its own; relays
	// are the proxy addresses whose firewall sessions its requests replace
	// (relayHow says how each was found).
	named    map[netip.Addr]bool
	relays   map[netip.Addr]bool
	relayHow map[netip.Addr]string
}

func newProxyUploads(tmp string) *proxyUploads {
	return &proxyUploads{flows: newFlowLedger(tmp), tunnels: newFlowLedger(tmp), cov: newCoverage(), named: map[netip.Addr]bool{}}
}

// proxyAuthRequired is the proxy refusing a request until the client
// authenticates: whatever the client sent went no further.
const proxyAuthRequired = 407

// observeProxy takes a web proxy's request.
func (a *Analyzer) observeProxy(ev *event.Event) {
	n, ok := ev.Int("source.bytes")
	if !ok {
		return // this proxy does not log what its clients send (Squid's native format)
	}
	a.proxy.cov.observe("proxy", ev.Timestamp)
	if ip, err := netip.ParseAddr(ev.Str("observer.ip")); err == nil && a.internalAddr(ip) && len(a.proxy.named) < maxNamedProxies {
		a.proxy.named[ip] = true
	}
	if code, _ := ev.Int("http.response.status_code"); n <= 0 || ev.Str("event.outcome") == "failure" || code == proxyAuthRequired {
		return
	}
	src, err := netip.ParseAddr(ev.Str("source.ip"))
	if err != nil || !a.internalAddr(src) {
		return
	}
	dst, name, ok := a.proxyDestination(ev)
	if !ok {
		return
	}
	port, _ := ev.Int("destination.port")
	l := a.proxy.flows
	switch strings.ToLower(ev.Str("url.scheme")) {
	case "tcp", "tunnel", "ssl-tunnel":
		l = a.proxy.tunnels
	default:
		if strings.EqualFold(ev.Str("http.request.method"), "CONNECT") {
			l = a.proxy.tunnels
		}
	}
	l.keepWithinBudget()
	l.add(pairKey{src, dst}, name, int32(port), n, sessionStart(ev), ev.Timestamp)
}

// proxyDestination is where a request went: the origin server's address
// when the proxy logged it (Cisco's s-ip, a DIRECT supplier), else its
// name. Requests to inside addresses and intranet names are not uploads
// out.
func (a *Analyzer) proxyDestination(ev *event.Event) (dst netip.Addr, name string, ok bool) {
	name = strings.TrimSuffix(strings.ToLower(firstNonEmpty(ev.Str("destination.domain"), ev.Str("url.domain"))), ".")
	if ip, err := netip.ParseAddr(ev.Str("destination.ip")); err == nil {
		return ip, name, !a.internalAddr(ip)
	}
	if ip, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
		return ip, "", !a.internalAddr(ip)
	}
	if name == "" || intranetName(name) {
		return netip.Addr{}, "", false
	}
	return namedDestination(name), name, true
}

// intranetSuffixes end names that resolve only inside a network (RFC 6762's
// .local, RFC 8375's home.arpa, and the private suffixes in common use).
var intranetSuffixes = []string{".local", ".localdomain", ".lan", ".home", ".home.arpa", ".internal", ".intranet", ".intra",
	".corp", ".priv", ".private", ".localhost"}

func intranetName(n string) bool {
	if !strings.Contains(n, ".") {
		return true // a single label: an intranet host (http://intranet/)
	}
	for _, s := range intranetSuffixes {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

// namedDestination stands for a destination the proxy named but whose
// address it did not log: the flow ledger keys pairs by address, and the
// unspecified IPv6 address zoned by the name is one no log can hold as a
// destination. It is never shown as an address (addrText).
func namedDestination(name string) netip.Addr {
	return netip.IPv6Unspecified().WithZone(name)
}

func isNamedDestination(a netip.Addr) bool {
	return a.Zone() != "" && a.WithZone("") == netip.IPv6Unspecified()
}

// addrText is an address as the report shows it: "" for a destination
// known only by name.
func addrText(a netip.Addr) string {
	if isNamedDestination(a) || !a.IsValid() {
		return ""
	}
	return a.String()
}

// scan calls fn for every hour of every pair the proxy logged, in pair
// order when its ledgers went to disk. A tunnel's hour and the requests'
// hour of the same pair count once, the larger: whether a proxy that
// decrypts TLS gives the tunnel all it carried or only its handshake, and
// whatever it logs inside, the upload is counted once. Only the hours
// where either side reaches bigUpload are joined (at most maxUploads of
// them): below, any double count is too small to matter.
func (pu *proxyUploads) scan(fn func(pairKey, *pairFlow, flowBucket)) error {
	type pairHour struct {
		k    pairKey
		hour int32
	}
	type tunnelHour struct {
		domain string
		port   int32
		b      flowBucket
	}
	bigRequests := map[pairHour]bool{}
	err := eachPair(pu.flows, func(k pairKey, p *pairFlow) {
		for _, b := range p.buckets {
			if b.bytes >= bigUpload && len(bigRequests) < maxUploads {
				bigRequests[pairHour{k, b.hour}] = true
			}
		}
	})
	if err != nil {
		return err
	}
	held := map[pairHour]tunnelHour{}
	err = eachPair(pu.tunnels, func(k pairKey, p *pairFlow) {
		for _, b := range p.buckets {
			if (b.bytes >= bigUpload || bigRequests[pairHour{k, b.hour}]) && len(held) < maxUploads {
				held[pairHour{k, b.hour}] = tunnelHour{p.domain, p.port, b}
				continue
			}
			fn(k, p, b)
		}
	})
	if err != nil {
		return err
	}
	err = eachPair(pu.flows, func(k pairKey, p *pairFlow) {
		for _, b := range p.buckets {
			if t, ok := held[pairHour{k, b.hour}]; ok {
				delete(held, pairHour{k, b.hour})
				if t.b.bytes > b.bytes {
					b = t.b
				}
			}
			fn(k, p, b)
		}
	})
	if err != nil {
		return err
	}
	rest := make([]pairHour, 0, len(held))
	for ph := range held {
		rest = append(rest, ph)
	}
	slices.SortFunc(rest, func(x, y pairHour) int { return cmp.Or(x.k.compare(y.k), cmp.Compare(x.hour, y.hour)) })
	for _, ph := range rest {
		t := held[ph]
		fn(ph.k, &pairFlow{domain: t.domain, port: t.port}, t.b)
	}
	return nil
}

// eachPair calls fn for every pair of a finished ledger, whole: the parts
// of a pair in several runs on disk are combined first.
func eachPair(l *flowLedger, fn func(pairKey, *pairFlow)) error {
	l.each(fn)
	if len(l.runs) == 0 {
		return nil
	}
	var acc flowRecord
	have := false
	err := mergeRuns(l.runs, func(r *flowRecord) error {
		if have && acc.k == r.k {
			acc.flow.combine(&r.flow)
			return nil
		}
		if have {
			fn(acc.k, &acc.flow)
		}
		acc, have = *r, true
		return nil
	})
	if err == nil && have {
		fn(acc.k, &acc.flow)
	}
	return err
}

const maxNamedProxies = 64

// countProxyUploads moves the proxy's requests into the flow ledger. When
// the proxy's address is known among the firewall's sessions (findRelays),
// all of them: the firewall's sessions from it are left out instead for
// the hours the proxy logged. Otherwise a request counts unless the
// firewall may have counted it itself: it logged, within the hour, a
// session to the same destination — or, where destinations cannot be
// compared (the proxy names only sites, the firewall only addresses), any
// session at all.
func (a *Analyzer) countProxyUploads() error {
	pu := a.proxy
	if err := pu.flows.finish(); err != nil {
		return err
	}
	if err := pu.tunnels.finish(); err != nil {
		return err
	}
	seen, err := a.findRelays()
	if err != nil {
		return err
	}
	if len(pu.relays) > 0 {
		a.flows.exclude = func(k pairKey, b flowBucket) bool {
			return pu.relays[k.src] && pu.cov.nearHour("proxy", b.hour)
		}
	}
	return pu.scan(func(k pairKey, p *pairFlow, b flowBucket) {
		if len(pu.relays) == 0 && a.cov.nearHour("firewall", b.hour) && !seen.missed(k.dst, b) {
			pu.shadowed += b.bytes
			pu.shadowedReq += int64(b.sessions)
			return
		}
		pu.counted += b.bytes
		pu.countedReq += int64(b.sessions)
		a.flows.keepWithinBudget()
		a.flows.addBucket(k, p.domain, p.port, b).proxyBytes += b.bytes
	})
}

// proxyReason says what the web proxy's log measured: the firewall's
// sessions it replaced, the uploads it counted, those left to the
// firewall's count, or nothing when the proxy does not log what its
// clients sent.
func (a *Analyzer) proxyReason(p *Range) string {
	lang, pu := a.o.Lang, a.proxy
	head := fmt.Sprintf(tr(lang, "Journaux de proxy web présents du %s au %s", "Web proxy logs present from %s to %s"), fmtT(p.Start), fmtT(p.End))
	if pu.cov.rng("proxy") == nil {
		return head + tr(lang, " : ce proxy ne journalise pas ce que ses clients envoient (le format natif de Squid ne donne que ce qu'il a renvoyé) ; ses requêtes (poste, compte, site) sont dans les constats et la recherche, pas dans le registre des octets.",
			": this proxy does not log what its clients send (Squid's native format gives only what it returned); its requests (workstation, account, site) are in the findings and search, not in the byte ledger.")
	}
	var parts []string
	for _, ip := range sortedAddrs(pu.relays) {
		parts = append(parts, fmt.Sprintf(tr(lang, "les sessions du pare-feu depuis le proxy (%s : %s) sont remplacées par ses requêtes pour les heures que son journal couvre (%s comptés par le pare-feu depuis cette adresse), afin que chaque envoi soit rattaché au poste qui l'a fait",
			"the firewall's sessions from the proxy (%s: %s) are replaced by its requests for the hours its log covers (%s the firewall counted from that address), so that each upload is tied to the workstation that made it"), ip, pu.relayHow[ip], HumanBytes(a.flows.excluded, lang)))
	}
	if pu.counted > 0 {
		parts = append(parts, fmt.Sprintf(tr(lang, "%s envoyés par les postes en %d requêtes sont comptés au registre",
			"%s sent by workstations in %d requests are counted in the ledger"), HumanBytes(pu.counted, lang), pu.countedReq))
	}
	if pu.shadowed > 0 {
		parts = append(parts, fmt.Sprintf(tr(lang, "%s envoyés en %d requêtes pendant que le pare-feu journalisait ne sont pas comptés une seconde fois : le pare-feu journalisait alors des sessions vers les mêmes destinations (ou, faute de pouvoir comparer les destinations, à la même heure) sans que l'adresse du proxy puisse y être reconnue : ses sessions les comptent, les requêtes nomment les postes derrière lui",
			"%s sent in %d requests while the firewall logged are not counted twice: the firewall then logged sessions to the same destinations (or, where destinations cannot be compared, in the same hour) without the proxy's address being recognisable among them: its sessions count them, the requests name the workstations behind it"), HumanBytes(pu.shadowed, lang), pu.shadowedReq))
	}
	if len(parts) == 0 {
		parts = append(parts, tr(lang, "aucune requête n'a envoyé d'octets vers l'extérieur", "no request sent bytes outside"))
	}
	return head + tr(lang, " : ", ": ") + strings.Join(parts, tr(lang, " ; ", "; ")) + "."
}
