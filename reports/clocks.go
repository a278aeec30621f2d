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
		switch {
		case code == "4624" || code == "4768" || code == "4769" || code == "4778" || code == "5140" || lsm:
			c.addWin(vpnClockKey(ip, u), ev.Timestamp)
		default:
			return
		}
		if lsm || code == "4778" || code == "4624" && ev.Str("winlog.event_data.LogonType") == "10" {
			c.addWin(rdpClockKey(ip), ev.Timestamp)
		}
	}
}

func (c *clockCheck) addWin(key string, t time.Time) {
	if last, ok := c.lastW[key]; ok && t.Sub(last) < time.Minute && !t.Before(last) {
		return
	}
	if c.winN >= maxClockWin || len(c.win[key]) >= maxClockPerKey {
		return
	}
	c.lastW[key] = t
	c.win[key] = append(c.win[key], t)
	c.winN++
}

// ClockCheck is what the comparison of two logs' clocks found.
type ClockCheck struct {
	Source    string `json:"source"`    // the log whose clock is checked
	Reference string `json:"reference"` // the log it is checked against
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
	return fmt.Sprintf(tr(lang,
		"Heures : les journaux qui n'indiquent pas de fuseau (celui du pare-feu parmi eux) ont été lus à UTC%s, le décalage auquel %d des %d tunnels VPN et sessions bureau à distance du pare-feu concordent avec les ouvertures de session enregistrées par Windows (%d lus en UTC) ; les heures de ce rapport en tiennent compte. --tz l'emporte sur ce choix.",
		"Times: the logs that name no zone (the firewall's among them) were read at UTC%s, the offset at which %d of %d of the firewall's VPN tunnels and remote desktop sessions agree with the logons Windows recorded (%d when read in UTC); this report's times are so read. --tz overrides this choice."),
		ZoneName(first.OffsetSeconds), first.Agreeing, first.Moments, first.AtZero)
}

// clockReason says an offset in the verdict: the report's firewall times
// are as the log wrote them, so the reader must know they may be off.
func clockReason(c *ClockCheck, lang string) string {
	if c == nil || c.OffsetSeconds == 0 {
		return ""
	}
	off := time.Duration(c.OffsetSeconds) * time.Second
	ahead, back := tr(lang, "en avance sur", "ahead of"), tr(lang, "reculées", "moved back")
	if off < 0 {
		ahead, back = tr(lang, "en retard sur", "behind"), tr(lang, "avancées", "moved forward")
	}
	sign, mag := "+", off
	if off < 0 {
		sign, mag = "-", -off
	}
	zone := fmt.Sprintf("UTC%s%d", sign, int(mag/time.Hour))
	if m := int(mag % time.Hour / time.Minute); m != 0 {
		zone += fmt.Sprintf(":%02d", m)
	}
	return fmt.Sprintf(tr(lang,
		"Horloges : les heures du pare-feu sont %s %s celles des journaux Windows (%d des %d tunnels VPN et sessions bureau à distance comparables ne concordent avec les ouvertures de session enregistrées par Windows qu'une fois les heures du pare-feu %s de %s ; %d sans décalage). Si le pare-feu écrit son heure locale sans fuseau, ses heures dans ce rapport — premiers et derniers transferts compris — sont décalées d'autant : relancer avec --tz nommant son fuseau (%s à cette date) ; sinon son horloge était fausse d'autant.",
		"Clocks: the firewall's times run %s %s the Windows logs' (%d of %d comparable VPN tunnels and remote desktop sessions agree with the logons Windows recorded only once the firewall's times are %s by %s; %d without an offset). If the firewall writes its local time without a zone, its times in this report — first and last transfers included — are off by as much: rerun with --tz naming its zone (%s at that date); otherwise its clock was wrong by as much."),
		fmtOffset(off), ahead, c.Agreeing, c.Moments, back, fmtOffset(off), c.AtZero, zone)
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
