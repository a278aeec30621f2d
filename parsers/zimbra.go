package parsers

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Zimbra reads Zimbra Collaboration's mailbox.log and audit.log
// ("2025-03-14 23:05:01,123 INFO  [ImapSSLServer-7] [name=j.martin@…;
// ip=10.0.0.5;oip=203.0.113.7;ua=…;] security - cmd=Auth; account=…;
// protocol=imap;"): logins and their failures per protocol (SOAP web
// client, IMAP, POP, ActiveSync), with the account and the client's origin
// address, and the messages' size when a download logs it. Times are the
// server's local time, read in --tz. (zimbra.log's MTA lines are Postfix.)
type Zimbra struct{}

func (Zimbra) Name() string { return "zimbra" }
func (Zimbra) Description() string {
	return "Zimbra mailbox.log / audit.log: web, IMAP, POP and ActiveSync logins with account and origin address"
}

var zimbraLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (\w+)\s+\[([^\]]*)\] (?:\[([^\]]*)\] )?(\S+) - (.*)$`)

func (Zimbra) Detect(head []byte) bool { return mostLines(head, Zimbra{}.matchLine) }

func (Zimbra) matchLine(l string) bool { return zimbraLine.MatchString(l) }

func (Zimbra) NewDecoder(o *Options) LineDecoder { return &zimbraDecoder{loc: o.TZ, o: o} }

type zimbraDecoder struct {
	loc *time.Location
	o   *Options
}

func (d *zimbraDecoder) Flush(Emit) {}

var zimbraSize = regexp.MustCompile(`\b(?:size|bytes|len)=(\d+)`)

func (d *zimbraDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	m := zimbraLine.FindStringSubmatch(s)
	if m == nil {
		return fmt.Errorf("zimbra: not \"YYYY-MM-DD HH:MM:SS,mmm LEVEL [thread] [context] category - message\"")
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05,000", m[1], d.loc)
	if err != nil {
		return fmt.Errorf("zimbra: bad time %q", m[1])
	}
	d.o.zoneRead()
	ev := event.New()
	ev.Timestamp = t.UTC()
	ev.Fields[event.FieldDataset] = "zimbra.mailbox"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Set("log.level", strings.ToLower(m[2]))
	ev.Set("zimbra.thread", m[3])
	ev.Set("zimbra.category", m[5])
	msg := m[6]
	ev.Set("message", msg)
	ctx := map[string]string{}
	for _, kv := range strings.Split(m[4], ";") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			ctx[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	body := map[string]string{}
	for _, kv := range strings.Split(msg, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && !strings.Contains(k, " ") {
			body[k] = strings.TrimSpace(v)
		}
	}
	account := firstNonEmpty(body["account"], ctx["name"], ctx["aname"])
	if account != "" {
		ev.Set("user.email", account)
		u, dom, _ := strings.Cut(account, "@")
		ev.Set("user.name", u)
		ev.Set("user.domain", dom)
	}
	// oip is the client's own address behind the proxy; ip the proxy's.
	setIP(ev, "source.ip", firstNonEmpty(ctx["oip"], ctx["ip"]))
	if ctx["oip"] != "" {
		setIP(ev, "zimbra.proxy_ip", ctx["ip"])
	}
	ev.Set("user_agent.original", ctx["ua"])
	proto := strings.ToLower(firstNonEmpty(body["protocol"], protoOfThread(m[3]), m[5]))
	ev.Set("network.protocol", proto)
	lm := strings.ToLower(msg)
	switch {
	case body["cmd"] == "Auth" || strings.Contains(lm, "authentication successful") || strings.Contains(lm, "authenticated") ||
		strings.Contains(lm, "authentication failed") || strings.Contains(lm, "login failed"):
		ev.Fields["event.category"] = []string{"authentication"}
		ev.Fields["event.type"] = []string{"start"}
		ev.Set("event.action", "login")
		if body["error"] != "" || strings.Contains(lm, "fail") || strings.Contains(lm, "invalid password") {
			ev.Set("event.outcome", "failure")
			ev.Set("event.reason", body["error"])
		} else {
			ev.Set("event.outcome", "success")
		}
	case proto == "imap" || proto == "pop" || m[5] == "imap" || m[5] == "pop":
		ev.Fields["event.category"] = []string{"email"}
		if sz := zimbraSize.FindStringSubmatch(msg); sz != nil {
			ev.SetIntString("destination.bytes", sz[1]) // sent by the server to the client
			ev.Fields["tags"] = []string{"mailbox_download_bytes"}
		}
	default:
		ev.Fields["event.category"] = []string{"email"}
	}
	emit(ev, linePos(no))
	return nil
}

// protoOfThread names the protocol from Zimbra's thread name
// (ImapSSLServer-7, Pop3Server-2, qtp…:…/Microsoft-Server-ActiveSync).
func protoOfThread(th string) string {
	switch {
	case strings.HasPrefix(th, "Imap"):
		return "imap"
	case strings.HasPrefix(th, "Pop3"):
		return "pop"
	case strings.Contains(th, "ActiveSync"):
		return "activesync"
	case strings.Contains(th, "/service/soap"):
		return "soap"
	}
	return ""
}

// Cyrus reads Cyrus IMAP server syslog lines (as run by BlueMind and many
// French public bodies): logins and failed logins per client address, and
// mailbox deletions and moves from the audit log.
type Cyrus struct{}

func (Cyrus) Name() string { return "cyrus-imap" }
func (Cyrus) Description() string {
	return "Cyrus IMAP / BlueMind syslog: logins and failed logins with client address, auditlog"
}

func (Cyrus) Detect(head []byte) bool { return mostLines(head, Cyrus{}.matchLine) }

var cyrusProgs = regexp.MustCompile(` (?:cyrus/)?(imaps?|pop3s?|lmtpd?|imapd|pop3d|master|ctl_cyrusdb|lmtpunix)\[\d+\]: `)

func (Cyrus) matchLine(l string) bool {
	return cyrusProgs.MatchString(l) && (strings.Contains(l, "login:") || strings.Contains(l, "badlogin:") || strings.Contains(l, "auditlog:") ||
		strings.Contains(l, "accepted connection") || strings.Contains(l, "USAGE"))
}

func (Cyrus) NewDecoder(o *Options) LineDecoder {
	return &cyrusDecoder{clock: o.clock()}
}

type cyrusDecoder struct{ clock syslogClock }

func (d *cyrusDecoder) Flush(Emit) {}

var (
	// login: host [1.2.3.4] user mech+TLS User logged in SESSIONID=<…>
	cyrusLogin = regexp.MustCompile(`^login: (\S+) \[([^\]]+)\] (\S+) (\S+)`)
	// badlogin: host [1.2.3.4] mech [user] SASL(-13): authentication failure: …
	cyrusBad = regexp.MustCompile(`^badlogin: (\S+) \[([^\]]+)\] (\S+)(?: \[?([^\]\s]+)\]?)? (.*)$`)
)

func (d *cyrusDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	h, err := d.clock.parse(s)
	if err != nil {
		return fmt.Errorf("cyrus-imap: no syslog header")
	}
	ev := event.New()
	ev.Timestamp = h.Time
	ev.Fields[event.FieldDataset] = "cyrus.imap"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Set("host.name", h.Host)
	ev.Set("process.name", h.Program)
	ev.Set("message", h.Msg)
	proto := strings.TrimPrefix(h.Program, "cyrus/")
	ev.Set("network.protocol", strings.TrimSuffix(strings.TrimSuffix(proto, "d"), "s"))
	switch {
	case cyrusLogin.MatchString(h.Msg):
		m := cyrusLogin.FindStringSubmatch(h.Msg)
		ev.Fields["event.category"] = []string{"authentication"}
		ev.Fields["event.type"] = []string{"start"}
		ev.Set("event.action", "login")
		ev.Set("event.outcome", "success")
		ev.Set("source.domain", m[1])
		setIP(ev, "source.ip", m[2])
		cyrusUser(ev, m[3])
		ev.Set("cyrus.mechanism", m[4])
	case cyrusBad.MatchString(h.Msg):
		m := cyrusBad.FindStringSubmatch(h.Msg)
		ev.Fields["event.category"] = []string{"authentication"}
		ev.Fields["event.type"] = []string{"start", "denied"}
		ev.Set("event.action", "login")
		ev.Set("event.outcome", "failure")
		ev.Set("source.domain", m[1])
		setIP(ev, "source.ip", m[2])
		ev.Set("cyrus.mechanism", m[3])
		cyrusUser(ev, m[4])
		ev.Set("event.reason", m[5])
	case strings.HasPrefix(h.Msg, "auditlog:"):
		ev.Fields["event.category"] = []string{"email"}
		kv := map[string]string{}
		splitKV(strings.TrimPrefix(h.Msg, "auditlog:"), func(k, v string) { kv[k] = strings.Trim(v, "<>") })
		if f := strings.Fields(h.Msg); len(f) > 1 {
			ev.Set("event.action", f[1])
		}
		cyrusUser(ev, kv["userid"])
		ev.Set("cyrus.mailbox", kv["mailbox"])
		ev.SetIntString("email.size", kv["size"])
	default:
		ev.Fields["event.category"] = []string{"email"}
	}
	emit(ev, linePos(no))
	return nil
}

func cyrusUser(ev *event.Event, u string) {
	if u == "" {
		return
	}
	if n, dom, ok := strings.Cut(u, "@"); ok {
		ev.Set("user.name", n)
		ev.Set("user.domain", dom)
		ev.Set("user.email", u)
		return
	}
	ev.Set("user.name", u)
}
