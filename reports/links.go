package reports

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// linker ties addresses to hosts and accounts over time, from the evidence
// itself: which computer an address belongs to, who opened a VPN tunnel to
// it, who logged on from it, and who had an interactive session on a host.
// Every link keeps the event that made it.
type linker struct {
	internal func(string) bool
	lang     string
	assets   map[string]string    // case configuration: address → host
	hostOf   map[string]Link      // address → host
	tunnels  map[string][]tunnel  // VPN tunnel address → tunnels
	from     map[string][]seenAcc // address → accounts that logged on or worked from it
	sessions map[string][]*hostSession
	open     map[string]*hostSession // host|logon id → interactive session not yet ended
	// leases are the DHCP leases of each address, in time order: which
	// host held it when (addresses move between machines).
	leases map[string][]*lease
	// rdp are remote desktop sessions the firewall saw between internal
	// addresses: matched with the logons hosts recorded, they name the
	// host behind the destination address.
	rdp []rdpFlow
	// tunnelFlows are the sessions from tunnel addresses to internal
	// servers, summed per tunnel and server port (tunnels.go).
	tunnelFlows    map[tunnelFlowKey]*tunnelFlow
	tunnelsLeftOut int64
	// tunnelContinued are the tunnel sessions logged in records that each
	// carry the bytes since the previous one: a session once.
	tunnelContinued continuedSessions
}

type rdpFlow struct {
	from, to string
	start    time.Time
	ref      string
}

const maxRDPFlows = 20000

type tunnel struct {
	account, remote string
	up, down        time.Time
	ref             string
}

type seenAcc struct {
	account     string
	first, last time.Time
	how, ref    string
}

// hostSession is an interactive logon on a host (console, RDP, cached).
type hostSession struct {
	host, account, logonID, from, how, ref string
	start, end                             time.Time
}

const (
	maxAccountsPerAddress = 16
	maxSessionsPerHost    = 4096
)

func newLinker(internal func(string) bool, lang string, assets []string) *linker {
	l := &linker{internal: internal, lang: lang, assets: map[string]string{}, hostOf: map[string]Link{}, tunnels: map[string][]tunnel{},
		from: map[string][]seenAcc{}, sessions: map[string][]*hostSession{}, open: map[string]*hostSession{}, leases: map[string][]*lease{}}
	for _, s := range assets {
		if ip, host, ok := strings.Cut(s, "="); ok {
			ip, host = strings.TrimSpace(ip), strings.TrimSpace(host)
			l.assets[ip] = host
			l.hostOf[ip] = Link{From: ip, To: host, Kind: "host", How: tr(lang, "liste des machines de la configuration du dossier", "asset list in the case configuration"), Source: "exfiltrace.yaml"}
		}
	}
	return l
}

func evRef(ev *event.Event) string {
	pos := ev.Str(event.FieldLine)
	kind := "line"
	if pos == "" || strings.HasSuffix(ev.Str(event.FieldFile), ".evtx") {
		if r := ev.Str(event.FieldRecord); r != "" {
			pos, kind = r, "record"
		}
	}
	return fmt.Sprintf("%s %s %s", ev.Str(event.FieldFile), kind, pos)
}

// machineAccount reports computer accounts (NAME$) and built-in identities,
// which are never the person behind an action.
func machineAccount(u string) bool {
	l := strings.ToLower(u)
	return u == "" || strings.HasSuffix(u, "$") || l == "system" || l == "local service" || l == "network service" ||
		l == "anonymous logon" || l == "-" || strings.HasPrefix(l, "dwm-") || strings.HasPrefix(l, "umfd-")
}

func (l *linker) setHost(ip, host, how string, ev *event.Event) {
	if ip == "" || host == "" || l.assets[ip] != "" {
		return
	}
	if _, ok := l.hostOf[ip]; ok {
		return // the first link stands; later ones for the same address are the same machine in practice
	}
	l.hostOf[ip] = Link{From: ip, To: host, Kind: "host", How: how, Source: evRef(ev)}
}

func (l *linker) sawAccount(ip, account, how string, ev *event.Event) {
	if ip == "" || machineAccount(account) {
		return
	}
	list := l.from[ip]
	for i := range list {
		if strings.EqualFold(list[i].account, account) {
			if ev.Timestamp.Before(list[i].first) {
				list[i].first = ev.Timestamp
			}
			if ev.Timestamp.After(list[i].last) {
				list[i].last = ev.Timestamp
			}
			return
		}
	}
	if len(list) >= maxAccountsPerAddress {
		return
	}
	l.from[ip] = append(list, seenAcc{account: account, first: ev.Timestamp, last: ev.Timestamp, how: how, ref: evRef(ev)})
}

// observe reads the events that tie addresses, hosts and accounts together.
func (l *linker) observe(ev *event.Event, kind string) {
	switch kind {
	case "firewall":
		l.observeVPN(ev)
		l.observeRDP(ev)
	case "vpn":
		l.observeVPN(ev)
	case "mail":
		if ev.Str("event.action") == "message" && ev.Str("user.name") != "" {
			l.sawAccount(ev.Str("source.ip"), ev.Str("user.name"), tr(l.lang, "envoi de courriel authentifié (SASL) depuis cette adresse", "authenticated mail submission (SASL) from this address"), ev)
		}
	case "windows":
		l.observeWindows(ev)
	case "dhcp":
		l.observeDHCP(ev)
	case "proxy":
		// A proxy that authenticates its users ties each workstation's
		// address to the account browsing from it.
		if ip, u := ev.Str("source.ip"), ev.Str("user.name"); u != "" && l.internal(ip) && ev.Str("event.outcome") != "failure" {
			l.sawAccount(ip, u, fmt.Sprintf(tr(l.lang, "requête authentifiée au proxy web (%s) depuis cette adresse", "authenticated web proxy request (%s) from this address"), ev.Str(event.FieldDataset)), ev)
		}
	default:
		// Any other successful login from an inside address (IMAP, webmail,
		// SSH, a cloud sign-in through the town's NAT is outside): whoever
		// logs in from a workstation's address worked from it.
		if ip := ev.Str("source.ip"); ip != "" && l.internal(ip) && ev.Str("event.outcome") == "success" && hasValue(ev, "event.category", "authentication") {
			if u := ev.Str("user.name"); u != "" {
				l.sawAccount(ip, u, fmt.Sprintf(tr(l.lang, "connexion réussie (%s) depuis cette adresse", "successful login (%s) from this address"), ev.Str(event.FieldDataset)), ev)
			}
		}
	}
}

func (l *linker) observeRDP(ev *event.Event) {
	if p, _ := ev.Int("destination.port"); p != 3389 || len(l.rdp) >= maxRDPFlows {
		return
	}
	src, dst := ev.Str("source.ip"), ev.Str("destination.ip")
	if src == "" || dst == "" || !l.internal(dst) {
		return
	}
	l.rdp = append(l.rdp, rdpFlow{from: src, to: dst, start: sessionStart(ev), ref: evRef(ev)})
}

// resolveRDP names the host behind an address when the firewall saw an RDP
// session from X to that address at the moment a host logged a remote
// desktop logon from X (within rdpMatch), and no other address fits.
func (l *linker) resolveRDP() {
	const rdpMatch = 2 * time.Minute
	for _, list := range l.sessions {
		for _, s := range list {
			if s.from == "" || !strings.Contains(s.how, "RDP") && !strings.Contains(s.how, "remote desktop") && !strings.Contains(s.how, "bureau à distance") {
				continue
			}
			var match *rdpFlow
			ambiguous := false
			for i := range l.rdp {
				f := &l.rdp[i]
				if f.from != s.from || absDur(f.start.Sub(s.start)) > rdpMatch {
					continue
				}
				if match != nil && match.to != f.to {
					ambiguous = true
				}
				match = f
			}
			if match == nil || ambiguous {
				continue
			}
			if _, ok := l.hostOf[match.to]; ok || l.assets[match.to] != "" {
				continue
			}
			l.hostOf[match.to] = Link{From: match.to, To: s.host, Kind: "host",
				How: fmt.Sprintf(tr(l.lang, "le pare-feu a vu %s ouvrir une session RDP vers %s le %s, quand %s a journalisé une %s de %s depuis %s",
					"the firewall saw %s open an RDP session to %s at %s, when %s logged a %s of %s from %s"), s.from, match.to, fmtT(match.start), s.host, s.how, s.account, s.from),
				Source: match.ref + " ; " + s.ref}
		}
	}
}

func (l *linker) observeVPN(ev *event.Event) {
	u := ev.Str("user.name") // first: most of a firewall's sessions name no account
	if u == "" {
		return
	}
	tip := firstNonEmpty(ev.Str("fortinet.firewall.assigned_ip"), ev.Str("cisco.vpn.assigned_ip"), ev.Str("pulse.assigned_ip"), ev.Str("panw.panos.assigned_ip"))
	if tip == "" {
		return
	}
	a := ev.Str("event.action")
	list := l.tunnels[tip]
	if strings.Contains(a, "down") || strings.Contains(a, "logout") || strings.Contains(a, "disconnect") {
		for i := len(list) - 1; i >= 0; i-- {
			if strings.EqualFold(list[i].account, u) && list[i].down.IsZero() {
				list[i].down = ev.Timestamp
				return
			}
		}
		return
	}
	for i := len(list) - 1; i >= 0; i-- {
		if strings.EqualFold(list[i].account, u) && list[i].down.IsZero() {
			return // the same tunnel, logged again
		}
	}
	l.tunnels[tip] = append(list, tunnel{account: u, remote: ev.Str("source.ip"), up: ev.Timestamp, ref: evRef(ev)})
}

var interactiveLogon = map[string][2]string{"2": {"session console", "console logon"}, "10": {"session bureau à distance", "remote desktop logon"}, "11": {"session console (identifiants en cache)", "cached console logon"}, "12": {"session bureau à distance (identifiants en cache)", "cached remote desktop logon"}}

func (l *linker) observeWindows(ev *event.Event) {
	code := ev.Str("event.code")
	host := ev.Str("host.name")
	u, ip := ev.Str("user.name"), ev.Str("source.ip")
	switch code {
	case "4624", "4768", "4769", "4770":
		if strings.HasSuffix(u, "$") && ip != "" && l.internal(ip) {
			how := tr(l.lang, "ouverture de session du compte ordinateur (4624) depuis cette adresse", "computer-account logon (4624) from this address")
			if code != "4624" {
				how = fmt.Sprintf(tr(l.lang, "ticket Kerberos (%s) du compte ordinateur demandé depuis cette adresse", "computer-account Kerberos ticket (%s) requested from this address"), code)
			}
			l.setHost(ip, strings.TrimSuffix(u, "$"), how, ev)
			return
		}
		if code == "4624" {
			if ws := ev.Str("source.domain"); ws != "" && ip != "" && l.internal(ip) && !strings.EqualFold(ws, host) && ws != "-" {
				l.setHost(ip, ws, tr(l.lang, "ouverture de session NTLM (4624) depuis cette adresse, qui nomme son poste", "NTLM logon (4624) from this address names its workstation"), ev)
			}
		}
		lt := ev.Str("winlog.event_data.LogonType")
		if ip != "" && ip != "127.0.0.1" && ip != "::1" {
			how := fmt.Sprintf(tr(l.lang, "ouverture de session (4624 type %s) sur %s depuis cette adresse", "logon (4624 type %s) on %s from this address"), lt, host)
			if code != "4624" {
				how = fmt.Sprintf(tr(l.lang, "ticket Kerberos (%s) demandé depuis cette adresse", "Kerberos ticket (%s) requested from this address"), code)
			}
			l.sawAccount(ip, u, how, ev)
		}
		if code == "4624" {
			if what, ok := interactiveLogon[lt]; ok && !machineAccount(u) {
				l.startSession(ev, host, u, ev.Str("winlog.logon.id"), ip, fmt.Sprintf("%s (4624 type %s)", tr(l.lang, what[0], what[1]), lt))
			}
		}
	case "4778":
		l.sawAccount(ip, u, tr(l.lang, "session bureau à distance reconnectée (4778) depuis cette adresse", "remote desktop session reconnected (4778) from this address"), ev)
		if !machineAccount(u) {
			l.startSession(ev, host, u, ev.Str("winlog.logon.id"), ip, tr(l.lang, "session bureau à distance reconnectée (4778)", "remote desktop session reconnected (4778)"))
		}
	case "21", "25":
		if strings.Contains(strings.ToLower(ev.Str("winlog.provider_name")), "localsessionmanager") && !machineAccount(u) {
			l.sawAccount(ip, u, fmt.Sprintf(tr(l.lang, "session bureau à distance (LocalSessionManager %s) depuis cette adresse", "remote desktop session (LocalSessionManager %s) from this address"), code), ev)
			l.startSession(ev, host, u, "lsm:"+ev.Str("winlog.session_id"), ip, fmt.Sprintf(tr(l.lang, "session bureau à distance (LocalSessionManager %s)", "remote desktop session (LocalSessionManager %s)"), code))
		}
	case "4634", "4647":
		l.endSession(host, ev.Str("winlog.logon.id"), ev.Timestamp)
	case "23":
		if strings.Contains(strings.ToLower(ev.Str("winlog.provider_name")), "localsessionmanager") {
			l.endSession(host, "lsm:"+ev.Str("winlog.session_id"), ev.Timestamp)
		}
	case "5140", "5145":
		l.sawAccount(ip, u, tr(l.lang, "accès à un partage de fichiers (5140/5145) depuis cette adresse", "file share access (5140/5145) from this address"), ev)
	case "3":
		if ev.Str("winlog.provider_name") == "Microsoft-Windows-Sysmon" && ev.Str("network.direction") != "ingress" && l.internal(ip) {
			l.setHost(ip, host, tr(l.lang, "connexion réseau Sysmon 3 journalisée par cette machine depuis cette adresse", "Sysmon 3 network connection logged by this host from this address"), ev)
		}
	case "5156":
		if ev.Str("network.direction") == "egress" && l.internal(ip) {
			l.setHost(ip, host, tr(l.lang, "connexion sortante (5156) journalisée par cette machine depuis cette adresse", "outbound connection (5156) logged by this host from this address"), ev)
		}
	}
}

func (l *linker) startSession(ev *event.Event, host, account, logonID, from, how string) {
	h := strings.ToLower(host)
	if h == "" {
		return
	}
	if logonID != "" {
		if s := l.open[h+"|"+logonID]; s != nil {
			return
		}
	}
	if len(l.sessions[h]) >= maxSessionsPerHost {
		return
	}
	s := &hostSession{host: host, account: account, logonID: logonID, from: from, how: how, ref: evRef(ev), start: ev.Timestamp}
	l.sessions[h] = append(l.sessions[h], s)
	if logonID != "" {
		l.open[h+"|"+logonID] = s
	}
}

func (l *linker) endSession(host, logonID string, t time.Time) {
	k := strings.ToLower(host) + "|" + logonID
	if s := l.open[k]; s != nil {
		s.end = t
		delete(l.open, k)
	}
}

// host returns the host an address belongs to, if the evidence says.
func (l *linker) host(ip string) (Link, bool) {
	lk, ok := l.hostOf[ip]
	return lk, ok
}

// hostAt returns the host that held an address between t1 and t2: the DHCP
// leases of that time when there are any (several hosts are all named),
// else the address's lasting link.
func (l *linker) hostAt(ip string, t1, t2 time.Time) (Link, bool) {
	var hosts []string
	var first *lease
	for _, ls := range l.leases[ip] {
		if ls.covers(t1, t2) {
			if first == nil {
				first = ls
			}
			if !containsFold(hosts, ls.host) {
				hosts = append(hosts, ls.host)
			}
		}
	}
	if first == nil {
		return l.host(ip)
	}
	return Link{From: ip, To: strings.Join(hosts, " / "), Kind: "host", How: first.describe(l.lang), Source: first.ref}, true
}

// Attribution is an account tied to a transfer, and how.
type Attribution struct {
	Account string `json:"account"`
	How     string `json:"how"`
	Source  string `json:"source"`
}

// accountsFor names the accounts behind traffic from ip between t1 and t2:
// the VPN tunnel that owned the address; the interactive sessions open on
// the address's host (and the tunnel they came from); and, for a
// workstation, the accounts that logged on or worked from the address.
func (l *linker) accountsFor(ip, host string, t1, t2 time.Time) []Attribution {
	var out []Attribution
	add := func(a Attribution) {
		for _, x := range out {
			if strings.EqualFold(x.Account, a.Account) {
				return
			}
		}
		out = append(out, a)
	}
	for _, tu := range l.tunnels[ip] {
		if !tu.up.After(t2) && (tu.down.IsZero() || !tu.down.Before(t1)) {
			add(Attribution{tu.account, fmt.Sprintf(tr(l.lang, "%s est l'adresse du tunnel VPN ouvert par %s depuis %s le %s", "%s is the VPN tunnel address %s opened from %s at %s"), ip, tu.account, tu.remote, fmtT(tu.up)), tu.ref})
		}
	}
	if host != "" {
		for _, s := range l.sessions[strings.ToLower(host)] {
			if s.start.After(t2) || (!s.end.IsZero() && s.end.Before(t1)) {
				continue
			}
			how := fmt.Sprintf(tr(l.lang, "%s de %s sur %s le %s", "%s of %s on %s at %s"), s.how, s.account, s.host, fmtT(s.start))
			if s.from != "" {
				how += tr(l.lang, " depuis ", " from ") + s.from
				for _, tu := range l.tunnels[s.from] {
					if !tu.up.After(s.start) && (tu.down.IsZero() || !tu.down.Before(s.start)) {
						how += fmt.Sprintf(tr(l.lang, " (tunnel VPN de %s depuis %s)", " (VPN tunnel of %s from %s)"), tu.account, tu.remote)
					}
				}
			}
			if s.end.IsZero() || !s.end.Before(t2) {
				how += tr(l.lang, ", ouverte pendant les transferts", ", open during the transfers")
			} else {
				how += tr(l.lang, ", jusqu'au ", ", until ") + fmtT(s.end)
			}
			add(Attribution{s.account, how, s.ref})
		}
	}
	if len(out) > 0 {
		return out
	}
	// No tunnel and no interactive session: the people who worked from the
	// address itself around the transfers (a workstation's user).
	for _, a := range l.from[ip] {
		if a.last.Before(t1.Add(-12*time.Hour)) || a.first.After(t2) {
			continue
		}
		add(Attribution{a.account, fmt.Sprintf("%s: %s, %s–%s", a.account, a.how, fmtT(a.first), fmtT(a.last)), a.ref})
	}
	return out
}

// links lists every host link, DHCP lease and VPN tunnel link, for the report.
func (l *linker) links() []Link {
	var out []Link
	for _, lk := range l.hostOf {
		out = append(out, lk)
	}
	for ip, ls := range l.leases {
		seen := map[string]bool{}
		for _, x := range ls {
			if !seen[strings.ToLower(x.host)] {
				seen[strings.ToLower(x.host)] = true
				out = append(out, Link{From: ip, To: x.host, Kind: "host", How: x.describe(l.lang), Source: x.ref})
			}
		}
	}
	for ip, ts := range l.tunnels {
		seen := map[string]bool{}
		for _, t := range ts {
			if seen[t.account] {
				continue
			}
			seen[t.account] = true
			out = append(out, Link{From: ip, To: t.account, Kind: "account", How: fmt.Sprintf(tr(l.lang, "tunnel VPN ouvert par %s depuis %s", "VPN tunnel opened by %s from %s"), t.account, t.remote), Source: t.ref})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].From != out[j].From {
			return out[i].From < out[j].From
		}
		return out[i].Kind+out[i].To < out[j].Kind+out[j].To
	})
	return out
}
