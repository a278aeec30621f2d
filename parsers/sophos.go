package parsers

import (
	"fmt"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// SophosXG reads Sophos Firewall (XG, SFOS) key=value logs in both
// generations: v17/v18 (device="SFW" date= time= timezone= … sent_bytes=
// recv_bytes= connevent=) and v19+ (device_name= timestamp="…-0600" …
// bytes_sent= bytes_received= con_event=). A connection's "Stop" record
// carries its totals; "Start" and "Interim" records keep their counters under
// sophos.* so that a sum of source.bytes counts each connection once.
type SophosXG struct{}

func (SophosXG) Name() string { return "sophos-xg" }
func (SophosXG) Description() string {
	return "Sophos Firewall (XG / SFOS v17–v21) key=value logs: firewall, web, VPN, authentication"
}

func (SophosXG) Detect(head []byte) bool { return mostLines(head, SophosXG{}.matchLine) }

func (SophosXG) matchLine(l string) bool {
	return strings.Contains(l, "log_id=") && strings.Contains(l, "log_type=") &&
		(strings.Contains(l, `device="SFW"`) || strings.Contains(l, "device_name=") || strings.Contains(l, "log_component="))
}

func (SophosXG) NewDecoder(o *Options) LineDecoder {
	return &sophosDecoder{clock: o.clock(), loc: o.TZ, o: o, kv: map[string]string{}}
}

type sophosDecoder struct {
	clock syslogClock
	loc   *time.Location
	o     *Options
	kv    map[string]string
}

func (d *sophosDecoder) Flush(Emit) {}

// sophosMapped are keys carried by ECS fields; the rest stay under sophos.xg.*.
var sophosMapped = map[string]bool{"src_ip": true, "dst_ip": true, "src_port": true, "dst_port": true, "protocol": true,
	"user_name": true, "sent_bytes": true, "recv_bytes": true, "bytes_sent": true, "bytes_received": true, "date": true,
	"time": true, "timestamp": true, "timezone": true, "message": true}

func (d *sophosDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	start := strings.Index(s, "device")
	if i := strings.Index(s, "log_id="); start < 0 || i >= 0 && i < start {
		start = i
	}
	if start < 0 {
		return fmt.Errorf("sophos-xg: no device= or log_id= field")
	}
	kv := d.kv
	clear(kv)
	splitKV(s[start:], func(k, v string) { kv[k] = v })
	ts, zoned, err := sophosTime(kv, d.loc)
	if err == nil && !zoned {
		d.o.zoneRead()
	}
	if err != nil {
		// Only then the relay's header dates the line (a year-less stamp
		// read there makes the file's year a guess).
		var hdr syslogHeader
		if start > 0 {
			hdr, _ = d.clock.parse(strings.TrimSpace(s[:start]) + " x")
		}
		if hdr.Time.IsZero() {
			return err
		}
		ts = hdr.Time
	}
	ev := event.New()
	ev.Timestamp = ts
	ev.Fields[event.FieldDataset] = "sophos.xg"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	setFirewall(ev, "Sophos", "XG Firewall")
	ev.Set("observer.name", kv["device_name"])
	ev.Set("observer.serial_number", firstNonEmpty(kv["device_serial_id"], kv["device_id"]))
	for k, v := range kv {
		if v != "" && !sophosMapped[k] {
			ev.Fields["sophos.xg."+k] = v
		}
	}
	ev.Set("event.code", kv["log_id"])
	ev.Set("message", kv["message"])
	setIP(ev, "source.ip", kv["src_ip"])
	setIP(ev, "destination.ip", kv["dst_ip"])
	setPort(ev, "source.port", kv["src_port"])
	setPort(ev, "destination.port", kv["dst_port"])
	setIP(ev, "source.nat.ip", firstNonEmpty(kv["tran_src_ip"], kv["src_trans_ip"]))
	setIP(ev, "destination.nat.ip", firstNonEmpty(kv["tran_dst_ip"], kv["dst_trans_ip"]))
	setMAC(ev, "source.mac", kv["src_mac"])
	ev.Set("network.transport", ianaProto(kv["protocol"]))
	ev.Set("user.name", kv["user_name"])
	ev.Set("rule.id", firstNonEmpty(kv["fw_rule_id"], kv["rule_id"]))
	ev.Set("observer.ingress.interface.name", kv["in_interface"])
	ev.Set("observer.egress.interface.name", kv["out_interface"])
	ev.Set("url.original", kv["url"])
	ev.Set("destination.domain", kv["domain"])
	status := strings.ToLower(firstNonEmpty(kv["status"], kv["log_subtype"]))
	ev.Set("event.action", status)
	conn := strings.ToLower(firstNonEmpty(kv["con_event"], kv["connevent"]))
	sent, rcvd := firstNonEmpty(kv["bytes_sent"], kv["sent_bytes"]), firstNonEmpty(kv["bytes_received"], kv["recv_bytes"])
	switch strings.ToLower(kv["log_type"]) {
	case "firewall":
		ev.Fields["event.category"] = []string{"network"}
		switch {
		case strings.Contains(status, "den") || strings.Contains(status, "drop"):
			ev.Fields["event.type"] = []string{"connection", "denied"}
			ev.Set("event.outcome", "failure")
		case conn == "start":
			ev.Fields["event.type"] = []string{"connection", "start"}
			ev.Set("event.outcome", "success")
		case conn == "interim":
			ev.Fields["event.type"] = []string{"connection", "info"}
		default:
			ev.Fields["event.type"] = []string{"connection", "end"}
			ev.Set("event.outcome", "success")
		}
		if conn == "start" || conn == "interim" || strings.Contains(status, "den") {
			// No session volume yet (or none at all): counters stay vendor fields.
			ev.Set("sophos.xg.bytes_sent", sent)
			ev.Set("sophos.xg.bytes_received", rcvd)
		} else {
			setSessionBytes(ev, sent, rcvd)
			setSessionPackets(ev, firstNonEmpty(kv["packets_sent"], kv["sent_pkts"]), firstNonEmpty(kv["packets_received"], kv["recv_pkts"]))
			setSessionEnd(ev, kv["duration"])
		}
		setOutboundDirection(ev)
	case "content filtering", "web":
		// A request inside a connection the Firewall log counts whole:
		// its counters stay vendor fields, so that a sum of source.bytes
		// counts each connection once.
		ev.Fields["event.category"] = []string{"web", "network"}
		ev.Set("sophos.xg.bytes_sent", sent)
		ev.Set("sophos.xg.bytes_received", rcvd)
	case "event":
		if strings.Contains(strings.ToLower(kv["log_component"]), "vpn") || strings.Contains(strings.ToLower(kv["log_component"]), "authentication") {
			ev.Fields["event.category"] = []string{"authentication"}
			if strings.Contains(status, "fail") || strings.Contains(status, "den") {
				ev.Set("event.outcome", "failure")
			} else if status != "" {
				ev.Set("event.outcome", "success")
			}
		} else {
			ev.Fields["event.category"] = []string{"host"}
		}
	default:
		ev.Fields["event.category"] = []string{"network"}
	}
	emit(ev, linePos(no))
	return nil
}

// sophosTime reads v19+'s timestamp (with offset) or v17/18's date and time
// with their zone abbreviation; an ambiguous abbreviation (IST) falls back
// to the analyst's zone, which the file's account records.
func sophosTime(kv map[string]string, loc *time.Location) (t time.Time, zoned bool, err error) {
	if ts := kv["timestamp"]; ts != "" {
		if t, zoned, err := parseISOZoned(ts, loc); err == nil {
			return t, zoned, nil
		}
	}
	d, tm := kv["date"], kv["time"]
	if d == "" || tm == "" {
		return time.Time{}, false, fmt.Errorf("sophos-xg: no timestamp and no date/time fields")
	}
	z, zoned := zoneOf(kv["timezone"])
	if zoned {
		loc = z
	}
	v, err := time.ParseInLocation("2006-01-02 15:04:05", d+" "+tm, loc)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sophos-xg: bad date/time %q %q", d, tm)
	}
	return v.UTC(), zoned, nil
}

// SophosUTM reads Sophos UTM (formerly Astaro) logs: packet filter
// (ulogd), web proxy (httpproxy, with the size of each download) and
// authentication lines, all key="value" behind the UTM's own
// "YYYY:MM:DD-HH:MM:SS host program[pid]:" header.
type SophosUTM struct{}

func (SophosUTM) Name() string { return "sophos-utm" }
func (SophosUTM) Description() string {
	return "Sophos UTM (Astaro) packet filter, web proxy and authentication logs"
}

func (SophosUTM) Detect(head []byte) bool { return mostLines(head, SophosUTM{}.matchLine) }

func (SophosUTM) matchLine(l string) bool {
	return strings.Contains(l, ` id="`) && strings.Contains(l, ` sys="`) && strings.Contains(l, ` sub="`)
}

func (SophosUTM) NewDecoder(o *Options) LineDecoder {
	return &utmDecoder{clock: o.clock(), loc: o.TZ, o: o}
}

type utmDecoder struct {
	clock syslogClock
	loc   *time.Location
	o     *Options
}

func (d *utmDecoder) Flush(Emit) {}

func (d *utmDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	i := strings.Index(s, `id="`)
	if i < 0 {
		return fmt.Errorf("sophos-utm: no id= field")
	}
	ev := event.New()
	head := strings.TrimSpace(s[:i])
	// UTM's own header: "2024:03:14-02:13:05 utm ulogd[1234]:"
	if len(head) >= 19 && head[4] == ':' && head[10] == '-' {
		t, err := time.ParseInLocation("2006:01:02-15:04:05", head[:19], d.loc)
		if err != nil {
			return fmt.Errorf("sophos-utm: bad time %q", head[:19])
		}
		d.o.zoneRead() // UTM writes its local time
		ev.Timestamp = t.UTC()
		if f := strings.Fields(head[19:]); len(f) > 0 {
			ev.Set("observer.name", f[0])
		}
	} else if h, err := d.clock.parse(head + " x"); err == nil {
		ev.Timestamp = h.Time
		ev.Set("observer.name", h.Host)
	} else {
		return fmt.Errorf("sophos-utm: no time before the fields")
	}
	kv := map[string]string{}
	splitKV(s[i:], func(k, v string) { kv[k] = v })
	ev.Fields[event.FieldDataset] = "sophos.utm"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	setFirewall(ev, "Sophos", "UTM")
	for k, v := range kv {
		if v != "" {
			ev.Fields["sophos.utm."+k] = v
		}
	}
	ev.Set("event.code", kv["id"])
	ev.Set("message", kv["name"])
	ev.Set("event.action", kv["action"])
	setIP(ev, "source.ip", kv["srcip"])
	setIP(ev, "destination.ip", kv["dstip"])
	setPort(ev, "source.port", kv["srcport"])
	setPort(ev, "destination.port", kv["dstport"])
	setMAC(ev, "source.mac", kv["srcmac"])
	ev.Set("network.transport", ianaProto(kv["proto"]))
	ev.Set("user.name", firstNonEmpty(kv["user"], kv["username"]))
	ev.Set("rule.id", kv["fwrule"])
	ev.Set("observer.ingress.interface.name", kv["initf"])
	ev.Set("observer.egress.interface.name", kv["outitf"])
	switch kv["sub"] {
	case "packetfilter":
		// One packet, not a session: its length is no volume.
		ev.Fields["event.category"] = []string{"network"}
		ev.Fields["event.type"] = []string{"connection"}
		ev.Fields["tags"] = []string{"packet_log_no_session_volume"}
		if a := kv["action"]; a == "drop" || a == "reject" {
			ev.Set("event.outcome", "failure")
		} else if a != "" {
			ev.Set("event.outcome", "success")
		}
	case "http":
		// A proxied request: size is what the server sent to the client.
		// The UTM's web proxy answered it: a proxy's request, not a
		// firewall's session (coverage and Sigma's proxy rules tell them
		// apart by observer.type).
		ev.Fields["event.category"] = []string{"web", "network"}
		ev.Fields["observer.type"] = "proxy"
		ev.Set("url.original", kv["url"])
		ev.Set("http.request.method", kv["method"])
		ev.SetIntString("http.response.status_code", kv["statuscode"])
		ev.SetIntString("http.response.bytes", kv["size"])
		ev.Set("user_agent.original", kv["ua"])
		if u := kv["url"]; u != "" {
			if host := urlHost(u); host != "" {
				ev.Set("url.domain", host)
				ev.Set("destination.domain", host)
			}
		}
	default:
		ev.Fields["event.category"] = []string{"host"}
		if strings.Contains(strings.ToLower(kv["name"]), "authentication") || kv["sub"] == "auth" {
			ev.Fields["event.category"] = []string{"authentication"}
			if strings.Contains(strings.ToLower(kv["name"]), "fail") {
				ev.Set("event.outcome", "failure")
			} else {
				ev.Set("event.outcome", "success")
			}
		}
	}
	setOutboundDirection(ev)
	emit(ev, linePos(no))
	return nil
}

// urlHost is the host of an absolute URL, "" if there is none.
func urlHost(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i:], "]") {
		rest = rest[:i]
	}
	return strings.ToLower(rest)
}
