package reports

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// proxyVia finds, for each service of the ledger, the workstations that
// sent through the proxy what the firewall counted from the proxy's
// address: requests to the service's names or addresses, in hours the
// firewall covered, while its sessions ran. It returns their bytes per
// workstation, by service key.
func (a *Analyzer) proxyVia(cands []candidate) (map[string]map[netip.Addr]int64, error) {
	if a.proxy.shadowed == 0 || len(cands) == 0 {
		return nil, nil
	}
	type target struct {
		from, to int64
		bytes    map[netip.Addr]int64
	}
	byKey := map[string]*target{}
	byAddr := map[netip.Addr][]*target{}
	for _, c := range cands {
		t := byKey[c.svc.key]
		if t == nil {
			t = &target{from: math.MaxInt64, to: math.MinInt64, bytes: map[netip.Addr]int64{}}
			byKey[c.svc.key] = t
		}
		t.from = min(t.from, c.totals.first.Add(-time.Hour).UnixNano())
		t.to = max(t.to, c.totals.last.Add(time.Hour).UnixNano())
		if !slices.Contains(byAddr[c.pair.k.dst], t) {
			byAddr[c.pair.k.dst] = append(byAddr[c.pair.k.dst], t)
		}
	}
	err := a.proxy.scan(func(k pairKey, p *pairFlow, b flowBucket) {
		ts := byAddr[k.dst]
		if t := byKey[serviceKey(p.domain, k.dst)]; t != nil && !slices.Contains(ts, t) {
			ts = append(ts[:len(ts):len(ts)], t)
		}
		for _, t := range ts {
			if b.end >= t.from && b.start <= t.to && a.cov.nearHour("firewall", b.hour) {
				t.bytes[k.src] += b.bytes
			}
		}
	})
	out := map[string]map[netip.Addr]int64{}
	for key, t := range byKey {
		if len(t.bytes) > 0 {
			out[key] = t.bytes
		}
	}
	return out, err
}

// viaProxyText says which workstations sent an entry's bytes through the
// proxy, and that those bytes are the firewall's sessions', not added.
func viaProxyText(lang string, clients map[netip.Addr]int64, sources []Source) string {
	var parts []string
	var sum int64
	for _, ip := range sortedAddrs(keysOf(clients)) {
		name := ip.String()
		for _, s := range sources {
			if s.IP == name && s.Host != "" {
				name = s.Host + " (" + s.IP + ")"
			}
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, clients[ip]))
		sum += clients[ip]
	}
	return fmt.Sprintf(tr(lang, " ; le proxy web a journalisé %d octets envoyés à ce service par ses clients pendant ces sessions (%s) : ils sont parmi les sources, leurs octets ne sont pas ajoutés (les sessions du pare-feu depuis le proxy les comptent)",
		"; the web proxy logged %d bytes sent to this service by its clients during these sessions (%s): they are among the sources, their bytes not added (the firewall's sessions from the proxy count them)"), sum, strings.Join(parts, ", "))
}

func keysOf(m map[netip.Addr]int64) map[netip.Addr]bool {
	out := make(map[netip.Addr]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}
