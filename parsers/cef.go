package parsers

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// CEF reads ArcSight Common Event Format (Sophos, WatchGuard, SonicWall,
// Check Point and others emit it), bare or behind syslog. Per the CEF spec,
// "in" is bytes from source to destination and "out" the reverse; the
// products known to write them the other way round are read their way
// (cefBytesReversed, and a FortiGate's CEF by the FortiGate reader).
type CEF struct{}

func (CEF) Name() string        { return "cef" }
func (CEF) Description() string { return "ArcSight Common Event Format (CEF:0|vendor|product|…)" }

func (CEF) Detect(head []byte) bool {
	return mostLines(head, CEF{}.matchLine)
}

// matchLine leaves a FortiGate's CEF to the FortiGate reader (see
// fortigate_forms.go).
func (CEF) matchLine(l string) bool {
	return (strings.Contains(l, "CEF:0|") || strings.Contains(l, "CEF:1|") || strings.Contains(l, "CEF: 0|")) &&
		fortiCEFStart(l) < 0
}

func (CEF) NewDecoder(o *Options) LineDecoder {
	return &cefDecoder{clock: o.clock(), loc: o.TZ, o: o, zone: newZoneless(o)}
}

type cefDecoder struct {
	clock syslogClock
	loc   *time.Location
	o     *Options
	zone  zoneless    // a Cisco mail gateway's own times (cisco_esa_cef.go)
	forti LineDecoder // a FortiGate's lines, when a file mixes them with others'
}

// cefBytesReversed names the products whose "in" counts the bytes the
// destination sent, against CEF's standard: Palo Alto Networks' Strata
// Logging Service ("LF"; its Traffic CEF Fields: in = bytes_received, out =
// bytes_sent). PAN-OS itself writes in=$bytes_sent, as the standard says.
var cefBytesReversed = map[[2]string]bool{{"palo alto networks", "lf"}: true}

func (d *cefDecoder) Flush(Emit) {}

// cefHeader splits the 7 pipe-separated header fields (\| and \\ escaped).
func cefHeader(s string) ([]string, string, error) {
	var fields []string
	var cur strings.Builder
	i := 0
	for ; i < len(s) && len(fields) < 7; i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && (s[i+1] == '|' || s[i+1] == '\\') {
			cur.WriteByte(s[i+1])
			i++
			continue
		}
		if c == '|' {
			fields = append(fields, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	if len(fields) < 7 {
		return nil, "", fmt.Errorf("cef: %d header fields, want 7", len(fields))
	}
	return fields, s[i:], nil
}

// cefExtension parses key=value pairs whose values may hold spaces: a value
// runs until the next " key=".
func cefExtension(s string) map[string]string {
	out := map[string]string{}
	type kpos struct {
		k             string
		start, vstart int
	}
	var keys []kpos
	for i := 0; i < len(s); i++ {
		if s[i] != '=' || (i > 0 && s[i-1] == '\\') {
			continue
		}
		j := i - 1
		for j >= 0 && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9' || s[j] == '_' || s[j] == '.' || s[j] == '-') {
			j--
		}
		if j >= 0 && s[j] != ' ' || j+1 == i {
			continue
		}
		keys = append(keys, kpos{s[j+1 : i], j + 1, i + 1})
	}
	r := strings.NewReplacer(`\=`, "=", `\\`, `\`, `\n`, "\n", `\r`, "\r")
	for n, k := range keys {
		end := len(s)
		if n+1 < len(keys) {
			end = keys[n+1].start
		}
		out[k.k] = r.Replace(strings.TrimRight(s[k.vstart:end], " "))
	}
	return out
}

func (d *cefDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	i := strings.Index(s, "CEF:")
	if i < 0 {
		return fmt.Errorf("cef: no CEF: header")
	}
	hdr, ext, err := cefHeader(s[i+4:])
	if err != nil {
		return err
	}
	if isFortiCEF(hdr) {
		if d.forti == nil {
			d.forti = FortiGate{}.NewDecoder(d.o)
		}
		return d.forti.Line(no, line, emit)
	}
	kv := cefExtension(ext)
	ev := event.New()
	if h, err := d.clock.peek(s[:i] + " x"); err == nil && i > 0 {
		ev.Set("log.syslog.hostname", h.Host)
		ev.Timestamp = h.Time
		if t, zoned, ok := cefOwnTime(kv, d.loc, h.Time); ok {
			ev.Timestamp = t
			if !zoned {
				d.o.zoneRead()
			}
		} else {
			d.clock.take(h)
		}
	} else if t, zoned, ok := cefOwnTime(kv, d.loc, time.Time{}); ok {
		ev.Timestamp = t
		if !zoned {
			d.o.zoneRead()
		}
	}
	if ev.Timestamp.IsZero() {
		return fmt.Errorf("cef: no time (syslog header, rt, start or end)")
	}
	// A session's or request's start (CEF's start) dates the first of its
	// bytes, its end the event's time.
	if v := kv["start"]; v != "" && (kv["rt"] != "" || kv["end"] != "") {
		if t, _, err := readVendorTime(v, "", d.loc, ev.Timestamp); err == nil && !t.After(ev.Timestamp) {
			ev.Fields["event.start"] = t.Format(time.RFC3339Nano)
			ev.Fields["event.end"] = ev.Timestamp.Format(time.RFC3339Nano)
		}
	}
	if isWindowsCEF(hdr) {
		if w, ok := windowsFromCEF(hdr, kv, ev.Timestamp, ev.Str("log.syslog.hostname")); ok {
			for k, v := range kv {
				w.Fields["cef.extensions."+k] = v
			}
			w.Fields[event.FieldOriginal] = s
			w.Fields[event.FieldLine] = no
			emit(w, linePos(no))
			return nil
		}
	}
	if isESACEF(hdr) {
		esaFromCEF(ev, hdr, kv, d.loc, &d.zone)
		ev.Fields[event.FieldOriginal] = s
		ev.Fields[event.FieldLine] = no
		emit(ev, linePos(no))
		return nil
	}
	ev.Fields[event.FieldDataset] = "cef"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Set("observer.vendor", hdr[1])
	ev.Set("observer.product", hdr[2])
	ev.Set("observer.version", hdr[3])
	ev.Set("event.code", hdr[4])
	ev.Set("message", hdr[5])
	ev.Set("cef.severity", hdr[6])
	for k, v := range kv {
		ev.Fields["cef.extensions."+k] = v
	}
	setIP(ev, "source.ip", kv["src"])
	setIP(ev, "destination.ip", kv["dst"])
	setPort(ev, "source.port", kv["spt"])
	setPort(ev, "destination.port", kv["dpt"])
	ev.Set("source.domain", kv["shost"])
	ev.Set("destination.domain", kv["dhost"])
	ev.Set("user.name", firstNonEmpty(kv["suser"], kv["duser"]))
	ev.Set("event.action", firstNonEmpty(kv["act"], kv["outcome"]))
	ev.Set("network.transport", ianaProto(kv["proto"]))
	ev.Set("url.original", kv["request"])
	ev.Set("file.name", kv["fname"])
	setIP(ev, "observer.ip", kv["dvc"])
	if m := kv["requestMethod"]; m != "" {
		// A web request as a proxy or web gateway logged it: the client
		// that sent it, the site, what the client sent (in). Behind a
		// firewall, the same upload is also the firewall's session from
		// the proxy: the report counts it once (its proxy ledger).
		ev.Fields["observer.type"] = "proxy"
		ev.Set("http.request.method", strings.ToUpper(m))
		if u, err := url.Parse(kv["request"]); err == nil && u.Hostname() != "" {
			ev.Set("url.domain", u.Hostname())
			ev.Set("url.scheme", u.Scheme)
		}
		if code, err := strconv.Atoi(kv["outcome"]); err == nil && code >= 100 && code < 600 {
			ev.SetInt("http.response.status_code", int64(code))
		}
		ev.Fields["event.category"] = []string{"network", "web"}
	}
	up, down := "in", "out"
	if cefBytesReversed[[2]string{strings.ToLower(strings.TrimSpace(hdr[1])), strings.ToLower(strings.TrimSpace(hdr[2]))}] {
		up, down = down, up
	}
	if n, err := strconv.ParseInt(kv[up], 10, 64); err == nil {
		ev.SetInt("source.bytes", n)
	}
	if n, err := strconv.ParseInt(kv[down], 10, 64); err == nil {
		ev.SetInt("destination.bytes", n)
	}
	if ev.Fields["event.category"] == nil {
		ev.Fields["event.category"] = []string{"network"}
	}
	emit(ev, linePos(no))
	return nil
}

// cefOwnTime is the event's own time: rt, else end, else start, in epoch
// milliseconds or one of the dates ArcSight writes (readVendorTime); zoned,
// whether it named its zone; near dates a time written without a year.
func cefOwnTime(kv map[string]string, loc *time.Location, near time.Time) (t time.Time, zoned, ok bool) {
	for _, k := range []string{"rt", "end", "start"} {
		if v := kv[k]; v != "" {
			if t, zoned, err := readVendorTime(v, "", loc, near); err == nil {
				return t, zoned, true
			}
		}
	}
	return time.Time{}, false, false
}
