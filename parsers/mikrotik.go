package parsers

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// MikroTik reads RouterOS firewall log lines ("firewall,info [prefix]
// forward: in:ether2 out:ether1, src-mac …, proto TCP (SYN),
// 10.0.0.5:52000->203.0.113.8:443, NAT (…)->…, len 60"). They describe
// packets, not sessions: the length is no volume, and the events say so.
type MikroTik struct{}

func (MikroTik) Name() string { return "mikrotik" }
func (MikroTik) Description() string {
	return "MikroTik RouterOS firewall log lines (packets, not sessions)"
}

func (MikroTik) Detect(head []byte) bool { return mostLines(head, MikroTik{}.matchLine) }

func (MikroTik) matchLine(l string) bool {
	return strings.Contains(l, " in:") && strings.Contains(l, " out:") && strings.Contains(l, "proto ") && strings.Contains(l, "->")
}

func (MikroTik) NewDecoder(o *Options) LineDecoder {
	return &mikrotikDecoder{clock: o.clock()}
}

type mikrotikDecoder struct{ clock syslogClock }

func (d *mikrotikDecoder) Flush(Emit) {}

var (
	mtChain = regexp.MustCompile(`(?:^|\s)(?:(\S+)\s+)?(input|forward|output|prerouting|postrouting|srcnat|dstnat|[\w-]+):\s+in:(\S*)\s+out:([^,]*),`)
	mtFlow  = regexp.MustCompile(`proto ([A-Za-z0-9-]+)(?: \(([^)]*)\))?, (\[?[0-9A-Fa-f.:]+?\]?)(?::(\d+))?->(\[?[0-9A-Fa-f.:]+?\]?)(?::(\d+))?(?:,|$)`)
	mtNAT   = regexp.MustCompile(`NAT \((\[?[0-9A-Fa-f.:]+?\]?)(?::(\d+))?->(\[?[0-9A-Fa-f.:]+?\]?)(?::(\d+))?\)->(\[?[0-9A-Fa-f.:]+?\]?)(?::(\d+))?`)
	mtMAC   = regexp.MustCompile(`src-mac ([0-9a-fA-F:]{17})`)
)

func (d *mikrotikDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	ev := event.New()
	msg := s
	if h, err := d.clock.parse(s); err == nil {
		ev.Timestamp = h.Time
		ev.Set("observer.name", h.Host)
		msg = h.Msg
		if h.Program != "" {
			msg = h.Program + " " + h.Msg
		}
	} else {
		return fmt.Errorf("mikrotik: no syslog header")
	}
	c := mtChain.FindStringSubmatch(msg)
	m := mtFlow.FindStringSubmatch(msg)
	if c == nil || m == nil {
		return fmt.Errorf("mikrotik: no \"chain: in:… out:…\" and \"proto …, a:p->b:p\"")
	}
	ev.Fields[event.FieldDataset] = "mikrotik.firewall"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	setFirewall(ev, "MikroTik", "RouterOS")
	prefix := c[1]
	if strings.Contains(prefix, "firewall,") || strings.HasPrefix(prefix, "firewall") {
		prefix = ""
	}
	ev.Set("mikrotik.prefix", prefix)
	ev.Set("mikrotik.chain", c[2])
	ev.Set("observer.ingress.interface.name", c[3])
	if o := strings.TrimSpace(c[4]); o != "(unknown 0)" {
		ev.Set("observer.egress.interface.name", o)
	}
	ev.Set("network.transport", ianaProto(m[1]))
	ev.Set("mikrotik.flags", m[2])
	setIP(ev, "source.ip", m[3])
	setPort(ev, "source.port", m[4])
	setIP(ev, "destination.ip", m[5])
	setPort(ev, "destination.port", m[6])
	if n := mtNAT.FindStringSubmatch(msg); n != nil {
		if n[3] != n[1] {
			setIP(ev, "source.nat.ip", n[3])
			setPort(ev, "source.nat.port", n[4])
		}
	}
	if mac := mtMAC.FindStringSubmatch(msg); mac != nil {
		setMAC(ev, "source.mac", mac[1])
	}
	ev.Fields["tags"] = []string{"packet_log_no_session_volume"}
	ev.Fields["event.category"] = []string{"network"}
	ev.Fields["event.type"] = []string{"connection"}
	p := strings.ToLower(prefix)
	switch {
	case strings.Contains(p, "drop") || strings.Contains(p, "reject") || strings.Contains(p, "block") || strings.Contains(p, "deny"):
		ev.Set("event.action", "drop")
		ev.Set("event.outcome", "failure")
	case strings.Contains(p, "accept") || strings.Contains(p, "allow"):
		ev.Set("event.action", "accept")
	}
	setOutboundDirection(ev)
	emit(ev, linePos(no))
	return nil
}
