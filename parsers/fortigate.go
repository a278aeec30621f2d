package parsers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// FortiGate reads FortiOS key=value logs (traffic, event vpn/system/user,
// utm), bare or behind a syslog header.
type FortiGate struct{}

func (FortiGate) Name() string { return "fortigate" }
func (FortiGate) Description() string {
	return "Fortinet FortiGate key=value logs (traffic, vpn, system, user), with or without syslog header"
}

func (FortiGate) Detect(head []byte) bool {
	return mostLines(head, FortiGate{}.matchLine)
}

func (FortiGate) matchLine(l string) bool {
	return strings.Contains(l, "logid=") && strings.Contains(l, "type=") &&
		(strings.Contains(l, "devname=") || strings.Contains(l, "subtype=") || strings.Contains(l, "eventtime="))
}

func (FortiGate) NewDecoder(o *Options) LineDecoder {
	return &fortiDecoder{clock: syslogClock{Year: o.Year, Loc: o.TZ}, loc: o.TZ}
}

type fortiDecoder struct {
	clock syslogClock
	loc   *time.Location
	kv    map[string]string // reused per line
	names map[string]string // key → "fortinet.firewall.<key>", at most maxFortiNames
}

// fortiMapped are keys whose meaning is carried by ECS fields; every other
// key is kept under fortinet.firewall.* (ECS keeps vendor detail there).
var fortiMapped = map[string]bool{
	"date": true, "time": true, "eventtime": true, "tz": true, "devname": true, "devid": true, "logid": true,
	"srcip": true, "srcport": true, "dstip": true, "dstport": true, "srcintf": true, "dstintf": true,
	"proto": true, "action": true, "service": true, "policyid": true, "policyname": true, "hostname": true,
	"url": true, "user": true, "msg": true, "level": true, "duration": true, "sentbyte": true, "rcvdbyte": true,
	"sentpkt": true, "rcvdpkt": true, "dstcountry": true, "srccountry": true, "transip": true, "app": true,
}

// maxFortiNames bounds the decoder's cache of vendor field names: a file
// of ever-new keys (damaged, hostile) costs a concatenation per key, not memory.
const maxFortiNames = 4096

// fortiKey returns "fortinet.firewall.<key>", built once per key and file.
func (d *fortiDecoder) fortiKey(k string) string {
	if v, ok := d.names[k]; ok {
		return v
	}
	v := "fortinet.firewall." + k
	if d.names == nil {
		d.names = make(map[string]string, 64)
	}
	if len(d.names) < maxFortiNames {
		d.names[k] = v
	}
	return v
}

// fortiCounters maps the session counters to their ECS fields.
var fortiCounters = [...]struct{ ecs, key string }{
	{"source.bytes", "sentbyte"}, {"destination.bytes", "rcvdbyte"},
	{"source.packets", "sentpkt"}, {"destination.packets", "rcvdpkt"},
}

func (d *fortiDecoder) Flush(Emit) {}

func (d *fortiDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	var hdr syslogHeader
	kvStart := strings.Index(s, "date=")
	if i := strings.Index(s, "logid="); kvStart < 0 || (i >= 0 && i < kvStart) {
		kvStart = i
	}
	if kvStart < 0 {
		return fmt.Errorf("fortigate: no date= or logid= field")
	}
	if kvStart > 0 {
		prefix := strings.TrimSpace(s[:kvStart])
		if h, err := d.clock.parse(prefix + " x"); err == nil {
			hdr = h
		}
	}
	if d.kv == nil {
		d.kv = make(map[string]string, 64)
	}
	kv := d.kv
	clear(kv)
	if !splitKV(s[kvStart:], func(k, v string) { kv[k] = v }) {
		return fmt.Errorf("fortigate: no key=value pairs")
	}
	ev := event.New()
	ts, err := fortiTime(kv, d.loc)
	if err != nil {
		if hdr.Time.IsZero() {
			return err
		}
		ts = hdr.Time
	}
	ev.Timestamp = ts
	ev.Fields[event.FieldDataset] = "fortinet.firewall"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Fields["observer.type"] = "firewall"
	ev.Set("observer.vendor", "Fortinet")
	ev.Set("observer.product", "FortiGate")
	ev.Set("observer.name", kv["devname"])
	ev.Set("observer.serial_number", kv["devid"])
	if hdr.Host != "" {
		ev.Set("log.syslog.hostname", hdr.Host)
	}
	for k, v := range kv {
		if v == "" || v == "N/A" || fortiMapped[k] {
			continue
		}
		ev.Fields[d.fortiKey(k)] = v
	}
	ev.Set("event.code", kv["logid"])
	ev.Set("log.level", kv["level"])
	ev.Set("event.action", kv["action"])
	ev.Set("event.reason", firstNonEmpty(kv["reason"], kv["logdesc"]))
	ev.Set("message", firstNonEmpty(kv["msg"], kv["logdesc"]))
	setIP(ev, "source.ip", kv["srcip"])
	setPort(ev, "source.port", kv["srcport"])
	setIP(ev, "destination.ip", kv["dstip"])
	setPort(ev, "destination.port", kv["dstport"])
	ev.Set("observer.ingress.interface.name", kv["srcintf"])
	ev.Set("observer.egress.interface.name", kv["dstintf"])
	ev.Set("network.transport", ianaProto(kv["proto"]))
	ev.Set("network.protocol", strings.ToLower(kv["service"]))
	ev.Set("network.application", strings.ToLower(kv["app"]))
	ev.Set("rule.id", kv["policyid"])
	ev.Set("rule.name", kv["policyname"])
	ev.Set("destination.geo.country_name", kv["dstcountry"])
	ev.Set("source.geo.country_name", kv["srccountry"])
	ev.Set("destination.domain", firstNonEmpty(kv["hostname"], kv["dst_host"]))
	ev.Set("url.original", kv["url"])
	ev.Set("source.nat.ip", kv["transip"])
	if u := firstNonEmpty(kv["user"], kv["unauthuser"]); u != "N/A" {
		ev.Set("user.name", u)
	}
	// An interim record (long sessions, action=accept with sentdelta) repeats
	// the session's running totals: its counters stay under fortinet.firewall.*
	// and only the record that ends the session carries source.bytes, so any
	// sum of source.bytes counts each session once.
	interim := fortiInterim(kv)
	for _, c := range fortiCounters {
		f, k := c.ecs, c.key
		if v := kv[k]; v != "" {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				if interim {
					ev.SetInt(d.fortiKey(k), n)
				} else {
					ev.SetInt(f, n)
				}
			}
		}
	}
	if n, ok := ev.Int("source.bytes"); ok {
		if m, ok2 := ev.Int("destination.bytes"); ok2 {
			ev.SetInt("network.bytes", n+m)
		}
	}
	if v := kv["duration"]; v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			ev.SetInt("event.duration", n*int64(time.Second)) // ECS: nanoseconds
			if kv["type"] == "traffic" {
				// Traffic logs are written when the session ends: the session began duration seconds earlier.
				ev.Fields["event.start"] = ev.Timestamp.Add(-time.Duration(n) * time.Second).Format(time.RFC3339Nano)
				ev.Fields["event.end"] = ev.Timestamp.Format(time.RFC3339Nano)
			}
		}
	}
	typ, sub := kv["type"], kv["subtype"]
	switch typ {
	case "traffic":
		ev.Add("event.category", "network")
		ev.Fields["event.type"] = []string{"connection"}
		if interim {
			ev.Fields["event.type"] = []string{"connection", "info"}
		}
		switch kv["action"] {
		case "deny", "blocked", "dropped", "block":
			ev.Fields["event.type"] = []string{"connection", "denied"}
			ev.Set("event.outcome", "failure")
		case "":
		default:
			ev.Set("event.outcome", "success")
		}
		switch sub {
		case "forward":
			ev.Set("network.direction", fortiDirection(kv))
		case "local":
			ev.Set("network.direction", "inbound")
		}
	case "event":
		switch sub {
		case "vpn":
			ev.Add("event.category", "network")
			// The VPN client's public address is remip; tunnelip is the address it gets inside.
			setIP(ev, "source.ip", kv["remip"])
			setIP(ev, "fortinet.firewall.assigned_ip", kv["tunnelip"])
			a := kv["action"]
			if strings.Contains(a, "login") || strings.Contains(a, "tunnel-up") || strings.Contains(a, "auth") {
				ev.Add("event.category", "authentication")
			}
			ev.Set("event.outcome", fortiOutcome(kv))
		case "user":
			ev.Add("event.category", "authentication")
			setIP(ev, "source.ip", firstNonEmpty(kv["srcip"], kv["remip"]))
			ev.Set("event.outcome", fortiOutcome(kv))
		case "system":
			ev.Add("event.category", "host")
			ev.Set("event.outcome", fortiOutcome(kv))
		default:
			ev.Add("event.category", "host")
		}
		ev.Add("event.type", "info")
	case "utm":
		ev.Add("event.category", "network")
		ev.Add("event.type", "info")
		if sub == "webfilter" {
			ev.Add("event.category", "web")
		}
	}
	emit(ev, linePos(no))
	return nil
}

// fortiInterim reports a traffic record written while its session goes on
// (FortiOS interim logging): action "accept" with the per-interval sentdelta.
func fortiInterim(kv map[string]string) bool {
	return kv["type"] == "traffic" && kv["action"] == "accept" && kv["sentdelta"] != ""
}

func fortiDirection(kv map[string]string) string {
	if d := kv["direction"]; d == "incoming" {
		return "inbound"
	} else if d == "outgoing" {
		return "outbound"
	}
	if isPrivateIP(kv["srcip"]) && !isPrivateIP(kv["dstip"]) {
		return "outbound"
	}
	if !isPrivateIP(kv["srcip"]) && isPrivateIP(kv["dstip"]) {
		return "inbound"
	}
	if isPrivateIP(kv["srcip"]) && isPrivateIP(kv["dstip"]) {
		return "internal"
	}
	return ""
}

func fortiOutcome(kv map[string]string) string {
	st := strings.ToLower(kv["status"])
	a := strings.ToLower(kv["action"])
	switch {
	case st == "success" || st == "succeeded":
		return "success"
	case st == "failure" || st == "failed" || strings.Contains(a, "fail") || strings.Contains(a, "deny"):
		return "failure"
	case strings.Contains(a, "tunnel-up") || strings.Contains(a, "login"):
		return "success"
	}
	return ""
}

// fortiTime prefers eventtime (epoch in s, ms, µs or ns by its length), then
// date+time with the tz field, then date+time in the analyst's zone.
func fortiTime(kv map[string]string, loc *time.Location) (time.Time, error) {
	if et := kv["eventtime"]; et != "" {
		if n, err := strconv.ParseInt(et, 10, 64); err == nil && n > 0 {
			switch {
			case len(et) <= 10:
				return time.Unix(n, 0).UTC(), nil
			case len(et) <= 13:
				return time.UnixMilli(n).UTC(), nil
			case len(et) <= 16:
				return time.UnixMicro(n).UTC(), nil
			default:
				return time.Unix(0, n).UTC(), nil
			}
		}
	}
	d, t := kv["date"], kv["time"]
	if d == "" || t == "" {
		return time.Time{}, fmt.Errorf("fortigate: no eventtime and no date/time fields")
	}
	if tz := kv["tz"]; tz != "" {
		if ts, err := time.Parse("2006-01-02 15:04:05 -0700", d+" "+t+" "+tz); err == nil {
			return ts.UTC(), nil
		}
	}
	ts, err := time.ParseInLocation("2006-01-02 15:04:05", d+" "+t, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("fortigate: bad date/time %q %q", d, t)
	}
	return ts.UTC(), nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" && s != "N/A" {
			return s
		}
	}
	return ""
}

func ianaProto(p string) string {
	switch strings.ToLower(p) {
	case "6", "tcp":
		return "tcp"
	case "17", "udp":
		return "udp"
	case "1", "icmp":
		return "icmp"
	case "58", "ipv6-icmp", "icmp6":
		return "ipv6-icmp"
	case "47", "gre":
		return "gre"
	case "50", "esp":
		return "esp"
	}
	return strings.ToLower(p)
}
