package parsers

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// WatchGuard reads WatchGuard Firebox (Fireware) traffic logs:
// `msg_id="3000-0148" Allow 1-Trusted 0-External 60 tcp 20 64 10.0.1.5
// 203.0.113.8 52000 443 … (Outgoing-00)` followed, when the policy logs
// the connection's end, by key="value" fields such as duration, sent_bytes
// and rcvd_bytes (bytes per direction) and src_user.
type WatchGuard struct{}

func (WatchGuard) Name() string { return "watchguard" }
func (WatchGuard) Description() string {
	return "WatchGuard Firebox (Fireware) traffic and event logs, with bytes per direction when logged"
}

func (WatchGuard) Detect(head []byte) bool { return mostLines(head, WatchGuard{}.matchLine) }

func (WatchGuard) matchLine(l string) bool {
	i := strings.Index(l, `msg_id="`)
	return i >= 0 && len(l) > i+17 && l[i+12] == '-' && strings.Contains(l[:i], ":")
}

func (WatchGuard) NewDecoder(o *Options) LineDecoder {
	return &wgDecoder{clock: syslogClock{Year: o.Year, Loc: o.TZ}, loc: o.TZ}
}

type wgDecoder struct {
	clock syslogClock
	loc   *time.Location
}

func (d *wgDecoder) Flush(Emit) {}

func (d *wgDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	i := strings.Index(s, `msg_id="`)
	if i < 0 {
		return fmt.Errorf("watchguard: no msg_id=")
	}
	ev := event.New()
	head := strings.TrimSpace(s[:i])
	if h, err := d.clock.parse(head + " x"); err == nil {
		ev.Timestamp = h.Time
		ev.Set("observer.name", h.Host)
	}
	// Fireware puts its own time in parentheses before the process name:
	// "FW-HQ 801234567890 (2025-03-14T22:41:02) firewall:".
	if o := strings.LastIndex(head, "("); o >= 0 {
		if c := strings.Index(head[o:], ")"); c > 0 {
			if t, err := parseISO(head[o+1:o+c], d.loc); err == nil {
				ev.Timestamp = t
			}
			if f := strings.Fields(head[:o]); len(f) > 0 {
				ev.Set("observer.serial_number", f[len(f)-1])
			}
		}
	}
	if ev.Timestamp.IsZero() {
		return fmt.Errorf("watchguard: no time before msg_id")
	}
	rest := s[i+len(`msg_id="`):]
	id, rest, _ := strings.Cut(rest, `"`)
	ev.Fields[event.FieldDataset] = "watchguard.firebox"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	setFirewall(ev, "WatchGuard", "Firebox")
	ev.Set("event.code", id)
	// The positional part ends where key="value" pairs begin.
	pos := rest
	if k := strings.Index(rest, `="`); k >= 0 {
		if sp := strings.LastIndexByte(rest[:k], ' '); sp >= 0 {
			pos = rest[:sp]
		}
	}
	kv := map[string]string{}
	splitKV(rest[len(pos):], func(k, v string) { kv[k] = v })
	for k, v := range kv {
		if v != "" {
			ev.Fields["watchguard."+k] = v
		}
	}
	f := strings.Fields(pos)
	var ips []string
	var ports []string
	proto := ""
	for j, t := range f {
		if _, err := netip.ParseAddr(t); err == nil && strings.ContainsAny(t, ".:") {
			ips = append(ips, t)
			// Ports follow the two addresses.
			if len(ips) == 2 && j+2 < len(f) && isDigits(f[j+1]) && isDigits(f[j+2]) {
				ports = []string{f[j+1], f[j+2]}
			}
			continue
		}
		switch strings.ToLower(t) {
		case "tcp", "udp", "icmp", "gre", "esp", "ipv6-icmp":
			if proto == "" {
				proto = strings.ToLower(t)
			}
		}
	}
	if len(f) > 0 {
		ev.Set("event.action", strings.ToLower(f[0]))
	}
	if len(f) > 2 && strings.Contains(f[1], "-") && strings.Contains(f[2], "-") {
		ev.Set("observer.ingress.interface.name", f[1])
		ev.Set("observer.egress.interface.name", f[2])
	}
	if open := strings.LastIndex(pos, "("); open >= 0 && strings.HasSuffix(strings.TrimSpace(pos), ")") {
		ev.Set("rule.name", strings.TrimSuffix(strings.TrimSpace(pos[open+1:]), ")"))
	}
	if len(ips) >= 2 {
		setIP(ev, "source.ip", ips[0])
		setIP(ev, "destination.ip", ips[1])
	}
	if ports != nil {
		setPort(ev, "source.port", ports[0])
		setPort(ev, "destination.port", ports[1])
	}
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
	case kv["sent_bytes"] != "" || kv["rcvd_bytes"] != "":
		ev.Fields["event.type"] = []string{"connection", "end"}
		ev.Set("event.outcome", "success")
		setSessionBytes(ev, kv["sent_bytes"], kv["rcvd_bytes"])
		setSessionEnd(ev, kv["duration"])
	case a == "allow":
		ev.Fields["event.type"] = []string{"connection", "start"}
		ev.Set("event.outcome", "success")
	default:
		ev.Fields["event.category"] = []string{"host"}
		ev.Set("message", strings.TrimSpace(pos))
	}
	setOutboundDirection(ev)
	emit(ev, linePos(no))
	return nil
}
