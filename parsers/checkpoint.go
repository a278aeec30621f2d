package parsers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// CheckPoint reads Check Point Log Exporter syslog (key:"value"; pairs in
// brackets). Its CEF output is read by the cef format.
type CheckPoint struct{}

func (CheckPoint) Name() string { return "checkpoint" }
func (CheckPoint) Description() string {
	return "Check Point Log Exporter syslog (key:\"value\" pairs)"
}

var cpPair = regexp.MustCompile(`(\w+):"((?:[^"\\]|\\.)*)"`)

func (CheckPoint) Detect(head []byte) bool {
	return mostLines(head, CheckPoint{}.matchLine)
}

func (CheckPoint) matchLine(l string) bool {
	return strings.Contains(l, "CheckPoint") && strings.Contains(l, `:"`) && (strings.Contains(l, `action:"`) || strings.Contains(l, `src:"`))
}

func (CheckPoint) NewDecoder(o *Options) LineDecoder { return &cpDecoder{loc: o.TZ, o: o} }

type cpDecoder struct {
	loc *time.Location
	o   *Options
}

func (d *cpDecoder) Flush(Emit) {}

func (d *cpDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	kv := map[string]string{}
	for _, m := range cpPair.FindAllStringSubmatch(s, -1) {
		kv[m[1]] = strings.ReplaceAll(m[2], `\"`, `"`)
	}
	if len(kv) == 0 {
		return fmt.Errorf("checkpoint: no key:\"value\" pairs")
	}
	ev := event.New()
	if n, err := strconv.ParseInt(kv["time"], 10, 64); err == nil {
		ev.Timestamp = time.Unix(n, 0).UTC()
	} else {
		// RFC 5424 without priority: "1 2019-05-15T16:25:50Z HOST CheckPoint …"
		f := strings.Fields(s)
		for _, x := range f[:min(3, len(f))] {
			if t, zoned, err := parseISOZoned(x, d.loc); err == nil {
				ev.Timestamp = t
				if !zoned {
					d.o.zoneRead()
				}
				break
			}
		}
	}
	if ev.Timestamp.IsZero() {
		return fmt.Errorf("checkpoint: no time")
	}
	ev.Fields[event.FieldDataset] = "checkpoint"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	for k, v := range kv {
		ev.Fields["checkpoint."+k] = v
	}
	ev.Fields["observer.type"] = "firewall"
	ev.Set("observer.vendor", "Check Point")
	setIP(ev, "observer.ip", kv["origin"])
	setIP(ev, "source.ip", kv["src"])
	setIP(ev, "destination.ip", kv["dst"])
	setPort(ev, "source.port", kv["s_port"])
	setPort(ev, "destination.port", kv["service"])
	ev.Set("network.transport", ianaProto(kv["proto"]))
	ev.Set("event.action", strings.ToLower(kv["action"]))
	ev.Set("rule.name", kv["rule_name"])
	ev.Set("user.name", firstNonEmpty(kv["src_user_name"], kv["user"]))
	ev.Set("network.direction", kv["ifdir"])
	if n, err := strconv.ParseInt(kv["client_outbound_bytes"], 10, 64); err == nil {
		ev.SetInt("source.bytes", n)
	}
	if n, err := strconv.ParseInt(kv["server_outbound_bytes"], 10, 64); err == nil {
		ev.SetInt("destination.bytes", n)
	}
	switch strings.ToLower(kv["action"]) {
	case "drop", "reject", "block":
		ev.Set("event.outcome", "failure")
	case "accept", "allow":
		ev.Set("event.outcome", "success")
	}
	ev.Fields["event.category"] = []string{"network"}
	emit(ev, linePos(no))
	return nil
}
