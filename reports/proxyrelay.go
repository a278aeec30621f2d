package reports

import (
	"fmt"
	"net/netip"
	"strings"
)

// Bounds of the comparison between a proxy's requests and the firewall's
// sessions: a sample of the proxy's (destination, hour) to find its
// address, and the hours of its larger uploads, each looked for in full.
const (
	relaySample = 20000
	bigUpload   = 1 << 20
	maxUploads  = 200000
)

type destHour struct {
	dst   string // an address, or a name
	hour  int32
	named bool
}

// firewallSeen is what the firewall's sessions showed of the proxy's
// larger uploads: for each (destination, hour), whether a session went
// there from inside within the hour.
type firewallSeen struct {
	uploads map[destHour]bool
	names   bool // the firewall names destinations (FortiGate's hostname)
}

// missed reports an upload the firewall, though it logged sessions then,
// did not see go to its destination: the proxy's count is the only one.
// Checked are the hours where a workstation sent bigUpload or more to a
// destination, and every hour of a destination that received bigUpload or
// more from the proxy's clients in all: a slow upload, under a megabyte an
// hour, adds up to one.
func (s firewallSeen) missed(dst netip.Addr, b flowBucket) bool {
	named := isNamedDestination(dst)
	if s.uploads == nil || (named && !s.names) {
		return false
	}
	seen, ok := s.uploads[destHour{destKey(dst), b.hour, named}]
	return ok && !seen
}

// findRelays sets the proxy addresses whose firewall sessions the proxy's
// requests replace: the inside addresses the proxy gives as its own, when
// the firewall logged sessions from them, and the one inside address from
// which the firewall saw sessions to more than half of the (destination,
// hour) of the proxy's requests in hours the firewall logged, or else
// whose bytes sent hour by hour are mostly the proxy's clients'
// (relayVolumes: it needs no common destination). A proxy fetches what all its
// clients ask for from its own address, so a firewall that logs it matches
// nearly all of it; a workstation matches only what it fetched itself,
// past the proxy. Destinations compare by address, or by name where the
// proxy logged no address and the firewall logs names.
func (a *Analyzer) findRelays() (firewallSeen, error) {
	pu := a.proxy
	pu.relays, pu.relayHow = map[netip.Addr]bool{}, map[netip.Addr]string{}
	fs := firewallSeen{uploads: map[destHour]bool{}}
	sample := map[destHour]bool{}
	proxyHours := map[int32]int64{} // bytes the proxy's clients sent, per hour the firewall logged
	destTotal := map[string]int64{} // bytes sent to each destination in those hours
	big, heavy := 0, 0              // large buckets kept; destinations past bigUpload in all
	err := pu.scan(func(k pairKey, p *pairFlow, b flowBucket) {
		if !a.cov.nearHour("firewall", b.hour) {
			return
		}
		proxyHours[b.hour] += b.bytes
		d := destHour{destKey(k.dst), b.hour, isNamedDestination(k.dst)}
		if len(sample) < relaySample {
			sample[d] = true
		}
		if t, ok := destTotal[d.dst]; ok || len(destTotal) < maxUploads {
			destTotal[d.dst] = t + b.bytes
			if t < bigUpload && t+b.bytes >= bigUpload {
				heavy++
			}
		}
		if b.bytes >= bigUpload && big < maxUploads {
			fs.uploads[d] = false
			big++
		}
	})
	if err != nil || (len(sample) == 0 && len(pu.named) == 0) {
		return fs, err
	}
	// The hours of slow uploads, each under bigUpload, to destinations that
	// received bigUpload or more in all: a second pass only when there are some.
	slow := 0
	if heavy > 0 {
		err = pu.scan(func(k pairKey, p *pairFlow, b flowBucket) {
			d := destHour{destKey(k.dst), b.hour, isNamedDestination(k.dst)}
			if b.bytes < bigUpload && destTotal[d.dst] >= bigUpload && slow < maxUploads && a.cov.nearHour("firewall", b.hour) {
				if _, ok := fs.uploads[d]; !ok {
					fs.uploads[d] = false
					slow++
				}
			}
		})
		if err != nil {
			return fs, err
		}
	}
	type fromDestHour struct {
		src netip.Addr
		destHour
	}
	matched := map[fromDestHour]bool{}
	hits := map[netip.Addr]int{}
	fromNamed := map[netip.Addr]bool{}
	sent := map[netip.Addr]int64{} // each inside source's bytes in those hours
	look := func(k pairKey, p *pairFlow) {
		if pu.named[k.src] {
			fromNamed[k.src] = true
		}
		for _, b := range p.buckets {
			if _, ok := proxyHours[b.hour]; ok {
				sent[k.src] += b.bytes
			}
		}
		keys := []destHour{{dst: k.dst.String()}}
		if p.domain != "" {
			fs.names = true
			keys = append(keys, destHour{dst: strings.ToLower(p.domain), named: true})
		}
		for _, b := range p.buckets {
			for h := b.hour - 1; h <= b.hour+1; h++ {
				for _, d := range keys {
					d.hour = h
					if _, ok := fs.uploads[d]; ok {
						fs.uploads[d] = true
					}
					x := fromDestHour{k.src, d}
					if sample[d] && !matched[x] {
						matched[x] = true
						hits[k.src]++
					}
				}
			}
		}
	}
	if err := a.eachFlow(look); err != nil {
		return fs, err
	}
	lang := a.o.Lang
	for ip := range fromNamed {
		pu.relays[ip] = true
		pu.relayHow[ip] = tr(lang, "l'adresse que le proxy donne comme la sienne", "the address the proxy gives as its own")
	}
	// Requests that name only a site compare only with a firewall that
	// names sites too.
	comparable := 0
	for d := range sample {
		if !d.named || fs.names {
			comparable++
		}
	}
	var best netip.Addr
	for ip, n := range hits {
		if n > hits[best] || (n == hits[best] && ip.Less(best)) {
			best = ip
		}
	}
	switch {
	case best.IsValid() && !pu.relays[best] && 2*hits[best] > comparable:
		pu.relays[best] = true
		pu.relayHow[best] = fmt.Sprintf(tr(lang, "le pare-feu a vu des sessions depuis cette adresse vers %d des %d (destination, heure) des requêtes du proxy",
			"the firewall saw sessions from this address to %d of the %d (destination, hour) of the proxy's requests"), hits[best], comparable)
	case len(pu.relays) == 0:
		sentHours, err := a.sentHours(proxyHours, sent)
		if err != nil {
			return fs, err
		}
		if ip, share, ok := relayVolumes(proxyHours, sentHours); ok {
			pu.relays[ip] = true
			pu.relayHow[ip] = fmt.Sprintf(tr(lang, "heure par heure, ce que le pare-feu a vu partir de cette adresse et ce que les clients du proxy ont envoyé se recouvrent à %.0f %%",
				"hour by hour, what the firewall saw leave this address and what the proxy's clients sent overlap by %.0f %%"), 100*share)
		}
	}
	return fs, nil
}

// eachFlow calls fn for every part of every pair of the flow ledger.
func (a *Analyzer) eachFlow(fn func(pairKey, *pairFlow)) error {
	a.flows.each(fn)
	if len(a.flows.runs) == 0 {
		return nil
	}
	return mergeRuns(a.flows.runs, func(r *flowRecord) error { fn(r.k, &r.flow); return nil })
}

// sentHours is, hour by hour, what the sources that could be the proxy
// sent in the proxy's hours. An overlap of more than half needs a total
// between half and twice the proxy's clients' (the sum of the smaller
// exceeds half the larger's): only those sources are kept, so this stays
// small whatever the number of sources.
func (a *Analyzer) sentHours(proxyHours map[int32]int64, sent map[netip.Addr]int64) (map[netip.Addr]map[int32]int64, error) {
	var total int64
	for _, n := range proxyHours {
		total += n
	}
	out := map[netip.Addr]map[int32]int64{}
	for ip, n := range sent {
		if 2*n > total && n < 2*total {
			out[ip] = map[int32]int64{}
		}
	}
	if len(out) == 0 {
		return out, nil
	}
	err := a.eachFlow(func(k pairKey, p *pairFlow) {
		m := out[k.src]
		if m == nil {
			return
		}
		for _, b := range p.buckets {
			if _, ok := proxyHours[b.hour]; ok {
				m[b.hour] += b.bytes
			}
		}
	})
	return out, err
}

// relayVolumes finds the inside address whose bytes sent, hour by hour,
// overlap the proxy's clients' by more than half: the sum over the hours
// of the smaller of the two, over the sum of the larger. The proxy's own
// connections carry what its clients send, so they overlap almost wholly
// (the firewall counts headers the proxy does not); a workstation overlaps
// only by its share, a server sending more than all the proxy's clients
// by the proxy's share of it.
func relayVolumes(proxyHours map[int32]int64, sentHours map[netip.Addr]map[int32]int64) (netip.Addr, float64, bool) {
	var best netip.Addr
	bestShare := 0.0
	for ip, hours := range sentHours {
		var lo, hi int64
		for h, p := range proxyHours {
			x := hours[h]
			lo += min(x, p)
			hi += max(x, p)
		}
		if hi == 0 {
			continue
		}
		share := float64(lo) / float64(hi)
		if share > bestShare || (share == bestShare && ip.Less(best)) {
			best, bestShare = ip, share
		}
	}
	return best, bestShare, bestShare > 0.5
}

// destKey is how a destination compares between a proxy's requests and a
// firewall's sessions: its address, else its name.
func destKey(dst netip.Addr) string {
	if isNamedDestination(dst) {
		return dst.Zone()
	}
	return dst.String()
}

func capFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
