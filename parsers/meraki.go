package parsers

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Meraki reads Cisco Meraki MX (and MR) syslog: "<134>1 EPOCH.NANOS DEVICE
// TYPE key=value… [pattern: …|request: …|message: …]". Its flows are the
// starts of connections, allowed or denied, without byte counts: the events
// say so (packet_log_no_session_volume). Times are epochs: UTC, no zone to
// guess.
type Meraki struct{}

func (Meraki) Name() string { return "meraki" }
func (Meraki) Description() string {
	return "Cisco Meraki MX/MR syslog (flows, firewall, ip_flow_start/end, urls, events, security_event; no byte counts)"
}

// merakiHeader finds the Meraki part of a line, behind a relay's syslog
// header or none: the version, the epoch, the device and the event type.
var merakiHeader = regexp.MustCompile(`(?:^|[\s>])1 (\d{9,10})(?:\.(\d{1,9}))? (\S+) (flows|firewall|vpn_firewall|cellular_firewall|bridge_anyconnect_client_vpn_firewall|ip_flow_start|ip_flow_end|urls|events|security_event|airmarshal_events|ids-alerts)(?: |$)`)

func (Meraki) Detect(head []byte) bool {
	return mostLines(head, func(l string) bool { return merakiHeader.MatchString(l) })
}

func (Meraki) NewDecoder(*Options) LineDecoder { return merakiDecoder{} }

type merakiDecoder struct{}

func (merakiDecoder) Flush(Emit) {}

// merakiText are the markers after which the rest of a line is free text,
// the first found.
var merakiText = []string{"pattern:", "request:", "message:"}

func (merakiDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	m := merakiHeader.FindStringSubmatchIndex(s)
	if m == nil {
		return fmt.Errorf("meraki: no \"1 EPOCH DEVICE TYPE\" header")
	}
	sec, _ := strconv.ParseInt(s[m[2]:m[3]], 10, 64)
	var nsec int64
	if m[4] >= 0 {
		frac := s[m[4]:m[5]]
		nsec, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	}
	device, typ, rest := s[m[6]:m[7]], s[m[8]:m[9]], strings.TrimSpace(s[m[1]:])
	ev := event.New()
	ev.Timestamp = time.Unix(sec, nsec).UTC()
	ev.Fields[event.FieldDataset] = "cisco_meraki.log"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	setFirewall(ev, "Cisco", "Meraki")
	// No Meraki event counts bytes: the report must not take this log for
	// one that measures what left.
	ev.Fields["tags"] = []string{"packet_log_no_session_volume"}
	ev.Set("observer.name", device)
	ev.Set("cisco_meraki.event_type", typ)

	// An operation word may come first ("flows allow src=…"), free text
	// last ("pattern: allow all", "request: GET https://…"); values may be
	// single-quoted with spaces inside (agent='Mozilla/5.0 (Windows…)').
	pairs, marker, text := rest, "", ""
	at := -1
	for _, mk := range merakiText {
		// In the padded line, the space before the marker sits where the
		// marker starts in rest.
		if i := strings.Index(" "+rest+" ", " "+mk+" "); i >= 0 && (at < 0 || i < at) {
			at, marker = i, mk
		}
	}
	if marker != "" {
		pairs, text = rest[:at], strings.TrimSpace(rest[at+len(marker):])
	}
	var op string
	if first, after, _ := strings.Cut(pairs, " "); first != "" && !strings.Contains(first, "=") {
		op, pairs = first, after
	}
	kv := map[string]string{}
	splitKVQuoted(pairs, true, func(k, v string) { kv[k] = v })
	for k, v := range kv {
		switch k {
		case "src", "dst", "mac", "protocol", "sport", "dport", "translated_src_ip", "translated_dst_ip", "translated_port":
		default:
			ev.Set("cisco_meraki."+k, v)
		}
	}
	merakiEndpoint(ev, "source", kv["src"], kv["sport"])
	merakiEndpoint(ev, "destination", kv["dst"], kv["dport"])
	setMAC(ev, "source.mac", kv["mac"])
	if p := kv["protocol"]; p != "" {
		ev.Set("network.transport", ianaProto(strings.TrimSuffix(strings.ToLower(p), "/ip")))
	}
	switch typ {
	case "flows", "firewall", "vpn_firewall", "cellular_firewall", "bridge_anyconnect_client_vpn_firewall", "ip_flow_start", "ip_flow_end":
		ev.Fields["event.category"] = []string{"network"}
		ev.Fields["event.type"] = []string{"connection", "start"}
		if marker == "pattern:" {
			ev.Set("rule.name", text)
		}
		decision := strings.ToLower(op)
		if decision == "" && marker == "pattern:" {
			decision = strings.ToLower(strings.TrimPrefix(text, "Group Policy "))
		}
		switch {
		case typ == "ip_flow_start":
			ev.Set("event.action", "flow-start")
		case typ == "ip_flow_end":
			ev.Set("event.action", "flow-end")
			ev.Fields["event.type"] = []string{"connection", "end"}
		case strings.HasPrefix(decision, "allow"):
			ev.Set("event.action", "flow-allowed")
			ev.Set("event.outcome", "success")
		case strings.HasPrefix(decision, "deny"):
			ev.Set("event.action", "flow-denied")
			ev.Set("event.outcome", "failure")
			ev.Fields["event.type"] = []string{"connection", "denied"}
		default:
			ev.Set("event.action", "flow-started") // "pattern: 1 all": the session was initiated
		}
		if ip := kv["translated_src_ip"]; ip != "" {
			setIP(ev, "source.nat.ip", ip)
			setPort(ev, "source.nat.port", kv["translated_port"])
		}
		if ip := kv["translated_dst_ip"]; ip != "" {
			setIP(ev, "destination.nat.ip", ip)
			setPort(ev, "destination.nat.port", kv["translated_port"])
		}
		setOutboundDirection(ev)
	case "urls":
		ev.Fields["event.category"] = []string{"network", "web"}
		ev.Set("event.action", "http-request")
		if method, u, ok := strings.Cut(text, " "); ok && marker == "request:" {
			ev.Set("http.request.method", method)
			ev.Set("url.original", u)
			if pu, err := url.Parse(u); err == nil && pu.Hostname() != "" {
				ev.Set("url.domain", pu.Hostname())
				ev.Set("destination.domain", pu.Hostname())
			}
		}
		setOutboundDirection(ev)
	default:
		ev.Set("event.action", typ)
		ev.Set("cisco_meraki.event_subtype", op)
		ev.Set("message", firstNonEmpty(text, rest))
	}
	emit(ev, linePos(no))
	return nil
}

// merakiEndpoint stores an address given alone, as "a.b.c.d:port" or as
// "[v6]:port", with its port from a separate key when there is one.
func merakiEndpoint(ev *event.Event, side, addr, port string) {
	if addr == "" {
		return
	}
	if ap, ok := endpoint(addr); ok {
		addr, port = ap.Addr().String(), strconv.Itoa(int(ap.Port()))
	}
	setIP(ev, side+".ip", addr)
	setPort(ev, side+".port", port)
}
