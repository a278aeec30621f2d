package parsers

import (
	"fmt"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// FortiMail reads Fortinet FortiMail's logs as its syslog sends them
// (key=value pairs, separated by spaces or, in the CSV form, by commas):
// the history log (type=statistics) has one record per message and
// recipient with its size, which is what a mail ledger needs; event,
// kevent, spam, virus and encrypt records say who logged in where.
type FortiMail struct{}

func (FortiMail) Name() string { return "fortimail" }
func (FortiMail) Description() string {
	return "Fortinet FortiMail logs: history (a message per recipient, its size and disposition), mail and webmail events, administrator events, antispam, antivirus, encryption"
}

func (FortiMail) Detect(head []byte) bool { return mostLines(head, FortiMail{}.matchLine) }

// matchLine: FortiMail writes log_id= where FortiOS writes logid= (and
// FortiOS 4 wrote log_id= too, beside devname=, which FortiMail has not).
func (FortiMail) matchLine(l string) bool {
	return strings.Contains(l, "log_id=") && strings.Contains(l, "type=") &&
		(strings.Contains(l, "device_id=") || strings.Contains(l, "pri=")) &&
		!strings.Contains(l, "devname=") && !strings.Contains(l, "logid=")
}

func (FortiMail) NewDecoder(o *Options) LineDecoder {
	return &fortiMailDecoder{loc: o.TZ, clock: o.clock(), zone: newZoneless(o),
		names: vendorNames{prefix: "fortinet_fortimail.log.", keep: o.Keep}, repeat: repeatedHour{warn: o.Warn}}
}

type fortiMailDecoder struct {
	loc    *time.Location
	clock  syslogClock
	zone   zoneless
	names  vendorNames
	repeat repeatedHour
}

func (d *fortiMailDecoder) Flush(Emit) {}

func (d *fortiMailDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	if !(FortiMail{}).matchLine(s) {
		// another device's line in a relay's file: the router reads it
		return fmt.Errorf("fortimail: no log_id= and type= pairs")
	}
	start := strings.Index(s, "log_id=") // there, as matchLine said
	for _, k := range []string{"date=", "device_id="} {
		if i := strings.Index(s, k); i >= 0 && i < start {
			start = i
		}
	}
	prefix := strings.TrimSpace(s[:start])
	// FortiMail's own log view and its log reference print the time first,
	// without keys: "2023-10-24 11:53:02.041 log_id=…".
	lead, prefix := fortiMailLeadTime(prefix)
	var hdr syslogHeader
	if prefix != "" {
		if h, err := d.clock.peek(prefix + " x"); err == nil {
			hdr = h
		}
	}
	kv := map[string]string{}
	var order []string
	if !splitKVSep(s[start:], pairSeparator(s[start:]), true, func(k, v string) {
		if _, dup := kv[k]; !dup {
			order = append(order, k)
		}
		kv[k] = v
	}) {
		return fmt.Errorf("fortimail: no key=value pairs")
	}
	ev := event.New()
	if err := d.stamp(ev, kv, lead, hdr); err != nil {
		return err
	}
	ev.Fields[event.FieldDataset] = "fortinet_fortimail.log"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Set("observer.vendor", "Fortinet")
	ev.Set("observer.product", "FortiMail")
	ev.Set("observer.serial_number", kv["device_id"])
	ev.Set("observer.hostname", hdr.Host)
	for _, k := range order {
		if v := kv[k]; v != "" && k != "date" && k != "time" {
			if name, read := d.names.wanted(k); read {
				ev.Fields[name] = v
			}
		}
	}
	ev.Set("event.code", kv["log_id"])
	ev.Set("log.level", kv["pri"])
	ev.Set("message", kv["msg"])
	switch typ := strings.ToLower(kv["type"]); typ {
	case "statistics":
		fortiMailMessage(ev, kv)
	case "kevent":
		fortiMailAdmin(ev, kv)
	case "event":
		fortiMailService(ev, kv)
	default: // spam, virus, encrypt: a verdict on a message
		ev.Fields["event.category"] = []string{"email"}
		if typ == "virus" {
			ev.Add("event.category", "malware")
		}
		ev.Fields["event.type"] = []string{"info"}
		ev.Set("event.action", typ)
		fortiMailAddresses(ev, kv)
		setIP(ev, "source.ip", kv["src"])
	}
	emit(ev, linePos(no))
	return nil
}

// stamp dates an event by its date= and time= (or the time written before
// the pairs): the appliance's local time, which names no zone unless a tz=
// pair does; a relay's header stands in when the record has no time.
func (d *fortiMailDecoder) stamp(ev *event.Event, kv map[string]string, lead string, hdr syslogHeader) error {
	when := lead
	if dt, tm := kv["date"], kv["time"]; dt != "" && tm != "" {
		when = dt + " " + tm
	}
	if when == "" {
		if hdr.Time.IsZero() {
			return fmt.Errorf("fortimail: no date/time fields")
		}
		d.clock.take(hdr)
		ev.Timestamp = hdr.Time
		return nil
	}
	if z, ok := zoneOf(kv["tz"]); ok && kv["tz"] != "" {
		ts, err := time.ParseInLocation("2006-01-02 15:04:05", when, z)
		if err != nil {
			return fmt.Errorf("fortimail: bad date/time %q", when)
		}
		ev.Timestamp = ts.UTC()
		return nil
	}
	ts, err := time.ParseInLocation("2006-01-02 15:04:05", when, d.loc)
	if err != nil {
		return fmt.Errorf("fortimail: bad date/time %q", when)
	}
	ev.Timestamp = d.repeat.place(ts, d.loc).UTC()
	markMailZoneless(&d.zone, ev)
	return nil
}

// fortiMailLeadTime splits "PREFIX 2023-10-24 11:53:02.041" into the time
// and what came before it (a relay's header, if any).
func fortiMailLeadTime(prefix string) (when, rest string) {
	f := strings.Fields(prefix)
	if len(f) < 2 {
		return "", prefix
	}
	when = f[len(f)-2] + " " + f[len(f)-1]
	if !isISODate(when) {
		return "", prefix
	}
	return when, strings.TrimSpace(prefix[:strings.LastIndex(prefix, f[len(f)-2])])
}

// fortiMailMessage maps a history record: one message to one recipient
// (several, comma-separated, in some versions), with its size. Only a
// message FortiMail let through is a "message" for the mail ledger: one it
// refused, discarded, quarantined or put off (Delay; the sender retries
// in a new session, which is logged again) did not leave by it.
func fortiMailMessage(ev *event.Event, kv map[string]string) {
	ev.Fields["event.category"] = []string{"email"}
	ev.Fields["event.type"] = []string{"info"}
	fortiMailAddresses(ev, kv)
	// dst_ip is the address the client reached: the gateway's own, from
	// which it also sends the message on (its SMTP sessions in a firewall
	// log are this message again).
	setIP(ev, "observer.ip", kv["dst_ip"])
	ev.Set("email.message_id", strings.Trim(kv["message_id"], "<>"))
	ev.SetIntString("email.size", kv["message_length"])
	if n, ok := ev.Int("email.size"); !ok || n < 0 {
		delete(ev.Fields, "email.size")
	}
	// direction is FortiMail's word on the recipient: "in" to one of the
	// domains it protects, "out" to any other.
	switch strings.ToLower(kv["direction"]) {
	case "in":
		ev.Set("email.direction", "inbound")
	case "out":
		ev.Set("email.direction", "outbound")
	}
	switch fortiMailDelivered(kv["disposition"]) {
	case "yes":
		ev.Set("event.action", "message")
		ev.Set("event.outcome", "success")
	case "no":
		ev.Set("event.action", "message-blocked")
		ev.Set("event.outcome", "failure")
	default:
		// A disposition written as a number (FortiMail's log download)
		// that is not known here: the message is counted, as most mail
		// passes, and the record keeps the number.
		ev.Set("event.action", "message")
		ev.Set("event.outcome", "unknown")
	}
	to := ev.Strings("email.to.address")
	ev.Set("message", fmt.Sprintf("%s from=<%s> to=%s size=%s disposition=%s", kv["session_id"], kv["from"],
		strings.Join(to, ","), kv["message_length"], kv["disposition"]))
}

// fortiMailDelivered says whether a disposition let the message through:
// "yes", "no", or "" when it cannot tell. Dispositions are FortiMail's
// action names, several joined by ";" ("System Quarantine;Notification;
// Defer Disposition"); any refusing one keeps the message in.
func fortiMailDelivered(disposition string) string {
	d := strings.ToLower(strings.TrimSpace(disposition))
	if d == "" {
		return ""
	}
	// The log reference prints the same record (session r1PF1YTh025836,
	// 199,986 bytes) as syslog sends it, "Delay", and as the log download
	// writes it, "0x200".
	if d == "0x200" {
		return "no"
	}
	if strings.HasPrefix(d, "0x") {
		return ""
	}
	for _, a := range strings.Split(d, ";") {
		a = strings.TrimSpace(a)
		for _, refused := range []string{"reject", "discard", "quarantine", "delay", "defer delivery", "relay denied", "drop"} {
			if strings.Contains(a, refused) {
				return "no"
			}
		}
	}
	return "yes"
}

// fortiMailAddresses maps the sender, recipients, subject and client of a
// record about a message.
func fortiMailAddresses(ev *event.Event, kv map[string]string) {
	ev.Set("email.from.address", strings.Trim(kv["from"], "<>"))
	for _, to := range strings.FieldsFunc(kv["to"], func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		ev.Add("email.to.address", strings.Trim(to, "<>"))
	}
	ev.Set("email.subject", kv["subject"])
	client := kv["client_ip"]
	if name := kv["client_name"]; client == "" && isAddr(name) {
		client = name
	} else if !isAddr(name) {
		ev.Set("source.domain", name)
	}
	setIP(ev, "source.ip", client)
	setIP(ev, "destination.ip", kv["dst_ip"])
}

// fortiMailAdmin maps an administrator's or the system's record (kevent):
// ui is the interface and address, "GUI(10.0.0.1)", "ssh(10.0.0.1)".
func fortiMailAdmin(ev *event.Event, kv map[string]string) {
	ev.Fields["event.type"] = []string{"info"}
	ev.Set("user.name", kv["user"])
	ui := kv["ui"]
	if i := strings.IndexByte(ui, '('); i >= 0 && strings.HasSuffix(ui, ")") {
		setIP(ev, "source.ip", ui[i+1:len(ui)-1])
	} else {
		setIP(ev, "source.ip", ui)
	}
	a := strings.ToLower(kv["action"])
	ev.Set("event.action", a)
	if a == "login" || a == "logout" {
		ev.Fields["event.category"] = []string{"authentication"}
		ev.Fields["event.type"] = []string{"start"}
		if a == "logout" {
			ev.Fields["event.type"] = []string{"end"}
		}
	} else if strings.HasPrefix(strings.ToLower(kv["subtype"]), "config") {
		ev.Fields["event.category"] = []string{"configuration"}
		ev.Fields["event.type"] = []string{"change"}
	} else {
		ev.Fields["event.category"] = []string{"host"}
	}
	ev.Set("event.outcome", fortiMailOutcome(kv["status"]))
}

// fortiMailService maps a mail service's record (type=event: smtp, imap,
// pop3, webmail). A webmail login names its account and address only in
// its message: "WebMail: User u@d from 172.20.15.117 logged in.",
// "WebMail: Login for 'u@d' from 10.212.128.53 failed".
func fortiMailService(ev *event.Event, kv map[string]string) {
	ev.Fields["event.category"] = []string{"email"}
	ev.Fields["event.type"] = []string{"info"}
	ev.Set("event.action", strings.ToLower(kv["subtype"]))
	ev.Set("event.outcome", fortiMailOutcome(kv["status"]))
	msg := kv["msg"]
	if !strings.HasPrefix(msg, "WebMail: ") {
		return
	}
	var user, from string
	switch rest := strings.TrimPrefix(msg, "WebMail: "); {
	case strings.HasPrefix(rest, "User ") && strings.Contains(rest, " logged in"):
		user, from, _ = strings.Cut(strings.TrimPrefix(rest, "User "), " from ")
		from, _, _ = strings.Cut(from, " ")
		ev.Set("event.outcome", "success")
	case strings.HasPrefix(rest, "Login for '") && strings.HasSuffix(strings.TrimSuffix(rest, "."), " failed"):
		user, from, _ = strings.Cut(strings.TrimPrefix(rest, "Login for '"), "' from ")
		from, _, _ = strings.Cut(from, " ")
		ev.Set("event.outcome", "failure")
	default:
		return
	}
	ev.Fields["event.category"] = []string{"authentication"}
	ev.Fields["event.type"] = []string{"start"}
	ev.Set("event.action", "webmail-login")
	ev.Set("user.name", user)
	setIP(ev, "source.ip", from)
}

func fortiMailOutcome(status string) string {
	switch strings.ToLower(status) {
	case "success":
		return "success"
	case "failure", "failed", "fail":
		return "failure"
	}
	return ""
}
