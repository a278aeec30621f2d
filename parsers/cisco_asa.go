package parsers

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// CiscoASA reads Cisco ASA and Firepower Threat Defense syslog
// (%ASA-n-NNNNNN / %FTD-n-NNNNNN): connections built and torn down with
// duration and bytes, denies, NAT, AAA and VPN sessions, FTD connection
// events. A teardown's byte count covers both directions of the connection:
// it is network.bytes, never split into sent and received.
type CiscoASA struct{}

func (CiscoASA) Name() string        { return "cisco-asa" }
func (CiscoASA) Description() string { return "Cisco ASA / FTD syslog (%ASA-n-NNNNNN, %FTD-n-NNNNNN)" }

// NGIPS: what Firepower Management Center and older FTD name their
// connection events.
var asaTag = regexp.MustCompile(`%(ASA|FTD|FWSM|PIX|NGIPS)-(?:[A-Za-z]+-)?(\d)-(\d{6}):?\s*`)

func (CiscoASA) Detect(head []byte) bool {
	return mostLines(head, CiscoASA{}.matchLine)
}

func (CiscoASA) matchLine(l string) bool { return asaTag.MatchString(l) }

func (CiscoASA) NewDecoder(o *Options) LineDecoder {
	return &asaDecoder{clock: o.clock(), o: o}
}

type asaDecoder struct {
	clock syslogClock
	o     *Options
	// outbound remembers, per connection id, whether its Built message said
	// "outbound" (the second address initiated), so that its Teardown — which
	// does not repeat the direction — puts the initiator in source.
	outbound map[string]bool
}

// asaMaxOpen bounds the connections remembered between Built and Teardown.
const asaMaxOpen = 1 << 20

func (d *asaDecoder) Flush(Emit) {}

var (
	// iface:ip/port (mapped ip/port) — the address part of most messages.
	asaEnd       = `(?:(\S+?):)?([0-9A-Fa-f.:]+)/(\d+)(?:\s*\(([0-9A-Fa-f.:]+)/(\d+)\))?`
	asaBuilt     = regexp.MustCompile(`^Built (inbound|outbound) (TCP|UDP|SCTP|GRE|ICMP) connection (\d+) for ` + asaEnd + `.*? to ` + asaEnd)
	asaTeardown  = regexp.MustCompile(`^Teardown (TCP|UDP|SCTP|GRE) connection (\d+) for ` + asaEnd + ` to ` + asaEnd + ` duration (\d+):(\d+):(\d+) bytes (\d+)\s*(.*)$`)
	asaICMP      = regexp.MustCompile(`^(Built|Teardown) (inbound|outbound)?\s*ICMP connection for faddr ([0-9A-Fa-f.:]+)/\d+(?:\(\S*\))? gaddr ([0-9A-Fa-f.:]+)/\d+ laddr ([0-9A-Fa-f.:]+)`)
	asaDenyFrom  = regexp.MustCompile(`(?i)^(?:Inbound TCP connection denied|Deny inbound (?:UDP|TCP|icmp)?|Deny (tcp|udp|icmp)|access-list \S+ denied (tcp|udp|icmp)|(?:TCP|UDP) access denied by ACL)\D*?(?:from |src )?` + asaEnd + `.*? (?:to|dst) ` + asaEnd)
	asaNAT       = regexp.MustCompile(`^(Built|Teardown) (dynamic|static) (TCP|UDP|ICMP) translation from ` + asaEnd + ` to ` + asaEnd)
	asaAAA       = regexp.MustCompile(`AAA user (authentication|authorization) (Successful|Rejected).*?server\s*=\s*([0-9A-Fa-f.:]+)\s*:\s*user\s*=\s*(\S+)`)
	asaGroupUser = regexp.MustCompile(`Group\s*[=<]\s*([^>,]+)>?\s*,?\s*User(?:name)?\s*[=<]\s*([^>,]+)>?\s*,?\s*IP\s*[=<]\s*([0-9A-Fa-f.:]+)`)
	asaAssigned  = regexp.MustCompile(`IPv4 Address <([0-9.]+)>`)
	asaDuration  = regexp.MustCompile(`Duration:\s*(\d+)h:(\d+)m:(\d+)s`)
	asaBytesXmt  = regexp.MustCompile(`Bytes xmt:\s*(\d+),\s*Bytes rcv:\s*(\d+)`)
	asaFTDkv     = regexp.MustCompile(`(\w+):\s*([^,]*)`)
	asaOwnStamp  = regexp.MustCompile(`(?:^|[\s>])([A-Z][a-z]{2}) +(\d{1,2}) (\d{4}) (\d\d:\d\d:\d\d)(?:\.\d+)?:?(?: +([^\s:]+):?)? *$`)
	asaACL       = regexp.MustCompile(`access-list (\S+) (permitted|denied|est-allowed) (\w+) ([^/\s]+)/(\S+?)\((\d+)\)(?:\([^)]*\))? -> ([^/\s]+)/(\S+?)\((\d+)\)`)
)

func (d *asaDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	loc := asaTag.FindStringSubmatchIndex(s)
	if loc == nil {
		return fmt.Errorf("cisco-asa: no %%ASA-/%%FTD- tag")
	}
	ev := event.New()
	// The ASA's own "logging timestamp" names its year: "Mar 14 2025
	// 23:05:01: %ASA-…", "<166>Apr 27 2020 02:03:03 fw01: %ASA-…", also
	// behind a relay's header, which it then dates before.
	h, herr := d.clock.peek(s[:loc[0]] + " x")
	// Only a prefix the header did not read whole can hold that stamp.
	if herr != nil || strings.TrimSpace(h.Msg) != "x" {
		if m := asaOwnStamp.FindStringSubmatch(s[:loc[0]]); m != nil {
			if t, err := time.ParseInLocation("Jan 2 2006 15:04:05", m[1]+" "+m[2]+" "+m[3]+" "+m[4], d.clock.Loc); err == nil {
				ev.Timestamp = t.UTC()
				d.o.zoneRead() // the ASA's logging timestamp names no zone
				herr = errNoSyslog
				if m[5] != "" {
					ev.Set("observer.name", m[5])
				}
			}
		}
	}
	if herr == nil {
		ev.Timestamp = h.Time
		ev.Set("observer.name", h.Host)
	}
	kind, level, id := s[loc[2]:loc[3]], s[loc[4]:loc[5]], s[loc[6]:loc[7]]
	msg := s[loc[1]:]
	if kind == "NGIPS" {
		kind = "FTD"
	}
	ev.Fields[event.FieldDataset] = "cisco." + strings.ToLower(kind)
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Fields["observer.type"] = "firewall"
	ev.Set("observer.vendor", "Cisco")
	ev.Set("observer.product", kind)
	ev.Set("event.code", id)
	ev.Set("log.level", level)
	ev.Set("message", msg)
	ev.Fields["event.category"] = []string{"network"}
	endpoints := func(m []string, i int, side string) {
		ev.Set(asaZoneField(side), m[i])
		setIP(ev, side+".ip", m[i+1])
		setPort(ev, side+".port", m[i+2])
		if m[i+3] != "" && (m[i+3] != m[i+1] || m[i+4] != m[i+2]) {
			setIP(ev, side+".nat.ip", m[i+3])
			setPort(ev, side+".nat.port", m[i+4])
		}
	}
	var m []string // the submatches of the case that matched
	keyed := false // an event of "Key: value" pairs, read whole
	find := func(re *regexp.Regexp) bool {
		m = re.FindStringSubmatch(msg)
		return m != nil
	}
	switch {
	case (id == "302013" || id == "302015") && find(asaBuilt):
		ev.Set("event.action", "connection-built")
		ev.Set("network.transport", strings.ToLower(m[2]))
		ev.Set("cisco.connection_id", m[3])
		ev.Fields["event.type"] = []string{"connection", "start"}
		if d.outbound == nil {
			d.outbound = map[string]bool{}
		}
		if len(d.outbound) < asaMaxOpen {
			d.outbound[m[3]] = m[1] == "outbound"
		}
		// "outbound": the second address initiated; keep source = initiator.
		if m[1] == "outbound" {
			endpoints(m, 9, "source")
			endpoints(m, 4, "destination")
			ev.Set("network.direction", "outbound")
		} else {
			endpoints(m, 4, "source")
			endpoints(m, 9, "destination")
			ev.Set("network.direction", "inbound")
		}
	case (id == "302014" || id == "302016") && find(asaTeardown):
		ev.Set("event.action", "connection-teardown")
		ev.Set("network.transport", strings.ToLower(m[1]))
		ev.Set("cisco.connection_id", m[2])
		out, known := d.outbound[m[2]]
		delete(d.outbound, m[2])
		switch {
		case known && out:
			endpoints(m, 8, "source")
			endpoints(m, 3, "destination")
			ev.Set("network.direction", "outbound")
		case known:
			endpoints(m, 3, "source")
			endpoints(m, 8, "destination")
			ev.Set("network.direction", "inbound")
		default:
			// Built not in the log: the order is the ASA's (lower security
			// level first), which does not say who initiated.
			endpoints(m, 3, "source")
			endpoints(m, 8, "destination")
		}
		hh, _ := strconv.Atoi(m[13])
		mm, _ := strconv.Atoi(m[14])
		ss, _ := strconv.Atoi(m[15])
		dur := time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute + time.Duration(ss)*time.Second
		ev.SetInt("event.duration", int64(dur))
		if !ev.Timestamp.IsZero() {
			ev.Fields["event.start"] = ev.Timestamp.Add(-dur).Format(time.RFC3339Nano)
		}
		if n, err := strconv.ParseInt(m[16], 10, 64); err == nil {
			ev.SetInt("network.bytes", n) // both directions together
		}
		ev.Set("event.reason", strings.TrimSpace(m[17]))
		ev.Fields["event.type"] = []string{"connection", "end"}
		ev.Fields["tags"] = []string{"bytes_not_per_direction"}
	case (id == "302020" || id == "302021") && find(asaICMP):
		ev.Set("event.action", strings.ToLower(m[1])+"-icmp")
		ev.Set("network.transport", "icmp")
		// faddr is the foreign address, laddr the local one: "outbound"
		// means the local side initiated.
		if m[2] == "outbound" {
			setIP(ev, "source.ip", m[5])
			setIP(ev, "destination.ip", m[3])
			ev.Set("network.direction", "outbound")
		} else {
			setIP(ev, "source.ip", m[3])
			setIP(ev, "destination.ip", m[5])
			if m[2] == "inbound" {
				ev.Set("network.direction", "inbound")
			}
		}
		if m[4] != m[5] {
			setIP(ev, "destination.nat.ip", m[4])
		}
	case id == "106100" && find(asaACL):
		// "access-list NAME permitted tcp iface/addr(port) -> iface/addr(port) hit-cnt …"
		ev.Set("rule.name", m[1])
		ev.Set("network.transport", strings.ToLower(m[3]))
		asaACLEnd(ev, "source", m[4], m[5], m[6])
		asaACLEnd(ev, "destination", m[7], m[8], m[9])
		if m[2] == "denied" {
			ev.Set("event.action", "deny")
			ev.Set("event.outcome", "failure")
			ev.Fields["event.type"] = []string{"connection", "denied"}
		} else {
			ev.Set("event.action", "permit")
			ev.Set("event.outcome", "success")
			ev.Fields["event.type"] = []string{"connection", "allowed"}
		}
	case id == "106001" || id == "106006" || id == "106015" || id == "106023" || id == "106100" || id == "710003" || id == "106014":
		ev.Set("event.action", "deny")
		ev.Set("event.outcome", "failure")
		ev.Fields["event.type"] = []string{"connection", "denied"}
		if id == "106100" && strings.Contains(msg, " permitted ") {
			ev.Set("event.action", "permit")
			ev.Set("event.outcome", "success")
		}
		if m := asaDenyFrom.FindStringSubmatch(msg); m != nil {
			if p := strings.ToLower(firstNonEmpty(m[1], m[2])); p != "" {
				ev.Set("network.transport", p)
			}
			endpoints(m, 3, "source")
			endpoints(m, 8, "destination")
		}
		if t := strings.Fields(msg); len(t) > 1 {
			for _, p := range []string{"TCP", "UDP", "tcp", "udp", "icmp"} {
				if strings.Contains(msg, " "+p+" ") && ev.Str("network.transport") == "" {
					ev.Set("network.transport", strings.ToLower(p))
				}
			}
		}
	case (id == "305011" || id == "305012") && find(asaNAT):
		ev.Set("event.action", strings.ToLower(m[1])+"-translation")
		ev.Set("network.transport", strings.ToLower(m[3]))
		endpoints(m, 4, "source")
		setIP(ev, "source.nat.ip", m[10])
		setPort(ev, "source.nat.port", m[11])
	case find(asaAAA):
		ev.Fields["event.category"] = []string{"authentication"}
		ev.Set("event.action", "aaa-"+strings.ToLower(m[1]))
		ev.Set("event.outcome", map[string]string{"Successful": "success", "Rejected": "failure"}[m[2]])
		setIP(ev, "destination.ip", m[3])
		ev.Set("user.name", m[4])
	case find(asaGroupUser):
		// 113019, 722022/722023/722037/722051, 716001/716002: VPN sessions.
		ev.Fields["event.category"] = []string{"authentication", "network"}
		ev.Set("cisco.vpn.group", strings.TrimSpace(m[1]))
		ev.Set("user.name", strings.TrimSpace(m[2]))
		setIP(ev, "source.ip", m[3])
		if a := asaAssigned.FindStringSubmatch(msg); a != nil {
			setIP(ev, "cisco.vpn.assigned_ip", a[1])
		}
		if b := asaBytesXmt.FindStringSubmatch(msg); b != nil {
			// 113019: bytes the ASA transmitted to / received from the client.
			x, _ := strconv.ParseInt(b[1], 10, 64)
			r, _ := strconv.ParseInt(b[2], 10, 64)
			ev.SetInt("destination.bytes", x)
			ev.SetInt("source.bytes", r)
		}
		if du := asaDuration.FindStringSubmatch(msg); du != nil {
			h, _ := strconv.Atoi(du[1])
			mi, _ := strconv.Atoi(du[2])
			se, _ := strconv.Atoi(du[3])
			ev.SetInt("event.duration", int64(time.Duration(h)*time.Hour+time.Duration(mi)*time.Minute+time.Duration(se)*time.Second))
		}
		switch id {
		case "113019", "716002", "722023", "722037":
			ev.Set("event.action", "vpn-session-end")
		case "722022", "722051", "716001":
			ev.Set("event.action", "vpn-session-start")
			ev.Set("event.outcome", "success")
		}
	case (id == "430002" || id == "430003") && strings.Contains(msg, "IP: "):
		asaConnectionEvent(ev, id, msg)
		keyed = true
	default:
		ev.Set("event.action", "asa-"+id)
	}
	// Every other message id that names addresses, users, URLs or bytes
	// (Cisco's catalogue has hundreds) is read by the wording they share;
	// a keyed event says what it means ("User: No Authentication Required").
	if !keyed {
		asaGeneric(ev, msg)
	}
	if herr == nil && ev.Timestamp.Equal(h.Time) {
		d.clock.take(h) // the header dated the line
	}
	emit(ev, linePos(no))
	return nil
}

// asaACLEnd sets one side of an access-list hit: the address may be a host
// name (object names resolved by the ASA).
func asaACLEnd(ev *event.Event, side, iface, addr, port string) {
	if _, err := netip.ParseAddr(addr); err == nil {
		setIP(ev, side+".ip", addr)
	} else {
		ev.Set(side+".domain", addr)
	}
	setPort(ev, side+".port", port)
	ev.Set(asaZoneField(side), iface)
}

// asaZoneField names the zone field of a side: the interface the traffic
// came in by is the source's.
func asaZoneField(side string) string {
	if side == "source" {
		return "observer.ingress.zone"
	}
	return "observer.egress.zone"
}

// asaConnectionEvent reads a Firepower connection event ("Key: value, …"):
// 430002 when a connection begins, 430003 when it ends. FTD 6.x names the
// ends SrcIP/DstIP, later versions InitiatorIP/ResponderIP. Only the end
// event's byte counts are the connection's (the beginning's are its first
// packets), so only they go to source.bytes; FirstPacketSecond, UTC with
// its year, dates the connection where a classic header names neither.
func asaConnectionEvent(ev *event.Event, id, msg string) {
	kv := map[string]string{}
	for _, m := range asaFTDkv.FindAllStringSubmatch(msg, -1) {
		kv[m[1]] = strings.TrimSpace(m[2])
	}
	setIP(ev, "source.ip", firstNonEmpty(kv["InitiatorIP"], kv["SrcIP"]))
	setIP(ev, "destination.ip", firstNonEmpty(kv["ResponderIP"], kv["DstIP"]))
	setPort(ev, "source.port", firstNonEmpty(kv["InitiatorPort"], kv["SrcPort"]))
	setPort(ev, "destination.port", firstNonEmpty(kv["ResponderPort"], kv["DstPort"]))
	ev.Set("network.transport", strings.ToLower(kv["Protocol"]))
	ev.Set("event.action", strings.ToLower(kv["AccessControlRuleAction"]))
	ev.Set("rule.name", kv["AccessControlRuleName"])
	if u := kv["User"]; !strings.HasPrefix(u, "No Authentication") && !strings.EqualFold(u, "Unknown") {
		ev.Set("user.name", u)
	}
	ev.Set("url.original", kv["URL"])
	ev.Set("network.application", kv["ApplicationProtocol"])
	ev.Fields["event.type"] = []string{"connection", "start"}
	if id == "430003" {
		ev.Fields["event.type"] = []string{"connection", "end"}
		for _, c := range [...]struct{ ecs, key string }{{"source.bytes", "InitiatorBytes"}, {"destination.bytes", "ResponderBytes"}} {
			if n, err := strconv.ParseInt(kv[c.key], 10, 64); err == nil {
				ev.SetInt(c.ecs, n)
			}
		}
	}
	if first, err := time.Parse(time.RFC3339, kv["FirstPacketSecond"]); err == nil {
		ev.Fields["event.start"] = first.UTC().Format(time.RFC3339Nano)
		end := first
		if secs, err := strconv.ParseInt(kv["ConnectionDuration"], 10, 64); err == nil && id == "430003" {
			end = first.Add(time.Duration(secs) * time.Second)
			ev.Fields["event.end"] = end.UTC().Format(time.RFC3339Nano)
		}
		ev.Timestamp = end.UTC()
	}
	for k, v := range kv {
		ev.Fields["cisco.ftd."+strings.ToLower(k)] = v
	}
}
