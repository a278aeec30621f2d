package parsers

import (
	"fmt"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// WindowsFirewall reads the Windows Defender Firewall log (pfirewall.log):
// W3C-style "#Fields:" header, then one line per allowed or dropped
// connection. Its times are the machine's local time, without a zone: they
// are read in the analyst's --tz, which the file's account records. No
// byte counts: connections, not volume.
type WindowsFirewall struct{}

func (WindowsFirewall) Name() string { return "windows-firewall" }
func (WindowsFirewall) Description() string {
	return "Windows Defender Firewall log (pfirewall.log; local time, read in --tz; connections, not volume)"
}

func (WindowsFirewall) Detect(head []byte) bool {
	h := string(head)
	if strings.Contains(h, "#Software: Microsoft Windows Firewall") || strings.Contains(h, "#Fields: date time action protocol src-ip dst-ip") {
		return true
	}
	return mostLines(head, WindowsFirewall{}.matchLine)
}

var pfwDefaultFields = strings.Fields("date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path pid")

func (WindowsFirewall) matchLine(l string) bool {
	f := strings.Fields(l)
	if len(f) < 8 || len(f[0]) != 10 || f[0][4] != '-' || len(f[1]) != 8 || f[1][2] != ':' {
		return false
	}
	switch f[2] {
	case "ALLOW", "DROP", "OPEN", "CLOSE", "OPEN-INBOUND", "INFO-EVENTS-LOST":
		return true
	}
	return false
}

func (WindowsFirewall) NewDecoder(o *Options) LineDecoder {
	return &pfwDecoder{loc: o.TZ, o: o, fields: pfwDefaultFields}
}

type pfwDecoder struct {
	loc    *time.Location
	o      *Options
	fields []string
}

func (d *pfwDecoder) Flush(Emit) {}

func (d *pfwDecoder) Line(no int64, line []byte, emit Emit) error {
	s := strings.TrimSpace(string(line))
	if strings.HasPrefix(s, "#") {
		if rest, ok := strings.CutPrefix(s, "#Fields:"); ok {
			d.fields = strings.Fields(rest)
		}
		return nil // header: version, software, time format, fields
	}
	f := strings.Fields(s)
	if len(f) < 4 {
		return fmt.Errorf("windows-firewall: %d fields, want the header's %d", len(f), len(d.fields))
	}
	kv := map[string]string{}
	for i, name := range d.fields {
		if i < len(f) && f[i] != "-" {
			kv[name] = f[i]
		}
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", kv["date"]+" "+kv["time"], d.loc)
	if err != nil {
		return fmt.Errorf("windows-firewall: bad date/time %q %q", kv["date"], kv["time"])
	}
	d.o.zoneRead() // pfirewall.log is in the machine's local time
	ev := event.New()
	ev.Timestamp = t.UTC()
	ev.Fields[event.FieldDataset] = "windows.firewall"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	setFirewall(ev, "Microsoft", "Windows Defender Firewall")
	action := kv["action"]
	ev.Set("event.action", strings.ToLower(action))
	setIP(ev, "source.ip", kv["src-ip"])
	setIP(ev, "destination.ip", kv["dst-ip"])
	setPort(ev, "source.port", kv["src-port"])
	setPort(ev, "destination.port", kv["dst-port"])
	ev.Set("network.transport", ianaProto(kv["protocol"]))
	ev.SetIntString("process.pid", kv["pid"])
	switch kv["path"] {
	case "SEND":
		ev.Set("network.direction", "outbound")
	case "RECEIVE":
		ev.Set("network.direction", "inbound")
	}
	ev.Fields["tags"] = []string{"packet_log_no_session_volume"}
	ev.Fields["event.category"] = []string{"network"}
	ev.Fields["event.type"] = []string{"connection"}
	if action == "DROP" {
		ev.Fields["event.type"] = []string{"connection", "denied"}
		ev.Set("event.outcome", "failure")
	} else if action == "ALLOW" {
		ev.Set("event.outcome", "success")
	}
	emit(ev, linePos(no))
	return nil
}
