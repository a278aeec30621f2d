package reports

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Many firewalls write their local time without a zone (Cisco ASA, NetScreen,
// WatchGuard, Zyxel over syslog); read in the wrong zone, every time the
// firewall gives — the first and last transfer included — is off by hours,
// while Windows' own logs record UTC. clockCheck compares the two clocks on
// moments both logs record: a VPN tunnel the firewall opened for an account,
// followed by that account's logon from the tunnel's address; a remote
// desktop session the firewall passed, followed by the remote desktop logon
// from its source. It says the offset the evidence shows and changes no time
// itself: analyze, on a temporary case and without --tz, reads the evidence
// again at that offset (Options.ZoneInferredFrom), and the report says so.

const (
	clockStep      = 15 * time.Minute // zones differ by quarter hours
	clockReach     = 14 * time.Hour   // UTC−12 … UTC+14, either way
	clockBefore    = time.Minute      // a logon this much before its tunnel still agrees (rounding, small drift)
	clockAfter     = 15 * time.Minute // the logon that follows a tunnel or a session, at most this late
	maxClockFw     = 20000            // firewall moments kept
	maxClockWin    = 200000           // Windows moments kept, all keys together
	maxClockPerKey = 512
)

type clockMoment struct {
	key string
	at  time.Time
}

type clockCheck struct {
	fw    []clockMoment
	win   map[string][]time.Time // key → times in stream order
	winN  int
	lastW map[string]time.Time // a burst of one logon's events counts once
	// winZoneless counts the Windows moments read without a zone (NXLog,
	// Snare, an administrator's export in local time: event.timezone):
	// when most were, an offset is Windows', not the firewall's.
	winZoneless int
}

func newClockCheck() *clockCheck {
	return &clockCheck{win: map[string][]time.Time{}, lastW: map[string]time.Time{}}
}

func vpnClockKey(ip, account string) string { return "vpn|" + ip + "|" + strings.ToLower(account) }
func rdpClockKey(ip string) string          { return "rdp|" + ip }

// observe keeps the moments one side or the other records.
func (c *clockCheck) observe(ev *event.Event, kind string) {
	switch kind {
	case "firewall":
		if len(c.fw) >= maxClockFw {
			return
		}
		if tip, u := firstNonEmpty(ev.Str("fortinet.firewall.assigned_ip"), ev.Str("cisco.vpn.assigned_ip")), ev.Str("user.name"); tip != "" && u != "" {
			if a := ev.Str("event.action"); !strings.Contains(a, "down") && !strings.Contains(a, "logout") && !strings.Contains(a, "disconnect") {
				c.fw = append(c.fw, clockMoment{vpnClockKey(tip, u), ev.Timestamp})
			}
			return
		}
		if p, _ := ev.Int("destination.port"); p == 3389 {
			if src := ev.Str("source.ip"); src != "" {
				c.fw = append(c.fw, clockMoment{rdpClockKey(src), sessionStart(ev)})
			}
		}
	case "windows":
		ip, u := ev.Str("source.ip"), ev.Str("user.name")
		if ip == "" || ip == "-" || ip == "127.0.0.1" || ip == "::1" || u == "" || machineAccount(u) {
			return
		}
		code := ev.Str("event.code")
		lsm := (code == "21" || code == "25") && strings.Contains(strings.ToLower(ev.Str("winlog.provider_name")), "localsessionmanager")
		zoneless := ev.Str("event.timezone") != ""
		switch {
		case code == "4624" || code == "4768" || code == "4769" || code == "4778" || code == "5140" || lsm:
			c.addWin(vpnClockKey(ip, u), ev.Timestamp, zoneless)
		default:
			return
		}
		if lsm || code == "4778" || code == "4624" && ev.Str("winlog.event_data.LogonType") == "10" {
			c.addWin(rdpClockKey(ip), ev.Timestamp, zoneless)
		}
	}
}

func (c *clockCheck) addWin(key string, t time.Time, zoneless bool) {
	if last, ok := c.lastW[key]; ok && t.Sub(last) < time.Minute && !t.Before(last) {
		return
	}
	if c.winN >= maxClockWin || len(c.win[key]) >= maxClockPerKey {
		return
	}
	c.lastW[key] = t
	c.win[key] = append(c.win[key], t)
	c.winN++
	if zoneless {
		c.winZoneless++
	}
}

// ClockCheck is what the comparison of two logs' clocks found.
type ClockCheck struct {
	// Source is the log whose clock is off when they disagree: the
	// firewall's, or Windows' when its events were read without a zone;
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
	// first reading in UTC showed it ("+02:00"); empty otherwise.
	ReadAt string `json:"zoneless_read_at,omitempty"`
}

// result compares the firewall's moments with Windows': for each candidate
// offset, how many of the firewall's moments are followed, within
// clockAfter, by the logon Windows recorded. The offset is claimed only when
// it explains at least half of the comparable moments, three at least, and
// more than twice as many as no offset does; otherwise the clocks agree or
// the evidence cannot tell.
func (c *clockCheck) result() *ClockCheck {
	steps := int(clockReach / clockStep)
	score := make([]int, 2*steps+1)
	n := 0
	for _, m := range c.fw {
		times := c.win[m.key]
		if len(times) == 0 {
			continue
		}
		near := false
		for i := -steps; i <= steps; i++ {
			off := time.Duration(i) * clockStep
			lo, hi := m.at.Add(-off-clockBefore), m.at.Add(-off+clockAfter)
			j := sort.Search(len(times), func(k int) bool { return !times[k].Before(lo) })
			if j < len(times) && !times[j].After(hi) {
				score[i+steps]++
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
		d, bd := abs(i-steps), abs(best-steps)
		if score[i] > score[best] || score[i] == score[best] && d < bd {
			best = i
		}
	}
	r := &ClockCheck{Source: "firewall", Reference: "windows", Moments: n, Agreeing: score[steps], AtZero: score[steps]}
	if best != steps && score[best] >= 3 && 2*score[best] >= n && score[best] > 2*score[steps] {
		r.OffsetSeconds = int64(time.Duration(best-steps) * clockStep / time.Second)
		r.Agreeing = score[best]
		if 2*c.winZoneless > c.winN {
			// Windows' times were read in --tz: they are the ones off.
			r.Source, r.Reference, r.OffsetSeconds = "windows", "firewall", -r.OffsetSeconds
		}
	}
	return r
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

// inferredReason says that the times of the logs naming no zone were read
// at the offset a first reading's clock check showed.
func inferredReason(first *ClockCheck, lang string) string {
	whose := tr(lang, "celui du pare-feu", "the firewall's")
	if first.Source == "windows" {
		whose = tr(lang, "ceux de Windows", "Windows'")
	}
	return fmt.Sprintf(tr(lang,
		"Heures : les journaux qui n'indiquent pas de fuseau (%s parmi eux) ont été lus à UTC%s, le décalage auquel %d des %d tunnels VPN et sessions bureau à distance du pare-feu concordent avec les ouvertures de session enregistrées par Windows (%d lus en UTC) ; les heures de ce rapport en tiennent compte. --tz l'emporte sur ce choix.",
		"Times: the logs that name no zone (%s among them) were read at UTC%s, the offset at which %d of %d of the firewall's VPN tunnels and remote desktop sessions agree with the logons Windows recorded (%d when read in UTC); this report's times are so read. --tz overrides this choice."),
		whose, ZoneName(first.OffsetSeconds), first.Agreeing, first.Moments, first.AtZero)
}

// clockReason says an offset in the verdict: the report's times are as
// the logs wrote them, so the reader must know which may be off.
func clockReason(c *ClockCheck, lang string) string {
	if c == nil || c.OffsetSeconds == 0 {
		return ""
	}
	off := time.Duration(c.OffsetSeconds) * time.Second
	ahead, back := tr(lang, "en avance sur", "ahead of"), tr(lang, "reculées", "moved back")
	if off < 0 {
		ahead, back = tr(lang, "en retard sur", "behind"), tr(lang, "avancées", "moved forward")
	}
	src, ref, who := tr(lang, "du pare-feu", "the firewall's"), tr(lang, "celles des journaux Windows", "the Windows logs'"), tr(lang, "le pare-feu écrit", "the firewall writes")
	if c.Source == "windows" {
		src, ref, who = tr(lang, "des journaux Windows", "the Windows logs'"), tr(lang, "celles du pare-feu", "the firewall's"), tr(lang, "les journaux Windows (lus sans fuseau) ont été écrits", "the Windows logs (read without a zone) were written in")
	}
	return fmt.Sprintf(tr(lang,
		"Horloges : les heures %s sont %s %s %s (%d des %d tunnels VPN et sessions bureau à distance comparables du pare-feu ne concordent avec les ouvertures de session enregistrées par Windows qu'une fois ces heures %s de %s ; %d sans décalage). Si %s en heure locale sans fuseau, leurs heures dans ce rapport sont décalées d'autant : relancer avec --tz nommant ce fuseau (UTC%s à cette date) ; sinon l'horloge était fausse d'autant.",
		"Clocks: %s times run %s %s %s (%d of %d comparable VPN tunnels and remote desktop sessions of the firewall agree with the logons Windows recorded only once those times are %s by %s; %d without an offset). If %s local time without a zone, their times in this report are off by as much: rerun with --tz naming that zone (UTC%s at that date); otherwise the clock was wrong by as much."),
		src, fmtOffset(off), ahead, ref, c.Agreeing, c.Moments, back, fmtOffset(off), c.AtZero, who, ZoneName(c.OffsetSeconds))
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
