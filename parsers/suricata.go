package parsers

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Suricata reads Suricata EVE JSON lines (alert, flow, tls, http, dns,
// fileinfo…). Flow records carry bytes_toserver / bytes_toclient.
type Suricata struct{}

func (Suricata) Name() string { return "suricata" }
func (Suricata) Description() string {
	return "Suricata EVE JSON (alert, flow with bytes, tls, http, dns, fileinfo)"
}

func (Suricata) Detect(head []byte) bool {
	return mostLines(head, Suricata{}.matchLine)
}

func (Suricata) matchLine(l string) bool {
	return strings.HasPrefix(strings.TrimSpace(l), "{") && strings.Contains(l, `"event_type"`) && strings.Contains(l, `"src_ip"`)
}

func (Suricata) NewDecoder(o *Options) LineDecoder { return suricataDecoder{} }

type suricataDecoder struct{}

func (suricataDecoder) Flush(Emit) {}

type eve struct {
	Timestamp string `json:"timestamp"`
	EventType string `json:"event_type"`
	SrcIP     string `json:"src_ip"`
	SrcPort   int64  `json:"src_port"`
	DestIP    string `json:"dest_ip"`
	DestPort  int64  `json:"dest_port"`
	Proto     string `json:"proto"`
	AppProto  string `json:"app_proto"`
	Alert     *struct {
		Action    string `json:"action"`
		Signature string `json:"signature"`
		SigID     int64  `json:"signature_id"`
		Category  string `json:"category"`
		Severity  int64  `json:"severity"`
	} `json:"alert"`
	Flow *struct {
		BytesToServer int64  `json:"bytes_toserver"`
		BytesToClient int64  `json:"bytes_toclient"`
		Start         string `json:"start"`
		End           string `json:"end"`
	} `json:"flow"`
	TLS *struct {
		SNI string `json:"sni"`
	} `json:"tls"`
	HTTP *struct {
		Hostname string `json:"hostname"`
		URL      string `json:"url"`
		Method   string `json:"http_method"`
		Length   int64  `json:"length"`
	} `json:"http"`
	DNS *struct {
		RRName string `json:"rrname"`
	} `json:"dns"`
}

func (suricataDecoder) Line(no int64, line []byte, emit Emit) error {
	var e eve
	if err := json.Unmarshal(line, &e); err != nil {
		return fmt.Errorf("suricata: JSON: %v", err)
	}
	t, err := time.Parse("2006-01-02T15:04:05.999999-0700", e.Timestamp)
	if err != nil {
		return fmt.Errorf("suricata: timestamp %q", e.Timestamp)
	}
	ev := event.New()
	ev.Timestamp = t.UTC()
	ev.Fields[event.FieldDataset] = "suricata." + e.EventType
	ev.Fields[event.FieldOriginal] = string(line)
	ev.Fields[event.FieldLine] = no
	setIP(ev, "source.ip", e.SrcIP)
	setIP(ev, "destination.ip", e.DestIP)
	if e.SrcPort > 0 {
		ev.SetInt("source.port", e.SrcPort)
	}
	if e.DestPort > 0 {
		ev.SetInt("destination.port", e.DestPort)
	}
	ev.Set("network.transport", ianaProto(e.Proto))
	ev.Set("network.protocol", e.AppProto)
	ev.Fields["event.category"] = []string{"network"}
	ev.Set("event.action", e.EventType)
	if a := e.Alert; a != nil {
		ev.Fields["event.kind"] = "alert"
		ev.Fields["event.category"] = []string{"network", "intrusion_detection"}
		ev.Set("rule.name", a.Signature)
		ev.Set("rule.id", fmt.Sprint(a.SigID))
		ev.Set("rule.category", a.Category)
		ev.Set("event.action", a.Action)
		ev.SetInt("event.severity", a.Severity)
	}
	if f := e.Flow; f != nil && e.EventType == "flow" {
		ev.SetInt("source.bytes", f.BytesToServer)
		ev.SetInt("destination.bytes", f.BytesToClient)
		if st, err := time.Parse("2006-01-02T15:04:05.999999-0700", f.Start); err == nil {
			ev.Fields["event.start"] = st.UTC().Format(time.RFC3339Nano)
		}
	}
	if e.TLS != nil {
		ev.Set("destination.domain", e.TLS.SNI)
	}
	if h := e.HTTP; h != nil {
		ev.Set("destination.domain", h.Hostname)
		ev.Set("url.original", h.URL)
		ev.Set("http.request.method", h.Method)
	}
	if e.DNS != nil {
		ev.Set("dns.question.name", e.DNS.RRName)
	}
	emit(ev, linePos(no))
	return nil
}
