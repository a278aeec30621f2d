package parsers

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// Zyxel reads the syslog of Zyxel firewalls (ZyWALL/USG, USG FLEX, ATP,
// VPN series) in their default key="value" form: `<142>May 22 17:24:03
// 2026 usgflex700h src="192.168.0.61:53090" dst="160.79.104.10:443"
// msg="Traffic Log" note="" user="admin" devID="f44d5c94f517" cat="Traffic
// Log" … sent=930790 rcvd=35808 dir=P5-Phones:P2-Telmex2 protoID=6
// proto=https`. A "Traffic Log" record closes a session with the bytes its
// initiator sent and received and (older firmware) its duration; "Security
// Policy Control" records say what a policy allowed or blocked. Quotes
// around values vary with the firmware and are read either way. Times are
// the appliance's local time (with the year after the time on recent
// firmware), read in --tz.
type Zyxel struct{}

func (Zyxel) Name() string { return "zyxel" }
func (Zyxel) Description() string {
	return "Zyxel ZyWALL/USG/USG FLEX/ATP firewall syslog (traffic logs with bytes per direction, policy allow/block, VPN, logins)"
}

func (Zyxel) Detect(head []byte) bool { return mostLines(head, Zyxel{}.matchLine) }

func (Zyxel) matchLine(l string) bool {
	return strings.Contains(l, ` devID=`) && strings.Contains(l, ` cat=`) && strings.Contains(l, `msg=`)
}

func (Zyxel) NewDecoder(o *Options) LineDecoder {
	return &zyxelDecoder{clock: o.clock()}
}

type zyxelDecoder struct{ clock syslogClock }

func (d *zyxelDecoder) Flush(Emit) {}

// zyxelTransports are the IP protocol numbers of protoID.
var zyxelTransports = map[string]string{"1": "icmp", "6": "tcp", "17": "udp", "47": "gre", "50": "esp", "58": "ipv6-icmp"}

func (d *zyxelDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	h, err := d.clock.parse(s)
	if err != nil {
		return fmt.Errorf("zyxel: no syslog header")
	}
	body := h.Msg
	if h.Program != "" {
		body = h.Program + ": " + h.Msg
	}
	start := strings.Index(body, "src=")
	if start < 0 {
		start = strings.Index(body, "msg=")
	}
	if start < 0 || !strings.Contains(body, "devID=") {
		return fmt.Errorf("zyxel: no src=, msg= or devID=")
	}
	kv := map[string]string{}
	splitKVQuoted(body[start:], false, func(k, v string) { kv[k] = v })
	ev := event.New()
	ev.Timestamp = h.Time
	ev.Fields[event.FieldDataset] = "zyxel.firewall"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	setFirewall(ev, "Zyxel", "ZyWALL/USG")
	ev.Set("observer.name", h.Host)
	for k, v := range kv {
		if v != "" {
			ev.Fields["zyxel."+k] = v
		}
	}
	ev.Set("message", kv["msg"])
	zyxelEndpoint(ev, "source", kv["src"])
	zyxelEndpoint(ev, "destination", kv["dst"])
	setIP(ev, "source.nat.ip", kv["sourceTranslatedAddress"])
	setPort(ev, "source.nat.port", kv["sourceTranslatedPort"])
	setIP(ev, "destination.nat.ip", kv["destinationTranslatedAddress"])
	setPort(ev, "destination.nat.port", kv["destinationTranslatedPort"])
	setMAC(ev, "source.mac", firstNonEmpty(kv["mac"], kv["client_mac"]))
	if u := firstNonEmpty(kv["user"], kv["suser"]); u != "" && !strings.EqualFold(u, "unknown") {
		ev.Set("user.name", u)
	}
	if in, out, ok := strings.Cut(kv["dir"], ":"); ok {
		ev.Set("observer.ingress.interface.name", in)
		ev.Set("observer.egress.interface.name", out)
	}
	ev.Set("network.transport", zyxelTransports[kv["protoID"]])
	if p := strings.ToLower(kv["proto"]); p != "" && p != "others" {
		ev.Set("network.protocol", p)
	}
	cat, note, action, msg := strings.ToLower(kv["cat"]), strings.ToUpper(kv["note"]), strings.ToLower(kv["action"]), strings.ToUpper(kv["msg"])
	blocked := strings.Contains(note, "BLOCK") || strings.Contains(note, "DENY") || action == "drop" || action == "block" || action == "deny" ||
		strings.Contains(msg, " DROP") || strings.Contains(msg, " BLOCK")
	switch {
	case cat == "traffic log":
		ev.Fields["event.category"] = []string{"network"}
		ev.Fields["event.type"] = []string{"connection", "end"}
		ev.Set("event.action", "session-closed")
		setSessionBytes(ev, kv["sent"], kv["rcvd"])
		setSessionEnd(ev, kv["duration"])
	case strings.Contains(cat, "policy") || strings.Contains(cat, "firewall") || cat == "sessions limit":
		ev.Fields["event.category"] = []string{"network"}
		ev.Fields["event.type"] = []string{"connection"}
		if blocked {
			ev.Set("event.action", "connection-blocked")
			ev.Set("event.outcome", "failure")
			ev.Fields["event.type"] = []string{"connection", "denied"}
		} else {
			ev.Set("event.action", "connection-allowed")
			ev.Fields["event.type"] = []string{"connection", "allowed"}
		}
	case strings.Contains(cat, "vpn"):
		ev.Fields["event.category"] = []string{"network"}
		ev.Set("event.action", "vpn")
	case cat == "user" || strings.Contains(cat, "auth") || strings.Contains(strings.ToLower(kv["msg"]), "login"):
		ev.Fields["event.category"] = []string{"authentication"}
		if lm := strings.ToLower(kv["msg"]); strings.Contains(lm, "fail") || strings.Contains(lm, "locked") || blocked {
			ev.Set("event.outcome", "failure")
		} else if strings.Contains(lm, "login") || strings.Contains(lm, "logged in") {
			ev.Set("event.outcome", "success")
		}
	default:
		ev.Fields["event.category"] = []string{"network"}
		if blocked {
			ev.Set("event.outcome", "failure")
		}
	}
	setOutboundDirection(ev)
	emit(ev, linePos(no))
	return nil
}

// zyxelEndpoint reads "192.168.0.61:53090", "[2001:db8::1]:443", a bare
// address, or "0.0.0.0" for none.
func zyxelEndpoint(ev *event.Event, side, v string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return
	}
	if ap, err := netip.ParseAddrPort(v); err == nil {
		setIP(ev, side+".ip", ap.Addr().String())
		ev.SetInt(side+".port", int64(ap.Port()))
		return
	}
	setIP(ev, side+".ip", v)
}
