package parsers

import (
	"encoding/csv"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// PanOS reads Palo Alto Networks PAN-OS syslog in CSV (TRAFFIC, THREAT incl.
// url and file subtypes, SYSTEM, GLOBALPROTECT, AUTHENTICATION), behind an
// RFC 3164 or RFC 5424 header, with the positional columns of the PAN-OS
// 10/11 syslog field descriptions.
type PanOS struct{}

func (PanOS) Name() string { return "panos" }
func (PanOS) Description() string {
	return "Palo Alto PAN-OS CSV syslog (TRAFFIC, THREAT, SYSTEM, GLOBALPROTECT, AUTHENTICATION) or the web interface's Export to CSV"
}

var panTypes = []string{",TRAFFIC,", ",THREAT,", ",SYSTEM,", ",GLOBALPROTECT,", ",AUTHENTICATION,", ",CONFIG,", ",USERID,", ",HIPMATCH,", ",DECRYPTION,"}

func (PanOS) Detect(head []byte) bool {
	if l := headLines(head, 1); len(l) == 1 {
		if ok, _ := panExportHeader(l[0]); ok {
			return true // the web interface's "Export to CSV" (panos_export.go)
		}
	}
	return mostLines(head, PanOS{}.matchLine)
}

func (PanOS) matchLine(l string) bool {
	if strings.Count(l, ",") < 20 {
		return false
	}
	for _, t := range panTypes {
		if strings.Contains(l, t) {
			return true
		}
	}
	return false
}

func (PanOS) NewDecoder(o *Options) LineDecoder {
	return &panDecoder{clock: o.clock(), loc: o.TZ, o: o, repeat: repeatedHour{warn: o.Warn}}
}

type panDecoder struct {
	clock syslogClock
	loc   *time.Location
	o     *Options
	// repeat places the columns' times in the repeated autumn hour (the
	// header's clock keeps its own account: a relay's stamps are not the
	// device's).
	repeat repeatedHour
	// started says the first line was read; misordered, that it was an
	// exported table's header in another order than the syslog's.
	started    bool
	misordered error
}

func (d *panDecoder) Flush(Emit) {}

// Columns shared by TRAFFIC and THREAT (PAN-OS 10/11).
const (
	panReceive   = 1
	panSerial    = 2
	panType      = 3
	panSubtype   = 4
	panGenerated = 6
	panSrc       = 7
	panDst       = 8
	panNatSrc    = 9
	panNatDst    = 10
	panRule      = 11
	panSrcUser   = 12
	panDstUser   = 13
	panApp       = 14
	panVsys      = 15
	panSrcZone   = 16
	panDstZone   = 17
	panInIf      = 18
	panOutIf     = 19
	panSession   = 22
	panSport     = 24
	panDport     = 25
	panProto     = 29
	panAction    = 30
)

// panSessionCounters are a TRAFFIC end log's counters by column;
// panSoFarCounters the same columns of a start, drop or deny log.
var (
	panSessionCounters = [...]struct {
		field string
		col   int
	}{{"network.bytes", 31}, {"source.bytes", 32}, {"destination.bytes", 33}, {"network.packets", 34}}
	panSoFarCounters = [...]struct {
		field string
		col   int
	}{{"panw.panos.bytes", 31}, {"panw.panos.bytes_sent", 32}, {"panw.panos.bytes_received", 33}, {"panw.panos.packets", 34}}
)

func (d *panDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	if !d.started {
		d.started = true
		if ok, misordered := panExportHeader(s); ok {
			d.misordered = misordered
			return nil // the header of an exported table
		}
	}
	if d.misordered != nil {
		return d.misordered
	}
	h, err := d.clock.peek(s)
	body := s
	if err == nil {
		body = h.Msg // the CSV after the syslog header
	}
	r := csv.NewReader(strings.NewReader(body))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	f, err := r.Read()
	if err != nil {
		return fmt.Errorf("panos: CSV: %v", err)
	}
	if len(f) < 8 {
		return fmt.Errorf("panos: %d columns", len(f))
	}
	get := func(i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	ev := event.New()
	t, terr := time.ParseInLocation("2006/01/02 15:04:05", get(panGenerated), d.loc)
	if terr != nil {
		t, terr = time.ParseInLocation("2006/01/02 15:04:05", get(panReceive), d.loc)
	}
	// A header naming its zone (RFC 5424, ISO with an offset) dates the
	// line; a classic one names no year where PAN-OS' columns do, and no
	// more zone than they.
	switch {
	case err == nil && h.Zoned:
		ev.Timestamp = h.Time
		d.clock.take(h)
	case terr == nil:
		ev.Timestamp = d.repeat.place(t, d.loc).UTC()
		d.o.zoneRead() // PAN-OS' columns name no zone
	case err == nil && !h.Time.IsZero():
		ev.Timestamp = h.Time
		d.clock.take(h)
	default:
		return fmt.Errorf("panos: no usable time")
	}
	typ, sub := get(panType), get(panSubtype)
	ev.Fields[event.FieldDataset] = "panw.panos"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Fields["observer.type"] = "firewall"
	ev.Set("observer.vendor", "Palo Alto Networks")
	ev.Set("observer.serial_number", get(panSerial))
	ev.Set("observer.name", h.Host)
	ev.Set("panw.panos.type", typ)
	ev.Set("panw.panos.sub_type", sub)
	switch typ {
	case "TRAFFIC", "THREAT":
		setIP(ev, "source.ip", get(panSrc))
		setIP(ev, "destination.ip", get(panDst))
		setNATIP(ev, "source.nat.ip", get(panNatSrc))
		setNATIP(ev, "destination.nat.ip", get(panNatDst))
		ev.Set("rule.name", get(panRule))
		if u := get(panSrcUser); u != "" {
			if i := strings.IndexByte(u, '\\'); i > 0 {
				ev.Set("user.domain", u[:i])
				u = u[i+1:]
			}
			ev.Set("user.name", u)
		}
		ev.Set("network.application", get(panApp))
		ev.Set("panw.panos.vsys", get(panVsys))
		ev.Set("observer.ingress.zone", get(panSrcZone))
		ev.Set("observer.egress.zone", get(panDstZone))
		ev.Set("observer.ingress.interface.name", get(panInIf))
		ev.Set("observer.egress.interface.name", get(panOutIf))
		ev.Set("panw.panos.session_id", get(panSession))
		setPort(ev, "source.port", get(panSport))
		setPort(ev, "destination.port", get(panDport))
		ev.Set("network.transport", ianaProto(get(panProto)))
		ev.Set("event.action", get(panAction))
		ev.Fields["event.category"] = []string{"network"}
	}
	switch typ {
	case "TRAFFIC":
		// Only a session's end log counts its bytes: a start, drop or deny
		// log holds the bytes so far (or those of a refused session), kept
		// as PAN-OS' own fields so that a sum of source.bytes counts each
		// session once.
		counters := &panSessionCounters
		if sub != "end" {
			counters = &panSoFarCounters
		}
		for _, c := range counters {
			if n, err := strconv.ParseInt(get(c.col), 10, 64); err == nil {
				ev.SetInt(c.field, n)
			}
		}
		if n, err := strconv.ParseInt(get(36), 10, 64); err == nil {
			ev.SetInt("event.duration", n*int64(time.Second))
			if sub == "end" {
				ev.Fields["event.start"] = ev.Timestamp.Add(-time.Duration(n) * time.Second).Format(time.RFC3339Nano)
			}
		}
		ev.Set("panw.panos.url_category", get(37))
		ev.Set("panw.panos.end_reason", get(46))
		ev.Fields["event.type"] = []string{"connection"}
		if sub != "end" {
			// start/drop/deny logs of a session: bytes so far, not the session's total.
			ev.Fields["tags"] = []string{"panos_not_session_end"}
		}
	case "THREAT":
		ev.Set("url.original", get(31))
		ev.Set("panw.panos.threat.name", get(32))
		ev.Set("panw.panos.url_category", get(33))
		ev.Set("log.level", get(34))
		ev.Set("panw.panos.direction", get(35))
		ev.Set("panw.panos.sequence_number", get(36))
		ev.Set("source.geo.country_name", get(38))
		ev.Set("destination.geo.country_name", get(39))
		ev.Fields["event.kind"] = "alert"
		ev.Fields["event.category"] = []string{"network", "intrusion_detection"}
		if sub == "file" {
			ev.Set("file.name", get(31))
		}
	case "GLOBALPROTECT":
		// PAN-OS 9.1+'s own GlobalProtect log: event id, stage, the user,
		// the client's public address and the one its tunnel was given.
		ev.Fields["event.category"] = []string{"authentication", "network"}
		ev.Set("message", strings.Join(f, ","))
		ev.Set("event.action", get(8))
		ev.Set("panw.panos.stage", get(9))
		ev.Set("panw.panos.tunnel_type", get(11))
		if u := get(12); u != "" {
			if i := strings.IndexByte(u, '\\'); i > 0 {
				ev.Set("user.domain", u[:i])
				u = u[i+1:]
			}
			ev.Set("user.name", u)
		}
		ev.Set("panw.panos.machine_name", get(14))
		setNATIP(ev, "source.ip", get(15))
		setNATIP(ev, "panw.panos.assigned_ip", get(17))
		switch strings.ToLower(get(28)) {
		case "success":
			ev.Set("event.outcome", "success")
		case "failure":
			ev.Set("event.outcome", "failure")
		}
	case "AUTHENTICATION", "SYSTEM", "CONFIG":
		ev.Fields["event.category"] = []string{"host"}
		ev.Set("message", strings.Join(f, ","))
	}
	emit(ev, linePos(no))
	return nil
}

// setNATIP sets a NAT address but PAN-OS' 0.0.0.0, its word for no NAT.
func setNATIP(ev *event.Event, field, v string) {
	if a, err := netip.ParseAddr(v); err != nil || !a.IsUnspecified() {
		setIP(ev, field, v)
	}
}
