package scenario

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ProxyModes are the ways an incident's web traffic can go through an
// explicit web proxy (AsProxy).
var ProxyModes = []string{"behind-firewall", "proxy-only", "behind-firewall-cef"}

// proxyFile is the proxy's access log; proxyCEFFile the same requests as
// a web gateway forwards them in CEF to a SIEM (behind-firewall-cef).
const (
	proxyFile    = "proxy/proxysg_main.log"
	proxyCEFFile = "proxy/webgateway-cef.log"
)

// proxyIP is the proxy's inside address: outside every generated network.
const proxyIP = "10.254.254.10"

// AsProxy rewrites the incident as if every inside host reached the web
// (TCP 80 and 443 out) through a Symantec ProxySG at proxyIP, whose access
// log (ELFF, GMT, one line per request as it completes, with what the
// client sent as cs-bytes) is added to the evidence.
//
//   - behind-firewall: the firewall log stays, its web sessions now from
//     the proxy's address: the town's uploads merged, no workstation.
//   - proxy-only: the firewall log is not in the evidence.
//   - behind-firewall-cef: as behind-firewall, the requests written in
//     ArcSight CEF (rt, src, dst, dhost, requestMethod, request, in for
//     what the client sent) as a web gateway forwards them to a SIEM.
//
// Either way the proxy's requests measure the web channels: the truth's
// times become the proxy's (seconds), and its bytes are the same.
func (inc *Incident) AsProxy(mode string) error {
	src, ok := inc.Files[fwFile]
	if !ok {
		return nil // the firewall is the missing source: no traffic to proxy
	}
	if mode != "behind-firewall" && mode != "proxy-only" && mode != "behind-firewall-cef" {
		return fmt.Errorf("unknown proxy mode %q (known: %s)", mode, strings.Join(ProxyModes, ", "))
	}
	loc := inc.Truth.Location()
	type request struct {
		start, end, exactEnd time.Time
		src, dst             string
		sent                 int64
		line, cef            string
	}
	var reqs []request
	var fw strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(string(src)), "\n") {
		r, err := parseFG(l, loc)
		if err != nil {
			return err
		}
		kv := r.kv
		web := kv["type"] == "traffic" && kv["proto"] == "6" && (kv["dstport"] == "80" || kv["dstport"] == "443") &&
			isInside(kv["srcip"]) && !isInside(kv["dstip"]) && kv["action"] != "deny"
		if !web {
			fw.WriteString(l + "\n")
			continue
		}
		// The proxy's connection out, as the firewall sees it.
		fw.WriteString(strings.Replace(l, " srcip="+kv["srcip"]+" ", " srcip="+proxyIP+" ", 1) + "\n")
		if kv["action"] == "accept" && kv["sentdelta"] != "" {
			continue // an interim record: the proxy logs a request once, when it completes
		}
		end := r.t.Truncate(time.Second)
		dur, _ := strconv.Atoi(kv["duration"])
		sent, _ := strconv.ParseInt(kv["sentbyte"], 10, 64)
		rcvd, _ := strconv.ParseInt(kv["rcvdbyte"], 10, 64)
		host := kv["hostname"]
		if host == "" {
			host = kv["dstip"]
		}
		action, method, scheme, path := "TCP_TUNNELED", "CONNECT", "tcp", "/"
		if kv["dstport"] == "80" {
			action, method, scheme, path = "TCP_NC_MISS", "GET", "http", "/index.html"
			if sent > 64<<10 {
				method, path = "POST", "/upload"
			}
		}
		reqs = append(reqs, request{start: end.Add(-time.Duration(dur) * time.Second), end: end, exactEnd: r.t, src: kv["srcip"], dst: kv["dstip"], sent: sent,
			line: fmt.Sprintf(`%s %d %s - %s 200 %s %s %s %s %s %d %d DIRECT %s %s "Mozilla/5.0 (Windows NT 10.0; Win64; x64)" OBSERVED %s`,
				end.Format("2006-01-02 15:04:05"), dur*1000, kv["srcip"], action, method, scheme, host, kv["dstport"], path, rcvd, sent, host, kv["dstip"], proxyIP),
			cef: fmt.Sprintf(`<134>%s SG-PROXY CEF:0|Web|Gateway|7.3|%s|web request|1|rt=%d start=%d dvc=%s src=%s dst=%s dhost=%s dpt=%s requestMethod=%s request=%s://%s:%s%s in=%d out=%d act=%s outcome=200`,
				end.Format("Jan _2 15:04:05"), action, end.UnixMilli(), end.Add(-time.Duration(dur)*time.Second).UnixMilli(), proxyIP, kv["srcip"], kv["dstip"], host, kv["dstport"], method, scheme, host, kv["dstport"], path, sent, rcvd, action)})
	}
	sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].end.Before(reqs[j].end) })
	var px strings.Builder
	if len(reqs) > 0 {
		first := reqs[0].end.Format("2006-01-02 15:04:05")
		fmt.Fprintf(&px, "#Software: SGOS 7.3.4.1\n#Version: 1.0\n#Start-Date: %s\n#Date: %s\n", first, first)
		px.WriteString("#Fields: date time time-taken c-ip cs-username s-action sc-status cs-method cs-uri-scheme cs-host cs-uri-port cs-uri-path sc-bytes cs-bytes s-hierarchy s-supplier-name s-supplier-ip cs(User-Agent) sc-filter-result s-ip\n")
		fmt.Fprintf(&px, "#Remark: 2207100042 \"SG-PROXY\" \"%s\" \"main\"\n", proxyIP)
	}
	for _, r := range reqs {
		px.WriteString(r.line + "\n")
	}
	inc.Files[proxyFile] = []byte(px.String())
	if mode == "behind-firewall-cef" {
		var cef strings.Builder
		for _, r := range reqs {
			cef.WriteString(r.cef + "\n")
		}
		delete(inc.Files, proxyFile)
		inc.Files[proxyCEFFile] = []byte(cef.String())
	}
	if mode != "proxy-only" {
		inc.Files[fwFile] = []byte(fw.String())
		inc.Truth.Notes += ", web through a proxy behind the firewall"
	} else {
		delete(inc.Files, fwFile)
		inc.Truth.Notes += ", web through a proxy, no firewall log"
	}
	// The truth as the proxy's log counts it (behind the firewall too: its
	// requests name the workstation the firewall's sessions do not): the
	// requests of the channel's pair that completed within the channel,
	// dated to the second.
	if mode == "proxy-only" {
		inc.Truth.dropTunnels("no firewall log: the copies through the VPN tunnel are not measured")
	}
	for i := range inc.Truth.Exfil {
		ch := &inc.Truth.Exfil[i]
		if ch.Channel == "email" || ch.Tunnel != "" {
			continue // a tunnel's copies: the firewall's log measures them, not the proxy's
		}
		var first, last time.Time
		var sent int64
		for _, r := range reqs {
			if r.src != ch.SourceIP || r.dst != ch.Destination || r.exactEnd.Before(ch.First) || r.exactEnd.After(ch.Last) {
				continue
			}
			if first.IsZero() || r.start.Before(first) {
				first = r.start
			}
			if r.end.After(last) {
				last = r.end
			}
			sent += r.sent
		}
		if sent != ch.Bytes {
			return fmt.Errorf("as proxy: channel %s: %d bytes in the proxy's log, %d in the truth", ch.Destination, sent, ch.Bytes)
		}
		ch.First, ch.Last = first, last
	}
	return nil
}
