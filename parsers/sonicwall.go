package parsers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// SonicWall reads SonicOS key=value syslog (id=… sn=… time="…" fw=… m=…
// msg="…" src=IP:port:iface[:host] dst=…), bare or behind a syslog header.
// sent/rcvd on "Connection Closed" (m=537) are the initiator's bytes out
// and in, as Elastic's SonicWall integration reads them.
type SonicWall struct{}

func (SonicWall) Name() string { return "sonicwall" }
func (SonicWall) Description() string {
	return "SonicWall SonicOS key=value syslog (connections with sent/rcvd bytes, drops, VPN, admin, web filter)"
}

func (SonicWall) Detect(head []byte) bool {
	return mostLines(head, SonicWall{}.matchLine)
}

func (SonicWall) matchLine(l string) bool { return isSonicWallLine(l) }

func isSonicWallLine(l string) bool {
	i := strings.Index(l, "sn=")
	return i >= 0 && (i == 0 || l[i-1] == ' ') && strings.Contains(l, ` time="`) && strings.Contains(l, " m=") &&
		!strings.Contains(l, "logtype=")
}

func (SonicWall) NewDecoder(o *Options) LineDecoder { return &sonicDecoder{loc: o.TZ, o: o} }

type sonicDecoder struct {
	loc *time.Location
	o   *Options
}

func (d *sonicDecoder) Flush(Emit) {}

func (d *sonicDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	start := strings.Index(s, "id=")
	if sn := strings.Index(s, "sn="); start < 0 || sn >= 0 && sn < start {
		start = sn
	}
	if start < 0 {
		return fmt.Errorf("sonicwall: no id= or sn=")
	}
	kv := map[string]string{}
	splitKVQuoted(s[start:], true, func(k, v string) { kv[k] = v })
	ts, err := sonicTime(kv["time"], d.loc)
	if err != nil {
		return err
	}
	if !strings.HasSuffix(kv["time"], " UTC") {
		d.o.zoneRead() // the appliance's local time
	}
	ev := event.New()
	ev.Timestamp = ts
	ev.Fields[event.FieldDataset] = "sonicwall.firewall"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Fields["observer.type"] = "firewall"
	ev.Set("observer.vendor", "SonicWall")
	ev.Set("observer.name", kv["id"])
	ev.Set("observer.serial_number", kv["sn"])
	setIP(ev, "observer.ip", kv["fw"])
	for k, v := range kv {
		if v != "" {
			ev.Fields["sonicwall.firewall."+k] = v
		}
	}
	msg := kv["msg"]
	ev.Set("message", msg)
	ev.Set("event.code", kv["m"])
	ev.Set("rule.name", kv["rule"])
	ev.Set("user.name", firstNonEmpty(kv["usr"], kv["user"]))
	sonicEndpoint(ev, "source", kv["src"], kv["srcV6"], kv["srcMac"])
	sonicEndpoint(ev, "destination", kv["dst"], kv["dstV6"], kv["dstMac"])
	if _, ok := ev.Fields["destination.domain"]; !ok {
		ev.Set("destination.domain", kv["dstname"])
	}
	// proto=tcp/443 or tcp/https: the transport, then a port or a service name.
	if p := kv["proto"]; p != "" {
		tr, svc, _ := strings.Cut(p, "/")
		ev.Set("network.transport", strings.ToLower(tr))
		if _, err := strconv.Atoi(svc); err != nil {
			ev.Set("network.protocol", strings.ToLower(svc))
		}
	}
	// A connection's record counts its bytes; a web site hit or an
	// application alert inside it repeats some of them: those stay under
	// sonicwall.firewall.* so that a sum of source.bytes counts each
	// connection once.
	if msg == "" || strings.Contains(strings.ToLower(msg), "connection") {
		for f, k := range map[string]string{"source.bytes": "sent", "destination.bytes": "rcvd"} {
			if n, err := strconv.ParseInt(kv[k], 10, 64); err == nil && n >= 0 {
				ev.SetInt(f, n)
			}
		}
	}
	if a := kv["arg"]; a != "" && kv["dstname"] != "" {
		ev.Set("url.domain", kv["dstname"])
		ev.Set("url.path", a)
	}
	lmsg := strings.ToLower(msg)
	switch {
	case strings.Contains(lmsg, "connection"):
		ev.Fields["event.category"] = []string{"network"}
		ev.Fields["event.type"] = []string{"connection"}
		switch {
		case strings.Contains(lmsg, "dropped"), strings.Contains(lmsg, "denied"), strings.Contains(lmsg, "blocked"):
			ev.Set("event.action", "connection-dropped")
			ev.Set("event.outcome", "failure")
		case strings.Contains(lmsg, "closed"):
			ev.Set("event.action", "connection-closed")
		case strings.Contains(lmsg, "opened"):
			ev.Set("event.action", "connection-opened")
		}
	case strings.Contains(lmsg, "login"), strings.Contains(lmsg, "logged"), strings.Contains(lmsg, "authentication"):
		ev.Fields["event.category"] = []string{"authentication"}
		if strings.Contains(lmsg, "denied") || strings.Contains(lmsg, "fail") {
			ev.Set("event.outcome", "failure")
		}
	case strings.Contains(lmsg, "vpn"):
		ev.Fields["event.category"] = []string{"network"}
	case strings.Contains(lmsg, "web site"):
		ev.Fields["event.category"] = []string{"web"}
		if strings.Contains(lmsg, "denied") || strings.Contains(lmsg, "blocked") {
			ev.Set("event.outcome", "failure")
		}
	default:
		ev.Fields["event.category"] = []string{"network"}
	}
	setOutboundDirection(ev)
	emit(ev, linePos(no))
	return nil
}

// sonicEndpoint reads IP:port:interface[:host]; an IPv6 address comes in
// srcV6/dstV6 with the IP part of src/dst left empty.
func sonicEndpoint(ev *event.Event, side, v, v6, mac string) {
	parts := strings.SplitN(v, ":", 4)
	ip := parts[0]
	if v6 != "" {
		ip = v6
	}
	setIP(ev, side+".ip", ip)
	if len(parts) > 1 {
		setPort(ev, side+".port", parts[1])
	}
	if len(parts) > 2 && parts[2] != "" {
		ev.Set("observer."+map[string]string{"source": "ingress", "destination": "egress"}[side]+".interface.name", parts[2])
	}
	if len(parts) > 3 {
		ev.Set(side+".domain", parts[3])
	}
	setMAC(ev, side+".mac", mac)
}

// sonicTime reads time="2019-02-27 12:55:40 UTC"; without UTC the time is the
// appliance's local time, taken in --tz.
func sonicTime(v string, loc *time.Location) (time.Time, error) {
	if v == "" {
		return time.Time{}, fmt.Errorf("sonicwall: no time field")
	}
	if t, ok := strings.CutSuffix(v, " UTC"); ok {
		tt, err := time.Parse("2006-01-02 15:04:05", t)
		if err != nil {
			return time.Time{}, fmt.Errorf("sonicwall: bad time %q", v)
		}
		return tt, nil
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", v, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("sonicwall: bad time %q", v)
	}
	return t.UTC(), nil
}
