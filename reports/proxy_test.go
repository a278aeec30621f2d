package reports

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// proxyCase is a town whose workstations browse through a web proxy for
// three days, then one of them (10.20.1.15, jdupont) uploads three parts
// to MEGA at night; refused, intranet and unauthenticated uploads beside
// it must not count.
type proxyCase struct {
	destIPs      bool   // the proxy logs the origin server's address
	observerIP   bool   // the proxy names its own address (ProxySG's s-ip)
	firewall     bool   // a firewall logs the proxy's sessions out
	fwBigOnly    bool   // …only those that sent a megabyte or more
	fwNames      bool   // …naming the sites (FortiGate's hostname)
	fwUntil      int    // the firewall log stops after this day (0: never)
	squid        bool   // Squid's native log: no bytes sent at all
	inspected    int64  // the proxy decrypts TLS: each upload logged twice, as a CONNECT carrying this much more and as the POST inside it
	directServer string // an address whose sessions go out past the proxy
	directBytes  int64  // …sending this much each hour (5 kB when 0)
}

const (
	proxyAddr  = "10.20.0.5"
	thiefAddr  = "10.20.1.15"
	megaIP     = "31.216.145.5"
	megaHost   = "gfs270n102.userstorage.mega.co.nz"
	uploadPart = 76_130_670
)

var proxyDay0 = time.Date(2025, 3, 11, 0, 0, 0, 0, time.UTC)

func (c proxyCase) events() []*event.Event {
	var evs []*event.Event
	sites := []struct{ host, ip string }{{"www.service-public.fr", "160.92.168.33"}, {"www.impots.gouv.fr", "145.242.11.9"}, {"outlook.office365.com", "52.97.146.162"}}
	req := func(t time.Time, client, user, host, ip string, sent int64, took time.Duration) {
		ev := event.New()
		ev.Timestamp = t
		ev.Fields["observer.type"] = "proxy"
		ev.Fields["source.ip"] = client
		ev.Fields["url.domain"] = host
		ev.Fields["destination.domain"] = host
		ev.SetInt("destination.port", 443)
		ev.SetInt("event.duration", int64(took))
		ev.Fields["event.start"] = t.Add(-took).Format(time.RFC3339Nano)
		ev.Fields["event.outcome"] = "success"
		if c.squid {
			ev.Fields[event.FieldDataset] = "squid"
		} else {
			ev.Fields[event.FieldDataset] = "w3c_proxy.access"
			ev.SetInt("source.bytes", sent)
		}
		if user != "" {
			ev.Fields["user.name"] = user
		}
		if c.destIPs && ip != "" {
			ev.Fields["destination.ip"] = ip
		}
		if c.observerIP {
			ev.Fields["observer.ip"] = proxyAddr
		}
		evs = append(evs, ev)
		if c.firewall && ip != "" && (c.fwUntil == 0 || t.Before(proxyDay0.AddDate(0, 0, c.fwUntil+1))) && (!c.fwBigOnly || sent >= 1<<20) {
			evs = append(evs, fwSession(t, proxyAddr, ip, c.fwNames, host, sent, took))
		}
	}
	for d := 1; d <= 4; d++ {
		for h := 8; h <= 17; h++ {
			for i := 0; i < 4; i++ {
				s := sites[(d+h+i)%len(sites)]
				req(proxyDay0.AddDate(0, 0, d).Add(time.Duration(h)*time.Hour+time.Duration(i*7)*time.Minute), fmt.Sprintf("10.20.1.%d", 11+i),
					fmt.Sprintf("agent%d", i), s.host, s.ip, int64(900+100*i+h), 2*time.Second)
			}
		}
		for h := 0; h < 24 && c.directServer != ""; h++ {
			evs = append(evs, fwSession(proxyDay0.AddDate(0, 0, d).Add(time.Duration(h)*time.Hour+30*time.Minute), c.directServer, "185.12.44.7", false, "", cmp.Or(c.directBytes, 5_000), time.Minute))
		}
	}
	night := proxyDay0.AddDate(0, 0, 4).Add(22 * time.Hour)
	for i := 0; i < 3; i++ {
		req(night.Add(time.Duration(i)*20*time.Minute), thiefAddr, "jdupont", megaHost, megaIP, uploadPart+int64(i), 15*time.Minute)
		if c.inspected != 0 {
			n := len(evs) - 1
			for evs[n].Str(event.FieldDataset) != "w3c_proxy.access" {
				n-- // the firewall's session logged beside it
			}
			tunnel := event.New()
			tunnel.Timestamp = evs[n].Timestamp
			maps.Copy(tunnel.Fields, evs[n].Fields)
			tunnel.Fields["http.request.method"], tunnel.Fields["url.scheme"] = "CONNECT", "tcp"
			tunnel.SetInt("source.bytes", max(uploadPart+int64(i)+c.inspected, 4_000))
			evs[n].Fields["http.request.method"], evs[n].Fields["url.scheme"] = "POST", "https"
			evs = append(evs, tunnel)
		}
	}
	// Not uploads out: refused by the proxy, asked to authenticate first, to intranet sites.
	refused := func(ev *event.Event) { ev.Fields["event.outcome"] = "failure" }
	for i, f := range []func(*event.Event){refused,
		func(ev *event.Event) { ev.SetInt("http.response.status_code", 407) },
		func(ev *event.Event) {
			ev.Fields["url.domain"], ev.Fields["destination.domain"] = "ged.agglo.local", "ged.agglo.local"
		},
		func(ev *event.Event) { ev.Fields["url.domain"], ev.Fields["destination.domain"] = "gedsrv", "gedsrv" },
	} {
		ev := event.New()
		ev.Timestamp = night.Add(time.Duration(70+i) * time.Minute)
		ev.Fields[event.FieldDataset] = "w3c_proxy.access"
		ev.Fields["observer.type"] = "proxy"
		ev.Fields["source.ip"] = thiefAddr
		ev.Fields["url.domain"], ev.Fields["destination.domain"] = "transfer.sh", "transfer.sh"
		ev.Fields["event.outcome"] = "success"
		ev.SetInt("source.bytes", 1_000_000_000)
		f(ev)
		if !c.squid {
			evs = append(evs, ev)
		}
	}
	slices.SortStableFunc(evs, func(a, b *event.Event) int { return a.Timestamp.Compare(b.Timestamp) })
	return evs
}

func fwSession(end time.Time, src, dst string, named bool, host string, sent int64, took time.Duration) *event.Event {
	ev := event.New()
	ev.Timestamp = end
	ev.Fields[event.FieldDataset] = "fortinet.firewall"
	ev.Fields["observer.type"] = "firewall"
	ev.Fields["source.ip"] = src
	ev.Fields["destination.ip"] = dst
	ev.SetInt("destination.port", 443)
	ev.SetInt("source.bytes", sent)
	ev.Fields["event.start"] = end.Add(-took).Format(time.RFC3339Nano)
	if named && host != "" {
		ev.Fields["destination.domain"] = host
	}
	return ev
}

// TestProxyUploads: what a web proxy's log adds to the byte ledger, alone
// and behind a firewall — the upload counted once, to the workstation and
// account that made it, whatever the proxy and the firewall name.
func TestProxyUploads(t *testing.T) {
	const upload = 3*uploadPart + 3
	tests := []struct {
		name string
		c    proxyCase
		// the ledger's one entry
		ip, domain string
		sources    []string
		users      []string
		verdict    string
		reason     string // in the verdict's reasons
		method     string // in the entry's method, when given
		bytes      int64  // the entry's bytes, when not the upload's
	}{
		{"proxy alone, sites by name", proxyCase{},
			"", megaHost, []string{thiefAddr}, []string{"jdupont"}, Likely, "228.6 MB sent by workstations in 163 requests are counted in the ledger",
			"sum of the bytes the workstations sent in the requests the web proxy logged", 0},
		{"proxy alone, with addresses", proxyCase{destIPs: true},
			megaIP, megaHost, []string{thiefAddr}, []string{"jdupont"}, Likely, "228.6 MB sent by workstations in 163 requests are counted in the ledger",
			"sum of the bytes the workstations sent in the requests the web proxy logged", 0},
		{"behind a firewall, the proxy names itself", proxyCase{destIPs: true, observerIP: true, firewall: true, directServer: "10.20.2.2"},
			megaIP, megaHost, []string{thiefAddr}, []string{"jdupont"}, Likely, "the firewall's sessions from the proxy (10.20.0.5: the address the proxy gives as its own) are replaced by its requests for the hours its log covers (228.6 MB the firewall counted from that address)", "", 0},
		{"behind a firewall, the proxy found by its sessions", proxyCase{destIPs: true, firewall: true, directServer: "10.20.2.2"},
			megaIP, megaHost, []string{thiefAddr}, []string{"jdupont"}, Likely, "the firewall's sessions from the proxy (10.20.0.5: the firewall saw sessions from this address to 121 of the 121 (destination, hour) of the proxy's requests)", "", 0},
		{"behind a firewall naming sites, the proxy naming only sites", proxyCase{firewall: true, fwNames: true},
			"", megaHost, []string{thiefAddr}, []string{"jdupont"}, Likely, "to 121 of the 121 (destination, hour)", "", 0},
		{"behind a firewall of addresses, the proxy naming only sites and itself", proxyCase{firewall: true, observerIP: true},
			"", megaHost, []string{thiefAddr}, []string{"jdupont"}, Likely, "(10.20.0.5: the address the proxy gives as its own)", "", 0},
		{"behind a firewall of addresses, the proxy naming only sites", proxyCase{firewall: true},
			"", megaHost, []string{thiefAddr}, []string{"jdupont"}, Likely, "(10.20.0.5: hour by hour, what the firewall saw leave this address and what the proxy's clients sent overlap by 100 %)", "", 0},
		// Nothing ties the firewall's sessions to the proxy (its address
		// also sends 50 MB an hour of its own): the firewall's count
		// stands, from the proxy's address.
		{"behind a firewall of addresses, the proxy naming only sites, its address busy", proxyCase{firewall: true, directServer: proxyAddr, directBytes: 50_000_000},
			megaIP, "", []string{proxyAddr}, nil, Likely, "228.6 MB sent in 163 requests while the firewall logged are not counted twice", "", 0},
		// The firewall logged the proxy's large sessions only: too few to
		// find the proxy's address, enough to see the upload go out.
		{"a firewall logging only large sessions", proxyCase{destIPs: true, firewall: true, fwBigOnly: true, directServer: "10.20.2.2"},
			megaIP, megaHost, []string{thiefAddr}, []string{"jdupont"}, Likely, "(10.20.0.5: hour by hour, what the firewall saw leave this address and what the proxy's clients sent overlap by 100 %)", "", 0},
		// …and the proxy's address busy with its own 50 MB an hour: the
		// proxy is not found; the firewall saw the upload go out and counts
		// it, the proxy's requests name the workstation.
		{"a firewall logging only large sessions, the proxy's address busy", proxyCase{destIPs: true, firewall: true, fwBigOnly: true, directServer: proxyAddr, directBytes: 50_000_000},
			megaIP, "", []string{proxyAddr, thiefAddr}, []string{"jdupont"}, Likely, "228.6 MB sent in 163 requests while the firewall logged are not counted twice",
			"the web proxy logged 228392013 bytes sent to this service by its clients during these sessions (10.20.1.15 228392013)", 0},
		// The firewall logged all day, never the proxy's sessions.
		{"a firewall that does not log the proxy", proxyCase{destIPs: true, directServer: "10.20.2.2"},
			megaIP, megaHost, []string{thiefAddr}, []string{"jdupont"}, Likely, "228.4 MB sent by workstations in 3 requests are counted in the ledger", "", 0},
		// A proxy that decrypts TLS logs the tunnel and the request in it:
		// counted once, the larger of the two.
		{"TLS inspected, the tunnel counting what it carried", proxyCase{inspected: 5_000},
			"", megaHost, []string{thiefAddr}, []string{"jdupont"}, Likely, "228.6 MB sent by workstations in 163 requests are counted in the ledger", "", upload + 3*5_000},
		{"TLS inspected, the tunnel counting its handshake", proxyCase{inspected: -uploadPart},
			"", megaHost, []string{thiefAddr}, []string{"jdupont"}, Likely, "228.6 MB sent by workstations in 163 requests are counted in the ledger", "", 0},
		{"a firewall that stopped before the upload", proxyCase{firewall: true, fwUntil: 3},
			"", megaHost, []string{thiefAddr}, []string{"jdupont"}, Likely, "overlap by 100 %) are replaced by its requests for the hours its log covers (127.5 kB the firewall counted from that address), so that each upload is tied to the workstation that made it; 228.6 MB sent by workstations in 163 requests are counted in the ledger", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := analyzeEvents(t, tc.c.events(), CaseMeta{ID: "proxy"}, "en", nil)
			validate(t, r)
			reasons := strings.Join(r.Verdict.Reasons, "\n")
			if len(r.Exfiltration) != 1 {
				t.Fatalf("ledger %+v\n%s", r.Exfiltration, reasons)
			}
			e := r.Exfiltration[0]
			want := int64(upload)
			if tc.bytes != 0 {
				want = tc.bytes
			}
			var srcs []string
			for _, s := range e.Sources {
				srcs = append(srcs, s.IP)
			}
			if e.Bytes != want || e.Events != 3 || e.Destination.IP != tc.ip || e.Destination.Domain != tc.domain ||
				!slices.Equal(srcs, tc.sources) || !slices.Equal(e.Users, tc.users) {
				t.Errorf("entry %d B %d events to %q (%q) from %v by %v, want %d B 3 events to %q (%q) from %v by %v\n%s",
					e.Bytes, e.Events, e.Destination.IP, e.Destination.Domain, srcs, e.Users, want, tc.ip, tc.domain, tc.sources, tc.users, e.Method)
			}
			first := proxyDay0.AddDate(0, 0, 4).Add(22*time.Hour - 15*time.Minute)
			if !e.FirstSeen.Equal(first) {
				t.Errorf("first seen %s, want %s (the first request's start)", fmtT(e.FirstSeen), fmtT(first))
			}
			if !strings.Contains(e.Method, tc.method) {
				t.Errorf("method %q, want %q in it", e.Method, tc.method)
			}
			if r.Verdict.DataTaken != tc.verdict || r.Verdict.BytesOut != want || !strings.Contains(reasons, tc.reason) {
				t.Errorf("verdict %s, %d B out, want %s, %d B, reasons with %q:\n%s", r.Verdict.DataTaken, r.Verdict.BytesOut, tc.verdict, want, tc.reason, reasons)
			}
		})
	}
}

// TestProxyWithoutBytesSaid: Squid's native log names workstations and
// sites but not what they sent: the verdict says so instead of measuring
// nothing in silence.
func TestProxyWithoutBytesSaid(t *testing.T) {
	r := analyzeEvents(t, proxyCase{squid: true}.events(), CaseMeta{ID: "squid"}, "en", nil)
	c := findCoverage(r.Coverage, "proxy")
	if c == nil || c.Range == nil || !c.Range.Start.Equal(proxyDay0.AddDate(0, 0, 1).Add(8*time.Hour)) {
		t.Fatalf("coverage %+v", r.Coverage)
	}
	reasons := strings.Join(r.Verdict.Reasons, " ")
	if r.Verdict.DataTaken != InsufficientData || len(r.Exfiltration) != 0 || !strings.Contains(reasons, "this proxy does not log what its clients send") {
		t.Errorf("verdict %+v", r.Verdict)
	}
}

// TestNoLargeTransferSaid: the same town browsing without the upload gives
// no_evidence, and the reason says no large transfer was seen instead of
// "routine (0, listed for confirmation)".
func TestNoLargeTransferSaid(t *testing.T) {
	evs := slices.DeleteFunc(proxyCase{}.events(), func(ev *event.Event) bool { return ev.Fields["destination.domain"] == megaHost })
	r := analyzeEvents(t, evs, CaseMeta{ID: "proxy"}, "en", nil)
	validate(t, r)
	if r.Verdict.DataTaken != NoEvidence || len(r.Exfiltration) != 0 || len(r.Routine) != 0 {
		t.Fatalf("verdict %+v, ledger %d, routine %d", r.Verdict, len(r.Exfiltration), len(r.Routine))
	}
	if reasons := strings.Join(r.Verdict.Reasons, "\n"); !strings.Contains(reasons, "host far above its peers); no large transfer seen.") {
		t.Errorf("reasons %q", reasons)
	}
}

// TestProxySlowUpload: behind a firewall that logs every hour but never the
// proxy's sessions, a workstation sends 900 kB an hour to MEGA for 30
// hours — never a megabyte in one hour. The firewall did not see that
// destination, so the proxy's count is the only one: 27,000,000 bytes in
// the ledger, not left to a firewall that never counted them.
func TestProxySlowUpload(t *testing.T) {
	var tmpl *event.Event
	evs := slices.DeleteFunc(proxyCase{destIPs: true, directServer: "10.20.2.2"}.events(), func(ev *event.Event) bool {
		if ev.Fields["destination.domain"] == megaHost && tmpl == nil {
			tmpl = ev
		}
		return ev.Fields["destination.domain"] == megaHost
	})
	start := proxyDay0.AddDate(0, 0, 3)
	for h := 0; h < 30; h++ {
		ev := event.New()
		maps.Copy(ev.Fields, tmpl.Fields)
		ev.Timestamp = start.Add(time.Duration(h)*time.Hour + 40*time.Minute)
		ev.Fields["event.start"] = ev.Timestamp.Add(-time.Minute).Format(time.RFC3339Nano)
		ev.SetInt("event.duration", int64(time.Minute))
		ev.SetInt("source.bytes", 900_000)
		evs = append(evs, ev)
	}
	slices.SortStableFunc(evs, func(a, b *event.Event) int { return a.Timestamp.Compare(b.Timestamp) })
	// 30 hours under a megabyte stay under the default LargeBytes (100 MB);
	// 20 MB makes the service an entry without more days of browsing.
	r := analyzeEvents(t, evs, CaseMeta{ID: "slow"}, "en", func(a *Analyzer) { a.o.LargeBytes = 20_000_000 })
	validate(t, r)
	reasons := strings.Join(r.Verdict.Reasons, "\n")
	if len(r.Exfiltration) != 1 {
		t.Fatalf("ledger %+v\n%s", r.Exfiltration, reasons)
	}
	e := r.Exfiltration[0]
	if e.Bytes != 27_000_000 || e.Events != 30 || e.Destination.IP != megaIP || len(e.Sources) != 1 || e.Sources[0].IP != thiefAddr ||
		!slices.Equal(e.Users, []string{"jdupont"}) || !e.FirstSeen.Equal(start.Add(39*time.Minute)) {
		t.Errorf("entry %d B %d events to %s from %+v by %v first %s", e.Bytes, e.Events, e.Destination.IP, e.Sources, e.Users, fmtT(e.FirstSeen))
	}
	if r.Verdict.BytesOut != 27_000_000 || !strings.Contains(reasons, "27.0 MB sent by workstations in 30 requests are counted in the ledger") {
		t.Errorf("verdict %s, %d B out:\n%s", r.Verdict.DataTaken, r.Verdict.BytesOut, reasons)
	}
}
