package parsers

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// WatchGuard reads WatchGuard Firebox (Fireware) traffic and event logs in
// both forms the Firebox writes: syslog (`FW 80123 (2025-03-14T23:41:02)
// firewall: msg_id="3000-0148" Allow 1-Trusted 0-External 60 tcp 20 64
// 10.0.1.5 203.0.113.8 52000 443 …`) and the log server / Traffic Monitor
// export (`2024-03-29 18:00:54 Allow 10.0.1.2 100.100.100.11 http/tcp 42017
// 80 Trusted External Allowed (HTTP-proxy.1-00) proc_id="firewall" …
// msg_id="3000-0176" … sent_bytes="564" rcvd_bytes="785"`). When the policy
// logs a connection's end it carries duration and bytes per direction. Times
// are the Firebox's local time (WatchGuard's documentation), read in --tz.
type WatchGuard struct{}

func (WatchGuard) Name() string { return "watchguard" }
func (WatchGuard) Description() string {
	return "WatchGuard Firebox (Fireware) traffic and event logs, with bytes per direction when logged"
}

func (WatchGuard) Detect(head []byte) bool { return mostLines(head, WatchGuard{}.matchLine) }

func (WatchGuard) matchLine(l string) bool {
	return strings.Contains(l, `msg_id="`) && (strings.Contains(l, "firewall:") || strings.Contains(l, `proc_id="`) ||
		strings.Contains(l, " Allow ") || strings.Contains(l, " Deny "))
}

func (WatchGuard) NewDecoder(o *Options) LineDecoder {
	return &wgDecoder{clock: o.clock(), loc: o.TZ, dev: newDeviceClock(o, "the Firebox's time after its serial number")}
}

type wgDecoder struct {
	clock syslogClock
	loc   *time.Location
	dev   deviceClock
}

func (d *wgDecoder) Flush(Emit) {}

func (d *wgDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	if !strings.Contains(s, `msg_id="`) {
		return fmt.Errorf("watchguard: no msg_id=")
	}
	ev := event.New()
	body := s
	if len(s) >= 19 && s[4] == '-' && s[10] == ' ' && s[13] == ':' && !isTabbed(s) {
		// Log server / Traffic Monitor form: "2024-03-29 18:00:54 [MemberN] …".
		t, err := time.ParseInLocation("2006-01-02 15:04:05", s[:19], d.loc)
		if err != nil {
			return fmt.Errorf("watchguard: bad time %q", s[:19])
		}
		d.dev.o.zoneRead() // the log server's local time
		ev.Timestamp = t.UTC()
		body = strings.TrimSpace(s[19:])
		// A FireCluster names the member that logged: "Member2", "[Member1]".
		if tok, rest, ok := strings.Cut(body, " "); ok {
			if m := strings.Trim(tok, "[]"); strings.HasPrefix(m, "Member") && isDigits(m[len("Member"):]) && len(m) > len("Member") {
				ev.Set("observer.name", m)
				body = rest
			}
		}
	} else {
		h, err := d.clock.peek(s)
		if err != nil {
			return fmt.Errorf("watchguard: no syslog header and no leading time")
		}
		relay := true
		ev.Timestamp = h.Time
		ev.Set("observer.name", strings.Trim(h.Host, "[]")) // a FireCluster's "[Member1]"
		body = h.Msg
		if h.Program != "" {
			body = h.Program + ": " + h.Msg
		}
		// "801234567890 (2025-03-14T23:41:02) firewall: …": serial and the Firebox's own time.
		if o := strings.Index(body, "("); o >= 0 && o < 40 {
			if c := strings.Index(body[o:], ")"); c > 0 {
				own := body[o+1 : o+c]
				if h.Zoned {
					d.dev.learnISO(own, h.Time)
				}
				if t, err := d.dev.readISO(own); err == nil {
					ev.Timestamp, relay = t, false
					if f := strings.Fields(body[:o]); len(f) > 0 {
						ev.Set("observer.serial_number", f[len(f)-1])
					}
					body = body[o+c+1:]
				}
			}
		}
		if relay {
			d.clock.take(h) // the Firebox's own time did not date it
		}
		if i := strings.Index(body, ": "); i >= 0 && i < 30 && !strings.Contains(body[:i], "=") {
			body = body[i+2:] // the process: "firewall: "
		}
	}
	kv := map[string]string{}
	splitKV(body, func(k, v string) { kv[k] = v })
	ev.Fields[event.FieldDataset] = "watchguard.firebox"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	setFirewall(ev, "WatchGuard", "Firebox")
	for k, v := range kv {
		if v != "" {
			ev.Fields["watchguard."+k] = v
		}
	}
	ev.Set("event.code", kv["msg_id"])
	f := bareTokens(body)
	var ips, ports []string
	proto := ""
	for _, t := range f {
		if len(ips) < 2 {
			if _, err := netip.ParseAddr(t); err == nil && strings.ContainsAny(t, ".:") {
				ips = append(ips, t)
			}
			continue
		}
		// After the two addresses: an optional service/protocol, then the ports.
		if len(ports) < 2 && isDigits(t) {
			ports = append(ports, t)
		} else if len(ports) == 0 && strings.Contains(t, "/") && proto == "" {
			proto = strings.ToLower(t[strings.LastIndexByte(t, '/')+1:])
		}
	}
	for _, t := range f {
		switch p := strings.ToLower(t); p {
		case "tcp", "udp", "icmp", "gre", "esp":
			if proto == "" {
				proto = p
			}
		}
	}
	if len(f) > 0 {
		ev.Set("event.action", strings.ToLower(f[0]))
	}
	if open := strings.LastIndex(body, "("); open >= 0 {
		if c := strings.Index(body[open:], ")"); c > 0 && !strings.Contains(body[open:open+c], "=") {
			ev.Set("rule.name", body[open+1:open+c])
		}
	}
	if len(ips) == 2 {
		setIP(ev, "source.ip", ips[0])
		setIP(ev, "destination.ip", ips[1])
	}
	if len(ports) == 2 {
		setPort(ev, "source.port", ports[0])
		setPort(ev, "destination.port", ports[1])
	}
	setIP(ev, "source.nat.ip", kv["src_ip_nat"])
	setIP(ev, "destination.nat.ip", kv["dst_ip_nat"])
	ev.Set("network.transport", proto)
	// "user@auth-server" (Firebox-DB, an AD domain): the server is the user's domain.
	if u := firstNonEmpty(kv["src_user"], kv["user"]); u != "" {
		name, dom, _ := strings.Cut(u, "@")
		ev.Set("user.name", name)
		ev.Set("user.domain", dom)
	}
	ev.Set("destination.domain", kv["dstname"])
	ev.Fields["event.category"] = []string{"network"}
	switch a := ev.Str("event.action"); {
	case a == "deny" || a == "drop":
		ev.Fields["event.type"] = []string{"connection", "denied"}
		ev.Set("event.outcome", "failure")
	case (kv["sent_bytes"] != "" || kv["rcvd_bytes"] != "") && len(ips) == 2:
		ev.Fields["event.type"] = []string{"connection", "end"}
		ev.Set("event.outcome", "success")
		setSessionBytes(ev, kv["sent_bytes"], kv["rcvd_bytes"])
		setSessionPackets(ev, kv["sent_pkts"], kv["rcvd_pkts"])
		setSessionEnd(ev, kv["duration"])
	case a == "allow":
		ev.Fields["event.type"] = []string{"connection", "start"}
		ev.Set("event.outcome", "success")
	default:
		ev.Fields["event.category"] = []string{"host"}
		ev.Set("message", strings.TrimSpace(body))
	}
	setOutboundDirection(ev)
	emit(ev, linePos(no))
	return nil
}

// bareTokens are the whitespace-separated words of s outside key="value"
// pairs (whose quoted values may hold spaces).
func bareTokens(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		j := i
		for j < len(s) && s[j] != ' ' {
			if s[j] == '=' && j+1 < len(s) && s[j+1] == '"' {
				// a key="value": skip to the closing quote
				k := strings.IndexByte(s[j+2:], '"')
				if k < 0 {
					j = len(s)
				} else {
					j += k + 3
				}
				i = -1 // not bare
				break
			}
			j++
		}
		if i >= 0 && j > i {
			out = append(out, s[i:j])
		}
		if i < 0 {
			for j < len(s) && s[j] != ' ' {
				j++
			}
		}
		i = j
	}
	return out
}
