package parsers

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// NetScreen reads Juniper ScreenOS (NetScreen, SSG, ISG) syslog: traffic
// logs ("system-notification-00257(traffic): start_time=… sent= rcvd= src=
// dst= …", with bytes per direction) and the system messages, whose
// addresses and administrators ("from host a to b:443", "for admin x") are
// read too.
type NetScreen struct{}

func (NetScreen) Name() string { return "netscreen" }
func (NetScreen) Description() string {
	return "Juniper ScreenOS / NetScreen syslog: traffic sessions with bytes per direction, system and admin events"
}

func (NetScreen) Detect(head []byte) bool { return mostLines(head, NetScreen{}.matchLine) }

func (NetScreen) matchLine(l string) bool {
	return strings.Contains(l, "NetScreen device_id=")
}

func (NetScreen) NewDecoder(o *Options) LineDecoder {
	return &netscreenDecoder{clock: o.clock(), dev: newDeviceClock(o, "start_time, the closing date")}
}

type netscreenDecoder struct {
	clock syslogClock
	dev   deviceClock
}

func (d *netscreenDecoder) Flush(Emit) {}

const nsLayout = "2006-01-02 15:04:05"

var (
	nsTag      = regexp.MustCompile(`\[([^\]]+)\]([a-z]+)-([a-z]+)-(\d+)(?:\(([a-z_]+)\))?:\s*`)
	nsXlated   = regexp.MustCompile(`(src|dst)-xlated ip=(\S+) port=(\S+)`)
	nsFromHost = regexp.MustCompile(`(?i)\bfrom (?:host )?(` + ipv4Pat + `)(?::(\d+))?`)
	nsToHost   = regexp.MustCompile(`(?i)\bto (` + ipv4Pat + `)(?::(\d+))?`)
	nsAdmin    = regexp.MustCompile(`(?i)(?:\bfor admin|\bby|\badmin user)\s+"?(?:admin\s+)?([A-Za-z0-9._@\\-]+)`)
)

func (d *netscreenDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	i := strings.Index(s, "NetScreen device_id=")
	if i < 0 {
		return fmt.Errorf("netscreen: no \"NetScreen device_id=\"")
	}
	ev := event.New()
	yearless, zoned := true, false
	var relay *syslogHeader
	if i > 0 {
		if h, err := d.clock.peek(strings.TrimSpace(s[:i])); err == nil {
			ev.Timestamp, relay = h.Time, &h
			ev.Set("log.syslog.hostname", h.Host)
			yearless = months[s[:min(3, len(s))]] != 0
			zoned = h.Zoned
		}
	}
	dt, own := nsDeviceTime(s)
	if own && zoned {
		if wall, err := time.Parse(nsLayout, dt); err == nil {
			d.dev.learn(wall, ev.Timestamp)
		}
	}
	// A year-less syslog header yields to the device's own dated clock at
	// the end of the line; a dated header (the relay's) is kept.
	if own && (ev.Timestamp.IsZero() || yearless) {
		if t, err := d.dev.read(nsLayout, dt); err == nil {
			ev.Timestamp, relay = t, nil
		}
	}
	if relay != nil {
		d.clock.take(*relay) // the device's own clock did not date it
	}
	body := s[i+len("NetScreen device_id="):]
	dev, rest, _ := strings.Cut(body, " ")
	ev.Fields[event.FieldDataset] = "juniper.netscreen"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	setFirewall(ev, "Juniper", "NetScreen")
	ev.Set("observer.name", dev)
	tag := nsTag.FindStringSubmatchIndex(rest)
	if tag == nil {
		return fmt.Errorf("netscreen: no [vsys]module-level-id tag")
	}
	ev.Set("netscreen.vsys", rest[tag[2]:tag[3]])
	ev.Set("log.level", rest[tag[6]:tag[7]])
	ev.Set("event.code", rest[tag[8]:tag[9]])
	kind := ""
	if tag[10] >= 0 {
		kind = rest[tag[10]:tag[11]]
	}
	msg := strings.TrimSpace(rest[tag[1]:])
	if _, ok := nsDeviceTime(msg); ok {
		msg = strings.TrimSpace(strings.TrimRight(msg, " ")[:len(strings.TrimRight(msg, " "))-21])
	}
	ev.Set("message", msg)
	if kind == "traffic" {
		// "src zone=Trust dst zone=Untrust … src-xlated ip=a port=p …
		// reason=Close - TCP FIN": keys with spaces, made single words.
		norm := strings.NewReplacer("src zone=", "src_zone=", "dst zone=", "dst_zone=").Replace(msg)
		if strings.Contains(norm, "-xlated ip=") {
			norm = nsXlated.ReplaceAllString(norm, "${1}_xlated_ip=$2 ${1}_xlated_port=$3")
		}
		reason := ""
		if r := strings.Index(norm, "reason="); r >= 0 {
			reason, norm = strings.TrimSpace(norm[r+len("reason="):]), norm[:r]
		}
		kv := map[string]string{}
		splitKV(norm, func(k, v string) { kv[k] = v })
		for k, v := range kv {
			if v != "" {
				ev.Fields["netscreen."+k] = v
			}
		}
		setIP(ev, "source.ip", kv["src"])
		setPort(ev, "source.port", kv["src_port"])
		setIP(ev, "destination.ip", kv["dst"])
		setPort(ev, "destination.port", kv["dst_port"])
		if kv["src_xlated_ip"] != kv["src"] && kv["src_xlated_ip"] != "0.0.0.0" {
			setIP(ev, "source.nat.ip", kv["src_xlated_ip"])
			setPort(ev, "source.nat.port", kv["src_xlated_port"])
		}
		if kv["dst_xlated_ip"] != kv["dst"] && kv["dst_xlated_ip"] != "0.0.0.0" {
			setIP(ev, "destination.nat.ip", kv["dst_xlated_ip"])
			setPort(ev, "destination.nat.port", kv["dst_xlated_port"])
		}
		ev.Set("network.transport", ianaProto(kv["proto"]))
		ev.Set("network.protocol", strings.ToLower(kv["service"]))
		ev.Set("rule.id", kv["policy_id"])
		ev.Set("observer.ingress.zone", kv["src_zone"])
		ev.Set("observer.egress.zone", kv["dst_zone"])
		ev.Set("event.reason", reason)
		ev.Set("event.action", strings.ToLower(kv["action"]))
		ev.Fields["event.category"] = []string{"network"}
		if a := strings.ToLower(kv["action"]); a == "deny" || a == "reject" || a == "drop" {
			ev.Fields["event.type"] = []string{"connection", "denied"}
			ev.Set("event.outcome", "failure")
		} else {
			ev.Fields["event.type"] = []string{"connection", "end"}
			ev.Set("event.outcome", "success")
			setSessionBytes(ev, kv["sent"], kv["rcvd"])
			if st := strings.Trim(kv["start_time"], `"`); st != "" {
				if t, err := d.dev.read(nsLayout, st); err == nil {
					ev.Fields["event.start"] = t.Format(time.RFC3339Nano)
				}
			}
			ev.SetIntString("netscreen.duration", kv["duration"])
			if n, ok := ev.Int("netscreen.duration"); ok {
				ev.SetInt("event.duration", n*int64(time.Second))
			}
		}
		setOutboundDirection(ev)
	} else {
		// System messages: addresses and the administrator when they name them.
		ev.Fields["event.category"] = []string{"host"}
		if m := nsFromHost.FindStringSubmatch(msg); m != nil {
			setIP(ev, "source.ip", m[1])
			if m[2] != "0" {
				setPort(ev, "source.port", m[2])
			}
		}
		if m := nsToHost.FindStringSubmatch(msg); m != nil {
			setIP(ev, "destination.ip", m[1])
			setPort(ev, "destination.port", m[2])
		}
		if m := nsAdmin.FindStringSubmatch(msg); m != nil {
			ev.Set("user.name", strings.TrimRight(m[1], "."))
		}
		lm := strings.ToLower(msg)
		switch {
		case strings.Contains(lm, "login") || strings.Contains(lm, "management session") || strings.Contains(lm, "authentication"):
			ev.Fields["event.category"] = []string{"authentication"}
			if strings.Contains(lm, "fail") || strings.Contains(lm, "incorrect") {
				ev.Set("event.outcome", "failure")
			}
		case strings.Contains(lm, "flood") || strings.Contains(lm, "attack") || strings.Contains(lm, "scan"):
			ev.Fields["event.category"] = []string{"intrusion_detection", "network"}
		case strings.Contains(lm, "configuration") || strings.Contains(lm, "policy"):
			ev.Fields["event.category"] = []string{"configuration"}
		}
	}
	if ev.Timestamp.IsZero() {
		return fmt.Errorf("netscreen: no syslog time and no device time")
	}
	emit(ev, linePos(no))
	return nil
}

// nsDeviceTime is the device's own "(YYYY-MM-DD HH:MM:SS)" at the end of a
// line, read without a regular expression (one anchored at the end still
// tries every position).
func nsDeviceTime(s string) (string, bool) {
	s = strings.TrimRight(s, " \t")
	if len(s) < 21 || s[len(s)-1] != ')' || s[len(s)-21] != '(' {
		return "", false
	}
	t := s[len(s)-20 : len(s)-1]
	if t[4] != '-' || t[7] != '-' || t[10] != ' ' || t[13] != ':' || t[16] != ':' {
		return "", false
	}
	return t, true
}
