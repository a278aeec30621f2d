package parsers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Huawei reads the information-center syslog of Huawei VRP devices — USG
// and HiSecEngine firewalls above all — and of H3C's Comware, which writes
// the same form: `<190>2023-10-11 20:38:20 USG-01
// %%01SECLOG/6/SESSION_TEARDOWN(l):IPVer=4,Protocol=udp,SourceIP=…,
// SendBytes=74,RcvBytes=120,…,CloseReason=aged-out.`. A firewall's session
// log (SECLOG SESSION_TEARDOWN) closes a session with what its initiator
// sent (SendBytes: a DNS query's 74 bytes against its answer's 120 in
// operators' captures) and received, and dates its start and end in epoch
// seconds (BeginTime, EndTime): those are UTC, and they teach the offset
// of the device's own header time, which names no zone (its "timestamp
// local" default), for the records that carry no epoch (POLICY permits and
// denies, logins). Other records keep their parameters — "Key=Value, …"
// after the tag, or in parentheses after a sentence.
type Huawei struct{}

func (Huawei) Name() string { return "huawei" }
func (Huawei) Description() string {
	return "Huawei VRP / USG firewall and H3C Comware syslog (%%01MODULE/level/BRIEF: session teardowns and Comware's session flow logs with bytes per direction, policy permits and denies, logins)"
}

// huaweiTag is "%%01MODULE/level/BRIEF(l)[seq]:"; Comware may put its
// virtual system between the version and the module ("%%10 VsysId:1 nat/…").
var huaweiTag = regexp.MustCompile(`%%(\d{2})\s*(?:[A-Za-z]+:\d+\s+)?([A-Za-z][A-Za-z0-9_-]*)/(\d)/([A-Za-z0-9_]+)(?:\(([a-z])\))?(?:\[\d+\])?:`)

func (Huawei) Detect(head []byte) bool { return mostLines(head, Huawei{}.matchLine) }

func (Huawei) matchLine(l string) bool {
	return strings.Contains(l, "%%") && huaweiTag.MatchString(l)
}

func (Huawei) NewDecoder(o *Options) LineDecoder {
	return &huaweiDecoder{clock: o.clock(), dev: newDeviceClock(o, "the header's time"), o: o}
}

type huaweiDecoder struct {
	clock syslogClock
	dev   deviceClock
	o     *Options
}

func (d *huaweiDecoder) Flush(Emit) {}

// huaweiStamps are the device's own header times: VRP's default
// ("2023-10-11 20:38:20"), its "Jan 19 2023 08:53:29" and the same with an
// offset ("Mar 26 2022 17:06:48+03:00", followed by "DST" in summer).
var huaweiStamps = []struct {
	re     *regexp.Regexp
	layout string
}{
	{regexp.MustCompile(`(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})([+-]\d{2}:\d{2})?`), "2006-01-02 15:04:05"},
	{regexp.MustCompile(`([A-Z][a-z]{2} +\d{1,2} \d{4} \d{2}:\d{2}:\d{2})([+-]\d{2}:\d{2})?`), "Jan _2 2006 15:04:05"},
	// Comware: the year after the time ("Dec 01 16:15:43 2019").
	{regexp.MustCompile(`([A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2} \d{4})()`), "Jan _2 15:04:05 2006"},
}

func (d *huaweiDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	m := huaweiTag.FindStringSubmatchIndex(s)
	if m == nil {
		return fmt.Errorf("huawei: no %%%%NNMODULE/level/BRIEF tag")
	}
	prefix, body := s[:m[0]], strings.TrimSpace(s[m[1]:])
	version, module, level, brief := s[m[2]:m[3]], s[m[4]:m[5]], s[m[6]:m[7]], s[m[8]:m[9]]
	kv, order := huaweiParams(body)

	ev := event.New()
	ev.Fields[event.FieldDataset] = "huawei.log"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	switch version {
	case "01":
		ev.Set("observer.vendor", "Huawei")
	case "10":
		ev.Set("observer.vendor", "H3C")
	}
	code := module + "/" + level + "/" + brief
	ev.Set("event.code", code)
	ev.Set("event.provider", module)
	if n, err := strconv.Atoi(level); err == nil {
		ev.SetInt("event.severity", int64(n))
	}
	ev.Set("message", body)
	// The header is "timestamp hostname %%…": the device that logged, the
	// one to name when a case holds several firewalls.
	if f := strings.Fields(prefix); len(f) > 0 {
		if host := f[len(f)-1]; !strings.ContainsAny(host, ":>") && strings.Trim(host, "0123456789") != "" {
			ev.Set("observer.name", host)
		}
	}
	if err := d.date(ev, prefix, kv); err != nil {
		return err
	}
	for _, k := range order {
		if v := kv[huaweiKey(k)]; v != "" {
			ev.Fields["huawei."+strings.ReplaceAll(k, "-", "_")] = v
		}
	}
	get := func(names ...string) string {
		for _, n := range names {
			if v := kv[huaweiKey(n)]; v != "" {
				return v
			}
		}
		return ""
	}
	setIP(ev, "source.ip", get("SourceIP", "source-ip", "SrcIp", "SrcIPAddr", "IpAddress", "Ip", "UserIP"))
	setIP(ev, "destination.ip", get("DestinationIP", "destination-ip", "DstIp", "DstIPAddr"))
	setPort(ev, "source.port", get("SourcePort", "source-port", "SrcPort"))
	setPort(ev, "destination.port", get("DestinationPort", "destination-port", "DstPort"))
	setIP(ev, "source.nat.ip", get("SourceNatIP", "SrcNatIP", "NatSrcIPAddr"))
	setPort(ev, "source.nat.port", get("SourceNatPort", "SrcNatPort", "NatSrcPort"))
	setIP(ev, "destination.nat.ip", get("DestinationNatIP", "DestNatIP", "NatDstIPAddr"))
	setPort(ev, "destination.nat.port", get("DestinationNatPort", "DestNatPort", "NatDstPort"))
	ev.Set("network.transport", ianaProto(get("Protocol")))
	if u := strings.Trim(get("UserName", "User", "user-name"), `"`); u != "" && u != "**" && !strings.EqualFold(u, "unknown") {
		ev.Set("user.name", u)
	}
	ev.Set("rule.name", get("PolicyName", "rule-name", "RuleName"))
	ev.Set("observer.ingress.zone", get("SourceZone", "source-zone", "SrcZoneName", "SrcZone"))
	ev.Set("observer.egress.zone", get("DestinationZone", "destination-zone", "DstZoneName", "DstZone"))
	ev.Set("network.application", get("Application", "application"))

	upper := strings.ToUpper(module)
	// Comware's session and NAT flow logs: Event(1048) says whether the
	// session closed ("(1)Normal over", "(2)Aged for timeout"…) or was
	// created ("(8)Session created", its first packet's bytes only). A
	// long session is also logged while active ("(6)Active data flow
	// timeout"), and Comware resets its counters after each log: those
	// bytes are new ones, which the ledger adds (TestComwareActiveFlowRecordsAddUp).
	comwareFlow := get("InitByteCount") != "" || get("Event") != "" && (upper == "SESSION" || upper == "NAT")
	created := strings.HasPrefix(get("Event"), "(8)")
	// closed and opened are a session's end (with its counters) and start,
	// as USG's SECLOG and Comware's flow logs name them.
	closed := func(product, reason, sent, rcvd, sentPkts, rcvdPkts string) {
		setFirewall(ev, ev.Str("observer.vendor"), product)
		ev.Fields["event.category"] = []string{"network"}
		ev.Fields["event.type"] = []string{"connection", "end"}
		ev.Set("event.action", "session-closed")
		ev.Set("event.reason", reason)
		setSessionBytes(ev, sent, rcvd)
		if n, err := strconv.ParseInt(sentPkts, 10, 64); err == nil {
			ev.SetInt("source.packets", n)
		}
		if n, err := strconv.ParseInt(rcvdPkts, 10, 64); err == nil {
			ev.SetInt("destination.packets", n)
		}
	}
	opened := func(product, action string) {
		setFirewall(ev, ev.Str("observer.vendor"), product)
		ev.Fields["event.category"] = []string{"network"}
		ev.Fields["event.type"] = []string{"connection", "start"}
		ev.Set("event.action", action)
		// A session's opening says nothing of its volume: it is not the
		// log that measures it.
		ev.Fields["tags"] = []string{"packet_log_no_session_volume"}
	}
	switch b := strings.ToUpper(brief); {
	case comwareFlow && !created:
		closed("Comware", strings.TrimSpace(strings.TrimLeft(get("Event"), "()0123456789")), get("InitByteCount"), get("RplyByteCount"), get("InitPktCount"), get("RplyPktCount"))
		if strings.HasPrefix(get("Event"), "(6)") {
			// Still open: its bytes are those since its last record, and
			// the ledger counts the session once, at its first record.
			ev.Fields["event.type"] = []string{"connection", "info"}
			ev.Set("event.action", "session-active")
			ev.Fields["tags"] = []string{"session_continues"}
		}
	case comwareFlow:
		opened("Comware", "session-created")
	case upper == "SECLOG" && strings.HasPrefix(b, "SESSION_TEARDOWN"):
		closed("USG", get("CloseReason"), get("SendBytes"), get("RcvBytes"), get("SendPkts"), get("RcvPkts"))
	case upper == "SECLOG" && strings.HasPrefix(b, "SESSION_"):
		opened("USG", strings.ToLower(strings.ReplaceAll(b, "_", "-")))
	case upper == "POLICY" || upper == "SECLOG":
		setFirewall(ev, ev.Str("observer.vendor"), "USG")
		ev.Fields["event.category"] = []string{"network"}
		ev.Fields["tags"] = []string{"packet_log_no_session_volume"}
		if strings.Contains(b, "DENY") || strings.Contains(b, "BLOCK") || strings.Contains(b, "DROP") {
			ev.Set("event.action", "connection-blocked")
			ev.Set("event.outcome", "failure")
			ev.Fields["event.type"] = []string{"connection", "denied"}
		} else {
			ev.Set("event.action", "connection-allowed")
			ev.Fields["event.type"] = []string{"connection", "allowed"}
		}
	case strings.Contains(b, "LOGIN") || strings.Contains(b, "LOGOUT") || strings.HasSuffix(b, "_FAIL"):
		ev.Fields["event.category"] = []string{"authentication"}
		if strings.Contains(b, "FAIL") {
			ev.Set("event.outcome", "failure")
		} else if strings.Contains(b, "LOGIN") {
			ev.Set("event.outcome", "success")
		}
	}
	setOutboundDirection(ev)
	emit(ev, linePos(no))
	return nil
}

// date sets the event's time: a session's epoch seconds (its end, else its
// start) when it has them; else the device's header time, at the offset
// those taught or in --tz; else a relay's syslog header.
func (d *huaweiDecoder) date(ev *event.Event, prefix string, kv map[string]string) error {
	var wall string
	var layout string
	var zone string
	for _, st := range huaweiStamps {
		if all := st.re.FindAllStringSubmatch(prefix, -1); all != nil {
			last := all[len(all)-1] // the device's own, nearest its tag
			wall, layout, zone = last[1], st.layout, last[2]
			break
		}
	}
	begin, errB := huaweiEpoch(firstNonEmpty(kv["begintime"], kv["begintimee"]))
	end, errE := huaweiEpoch(firstNonEmpty(kv["endtime"], kv["endtimee"]))
	switch {
	case errE == nil && end > 0:
		ev.Timestamp = time.Unix(end, 0).UTC()
	case errB == nil && begin > 0:
		ev.Timestamp = time.Unix(begin, 0).UTC()
	}
	if errB == nil && begin > 0 && errE == nil && end >= begin {
		ev.Fields["event.start"] = time.Unix(begin, 0).UTC().Format(time.RFC3339)
		ev.Fields["event.end"] = time.Unix(end, 0).UTC().Format(time.RFC3339)
		ev.SetInt("event.duration", (end-begin)*int64(time.Second))
	}
	if !ev.Timestamp.IsZero() {
		if wall != "" && zone == "" {
			if w, err := time.Parse(layout, wall); err == nil {
				d.dev.learn(w, ev.Timestamp)
			}
		}
		return nil
	}
	if wall != "" {
		if zone != "" {
			t, err := time.Parse(layout+"-07:00", wall+zone)
			if err != nil {
				return fmt.Errorf("huawei: header time %q: %w", wall+zone, err)
			}
			ev.Timestamp = t.UTC()
			return nil
		}
		t, err := d.dev.read(layout, wall)
		if err != nil {
			return fmt.Errorf("huawei: header time %q: %w", wall, err)
		}
		ev.Timestamp = t
		return nil
	}
	h, err := d.clock.parse(prefix + " x")
	if err != nil || h.Time.IsZero() {
		return fmt.Errorf("huawei: no time (no session epoch, no device or syslog header time)")
	}
	ev.Timestamp = h.Time
	return nil
}

// huaweiEpoch reads a session's start or end: Huawei's epoch seconds, or
// Comware's BeginTime_e/EndTime_e ("12012019081051": month, day, year,
// time), which is UTC — a capture's header read 16:15:43 at a China site
// for an EndTime_e of 08:15:43.
func huaweiEpoch(v string) (int64, error) {
	if len(v) == 14 && isDigits(v) {
		t, err := time.Parse("01022006150405", v)
		return t.Unix(), err
	}
	return strconv.ParseInt(v, 10, 64)
}

// huaweiParams reads a record's parameters: "Key=Value,Key=Value." right
// after the tag, or "A sentence. (Key=Value, Key=Value)". Keys are kept as
// written (order) and looked up folded (huaweiKey).
func huaweiParams(body string) (map[string]string, []string) {
	list := body
	if i := strings.LastIndexByte(body, '('); i >= 0 && strings.Contains(body[i:], "=") && (!strings.Contains(body[:i], "=") || strings.HasSuffix(strings.TrimRight(body, ". "), ")")) {
		list = body[i+1:]
		if j := strings.LastIndexByte(list, ')'); j >= 0 {
			list = list[:j]
		}
	}
	list = strings.TrimRight(strings.TrimSpace(list), ".")
	// Comware numbers its keys ("SrcIPAddr(1003)=…;") and separates them
	// with semicolons only: a value may hold commas (RealSrcIP's list).
	numbered := comwareKey.MatchString(list)
	sep := func(r rune) bool { return r == ',' || r == ';' }
	if numbered {
		sep = func(r rune) bool { return r == ';' }
	}
	kv := map[string]string{}
	var order []string
	for _, f := range strings.FieldsFunc(list, sep) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if numbered {
			if i := strings.LastIndexByte(k, '('); i > 0 && strings.HasSuffix(k, ")") && isDigits(k[i+1:len(k)-1]) {
				k = k[:i]
			}
		}
		if k == "" || strings.ContainsAny(k, " ()") {
			continue
		}
		fk := huaweiKey(k)
		if _, seen := kv[fk]; !seen {
			order = append(order, k)
		}
		kv[fk] = v
	}
	return kv, order
}

var comwareKey = regexp.MustCompile(`\(\d{4}\)=`)

// huaweiKey folds a parameter's name: SourceIP, source-ip and Source_IP
// are one.
func huaweiKey(k string) string {
	return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(k))
}
