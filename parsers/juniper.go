package parsers

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// JuniperSRX reads Junos SRX session logs (RT_FLOW_SESSION_CREATE, _CLOSE,
// _DENY and their logical-system _LS variants) in both forms Junos writes:
// structured syslog ([junos@2636… source-address="…" bytes-from-client="…"])
// and the standard text ("session closed TCP FIN: a/p->b/p … 10(1500)
// 12(6000) 5 …"), bare, behind RFC 5424, or as stored by a syslog server
// that put its own header in front. A closed session carries bytes per
// direction: from the client (the initiator) and from the server.
type JuniperSRX struct{}

func (JuniperSRX) Name() string { return "juniper-srx" }
func (JuniperSRX) Description() string {
	return "Juniper SRX session logs (RT_FLOW create/close/deny, structured or standard), with bytes per direction"
}

func (JuniperSRX) Detect(head []byte) bool { return mostLines(head, JuniperSRX{}.matchLine) }

func (JuniperSRX) matchLine(l string) bool {
	return strings.Contains(l, "RT_FLOW_SESSION_") || strings.Contains(l, "[junos@")
}

func (JuniperSRX) NewDecoder(o *Options) LineDecoder {
	return &srxDecoder{clock: o.clock(), loc: o.TZ, o: o}
}

type srxDecoder struct {
	clock syslogClock
	loc   *time.Location
	o     *Options
}

func (d *srxDecoder) Flush(Emit) {}

var (
	srxTag  = regexp.MustCompile(`RT_FLOW_SESSION_(CREATE|CLOSE|DENY)(?:_LS)?`)
	srxFlow = regexp.MustCompile(`^([0-9A-Fa-f.:]+)/(\d+)->([0-9A-Fa-f.:]+)/(\d+)$`)
	srxPB   = regexp.MustCompile(`^(\d+)\((\d+)\)$`)
)

func (d *srxDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	ev := event.New()
	// Time: the device's RFC 5424 stamp when there is one (also when a
	// syslog server put its own header in front), else the syslog header
	// (the sender's, behind a relay's).
	if stamp, host, ok := lastRFC5424Stamp(s); ok {
		t, zoned, err := parseISOZoned(stamp, d.loc)
		if err != nil {
			return fmt.Errorf("juniper-srx: bad time %q", stamp)
		}
		if !zoned {
			d.o.zoneRead()
		}
		ev.Timestamp = t
		ev.Set("observer.name", host)
	} else if h, err := d.clock.parse(s); err == nil {
		ev.Timestamp = h.Time
		ev.Set("observer.name", h.Host)
	} else {
		return fmt.Errorf("juniper-srx: no syslog time")
	}
	ev.Fields[event.FieldDataset] = "juniper.srx"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	setFirewall(ev, "Juniper", "SRX")
	tag := srxTag.FindStringSubmatchIndex(s)
	kind := ""
	if tag != nil {
		kind = s[tag[2]:tag[3]]
		ev.Set("event.code", s[tag[0]:tag[1]])
	}
	if i := strings.Index(s, "[junos@"); i >= 0 {
		sd := s[i+1:]
		if j := strings.IndexByte(sd, ' '); j >= 0 {
			sd = sd[j+1:]
		}
		if j := strings.LastIndex(sd, "]"); j >= 0 {
			sd = sd[:j]
		}
		kv := map[string]string{}
		splitKV(sd, func(k, v string) { kv[k] = v })
		srxStructured(ev, kv, kind != "")
		if kind == "" {
			// Another Junos event: AppTrack's session records (whose
			// counters repeat RT_FLOW's and stay juniper.srx.* fields),
			// UI_LOGIN_EVENT, SSHD_LOGIN_FAILED…: its fields are kept.
			ev.Fields["event.category"] = []string{"host"}
			if strings.Contains(s[:i], "APPTRACK_") {
				ev.Fields["event.category"] = []string{"network"}
				ev.Fields["event.type"] = []string{"connection", "info"}
			}
			ev.Set("user.name", kv["username"])
			if f := strings.Fields(s[:i]); len(f) > 0 {
				ev.Set("event.code", f[len(f)-1])
			}
			emit(ev, linePos(no))
			return nil
		}
	} else if kind != "" {
		if err := srxStandard(ev, kind, s[tag[1]:]); err != nil {
			return err
		}
	} else {
		return fmt.Errorf("juniper-srx: neither RT_FLOW session nor structured Junos event")
	}
	ev.Fields["event.category"] = []string{"network"}
	switch kind {
	case "CREATE":
		ev.Set("event.action", "session-create")
		ev.Fields["event.type"] = []string{"connection", "start"}
		// A session's counters come with its close: none are stored here.
		delete(ev.Fields, "source.bytes")
		delete(ev.Fields, "destination.bytes")
		delete(ev.Fields, "network.bytes")
	case "CLOSE":
		ev.Set("event.action", "session-close")
		ev.Fields["event.type"] = []string{"connection", "end"}
		ev.Set("event.outcome", "success")
	case "DENY":
		ev.Set("event.action", "session-deny")
		ev.Fields["event.type"] = []string{"connection", "denied"}
		ev.Set("event.outcome", "failure")
	}
	setOutboundDirection(ev)
	emit(ev, linePos(no))
	return nil
}

// srxStructured maps the structured-data fields of an RT_FLOW message.
func srxStructured(ev *event.Event, kv map[string]string, session bool) {
	for k, v := range kv {
		if v != "" && v != "N/A" {
			ev.Fields["juniper.srx."+strings.ReplaceAll(k, "-", "_")] = v
		}
	}
	setIP(ev, "source.ip", kv["source-address"])
	setPort(ev, "source.port", kv["source-port"])
	setIP(ev, "destination.ip", kv["destination-address"])
	setPort(ev, "destination.port", kv["destination-port"])
	if kv["nat-source-address"] != kv["source-address"] {
		setIP(ev, "source.nat.ip", kv["nat-source-address"])
		setPort(ev, "source.nat.port", kv["nat-source-port"])
	}
	if kv["nat-destination-address"] != kv["destination-address"] {
		setIP(ev, "destination.nat.ip", kv["nat-destination-address"])
		setPort(ev, "destination.nat.port", kv["nat-destination-port"])
	}
	ev.Set("network.transport", ianaProto(kv["protocol-id"]))
	ev.Set("network.application", strings.ToLower(firstNonEmpty(kv["application"], kv["service-name"])))
	ev.Set("rule.name", kv["policy-name"])
	ev.Set("observer.ingress.zone", kv["source-zone-name"])
	ev.Set("observer.egress.zone", kv["destination-zone-name"])
	ev.Set("observer.ingress.interface.name", kv["packet-incoming-interface"])
	ev.Set("event.reason", kv["reason"])
	if u := kv["username"]; u != "N/A" {
		ev.Set("user.name", u)
	}
	ev.Set("juniper.srx.session_id", firstNonEmpty(kv["session-id-32"], kv["session-id"]))
	if session {
		setSessionBytes(ev, kv["bytes-from-client"], kv["bytes-from-server"])
		setSessionPackets(ev, kv["packets-from-client"], kv["packets-from-server"])
		setSessionEnd(ev, kv["elapsed-time"])
	}
}

// srxStandard reads the positional text of an RT_FLOW message. Its field
// list grows with the Junos release, so it is anchored on what does not
// move: the first "a/p->b/p" pair and, for a close, the two
// "packets(bytes)" counters (client then server) with the session id just
// before them and the elapsed seconds just after.
func srxStandard(ev *event.Event, kind, rest string) error {
	rest = strings.TrimLeft(rest, ": ")
	f := strings.Fields(rest)
	flow := -1
	for i, t := range f {
		if srxFlow.MatchString(t) {
			flow = i
			break
		}
	}
	if flow < 0 {
		return fmt.Errorf("juniper-srx: no source/port->destination/port in the %s message", strings.ToLower(kind))
	}
	if kind == "CLOSE" && flow > 2 {
		// "session closed TCP FIN: a/p->b/p": the reason sits between.
		ev.Set("event.reason", strings.TrimSuffix(strings.Join(f[2:flow], " "), ":"))
	}
	m := srxFlow.FindStringSubmatch(f[flow])
	setIP(ev, "source.ip", m[1])
	setPort(ev, "source.port", m[2])
	setIP(ev, "destination.ip", m[3])
	setPort(ev, "destination.port", m[4])
	if flow+1 < len(f) {
		ev.Set("network.application", strings.ToLower(f[flow+1]))
	}
	if kind != "DENY" && flow+2 < len(f) {
		if n := srxFlow.FindStringSubmatch(f[flow+2]); n != nil {
			if n[1] != m[1] {
				setIP(ev, "source.nat.ip", n[1])
				setPort(ev, "source.nat.port", n[2])
			}
			if n[3] != m[3] {
				setIP(ev, "destination.nat.ip", n[3])
				setPort(ev, "destination.nat.port", n[4])
			}
		}
	}
	if kind == "DENY" {
		// "a/p->b/p service proto(icmp-type) policy from-zone to-zone …"
		if flow+2 < len(f) {
			if p := srxPB.FindStringSubmatch(f[flow+2]); p != nil {
				ev.Set("network.transport", ianaProto(p[1]))
			}
		}
		if flow+5 < len(f) {
			ev.Set("rule.name", f[flow+3])
			ev.Set("observer.ingress.zone", f[flow+4])
			ev.Set("observer.egress.zone", f[flow+5])
		}
		return nil
	}
	counters := -1
	for i := flow + 3; i+1 < len(f); i++ {
		if srxPB.MatchString(f[i]) && srxPB.MatchString(f[i+1]) {
			counters = i
			break
		}
	}
	sid := -1
	if kind == "CLOSE" {
		if counters < 0 {
			return fmt.Errorf("juniper-srx: session close without packets(bytes) counters")
		}
		c := srxPB.FindStringSubmatch(f[counters])
		s := srxPB.FindStringSubmatch(f[counters+1])
		setSessionPackets(ev, c[1], s[1])
		setSessionBytes(ev, c[2], s[2])
		if counters+2 < len(f) {
			setSessionEnd(ev, f[counters+2])
		}
		sid = counters - 1
	} else {
		// CREATE: "… proto policy from to session-id …"; the session id is
		// the first all-digit field after the protocol and three names.
		for i := flow + 3; i < len(f); i++ {
			if isDigits(f[i]) && i+4 < len(f) && isDigits(f[i+4]) {
				sid = i + 4
				break
			}
		}
	}
	if sid >= 4 {
		ev.Set("juniper.srx.session_id", f[sid])
		ev.Set("observer.egress.zone", f[sid-1])
		ev.Set("observer.ingress.zone", f[sid-2])
		ev.Set("rule.name", f[sid-3])
		ev.Set("network.transport", ianaProto(f[sid-4]))
	}
	if kind == "CLOSE" && counters+5 < len(f) {
		// After elapsed time: application, nested application, username(roles).
		if u, _, _ := strings.Cut(f[counters+5], "("); u != "N/A" && u != "UNKNOWN" {
			ev.Set("user.name", u)
		}
	}
	return nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// rfc5424Stamp finds the RFC 5424 "1 TIMESTAMP HOST " of the device's own
// header, at the start (after "<PRI>") or behind a syslog server's header.
// lastRFC5424Stamp is the device's own RFC 5424 stamp and host: the last
// before the flow's tag that names its program (RT_FLOW), not a relay's
// header in front ("<13>1 … relay01 - - - - …").
func lastRFC5424Stamp(s string) (stamp, host string, ok bool) {
	end := len(s)
	if loc := srxTag.FindStringIndex(s); loc != nil {
		end = loc[0]
	}
	rest := s[:end]
	for {
		st, h, found := rfc5424Stamp(rest)
		if !found {
			return stamp, host, ok
		}
		rest = rest[strings.Index(rest, st)+len(st):]
		if after := strings.TrimPrefix(rest, " "+h+" "); !strings.HasPrefix(after, "- ") {
			stamp, host, ok = st, h, true
		}
	}
}

func rfc5424Stamp(s string) (stamp, host string, ok bool) {
	for i := 0; i+22 < len(s); i++ {
		j := strings.Index(s[i:], "1 ")
		if j < 0 {
			return "", "", false
		}
		i += j
		if i > 0 && s[i-1] != ' ' && s[i-1] != '>' {
			continue
		}
		t := s[i+2:]
		if len(t) < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[0] < '0' || t[0] > '9' {
			continue
		}
		sp := strings.IndexByte(t, ' ')
		if sp < 0 {
			return "", "", false
		}
		rest := t[sp+1:]
		hp := strings.IndexByte(rest, ' ')
		if hp <= 0 {
			return "", "", false
		}
		return t[:sp], rest[:hp], true
	}
	return "", "", false
}
