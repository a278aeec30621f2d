package parsers

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// Netfilter reads Linux iptables/nftables LOG lines ("kernel: [..] PREFIX IN=
// OUT= SRC= DST= … PROTO= SPT= DPT="). They describe single packets: LEN is a
// packet length, not a session volume, so events are marked and the report
// can say volume cannot be measured from them.
type Netfilter struct{}

func (Netfilter) Name() string { return "netfilter" }
func (Netfilter) Description() string {
	return "Linux iptables / nftables kernel LOG lines (packets, not sessions)"
}

func (Netfilter) Detect(head []byte) bool {
	return mostLines(head, Netfilter{}.matchLine)
}

func (Netfilter) matchLine(l string) bool {
	return strings.Contains(l, " SRC=") && strings.Contains(l, " DST=") && strings.Contains(l, " PROTO=")
}

func (Netfilter) NewDecoder(o *Options) LineDecoder {
	return &netfilterDecoder{clock: syslogClock{Year: o.Year, Loc: o.TZ}}
}

type netfilterDecoder struct{ clock syslogClock }

func (d *netfilterDecoder) Flush(Emit) {}

func (d *netfilterDecoder) Line(no int64, line []byte, emit Emit) error {
	h, err := d.clock.parse(string(line))
	if err != nil {
		return fmt.Errorf("netfilter: no syslog header")
	}
	msg := h.Msg
	i := strings.Index(msg, "SRC=")
	if i < 0 || !strings.Contains(msg, " DST=") {
		return fmt.Errorf("netfilter: no SRC=/DST=")
	}
	// Between the kernel timestamp and IN= sits the rule's log prefix.
	start := strings.Index(msg, "IN=")
	if start < 0 || start > i {
		start = i
	}
	head := msg[:start]
	if k := strings.Index(head, "] "); k >= 0 {
		head = head[k+2:]
	}
	kv := map[string]string{}
	var flags []string
	for _, f := range strings.Fields(msg[start:]) {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[k] = v
		} else {
			flags = append(flags, f)
		}
	}
	ev := event.New()
	ev.Timestamp = h.Time
	ev.Fields[event.FieldDataset] = "netfilter"
	ev.Fields[event.FieldOriginal] = string(line)
	ev.Fields[event.FieldLine] = no
	ev.Set("host.name", h.Host)
	ev.Set("process.name", h.Program)
	ev.Set("netfilter.prefix", strings.TrimSpace(head))
	for k, v := range kv {
		if v != "" {
			ev.Fields["netfilter."+strings.ToLower(k)] = v
		}
	}
	if len(flags) > 0 {
		ev.Fields["netfilter.flags"] = flags
	}
	ev.Set("observer.ingress.interface.name", kv["IN"])
	ev.Set("observer.egress.interface.name", kv["OUT"])
	setIP(ev, "source.ip", kv["SRC"])
	setIP(ev, "destination.ip", kv["DST"])
	setPort(ev, "source.port", kv["SPT"])
	setPort(ev, "destination.port", kv["DPT"])
	ev.Set("network.transport", ianaProto(kv["PROTO"]))
	if n, err := strconv.ParseInt(kv["LEN"], 10, 64); err == nil {
		ev.SetInt("netfilter.packet_length", n)
	}
	ev.Fields["tags"] = []string{"packet_log_no_session_volume"}
	ev.Fields["event.category"] = []string{"network"}
	ev.Fields["event.type"] = []string{"connection"}
	p := strings.ToLower(head)
	switch {
	case strings.Contains(p, "drop") || strings.Contains(p, "reject") || strings.Contains(p, "block") || strings.Contains(p, "deny"):
		ev.Set("event.action", "drop")
		ev.Set("event.outcome", "failure")
	case strings.Contains(p, "accept") || strings.Contains(p, "allow"):
		ev.Set("event.action", "accept")
	}
	emit(ev, linePos(no))
	return nil
}
