package parsers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// Netfilter reads Linux iptables/nftables LOG lines ("kernel: [..] PREFIX IN=
// OUT= SRC= DST= … PROTO= SPT= DPT="), including the rule prefixes of
// Ubiquiti EdgeOS/UniFi gateways ("[WAN_IN-2000-D]"). They describe single
// packets: LEN is a packet length, not a session volume, so events are
// marked and the report can say volume cannot be measured from them.
type Netfilter struct{}

func (Netfilter) Name() string { return "netfilter" }
func (Netfilter) Description() string {
	return "Linux iptables / nftables kernel LOG lines, Ubiquiti EdgeOS / UniFi firewall logs (packets, not sessions)"
}

func (Netfilter) Detect(head []byte) bool {
	return mostLines(head, Netfilter{}.matchLine)
}

func (Netfilter) matchLine(l string) bool {
	return strings.Contains(l, " SRC=") && strings.Contains(l, " DST=") && strings.Contains(l, " PROTO=")
}

func (Netfilter) NewDecoder(o *Options) LineDecoder {
	return &netfilterDecoder{clock: o.clock()}
}

type netfilterDecoder struct{ clock syslogClock }

func (d *netfilterDecoder) Flush(Emit) {}

// kernelStamp is the kernel's own uptime stamp, "[  203.842973] ".
var kernelStamp = regexp.MustCompile(`^\[\s*\d+\.\d+\]\s*`)

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
	prefix := strings.TrimSpace(kernelStamp.ReplaceAllString(msg[:start], ""))
	ev := event.New()
	ev.Timestamp = h.Time
	ev.Fields[event.FieldDataset] = "netfilter"
	ev.Fields[event.FieldOriginal] = string(line)
	ev.Fields[event.FieldLine] = no
	ev.Set("host.name", h.Host)
	ev.Set("process.name", h.Program)
	netfilterPacket(ev, prefix, msg[start:])
	emit(ev, linePos(no))
	return nil
}

// netfilterPacket maps the KEY=value part of a netfilter LOG line and the
// rule's prefix, shared by every log that embeds one (Proxmox VE's firewall).
func netfilterPacket(ev *event.Event, prefix, fields string) {
	kv := map[string]string{}
	var flags []string
	for _, f := range strings.Fields(fields) {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[k] = v
		} else {
			flags = append(flags, f)
		}
	}
	ev.Set("netfilter.prefix", prefix)
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
	if mac := kv["MAC"]; len(mac) >= 35 {
		// MAC= is destination, source and ethertype, colon-separated.
		setMAC(ev, "destination.mac", mac[:17])
		setMAC(ev, "source.mac", mac[18:35])
	}
	ev.Set("network.transport", ianaProto(kv["PROTO"]))
	if n, err := strconv.ParseInt(kv["LEN"], 10, 64); err == nil {
		ev.SetInt("netfilter.packet_length", n)
	}
	ev.Fields["tags"] = []string{"packet_log_no_session_volume"}
	ev.Fields["event.category"] = []string{"network"}
	ev.Fields["event.type"] = []string{"connection"}
	ev.Set("rule.name", strings.Trim(prefix, "[]: "))
	p := strings.ToLower(prefix)
	switch {
	case strings.Contains(p, "drop") || strings.Contains(p, "reject") || strings.Contains(p, "block") || strings.Contains(p, "deny") ||
		strings.HasSuffix(p, "-d]") || strings.HasSuffix(p, "-r]"):
		// EdgeOS/UniFi end their rule prefix with -D (drop) or -R (reject).
		ev.Set("event.action", "drop")
		ev.Set("event.outcome", "failure")
	case strings.Contains(p, "accept") || strings.Contains(p, "allow") || strings.HasSuffix(p, "-a]"):
		ev.Set("event.action", "accept")
	}
}
