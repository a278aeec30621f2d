package reports

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Many firewalls write their local time without a zone (Cisco ASA, NetScreen,
// WatchGuard, Zyxel over syslog), and so do Windows forwarders (NXLog,
// Snare, exports) and classic syslog mail servers; read in the wrong zone,
// every time such a log gives — a transfer's first and last included — is
// off by hours. clockCheck compares the firewall's clock with the other
// logs' on moments both record: a VPN tunnel the firewall opened for an
// account, followed by that account's logon from the tunnel's address; a
// remote desktop session the firewall passed, followed by the remote
// desktop logon from its source (both against Windows); an outbound SMTP
// session the firewall passed, carrying a delivery the mail server logged
// to that relay (against the mail log; by its start, or by its end when
// the firewall logs a connection only as it closes); an outbound session
// the firewall logged with its start, and the connection its host logged
// as it opened it (Sysmon 3, 5156: against Windows); a web session the firewall passed to
// a server a web proxy's request went to, started the same minute (against
// the proxy's log: behind a firewall, the proxy's own connections). It says the offset the evidence
// shows and changes no time itself: analyze, on a temporary case and
// without --tz, reads the evidence again at that offset
// (Options.ZoneInferredFrom), and the report says so.

const (
	clockStep   = 15 * time.Minute // zones differ by quarter hours
	clockReach  = 14 * time.Hour   // UTC−12 … UTC+14, either way
	clockBefore = time.Minute      // a logon this much before its tunnel still agrees (rounding, small drift)
	clockAfter  = 15 * time.Minute // the logon that follows a tunnel or a session, at most this late
	// An SMTP delivery is logged within seconds of the session carrying it;
	// a queue may hold it a few minutes. A proxy's request opens (or reuses,
	// a little later) its connection to the server: the same windows.
	smtpBefore, smtpAfter = 2 * time.Minute, 5 * time.Minute
	maxClockFw            = 20000  // firewall moments kept of each kind
	maxClockRef           = 200000 // moments kept of each other log, all keys together
	maxClockPerKey        = 512
	// smtpEnded is the kind of the outbound SMTP sessions known by their
	// end alone; smtpInEnded of the inbound ones.
	smtpEnded   = "smtp-end"
	smtpInEnded = "smtp-in-end"
)

type clockMoment struct {
	key  string
	at   time.Time
	kind string
}

// clockRef is one log the firewall's clock is compared with.
type clockRef struct {
	times map[string][]time.Time // key → times in stream order
	last  map[string]time.Time   // a burst of one logon's events counts once
	n     int
	// zoneless counts the moments read without a zone (event.timezone:
	// NXLog, Snare, an administrator's export in local time): when most
	// were, an offset is this log's, not the firewall's.
	zoneless int
}

type clockCheck struct {
	internal func(string) bool
	fw       []clockMoment
	fwKinds  map[string]*fwSample // per kind: a busy mail relay must not crowd out the VPN's
	refs     map[string]*clockRef // "windows", "mail", "proxy"
}

// fwSample keeps one of every stride moments of a kind, the stride doubling
// (and every other kept moment dropped) each time maxClockFw are kept: the
// moments kept span the whole log, not its first days — the other log may
// cover only its end.
type fwSample struct {
	seen, kept, stride int
}

// clockRefs are the logs compared, in the report's order. Windows'
// network connections are compared apart from its logons: a host logs
// thousands an hour, which would crowd the logons out of one log's
// moments kept.
var clockRefs = []string{"windows", "mail", "proxy", windowsConnections}

const windowsConnections = "windows_connections"

func newClockCheck(internal func(string) bool) *clockCheck {
	c := &clockCheck{internal: internal, fwKinds: map[string]*fwSample{}, refs: map[string]*clockRef{}}
	for _, name := range clockRefs {
		c.refs[name] = &clockRef{times: map[string][]time.Time{}, last: map[string]time.Time{}}
	}
	return c
}

func vpnClockKey(ip, account string) string { return "vpn|" + ip + "|" + strings.ToLower(account) }
func rdpClockKey(ip string) string          { return "rdp|" + ip }
func smtpClockKey(relay string) string      { return "smtp|" + relay }
func smtpInClockKey(client string) string   { return "smtpin|" + client }
func webClockKey(server string) string      { return "web|" + server }

// connClockKey names one connection by its addresses and ports: the
// firewall's session and the connection Windows logged from its source.
func connClockKey(src, sport, dst, dport string) string {
	return "conn|" + src + "|" + sport + "|" + dst + "|" + dport
}

// observe keeps the moments one side or the other records.
func (c *clockCheck) observe(ev *event.Event, kind string) {
	switch kind {
	case "firewall":
		if tip, u := firstNonEmpty(ev.Str("fortinet.firewall.assigned_ip"), ev.Str("cisco.vpn.assigned_ip"), ev.Str("panw.panos.assigned_ip")), ev.Str("user.name"); tip != "" && u != "" {
			if a := ev.Str("event.action"); !strings.Contains(a, "down") && !strings.Contains(a, "logout") && !strings.Contains(a, "disconnect") {
				c.addFw("vpn", vpnClockKey(tip, u), ev.Timestamp)
			}
			return
		}
		// Most sessions are web: when each began is read only for those
		// compared.
		p, _ := ev.Int("destination.port")
		src, dst := ev.Str("source.ip"), ev.Str("destination.ip")
		switch {
		case p == 3389 && src != "":
			if began, ok := sessionBegan(ev); ok {
				c.addFw("rdp", rdpClockKey(src), began)
			}
		case p == 25 && dst != "" && c.internal(src) && !c.internal(dst):
			if began, ok := sessionBegan(ev); ok {
				c.addFw("smtp", smtpClockKey(dst), began)
			} else {
				// Its summary alone (SonicWall's closed connections): the
				// delivery it carried was logged before it ended.
				c.addFw(smtpEnded, smtpClockKey(dst), ev.Timestamp)
			}
		case p == 25 && src != "" && !c.internal(src) && ev.Str("event.outcome") != "failure":
			// Mail from the Internet to the town's server: the server logs
			// the message it received within seconds of the session.
			if began, ok := sessionBegan(ev); ok {
				c.addFw("smtp-in", smtpInClockKey(src), began)
			} else {
				c.addFw(smtpInEnded, smtpInClockKey(src), ev.Timestamp)
			}
		case p == 443 || p == 80:
			if s := c.sample("web"); s != nil && dst != "" && c.internal(src) && !c.internal(dst) {
				if began, ok := sessionBegan(ev); ok {
					c.keep(s, "web", webClockKey(dst), began)
				}
			}
		}
		// Any outbound session: Windows may have logged its start (Sysmon 3,
		// 5156) on the host it came from.
		if s := c.sample("conn"); s != nil && dst != "" && c.internal(src) && !c.internal(dst) {
			if sp := ev.Str("source.port"); sp != "" {
				if began, ok := sessionBegan(ev); ok {
					c.keep(s, "conn", connClockKey(src, sp, dst, strconv.FormatInt(p, 10)), began)
				}
			}
		}
	case "proxy":
		if dst := ev.Str("destination.ip"); dst != "" && !c.internal(dst) {
			c.refs["proxy"].add(webClockKey(dst), sessionStart(ev), ev.Str("event.timezone") != "")
		}
	case "windows":
		if a := ev.Str("event.action"); a == "network-connection" || a == "network-connection-allowed" {
			// A connection the host opened, as Sysmon (3) or the Windows
			// Filtering Platform (5156) logged it.
			w := c.refs[windowsConnections]
			if w.n >= maxClockRef {
				return // the first ones kept: no key to build
			}
			src, dst, sp, dp := ev.Str("source.ip"), ev.Str("destination.ip"), ev.Str("source.port"), ev.Str("destination.port")
			if ev.Str("network.direction") == "egress" && src != "" && dst != "" && sp != "" && dp != "" && c.internal(src) && !c.internal(dst) {
				w.add(connClockKey(src, sp, dst, dp), ev.Timestamp, ev.Str("event.timezone") != "")
			}
			return
		}
		ip, u := ev.Str("source.ip"), ev.Str("user.name")
		if ip == "" || ip == "-" || ip == "127.0.0.1" || ip == "::1" || u == "" || machineAccount(u) {
			return
		}
		code := ev.Str("event.code")
		lsm := (code == "21" || code == "25") && strings.Contains(strings.ToLower(ev.Str("winlog.provider_name")), "localsessionmanager")
		w, zoneless := c.refs["windows"], ev.Str("event.timezone") != ""
		switch {
		case code == "4624" || code == "4768" || code == "4769" || code == "4778" || code == "5140" || lsm:
			w.add(vpnClockKey(ip, u), ev.Timestamp, zoneless)
		default:
			return
		}
		if lsm || code == "4778" || code == "4624" && ev.Str("winlog.event_data.LogonType") == "10" {
			w.add(rdpClockKey(ip), ev.Timestamp, zoneless)
		}
	case "mail":
		if ev.Str("event.action") != "message" {
			return
		}
		m, zoneless := c.refs["mail"], ev.Str("event.timezone") != ""
		ds := ev.Str(event.FieldDataset)
		for _, relay := range ev.Strings(ds + ".relay_ip") {
			if relay != "" && !c.internal(relay) {
				m.add(smtpClockKey(relay), ev.Timestamp, zoneless)
			}
		}
		if client := ev.Str("source.ip"); client != "" && !c.internal(client) {
			m.add(smtpInClockKey(client), ev.Timestamp, zoneless)
		}
	}
}

func (c *clockCheck) addFw(kind, key string, t time.Time) {
	if s := c.sample(kind); s != nil {
		c.keep(s, kind, key, t)
	}
}

// sample counts one more moment of a kind and returns its sample when that
// moment is one to keep (one in the stride), nil otherwise: the caller
// reads the moment's details only then.
func (c *clockCheck) sample(kind string) *fwSample {
	s := c.fwKinds[kind]
	if s == nil {
		s = &fwSample{stride: 1}
		c.fwKinds[kind] = s
	}
	s.seen++
	if (s.seen-1)%s.stride != 0 {
		return nil
	}
	return s
}

// keep adds a sampled moment, first thinning the kind to every other
// moment kept (the stride doubling) when maxClockFw are kept.
func (c *clockCheck) keep(s *fwSample, kind, key string, t time.Time) {
	if s.kept == maxClockFw {
		out, i := c.fw[:0], 0
		for _, m := range c.fw {
			if m.kind == kind {
				i++
				if i%2 == 0 {
					continue
				}
			}
			out = append(out, m)
		}
		c.fw = out
		s.kept, s.stride = (s.kept+1)/2, 2*s.stride
		if (s.seen-1)%s.stride != 0 {
			return
		}
	}
	s.kept++
	c.fw = append(c.fw, clockMoment{key: key, at: t, kind: kind})
}

func (r *clockRef) add(key string, t time.Time, zoneless bool) {
	if last, ok := r.last[key]; ok && t.Sub(last) < time.Minute && !t.Before(last) {
		return
	}
	if r.n >= maxClockRef || len(r.times[key]) >= maxClockPerKey {
		return
	}
	r.last[key] = t
	r.times[key] = append(r.times[key], t)
	r.n++
	if zoneless {
		r.zoneless++
	}
}

// ClockCheck is what the comparison of the firewall's clock with another
// log's found.
type ClockCheck struct {
	// Source is the log whose clock is off when they disagree: the
	// firewall's, or the other's when its events were read without a zone;
	// Reference the other.
	Source    string `json:"source"`
	Reference string `json:"reference"`
	// Offset is how far Source's times run ahead of Reference's (negative:
	// behind), in quarter hours; 0 when they agree.
	OffsetSeconds int64 `json:"offset_seconds"`
	Moments       int   `json:"moments"`  // moments both logs record
	Agreeing      int   `json:"agreeing"` // of those, how many agree once Source is moved back by the offset
	AtZero        int   `json:"agreeing_without_offset"`
	// ReadAt is the offset the logs naming no zone were read at when a
	// first reading in UTC showed it ("+02:00"), or the zone ("Europe/Paris");
	// empty otherwise.
	ReadAt string `json:"zoneless_read_at,omitempty"`
	// Zone is the zone whose summer time Source's clock follows, when its
	// rules explain more moments than any fixed offset (ZoneAgreeing of
	// them; its offsets over those moments in ZoneOffsets, seconds).
	Zone         string   `json:"zone,omitempty"`
	ZoneAgreeing int      `json:"zone_agreeing,omitempty"`
	ZoneOffsets  [2]int64 `json:"zone_offsets_seconds,omitzero"`
}

// results compares the firewall's clock with each other log's.
func (c *clockCheck) results() []ClockCheck {
	var out []ClockCheck
	for _, name := range clockRefs {
		if r := c.compare(name); r != nil {
			out = append(out, *r)
		}
	}
	return out
}

// compare compares the firewall's moments with one log's: for each
// candidate offset, how many of the firewall's moments are followed, within
// clockAfter, by what the other log recorded. The offset is claimed only
// when it explains at least half of the comparable moments, three at least,
// and more than twice as many as no offset does; otherwise the clocks agree
// or the evidence cannot tell.
func (c *clockCheck) compare(name string) *ClockCheck {
	ref := c.refs[name]
	steps := int(clockReach / clockStep)
	score := make([]int, 2*steps+1)
	// cost sums how far from its firewall moment each match lies: among
	// offsets agreeing as often, the closest wins (a window of minutes
	// also fits a quarter hour off).
	cost := make([]time.Duration, 2*steps+1)
	n := 0
	for _, m := range c.fw {
		times := ref.times[m.key]
		if len(times) == 0 {
			continue
		}
		before, after := m.window()
		near := false
		for i := -steps; i <= steps; i++ {
			at := m.at.Add(-time.Duration(i) * clockStep)
			lo, hi := at.Add(-before), at.Add(after)
			j := sort.Search(len(times), func(k int) bool { return !times[k].Before(lo) })
			if j < len(times) && !times[j].After(hi) {
				score[i+steps]++
				cost[i+steps] += absDur(times[j].Sub(at))
				near = true
			}
		}
		if near {
			n++
		}
	}
	if n < 3 {
		return nil
	}
	best := steps
	for i := range score {
		switch {
		case score[i] > score[best],
			score[i] == score[best] && cost[i] < cost[best],
			score[i] == score[best] && cost[i] == cost[best] && abs(i-steps) < abs(best-steps):
			best = i
		}
	}
	r := &ClockCheck{Source: "firewall", Reference: name, Moments: n, Agreeing: score[steps], AtZero: score[steps]}
	if best != steps && score[best] >= 3 && 2*score[best] >= n && score[best] > 2*score[steps] {
		r.OffsetSeconds = int64(time.Duration(best-steps) * clockStep / time.Second)
		r.Agreeing = score[best]
		if 2*ref.zoneless > ref.n {
			// The other log's times were read in --tz: they are the ones off.
			r.Source, r.Reference, r.OffsetSeconds = name, "firewall", -r.OffsetSeconds
		}
	}
	// A clock on local summer time: no fixed offset reads it all.
	refOff := 2*ref.zoneless > ref.n
	if z, zs, offs := c.bestSummerZone(ref, refOff); z != "" && zs >= 3 && 2*zs >= n && zs > score[best] && zs > 2*score[steps] {
		r.Zone, r.ZoneAgreeing, r.ZoneOffsets = z, zs, offs
		r.OffsetSeconds = int64(time.Duration(best-steps) * clockStep / time.Second)
		r.Agreeing = score[best]
		r.Source, r.Reference = "firewall", name
		if refOff {
			r.Source, r.Reference, r.OffsetSeconds = name, "firewall", -r.OffsetSeconds
		}
	}
	return r
}

// window is how long before and after the firewall's moment the other
// log's may lie and still be the same: SMTP deliveries and proxy requests
// follow their firewall session within minutes, not seconds; a delivery
// comes before the end of the session that carried it, by as long as
// the session lasted (Postfix reuses a connection up to 300 s by default).
func (m clockMoment) window() (before, after time.Duration) {
	switch {
	case m.kind == smtpEnded || m.kind == smtpInEnded:
		return smtpAfter, smtpBefore
	case strings.HasPrefix(m.key, "smtp|") || strings.HasPrefix(m.key, "smtpin|") || strings.HasPrefix(m.key, "web|"):
		return smtpBefore, smtpAfter
	}
	return clockBefore, clockAfter
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// ZoneName writes an offset as --tz takes it: "+02:00", "-03:30".
func ZoneName(offsetSeconds int64) string {
	sign, off := "+", offsetSeconds
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("%s%02d:%02d", sign, off/3600, off%3600/60)
}

// clockNames are the logs as the reasons name them (fr, en): whose times.
var clockNames = map[string][2]string{
	"firewall": {"du pare-feu", "the firewall's"},
	"windows":  {"des journaux Windows", "the Windows logs'"},
	// Windows' network connections: Windows' clock all the same.
	windowsConnections: {"des journaux Windows", "the Windows logs'"},
	"mail":             {"du serveur de messagerie", "the mail server's"},
	"proxy":            {"du proxy web", "the web proxy's"},
}

func clockName(log, lang string) string {
	return tr(lang, clockNames[log][0], clockNames[log][1])
}

// clockMoments says what was compared with the firewall.
func clockMoments(c ClockCheck, lang string) string {
	if c.Source == "proxy" || c.Reference == "proxy" {
		return tr(lang, "sessions web du pare-feu concordent avec les requêtes que le proxy web a journalisées vers les mêmes serveurs", "web sessions of the firewall agree with the requests the web proxy logged to the same servers")
	}
	if c.Source == windowsConnections || c.Reference == windowsConnections {
		return tr(lang, "sessions du pare-feu concordent avec les connexions que Windows a journalisées depuis leurs machines (Sysmon 3, 5156)", "sessions of the firewall agree with the connections Windows logged from their hosts (Sysmon 3, 5156)")
	}
	if c.Source == "mail" || c.Reference == "mail" {
		return tr(lang, "sessions SMTP du pare-feu (sortantes et entrantes) concordent avec les messages que le serveur de messagerie a journalisés", "SMTP sessions of the firewall (outbound and inbound) agree with the messages the mail server logged")
	}
	return tr(lang, "tunnels VPN et sessions bureau à distance du pare-feu concordent avec les ouvertures de session enregistrées par Windows", "VPN tunnels and remote desktop sessions of the firewall agree with the logons Windows recorded")
}

// inferredReason says that the times of the logs naming no zone were read
// at the offset a first reading's clock check showed.
func inferredReason(first ClockCheck, readAt int64, lang string) string {
	whose := first.Source
	if readAt != first.OffsetSeconds {
		whose = first.Reference
	}
	return fmt.Sprintf(tr(lang,
		"Heures : les journaux qui n'indiquent pas de fuseau (ceux %s parmi eux) ont été lus à UTC%s : lus en UTC, %d des %d %s qu'avec un décalage de %s (%d sans décalage) ; les heures de ce rapport en tiennent compte. --tz l'emporte sur ce choix.",
		"Times: the logs that name no zone (%s among them) were read at UTC%s: read in UTC, %d of %d %s only with an offset of %s (%d without); this report's times are so read. --tz overrides this choice."),
		clockName(whose, lang), ZoneName(readAt), first.Agreeing, first.Moments, clockMoments(first, lang), fmtOffset(time.Duration(first.OffsetSeconds)*time.Second), first.AtZero)
}

// clockReason says an offset in the verdict: the report's times are as
// the logs wrote them, so the reader must know which may be off.
func clockReason(c ClockCheck, lang string) string {
	if c.Zone != "" {
		return fmt.Sprintf(tr(lang,
			"Horloges : les heures %s suivent l'heure d'été du fuseau %s (UTC%s et UTC%s selon la saison) : lues ainsi, %d des %d %s, contre %d au mieux à un décalage fixe (%d sans décalage). Si les heures %s sont locales sans fuseau, relancer avec --tz %s.",
			"Clocks: %s times follow the summer time of the zone %s (UTC%s and UTC%s by season): so read, %d of %d %s, against %d at best at one fixed offset (%d without an offset). If %s times are local time without a zone, rerun with --tz %s."),
			clockName(c.Source, lang), c.Zone, ZoneName(c.ZoneOffsets[0]), ZoneName(c.ZoneOffsets[1]), c.ZoneAgreeing, c.Moments, clockMoments(c, lang), c.Agreeing, c.AtZero,
			clockName(c.Source, lang), c.Zone)
	}
	if c.OffsetSeconds == 0 {
		return ""
	}
	off := time.Duration(c.OffsetSeconds) * time.Second
	ahead, back := tr(lang, "en avance sur", "ahead of"), tr(lang, "reculées", "moved back")
	if off < 0 {
		ahead, back = tr(lang, "en retard sur", "behind"), tr(lang, "avancées", "moved forward")
	}
	return fmt.Sprintf(tr(lang,
		"Horloges : les heures %s sont %s %s celles %s (%d des %d %s qu'une fois les heures %s %s de %s ; %d sans décalage). Si les heures %s sont locales sans fuseau, celles que ce rapport en tire sont décalées d'autant : relancer avec --tz nommant ce fuseau (UTC%s à cette date) ; sinon cette horloge était fausse d'autant.",
		"Clocks: %s times run %s %s %s (%d of %d %s only once %s times are %s by %s; %d without an offset). If %s times are local time without a zone, those this report takes from them are off by as much: rerun with --tz naming that zone (UTC%s at that date); otherwise that clock was wrong by as much."),
		clockName(c.Source, lang), fmtOffset(off), ahead, clockName(c.Reference, lang), c.Agreeing, c.Moments, clockMoments(c, lang),
		clockName(c.Source, lang), back, fmtOffset(off), c.AtZero, clockName(c.Source, lang), ZoneName(c.OffsetSeconds))
}

// fmtOffset writes a duration's size as "2 h", "1 h 30", "45 min".
func fmtOffset(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%d min", m)
	case m == 0:
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %02d", h, m)
}

// sessionBegan is when a firewall's session began, if its log says: its
// start, or the time of a record that is not a session's summary (a
// packet, a session's opening). A summary (its bytes counted) without its
// start is dated at its end, hours after the logon it began with for a
// remote desktop session: such a moment would show an offset that is none
// (SonicWall's closed connections).
func sessionBegan(ev *event.Event) (time.Time, bool) {
	if ev.Str("event.start") != "" {
		return sessionStart(ev), true
	}
	_, sent := ev.Int("source.bytes")
	_, both := ev.Int("network.bytes")
	if sent || both {
		return time.Time{}, false
	}
	return ev.Timestamp, true
}
