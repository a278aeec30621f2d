package parsers

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// PfFilterlog reads pfSense / OPNsense filterlog CSV lines (IPv4 and IPv6;
// TCP, UDP, ICMP), over RFC 3164 or RFC 5424 syslog. Like netfilter, these are
// per-packet records without session byte counts.
type PfFilterlog struct{}

func (PfFilterlog) Name() string { return "pf-filterlog" }
func (PfFilterlog) Description() string {
	return "pfSense / OPNsense filterlog CSV (packets, not sessions)"
}

func (PfFilterlog) Detect(head []byte) bool {
	return mostLines(head, PfFilterlog{}.matchLine)
}

func (PfFilterlog) matchLine(l string) bool {
	return strings.Contains(l, "filterlog") && strings.Count(l, ",") > 10
}

func (PfFilterlog) NewDecoder(o *Options) LineDecoder {
	return &pfDecoder{clock: o.clock()}
}

type pfDecoder struct{ clock syslogClock }

func (d *pfDecoder) Flush(Emit) {}

func (d *pfDecoder) Line(no int64, line []byte, emit Emit) error {
	h, err := d.clock.parse(string(line))
	if err != nil {
		return fmt.Errorf("pf: no syslog header")
	}
	if !strings.HasPrefix(h.Program, "filterlog") {
		return fmt.Errorf("pf: line from %q, not filterlog", h.Program)
	}
	f := strings.Split(h.Msg, ",")
	if len(f) < 9 {
		return fmt.Errorf("pf: %d fields, want at least 9", len(f))
	}
	ev := event.New()
	ev.Timestamp = h.Time
	ev.Fields[event.FieldDataset] = "pf"
	ev.Fields[event.FieldOriginal] = string(line)
	ev.Fields[event.FieldLine] = no
	ev.Set("host.name", h.Host)
	ev.Set("rule.id", f[0])
	ev.Set("pf.tracker", f[3])
	ev.Set("observer.ingress.interface.name", f[4])
	ev.Set("event.reason", f[5])
	ev.Set("event.action", f[6])
	ev.Set("network.direction", map[string]string{"in": "inbound", "out": "outbound"}[f[7]])
	ev.Set("pf.direction", f[7])
	ev.Fields["event.category"] = []string{"network"}
	ev.Fields["event.type"] = []string{"connection"}
	ev.Fields["tags"] = []string{"packet_log_no_session_volume"}
	if f[6] == "block" || f[6] == "reject" {
		ev.Set("event.outcome", "failure")
	} else {
		ev.Set("event.outcome", "success")
	}
	var rest []string // fields after the IP header, from the protocol name on
	switch f[8] {
	case "4":
		if len(f) < 20 {
			return fmt.Errorf("pf: short IPv4 record")
		}
		ev.Set("network.type", "ipv4")
		ev.Set("pf.ip.ttl", f[11])
		ev.Set("pf.ip.id", f[12])
		ev.Set("pf.ip.flags", f[14])
		ev.Set("network.iana_number", f[15])
		ev.Set("network.transport", strings.ToLower(f[16]))
		ev.Set("pf.ip.length", f[17])
		setIP(ev, "source.ip", f[18])
		setIP(ev, "destination.ip", f[19])
		rest = f[20:]
	case "6":
		if len(f) < 17 {
			return fmt.Errorf("pf: short IPv6 record")
		}
		ev.Set("network.type", "ipv6")
		ev.Set("network.transport", strings.ToLower(f[12]))
		ev.Set("network.iana_number", f[13])
		ev.Set("pf.ip.length", f[14])
		setIP(ev, "source.ip", f[15])
		setIP(ev, "destination.ip", f[16])
		rest = f[17:]
	default:
		return fmt.Errorf("pf: IP version %q", f[8])
	}
	switch ev.Str("network.transport") {
	case "tcp", "udp":
		if len(rest) >= 2 {
			setPort(ev, "source.port", rest[0])
			setPort(ev, "destination.port", rest[1])
		}
		if len(rest) >= 3 {
			if n, err := strconv.ParseInt(rest[2], 10, 64); err == nil {
				ev.SetInt("pf.data_length", n)
			}
		}
		if ev.Str("network.transport") == "tcp" && len(rest) >= 4 {
			ev.Set("pf.tcp.flags", rest[3])
		}
	}
	emit(ev, linePos(no))
	return nil
}
