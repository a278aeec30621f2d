package reports

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TunnelTransfer is what passed between one VPN tunnel and one internal
// server port, as the firewall counted its sessions. Files copied to a
// VPN client leave the network inside the tunnel: the ledger, which
// counts what the firewall sent from inside to the Internet, does not see
// them, so they are listed here, with the account that opened the tunnel
// and the address it came from.
type TunnelTransfer struct {
	TunnelIP string `json:"tunnel_ip"`
	Account  string `json:"account"`
	RemoteIP string `json:"remote_ip,omitempty"`
	ServerIP string `json:"server_ip"`
	Server   string `json:"server_host,omitempty"`
	Port     int    `json:"port"`
	// FileService marks a port that copies files (SMB, FTP, SSH, NFS,
	// rsync): what a remote desktop or a web application sends back is
	// mostly screen or pages, not files.
	FileService     bool      `json:"file_service"`
	BytesToClient   int64     `json:"bytes_to_client"`
	BytesFromClient int64     `json:"bytes_from_client"`
	Sessions        int64     `json:"sessions"`
	First           time.Time `json:"first"`
	Last            time.Time `json:"last"`
	Source          string    `json:"source"` // the tunnel's login event
	// InLedger says the copies are in the ledger: the tunnel is tied to the
	// intrusion (tunnelEntries).
	InLedger bool `json:"in_ledger"`
}

// fileServicePorts are the ports of file copies.
var fileServicePorts = map[int]string{139: "SMB", 445: "SMB", 20: "FTP", 21: "FTP", 22: "SSH/SFTP", 989: "FTPS", 990: "FTPS", 2049: "NFS", 873: "rsync"}

// maxTunnelFlows bounds the tunnel–server pairs kept; past it, sessions
// are counted as left out (tunnelsLeftOut), not dropped silently.
const maxTunnelFlows = 1 << 16

type tunnelFlowKey struct {
	tunnelIP string
	n        int // the tunnel's place in its address's list
	server   string
	port     int
}

type tunnelFlow struct {
	toClient, fromClient, sessions int64
	first, last                    time.Time
}

// observeTunnel counts a firewall session from a VPN tunnel's address to
// an internal server, if a tunnel held that address when the session
// began. Only records that carry a session's byte counts in each
// direction count (a FortiGate interim record carries none: the session's
// last record counts it once).
func (l *linker) observeTunnel(ev *event.Event, src, dst string) {
	list := l.tunnels[src]
	if len(list) == 0 {
		return
	}
	start := sessionStart(ev)
	n := -1
	for i := len(list) - 1; i >= 0; i-- {
		if tu := list[i]; !tu.up.After(start) && (tu.down.IsZero() || !tu.down.Before(start)) {
			n = i
			break
		}
	}
	if n < 0 {
		return
	}
	toClient, ok1 := ev.Int("destination.bytes")
	fromClient, ok2 := ev.Int("source.bytes")
	if !ok1 && !ok2 {
		return
	}
	port, _ := ev.Int("destination.port")
	k := tunnelFlowKey{tunnelIP: src, n: n, server: dst, port: int(port)}
	f := l.tunnelFlows[k]
	if f == nil {
		if len(l.tunnelFlows) >= maxTunnelFlows {
			l.tunnelsLeftOut++
			return
		}
		if l.tunnelFlows == nil {
			l.tunnelFlows = map[tunnelFlowKey]*tunnelFlow{}
		}
		f = &tunnelFlow{first: start}
		l.tunnelFlows[k] = f
	}
	f.toClient += max(toClient, 0) // a negative count is no count
	f.fromClient += max(fromClient, 0)
	f.sessions += int64(l.tunnelContinued.count(ev))
	f.first = minTime(f.first, start)
	f.last = maxTime(f.last, sessionEnd(ev))
}

// tunnelTransfers lists every tunnel–server pair, the most sent to the
// client first.
func (l *linker) tunnelTransfers() []TunnelTransfer {
	out := make([]TunnelTransfer, 0, len(l.tunnelFlows))
	for k, f := range l.tunnelFlows {
		tu := l.tunnels[k.tunnelIP][k.n]
		_, files := fileServicePorts[k.port]
		out = append(out, TunnelTransfer{TunnelIP: k.tunnelIP, Account: tu.account, RemoteIP: tu.remote, ServerIP: k.server,
			Server: l.hostOf[k.server].To, Port: k.port, FileService: files, BytesToClient: f.toClient, BytesFromClient: f.fromClient,
			Sessions: f.sessions, First: f.first.UTC(), Last: f.last.UTC(), Source: tu.ref})
	}
	slices.SortFunc(out, func(a, b TunnelTransfer) int {
		return cmp.Or(cmp.Compare(b.BytesToClient, a.BytesToClient), a.First.Compare(b.First), strings.Compare(a.TunnelIP, b.TunnelIP),
			strings.Compare(a.ServerIP, b.ServerIP), cmp.Compare(a.Port, b.Port))
	})
	return out
}

// tunnelReason says how much went to VPN clients by file copies, outside
// the ledger, and which tunnel received the most: no judgement of it —
// staff working from home copy files too — but a sum a person must see
// before answering that nothing was taken.
func tunnelReason(ts []TunnelTransfer, leftOut int64, lang string) string {
	var total int64
	var top *TunnelTransfer
	accounts := map[string]bool{}
	for i := range ts {
		t := &ts[i]
		if !t.FileService || t.BytesToClient == 0 || t.InLedger {
			continue
		}
		total += t.BytesToClient
		accounts[strings.ToLower(t.Account)] = true
		if top == nil || t.BytesToClient > top.BytesToClient {
			top = t
		}
	}
	if top == nil {
		return ""
	}
	server := top.ServerIP
	if top.Server != "" {
		server = top.Server + " (" + top.ServerIP + ")"
	}
	why := fmt.Sprintf(tr(lang,
		"Par tunnel VPN, %s ont été copiés de serveurs internes vers les postes distants de %d compte(s) (%s) ; le plus : %s de %s par %s pour %s depuis %s, du %s au %s. Ces copies sortent dans le tunnel, pas vers Internet : elles ne sont pas dans le registre (voir « tunnels VPN », à confirmer).",
		"Through VPN tunnels, %s were copied from internal servers to the remote machines of %d account(s) (%s); the most: %s from %s by %s for %s from %s, %s to %s. These copies leave inside the tunnel, not to the Internet: they are not in the ledger (see \"VPN tunnels\", to be confirmed)."),
		HumanBytes(total, lang), len(accounts), tunnelServices(ts), HumanBytes(top.BytesToClient, lang), server, fileServicePorts[top.Port], top.Account, cmp.Or(top.RemoteIP, "?"), fmtT(top.First), fmtT(top.Last))
	if leftOut > 0 {
		why += fmt.Sprintf(tr(lang, " %d session(s) de tunnel au-delà des %d paires suivies ne sont pas comptées.", " %d tunnel session(s) beyond the %d pairs followed are not counted."), leftOut, maxTunnelFlows)
	}
	return why
}

// tunnelServices names the file services the copies used.
func tunnelServices(ts []TunnelTransfer) string {
	var names []string
	for _, t := range ts {
		if n := fileServicePorts[t.Port]; t.FileService && t.BytesToClient > 0 && !t.InLedger && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// qualifyByTunnels keeps a "no evidence" from saying that nothing left when
// a large volume of files went to VPN clients: what the logs show is then
// no transfer to the Internet, and copies a person must confirm.
func qualifyByTunnels(v *Verdict, ts []TunnelTransfer, large int64, lang string) {
	var copied int64
	for _, t := range ts {
		if t.FileService && !t.InLedger {
			copied += t.BytesToClient
		}
	}
	if v.DataTaken != NoEvidence || copied < large {
		return
	}
	v.Confidence = min(v.Confidence, 0.4)
	v.Summary = fmt.Sprintf(tr(lang,
		"Aucun envoi vers Internet ne montre une sortie de données, mais %s de fichiers ont été copiés de serveurs internes vers des postes distants par tunnel VPN : à confirmer (voir les raisons).",
		"No transfer to the Internet shows data leaving, but %s of files were copied from internal servers to remote machines through VPN tunnels: to be confirmed (see the reasons)."),
		HumanBytes(copied, lang))
}

// tunnelEntries are the ledger's entries for files copied through VPN
// tunnels the intrusion touched: a tunnel opened from an address, or by an
// account, that an intrusion finding names. Such copies left the network
// as surely as an upload did, to the machine at the tunnel's far end; a
// tunnel nothing ties to the intrusion stays in the reasons only (staff
// copy files from home). One entry per far-end address and account.
func (a *Analyzer) tunnelEntries(ts []TunnelTransfer, acts []activity, window *Range) ([]LedgerEntry, []entryInfo) {
	if window == nil {
		return nil, nil
	}
	lang := a.o.Lang
	type key struct{ remote, account string }
	byKey := map[key]*LedgerEntry{}
	var order []key
	for i := range ts {
		t := &ts[i]
		if !t.FileService || t.BytesToClient <= 0 || t.RemoteIP == "" || a.links.internal(t.RemoteIP) {
			continue
		}
		why := tunnelTie(*t, acts, window, lang)
		if why == "" {
			continue
		}
		k := key{t.RemoteIP, strings.ToLower(t.Account)}
		e := byKey[k]
		if e == nil {
			e = &LedgerEntry{Channel: "network", Destination: Destination{IP: t.RemoteIP}, Sources: []Source{}, Users: []string{t.Account},
				FirstSeen: t.First, LastSeen: t.Last,
				Method: tr(lang, "octets envoyés par les serveurs au poste distant (destination.bytes du pare-feu), sessions de copie de fichiers (SMB, FTP, SSH…) depuis l'adresse du tunnel VPN pendant qu'il la tenait, chaque session une fois",
					"bytes the servers sent to the remote machine (the firewall's destination.bytes), file-copy sessions (SMB, FTP, SSH…) from the VPN tunnel's address while it held it, each session once"),
				Anomaly:     fmt.Sprintf(tr(lang, "fichiers copiés par le tunnel VPN de %s ouvert depuis %s : %s", "files copied through the VPN tunnel %s opened from %s: %s"), t.Account, t.RemoteIP, why),
				Attribution: []Attribution{{Account: t.Account, How: fmt.Sprintf(tr(lang, "tunnel VPN ouvert par %s depuis %s", "VPN tunnel %s opened from %s"), t.Account, t.RemoteIP), Source: t.Source}}}
			byKey[k] = e
			order = append(order, k)
		}
		t.InLedger = true
		e.Bytes += t.BytesToClient
		e.Events += t.Sessions
		e.FirstSeen, e.LastSeen = minTime(e.FirstSeen, t.First), maxTime(e.LastSeen, t.Last)
		src := Source{IP: t.ServerIP, Host: t.Server}
		if !slices.Contains(e.Sources, src) {
			e.Sources = append(e.Sources, src)
		}
	}
	var out []LedgerEntry
	var infos []entryInfo
	for _, k := range order {
		e := *byKey[k]
		slices.SortFunc(e.Sources, func(x, y Source) int { return strings.Compare(x.IP, y.IP) })
		info := a.corroborate(entryInfo{strong: e.Bytes >= a.o.LargeBytes}, acts, e, window)
		out = append(out, e)
		infos = append(infos, info)
	}
	return out, infos
}

// tunnelTie names the intrusion finding that ties a tunnel to it: one
// naming its far-end address, or its account while the tunnel was open (a
// day before it, for an account taken over first); "" when none does.
func tunnelTie(t TunnelTransfer, acts []activity, window *Range, lang string) string {
	for _, act := range acts {
		if act.first.After(window.End) || act.last.Before(window.Start) {
			continue // the intrusion's findings only
		}
		switch {
		case act.src != "" && act.src == t.RemoteIP:
			return fmt.Sprintf(tr(lang, "adresse nommée par « %s »", "address named by \"%s\""), actTitle(act, lang))
		case act.user != "" && strings.EqualFold(act.user, t.Account) && !act.first.After(t.Last) && !act.last.Before(t.First.Add(-24*time.Hour)):
			return fmt.Sprintf(tr(lang, "compte nommé par « %s »", "account named by \"%s\""), actTitle(act, lang))
		}
	}
	return ""
}

// actTitle is an activity's rule title in the report's language.
func actTitle(act activity, lang string) string {
	if act.finding != nil {
		return findingTitle(act.finding, lang)
	}
	return act.rule
}
