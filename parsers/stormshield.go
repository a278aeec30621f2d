package parsers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Stormshield reads Stormshield Network Security (SNS) key=value logs
// (id=firewall … logtype="connection"|"filter"|"alarm"|"vpn"|"web"|…), as
// documented in Stormshield's log description, bare or behind syslog.
type Stormshield struct{}

func (Stormshield) Name() string { return "stormshield" }
func (Stormshield) Description() string {
	return "Stormshield SNS key=value logs (connection, filter, alarm, vpn, web, system, statistics)"
}

func (Stormshield) Detect(head []byte) bool {
	return mostLines(head, Stormshield{}.matchLine)
}

func (Stormshield) matchLine(l string) bool {
	return stormStart(l) >= 0
}

// stormStart finds where a Stormshield record begins: at its id=firewall,
// or — where a collector kept the record without it (Sekoia's and other
// intakes show them so) — at its first key, time="…", in a line that has
// the firewall's fw=, startime= and logtype= besides; -1 in any other line.
func stormStart(l string) int {
	if !strings.Contains(l, " fw=") || !strings.Contains(l, "logtype=") {
		return -1
	}
	if i := strings.Index(l, "id=firewall"); i >= 0 {
		return i
	}
	if !strings.Contains(l, " startime=") {
		return -1
	}
	for off := 0; ; {
		i := strings.Index(l[off:], `time="`)
		if i < 0 {
			return -1
		}
		if i += off; i == 0 || l[i-1] == ' ' || l[i-1] == ':' || l[i-1] == '>' {
			return i
		}
		off = i + 1
	}
}

func (Stormshield) NewDecoder(o *Options) LineDecoder {
	return &stormDecoder{loc: o.TZ, o: o, kv: make(map[string]string, 48), names: vendorNames{prefix: "stormshield.", keep: o.Keep}}
}

type stormDecoder struct {
	loc   *time.Location
	o     *Options
	kv    map[string]string // reused per line
	names vendorNames       // key → "stormshield.<key>"
}

func (d *stormDecoder) Flush(Emit) {}

func (d *stormDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	start := stormStart(s)
	if start < 0 {
		return fmt.Errorf("stormshield: no id=firewall, or time=, fw=, startime= and logtype=")
	}
	kv := d.kv
	clear(kv)
	splitKV(s[start:], func(k, v string) { kv[k] = v })
	ev := event.New()
	ts, zoned, err := stormTime(kv, d.loc)
	if err != nil {
		return err
	}
	if !zoned {
		d.o.zoneRead() // no tz= offset: read in --tz
	}
	ev.Timestamp = ts
	ev.Fields[event.FieldDataset] = "stormshield"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Fields["observer.type"] = "firewall"
	ev.Set("observer.vendor", "Stormshield")
	ev.Set("observer.name", kv["fw"])
	for k, v := range kv {
		if v != "" {
			if name, read := d.names.wanted(k); read {
				ev.Fields[name] = v
			}
		}
	}
	lt := kv["logtype"]
	ev.Set("event.action", kv["action"])
	ev.Set("message", kv["msg"])
	ev.Set("user.name", kv["user"])
	ev.Set("rule.id", kv["ruleid"])
	ev.Set("rule.name", kv["rulename"])
	setIP(ev, "source.ip", kv["src"])
	setPort(ev, "source.port", kv["srcport"])
	setMAC(ev, "source.mac", kv["srcmac"])
	// The destination before NAT is what the client asked for.
	if od := kv["origdst"]; od != "" {
		setIP(ev, "destination.ip", od)
		setIP(ev, "destination.nat.ip", kv["dst"])
		setPort(ev, "destination.port", firstNonEmpty(kv["origdstport"], kv["dstport"]))
	} else {
		setIP(ev, "destination.ip", kv["dst"])
		setPort(ev, "destination.port", kv["dstport"])
	}
	ev.Set("destination.domain", kv["dstname"])
	ev.Set("network.transport", strings.ToLower(kv["ipproto"]))
	ev.Set("network.protocol", kv["proto"])
	if v := kv["ipv"]; v != "" {
		ev.Set("network.type", "ipv"+v)
	}
	// The connection log counts a connection's bytes; the logs of what was
	// analysed inside it (web, plugin, ssl, smtp, pop3, ftp) repeat them,
	// per request or per protocol: those stay under stormshield.* only, so
	// that a sum of source.bytes counts each connection once.
	if stormSessionLog(lt) {
		for _, c := range [...]struct{ ecs, key string }{{"source.bytes", "sent"}, {"destination.bytes", "rcvd"}} {
			if n, err := strconv.ParseInt(kv[c.key], 10, 64); err == nil {
				ev.SetInt(c.ecs, n)
			}
		}
	}
	if kv["startime"] != "" {
		setSessionStart(ev, kv["duration"]) // dated by startime
	} else {
		setSessionEnd(ev, kv["duration"]) // dated by time, when the log was written
	}
	ev.Set("url.original", kv["arg"])
	switch lt {
	case "connection", "filter":
		ev.Fields["event.category"] = []string{"network"}
		ev.Fields["event.type"] = []string{"connection"}
		if lt == "filter" && kv["action"] == "block" {
			ev.Set("event.outcome", "failure")
		} else if kv["action"] != "" {
			ev.Set("event.outcome", "success")
		}
		setOutboundDirection(ev)
	case "alarm":
		ev.Fields["event.category"] = []string{"intrusion_detection"}
		ev.Fields["event.kind"] = "alert"
	case "vpn", "auth":
		ev.Fields["event.category"] = []string{"authentication"}
		// l_auth's error is the authentication's return code: 0 is "ok",
		// any other a refusal ("Auth failed", "Level denied"…), as
		// Stormshield's log description says.
		if e := kv["error"]; lt == "auth" && e != "" {
			if _, err := strconv.Atoi(e); err == nil {
				ev.Set("event.outcome", map[bool]string{true: "success", false: "failure"}[e == "0"])
			}
		}
	case "web":
		ev.Fields["event.category"] = []string{"web"}
	default:
		ev.Fields["event.category"] = []string{"host"}
	}
	emit(ev, linePos(no))
	return nil
}

// stormSessionLog reports a log whose counters are a whole connection's.
func stormSessionLog(logtype string) bool {
	switch logtype {
	case "web", "plugin", "ssl", "smtp", "pop3", "ftp":
		return false
	}
	return true
}

// stormTime reads startime (when the connection began) or time, in the
// log's tz (zoned), else in loc.
func stormTime(kv map[string]string, loc *time.Location) (t time.Time, zoned bool, err error) {
	v := firstNonEmpty(kv["startime"], kv["time"])
	if v == "" {
		return time.Time{}, false, fmt.Errorf("stormshield: no time field")
	}
	z, zoned := zoneOf(kv["tz"])
	if zoned {
		loc = z
	}
	t, err = time.ParseInLocation("2006-01-02 15:04:05", v, loc)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("stormshield: bad time %q", v)
	}
	return t.UTC(), zoned, nil
}
