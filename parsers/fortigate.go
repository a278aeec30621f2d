package parsers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// FortiGate reads FortiOS key=value logs (traffic, event vpn/system/user,
// utm), bare or behind a syslog header.
type FortiGate struct{}

func (FortiGate) Name() string { return "fortigate" }
func (FortiGate) Description() string {
	return "Fortinet FortiGate logs (traffic, vpn, system, user): key=value with or without syslog header, syslog format csv, json or cef, FortiAnalyzer CSV download"
}

func (FortiGate) Detect(head []byte) bool {
	if l := headLines(head, 1); len(l) == 1 && fortiTableHeader(l[0]) != nil {
		return true
	}
	return mostLines(head, FortiGate{}.matchLine)
}

func (FortiGate) matchLine(l string) bool {
	if strings.Contains(l, "logid=") && strings.Contains(l, "type=") &&
		(strings.Contains(l, "devname=") || strings.Contains(l, "subtype=") || strings.Contains(l, "eventtime=")) {
		return true
	}
	if fortiCEFStart(l) >= 0 {
		return true
	}
	// Syslog "format json": the same keys as JSON members.
	return strings.Contains(l, "{") && strings.Contains(l, `"logid"`) && strings.Contains(l, `"type"`) &&
		(strings.Contains(l, `"devname"`) || strings.Contains(l, `"subtype"`) || strings.Contains(l, `"eventtime"`))
}

func (FortiGate) NewDecoder(o *Options) LineDecoder {
	return &fortiDecoder{clock: o.clock(), loc: o.TZ, o: o, names: vendorNames{prefix: "fortinet.firewall.", keep: o.Keep}, repeat: repeatedHour{warn: o.Warn}}
}

type fortiDecoder struct {
	clock syslogClock
	loc   *time.Location
	o     *Options
	// repeat places date/time in the repeated autumn hour by the log's own
	// account, apart from a relay header's stamps.
	repeat repeatedHour
	line   fortiLine   // reused per line
	names  vendorNames // key → "fortinet.firewall.<key>"
	// table is the header of a FortiAnalyzer CSV download, when the file's
	// first line is one; started says that line was read.
	table   *fortiTable
	started bool
}

// fortiField numbers the keys the decoder reads. A line's values are held
// in an array by these numbers: a map per line, filled then read some
// forty times, was a third of the decoder's time (bench/README, stop 32).
type fortiField uint8

const (
	fDate fortiField = iota + 1
	fTime
	fEventTime
	fTZ
	fDevName
	fDevID
	fLogID
	fType
	fSubtype
	fLevel
	fAction
	fReason
	fLogDesc
	fMsg
	fSrcIP
	fSrcPort
	fDstIP
	fDstPort
	fSrcIntf
	fDstIntf
	fProto
	fService
	fApp
	fPolicyID
	fPolicyName
	fDstCountry
	fSrcCountry
	fHostname
	fDstHost
	fURL
	fTransIP
	fUser
	fUnauthUser
	fSentByte
	fRcvdByte
	fSentPkt
	fRcvdPkt
	fDuration
	fSentDelta
	fDirection
	fRemIP
	fTunnelIP
	fStatus
	fXAuthUser
	fEAPUser
	fAssignIP
	fortiFields
)

var fortiFieldNames = [fortiFields]string{
	fDate: "date", fTime: "time", fEventTime: "eventtime", fTZ: "tz", fDevName: "devname", fDevID: "devid",
	fLogID: "logid", fType: "type", fSubtype: "subtype", fLevel: "level", fAction: "action", fReason: "reason",
	fLogDesc: "logdesc", fMsg: "msg", fSrcIP: "srcip", fSrcPort: "srcport", fDstIP: "dstip", fDstPort: "dstport",
	fSrcIntf: "srcintf", fDstIntf: "dstintf", fProto: "proto", fService: "service", fApp: "app",
	fPolicyID: "policyid", fPolicyName: "policyname", fDstCountry: "dstcountry", fSrcCountry: "srccountry",
	fHostname: "hostname", fDstHost: "dst_host", fURL: "url", fTransIP: "transip", fUser: "user",
	fUnauthUser: "unauthuser", fSentByte: "sentbyte", fRcvdByte: "rcvdbyte", fSentPkt: "sentpkt",
	fRcvdPkt: "rcvdpkt", fDuration: "duration", fSentDelta: "sentdelta", fDirection: "direction",
	fRemIP: "remip", fTunnelIP: "tunnelip", fStatus: "status", fXAuthUser: "xauthuser", fEAPUser: "eapuser", fAssignIP: "assignip",
}

// fortiFieldSlots finds a key's number by open addressing on its length
// and end bytes: a line has some forty keys, and a map lookup for each was
// a tenth of the decoder's time.
var fortiFieldSlots = func() (t [256]fortiField) {
	for f, name := range fortiFieldNames {
		if name == "" {
			continue
		}
		h := fortiKeyHash(name)
		for t[h] != 0 {
			h++
		}
		t[h] = fortiField(f)
	}
	return t
}()

func fortiKeyHash(k string) uint8 {
	return uint8(len(k)*37) + k[0]*5 + k[len(k)-1]
}

// fortiFieldOf is the number of key k, 0 for a key the decoder does not read.
func fortiFieldOf(k string) fortiField {
	if k == "" {
		return 0
	}
	for h := fortiKeyHash(k); fortiFieldSlots[h] != 0; h++ {
		if f := fortiFieldSlots[h]; fortiFieldNames[f] == k {
			return f
		}
	}
	return 0
}

// fortiMapped are keys whose meaning is carried by ECS fields; every other
// key is kept under fortinet.firewall.* (ECS keeps vendor detail there).
var fortiMapped = func() (m [fortiFields]bool) {
	for _, f := range []fortiField{fDate, fTime, fEventTime, fTZ, fDevName, fDevID, fLogID, fSrcIP, fSrcPort,
		fDstIP, fDstPort, fSrcIntf, fDstIntf, fProto, fAction, fService, fPolicyID, fPolicyName, fHostname,
		fURL, fUser, fMsg, fLevel, fDuration, fSentByte, fRcvdByte, fSentPkt, fRcvdPkt, fDstCountry,
		fSrcCountry, fTransIP, fApp} {
		m[f] = true
	}
	return m
}()

// fortiLine is one line's pairs: the values of the keys the decoder reads
// (the last of a repeated key, as a map kept it), and every key not mapped
// to ECS, in the line's order.
type fortiLine struct {
	v    [fortiFields]string
	kept []kvPair
}

type kvPair struct{ k, v string }

func (l *fortiLine) get(f fortiField) string { return l.v[f] }

func (l *fortiLine) add(k, v string) {
	if f := fortiFieldOf(k); f != 0 {
		l.v[f] = v
		if fortiMapped[f] {
			return
		}
	}
	l.kept = append(l.kept, kvPair{k, v})
}

// fortiCounters maps the session counters to their ECS fields.
var fortiCounters = [...]struct {
	ecs string
	key fortiField
}{
	{"source.bytes", fSentByte}, {"destination.bytes", fRcvdByte},
	{"source.packets", fSentPkt}, {"destination.packets", fRcvdPkt},
}

func (d *fortiDecoder) Flush(Emit) {}

func (d *fortiDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	var hdr syslogHeader
	kv := &d.line
	kv.v, kv.kept = [fortiFields]string{}, kv.kept[:0]
	first := !d.started
	d.started = true
	if first {
		if d.table = fortiTableHeader(s); d.table != nil {
			return nil // the header of a table (fortigate_forms.go)
		}
	}
	if d.table != nil {
		if err := d.table.pairs(s, kv); err != nil {
			return err
		}
	} else if err := d.pairs(s, kv, &hdr); err != nil {
		return err
	} else if kv.get(fLogID) == "" && (FortiMail{}).matchLine(s) {
		// date= and time= like ours: a FortiMail's record in a relay's file
		return fmt.Errorf("fortigate: a FortiMail record (log_id=)")
	}
	return d.event(no, s, hdr, kv, emit)
}

// event writes the event of one log's pairs.
func (d *fortiDecoder) event(no int64, s string, hdr syslogHeader, kv *fortiLine, emit Emit) error {
	ev := event.NewReusable() // the decoder keeps nothing of it once emitted
	ts, zoned, err := fortiTime(kv, d.loc)
	if err == nil && !zoned {
		d.o.zoneRead()
		ts = d.repeat.place(ts.In(d.loc), d.loc).UTC()
	}
	if err != nil {
		if hdr.Time.IsZero() {
			return err
		}
		ts = hdr.Time
		d.clock.take(hdr)
	}
	ev.Timestamp = ts
	ev.Fields[event.FieldDataset] = "fortinet.firewall"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Fields["observer.type"] = "firewall"
	ev.Set("observer.vendor", "Fortinet")
	ev.Set("observer.product", "FortiGate")
	ev.Set("observer.name", kv.get(fDevName))
	ev.Set("observer.serial_number", kv.get(fDevID))
	if hdr.Host != "" {
		ev.Set("log.syslog.hostname", hdr.Host)
	}
	for _, p := range kv.kept {
		if p.v == "" || p.v == "N/A" {
			delete(ev.Fields, d.names.name(p.k)) // a key given again, empty: the last value counts
			continue
		}
		if name, read := d.names.wanted(p.k); read {
			ev.Fields[name] = p.v
		}
	}
	ev.Set("event.code", kv.get(fLogID))
	ev.Set("log.level", kv.get(fLevel))
	ev.Set("event.action", kv.get(fAction))
	ev.Set("event.reason", firstNonEmpty(kv.get(fReason), kv.get(fLogDesc)))
	ev.Set("message", firstNonEmpty(kv.get(fMsg), kv.get(fLogDesc)))
	setIP(ev, "source.ip", kv.get(fSrcIP))
	setPort(ev, "source.port", kv.get(fSrcPort))
	setIP(ev, "destination.ip", kv.get(fDstIP))
	setPort(ev, "destination.port", kv.get(fDstPort))
	ev.Set("observer.ingress.interface.name", kv.get(fSrcIntf))
	ev.Set("observer.egress.interface.name", kv.get(fDstIntf))
	ev.Set("network.transport", ianaProto(kv.get(fProto)))
	ev.Set("network.protocol", strings.ToLower(kv.get(fService)))
	ev.Set("network.application", strings.ToLower(kv.get(fApp)))
	ev.Set("rule.id", kv.get(fPolicyID))
	ev.Set("rule.name", kv.get(fPolicyName))
	ev.Set("destination.geo.country_name", kv.get(fDstCountry))
	ev.Set("source.geo.country_name", kv.get(fSrcCountry))
	ev.Set("destination.domain", firstNonEmpty(kv.get(fHostname), kv.get(fDstHost)))
	ev.Set("url.original", kv.get(fURL))
	ev.Set("source.nat.ip", kv.get(fTransIP))
	if u := fortiUser(kv); u != "" {
		ev.Set("user.name", u)
	} else if u := kv.get(fUser); u != "" && u != "N/A" {
		ev.Set("fortinet.firewall.user", u) // a dial-up IPsec peer's address, no account
	}
	// An interim record (long sessions, action=accept with sentdelta) repeats
	// the session's running totals: its counters stay under fortinet.firewall.*
	// and only the record that ends the session carries source.bytes, so any
	// sum of source.bytes counts each session once. So do the counters of a
	// UTM record (web filter, application control…) and of an HTTP
	// transaction: the bytes of a request inside a session that its traffic
	// record counts whole (the same sessionid).
	interim := fortiInterim(kv)
	whole := !interim && fortiSessionRecord(kv)
	for _, c := range fortiCounters {
		f, k := c.ecs, c.key
		if v := kv.get(k); v != "" {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				if !whole {
					ev.SetInt(d.names.name(fortiFieldNames[k]), n)
				} else {
					ev.SetInt(f, n)
				}
			}
		}
	}
	if n, ok := ev.Int("source.bytes"); ok {
		if m, ok2 := ev.Int("destination.bytes"); ok2 {
			ev.SetInt("network.bytes", n+m)
		}
	}
	if v := kv.get(fDuration); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			ev.SetInt("event.duration", n*int64(time.Second)) // ECS: nanoseconds
			if kv.get(fType) == "traffic" {
				// Traffic logs are written when the session ends: the session began duration seconds earlier.
				ev.Fields["event.start"] = ev.Timestamp.Add(-time.Duration(n) * time.Second).Format(time.RFC3339Nano)
				ev.Fields["event.end"] = ev.Timestamp.Format(time.RFC3339Nano)
			}
		}
	}
	typ, sub := kv.get(fType), kv.get(fSubtype)
	switch typ {
	case "traffic":
		ev.Add("event.category", "network")
		ev.Fields["event.type"] = []string{"connection"}
		if interim {
			ev.Fields["event.type"] = []string{"connection", "info"}
		}
		switch kv.get(fAction) {
		case "deny", "blocked", "dropped", "block":
			ev.Fields["event.type"] = []string{"connection", "denied"}
			ev.Set("event.outcome", "failure")
		case "":
		default:
			ev.Set("event.outcome", "success")
		}
		switch sub {
		case "forward":
			ev.Set("network.direction", fortiDirection(kv))
		case "local":
			ev.Set("network.direction", "inbound")
		}
	case "event":
		switch sub {
		case "vpn":
			ev.Add("event.category", "network")
			// The VPN client's public address is remip; tunnelip (IPsec:
			// assignip) is the address it gets inside.
			setIP(ev, "source.ip", kv.get(fRemIP))
			setIP(ev, "fortinet.firewall.assigned_ip", firstNonEmpty(kv.get(fTunnelIP), kv.get(fAssignIP)))
			a := kv.get(fAction)
			if strings.Contains(a, "login") || strings.Contains(a, "tunnel-up") || strings.Contains(a, "auth") ||
				// A dial-up IPsec phase 1 that names its XAuth or EAP account is that account's login.
				a == "negotiate" && firstNonEmpty(kv.get(fXAuthUser), kv.get(fEAPUser)) != "" {
				ev.Add("event.category", "authentication")
			}
			ev.Set("event.outcome", fortiOutcome(kv))
		case "user":
			ev.Add("event.category", "authentication")
			setIP(ev, "source.ip", firstNonEmpty(kv.get(fSrcIP), kv.get(fRemIP)))
			ev.Set("event.outcome", fortiOutcome(kv))
		case "system":
			ev.Add("event.category", "host")
			ev.Set("event.outcome", fortiOutcome(kv))
		default:
			ev.Add("event.category", "host")
		}
		ev.Add("event.type", "info")
	case "utm":
		ev.Add("event.category", "network")
		ev.Add("event.type", "info")
		if sub == "webfilter" {
			ev.Add("event.category", "web")
		}
	}
	emit(ev, linePos(no))
	return nil
}

// fortiUser is the account a record names. A dial-up IPsec record writes
// the peer's address in user= and the account in xauthuser= (IKEv1 XAuth)
// or eapuser= (IKEv2 EAP).
func fortiUser(kv *fortiLine) string {
	if u := firstNonEmpty(kv.get(fUser), kv.get(fUnauthUser)); u != "" && !isAddr(u) {
		return u
	}
	return firstNonEmpty(kv.get(fXAuthUser), kv.get(fEAPUser))
}

// fortiSessionRecord reports a record that counts a whole session: a
// traffic log but FortiOS 7's per-request http-transaction (a line naming
// no type is taken as it always was, as a session's).
func fortiSessionRecord(kv *fortiLine) bool {
	t := kv.get(fType)
	return (t == "traffic" || t == "") && kv.get(fSubtype) != "http-transaction"
}

// fortiInterim reports a traffic record written while its session goes on
// (FortiOS interim logging): action "accept" with the per-interval sentdelta.
func fortiInterim(kv *fortiLine) bool {
	return kv.get(fType) == "traffic" && kv.get(fAction) == "accept" && kv.get(fSentDelta) != ""
}

func fortiDirection(kv *fortiLine) string {
	if d := kv.get(fDirection); d == "incoming" {
		return "inbound"
	} else if d == "outgoing" {
		return "outbound"
	}
	if isPrivateIP(kv.get(fSrcIP)) && !isPrivateIP(kv.get(fDstIP)) {
		return "outbound"
	}
	if !isPrivateIP(kv.get(fSrcIP)) && isPrivateIP(kv.get(fDstIP)) {
		return "inbound"
	}
	if isPrivateIP(kv.get(fSrcIP)) && isPrivateIP(kv.get(fDstIP)) {
		return "internal"
	}
	return ""
}

func fortiOutcome(kv *fortiLine) string {
	st := strings.ToLower(kv.get(fStatus))
	a := strings.ToLower(kv.get(fAction))
	switch {
	case st == "success" || st == "succeeded":
		return "success"
	case st == "failure" || st == "failed" || strings.Contains(st, "error") || strings.Contains(a, "fail") || strings.Contains(a, "deny"):
		return "failure"
	case strings.Contains(a, "tunnel-up") || strings.Contains(a, "login"):
		return "success"
	}
	return ""
}

// fortiTime prefers eventtime (epoch in s, ms, µs or ns by its length), then
// date+time with the tz field, then date+time in the analyst's zone.
func fortiTime(kv *fortiLine, loc *time.Location) (ts time.Time, zoned bool, err error) {
	if et := kv.get(fEventTime); et != "" {
		if n, err := strconv.ParseInt(et, 10, 64); err == nil && n > 0 {
			switch {
			case len(et) <= 10:
				return time.Unix(n, 0).UTC(), true, nil
			case len(et) <= 13:
				return time.UnixMilli(n).UTC(), true, nil
			case len(et) <= 16:
				return time.UnixMicro(n).UTC(), true, nil
			default:
				return time.Unix(0, n).UTC(), true, nil
			}
		}
	}
	d, t := kv.get(fDate), kv.get(fTime)
	if d == "" || t == "" {
		return time.Time{}, false, fmt.Errorf("fortigate: no eventtime and no date/time fields")
	}
	if z, ok := zoneOf(kv.get(fTZ)); ok {
		if ts, err := time.ParseInLocation("2006-01-02 15:04:05", d+" "+t, z); err == nil {
			return ts.UTC(), true, nil
		}
	}
	ts, err = time.ParseInLocation("2006-01-02 15:04:05", d+" "+t, loc)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("fortigate: bad date/time %q %q", d, t)
	}
	return ts.UTC(), false, nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" && s != "N/A" {
			return s
		}
	}
	return ""
}

func ianaProto(p string) string {
	switch strings.ToLower(p) {
	case "6", "tcp":
		return "tcp"
	case "17", "udp":
		return "udp"
	case "1", "icmp":
		return "icmp"
	case "58", "ipv6-icmp", "icmp6":
		return "ipv6-icmp"
	case "47", "gre":
		return "gre"
	case "50", "esp":
		return "esp"
	}
	return strings.ToLower(p)
}
