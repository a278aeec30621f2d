package parsers

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Zeek reads Zeek conn.log (and ssl.log / dns.log for server names), as TSV
// with a #fields header or as JSON lines. conn.log's orig_bytes / resp_bytes
// are the payload each side sent: source.bytes and destination.bytes.
type Zeek struct{}

func (Zeek) Name() string { return "zeek" }
func (Zeek) Description() string {
	return "Zeek conn.log / ssl.log / dns.log (TSV with #fields, or JSON lines)"
}

func (Zeek) Detect(head []byte) bool {
	h := string(head)
	if strings.HasPrefix(h, "#separator") && strings.Contains(h, "#fields") && strings.Contains(h, "id.orig_h") {
		return true
	}
	return mostLines(head, Zeek{}.matchLine)
}

func (Zeek) matchLine(l string) bool {
	return strings.HasPrefix(strings.TrimSpace(l), "{") && strings.Contains(l, `"id.orig_h"`) && strings.Contains(l, `"uid"`)
}

func (Zeek) NewDecoder(o *Options) LineDecoder { return &zeekDecoder{sep: "\t"} }

type zeekDecoder struct {
	fields []string
	sep    string
	path   string
}

func (d *zeekDecoder) Flush(Emit) {}

func (d *zeekDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	if strings.HasPrefix(s, "#") {
		switch {
		case strings.HasPrefix(s, "#fields"):
			d.fields = strings.Split(s, d.sep)[1:]
		case strings.HasPrefix(s, "#path"):
			d.path = strings.TrimSpace(strings.TrimPrefix(s, "#path"))
		case strings.HasPrefix(s, "#separator"):
			if v := strings.TrimSpace(strings.TrimPrefix(s, "#separator")); strings.HasPrefix(v, `\x`) {
				if b, err := strconv.ParseUint(v[2:], 16, 8); err == nil {
					d.sep = string(rune(b))
				}
			}
		}
		emitHeaderLine(emit, no, "zeek", s)
		return nil
	}
	rec := map[string]string{}
	if strings.HasPrefix(strings.TrimSpace(s), "{") {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			return fmt.Errorf("zeek: JSON: %v", err)
		}
		for k, v := range m {
			switch x := v.(type) {
			case string:
				rec[k] = x
			case float64:
				rec[k] = strconv.FormatFloat(x, 'f', -1, 64)
			case bool:
				rec[k] = strconv.FormatBool(x)
			default:
				b, _ := json.Marshal(x)
				rec[k] = string(b)
			}
		}
	} else {
		if d.fields == nil {
			return fmt.Errorf("zeek: data line before #fields header")
		}
		vals := strings.Split(s, d.sep)
		for i, f := range d.fields {
			if i < len(vals) && vals[i] != "-" && vals[i] != "(empty)" {
				rec[f] = vals[i]
			}
		}
	}
	ts := rec["ts"]
	ev := event.New()
	if sec, frac, ok := strings.Cut(ts, "."); ok || ts != "" {
		secs, err := strconv.ParseInt(sec, 10, 64)
		if err != nil {
			t, err2 := time.Parse(time.RFC3339Nano, ts)
			if err2 != nil {
				return fmt.Errorf("zeek: ts %q", ts)
			}
			ev.Timestamp = t.UTC()
		} else {
			ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
			ev.Timestamp = time.Unix(secs, ns).UTC()
		}
	}
	ev.Fields[event.FieldDataset] = "zeek." + firstNonEmpty(d.path, rec["_path"], "conn")
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	for k, v := range rec {
		ev.Fields["zeek."+k] = v
	}
	setIP(ev, "source.ip", rec["id.orig_h"])
	setPort(ev, "source.port", rec["id.orig_p"])
	setIP(ev, "destination.ip", rec["id.resp_h"])
	setPort(ev, "destination.port", rec["id.resp_p"])
	ev.Set("network.transport", rec["proto"])
	ev.Set("network.protocol", rec["service"])
	ev.Set("zeek.session_id", rec["uid"])
	for f, k := range map[string]string{"source.bytes": "orig_bytes", "destination.bytes": "resp_bytes"} {
		if n, err := strconv.ParseInt(rec[k], 10, 64); err == nil {
			ev.SetInt(f, n)
		}
	}
	setSessionStart(ev, rec["duration"])
	ev.Set("destination.domain", firstNonEmpty(rec["server_name"], rec["query"]))
	if rec["local_orig"] == "T" && rec["local_resp"] == "F" {
		ev.Set("network.direction", "outbound")
	}
	ev.Fields["event.category"] = []string{"network"}
	ev.Fields["event.type"] = []string{"connection"}
	ev.Set("event.action", firstNonEmpty(rec["conn_state"], "connection"))
	emit(ev, linePos(no))
	return nil
}
