package parsers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// LEEF reads IBM QRadar's Log Event Extended Format 1.0 and 2.0
// (LEEF:2.0|vendor|product|version|eventID|delimiter|k=v…), bare or behind syslog.
type LEEF struct{}

func (LEEF) Name() string        { return "leef" }
func (LEEF) Description() string { return "IBM Log Event Extended Format (LEEF 1.0 / 2.0)" }

func (LEEF) Detect(head []byte) bool {
	return mostLines(head, LEEF{}.matchLine)
}

func (LEEF) matchLine(l string) bool {
	return strings.Contains(l, "LEEF:1.0|") || strings.Contains(l, "LEEF:2.0|")
}

func (LEEF) NewDecoder(o *Options) LineDecoder {
	return &leefDecoder{clock: o.clock(), loc: o.TZ, o: o}
}

type leefDecoder struct {
	clock  syslogClock
	loc    *time.Location
	o      *Options
	warned bool
}

func (d *leefDecoder) Flush(Emit) {}

func (d *leefDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	i := strings.Index(s, "LEEF:")
	if i < 0 {
		return fmt.Errorf("leef: no LEEF: header")
	}
	parts := strings.SplitN(s[i:], "|", 7)
	if len(parts) < 6 {
		return fmt.Errorf("leef: %d header fields", len(parts))
	}
	delim, attrs := "\t", parts[5]
	// LEEF 2.0 names its delimiter in a sixth header field — a character
	// or its hex code — which some products leave out.
	if strings.HasPrefix(parts[0], "LEEF:2.0") && len(parts) == 7 && !strings.Contains(parts[5], "=") {
		d := parts[5]
		switch {
		case strings.HasPrefix(d, "x") || strings.HasPrefix(d, "0x"):
			if b, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(d, "0"), "x"), 16, 8); err == nil {
				delim = string(rune(b))
			}
		case d != "":
			delim = d
		}
		attrs = parts[6]
	} else if len(parts) == 7 {
		attrs = parts[5] + "|" + parts[6]
	}
	kv := leefAttributes(attrs, delim)
	ev := event.New()
	var relay *syslogHeader
	var near time.Time
	if h, err := d.clock.peek(s[:i] + " x"); err == nil && i > 0 {
		ev.Timestamp, relay, near = h.Time, &h, h.Time
		ev.Set("log.syslog.hostname", h.Host)
	}
	if v := kv["devTime"]; v != "" {
		t, zoned, err := readVendorTime(v, kv["devTimeFormat"], d.loc, near)
		switch {
		case err == nil:
			ev.Timestamp, relay = t, nil
			if !zoned {
				d.o.zoneRead()
			}
		case ev.Timestamp.IsZero():
			return fmt.Errorf("leef: devTime: %w", err)
		case !d.warned && d.o.Warn != nil:
			d.warned = true
			d.o.Warn(fmt.Sprintf("leef: line %d: devTime not read (%v): such lines are dated by their syslog header", no, err))
		}
	}
	if ev.Timestamp.IsZero() {
		return fmt.Errorf("leef: no time (syslog header or devTime)")
	}
	if relay != nil {
		d.clock.take(*relay) // devTime did not date it
	}
	ev.Fields[event.FieldDataset] = "leef"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Set("observer.vendor", parts[1])
	ev.Set("observer.product", parts[2])
	ev.Set("event.code", parts[4])
	for k, v := range kv {
		ev.Fields["leef."+k] = v
	}
	setIP(ev, "source.ip", kv["src"])
	setIP(ev, "destination.ip", kv["dst"])
	setPort(ev, "source.port", kv["srcPort"])
	setPort(ev, "destination.port", kv["dstPort"])
	if kv["src"] == "" {
		setIP(ev, "source.ip", kv["srcPreNAT"])
	}
	setIP(ev, "source.nat.ip", kv["srcPostNAT"])
	setIP(ev, "destination.nat.ip", kv["dstPostNAT"])
	ev.Set("user.name", firstNonEmpty(kv["usrName"], kv["accountName"]))
	ev.Set("url.original", kv["url"])
	ev.Set("network.transport", ianaProto(kv["proto"]))
	ev.Set("event.action", firstNonEmpty(kv["action"], kv["cat"]))
	for f, k := range map[string]string{"source.bytes": "srcBytes", "destination.bytes": "dstBytes", "source.packets": "srcPackets", "destination.packets": "dstPackets"} {
		if n, err := strconv.ParseInt(kv[k], 10, 64); err == nil {
			ev.SetInt(f, n)
		}
	}
	ev.Fields["event.category"] = []string{"network"}
	emit(ev, linePos(no))
	return nil
}

// leefAttributes splits LEEF's key=value attributes at delim. Some products
// separate them with spaces where the format says tab (CyberX, the spec's
// own examples of 1.0): then a key is a word before "=" and its value runs
// to the next key, as in CEF.
func leefAttributes(attrs, delim string) map[string]string {
	if delim == "\t" && !strings.Contains(attrs, "\t") && strings.Count(attrs, "=") > 1 {
		return cefExtension(attrs)
	}
	kv := map[string]string{}
	for _, f := range strings.Split(attrs, delim) {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[strings.TrimSpace(k)] = v
		}
	}
	return kv
}
