package parsers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// Dovecot reads Dovecot IMAP/POP3 syslog lines: logins and failures, and
// session ends with in=/out= byte counts — a mailbox downloaded over IMAP is
// a theft channel, and out= is what left the server.
type Dovecot struct{}

func (Dovecot) Name() string { return "dovecot" }
func (Dovecot) Description() string {
	return "Dovecot IMAP/POP3 logs (logins, failures, logouts with in=/out= bytes)"
}

func (Dovecot) Detect(head []byte) bool {
	return mostLines(head, func(l string) bool { return strings.Contains(l, " dovecot") && strings.Contains(l, ": ") })
}

func (Dovecot) NewDecoder(o *Options) LineDecoder {
	return &dovecotDecoder{clock: syslogClock{Year: o.Year, Loc: o.TZ}}
}

type dovecotDecoder struct{ clock syslogClock }

func (d *dovecotDecoder) Flush(Emit) {}

var (
	dcSession = regexp.MustCompile(`^(imap|pop3|lmtp|managesieve|submission)\(([^)]*)\)(?:<[^>]*>)*: (.*)$`)
	dcLogin   = regexp.MustCompile(`^(imap|pop3|submission|managesieve)-login: (?:Info: )?(.*?)user=<([^>]*)>`)
	dcRIP     = regexp.MustCompile(`\brip=([0-9A-Fa-f.:]+)`)
	dcLIP     = regexp.MustCompile(`\blip=([0-9A-Fa-f.:]+)`)
	dcAuth    = regexp.MustCompile(`^auth(?:-worker)?(?:\(|:).*?\b([a-z][\w-]*)\(([^,()]*),([0-9A-Fa-f.:]+)(?:,[^)]*)?\): (.*)$`)
	dcBytes   = regexp.MustCompile(`\b(in|out|bytes|retr|top|deleted|expunged|trashed|body_bytes|hdr_bytes)=(\d+)(?:/(\d+))?`)
)

func (d *dovecotDecoder) Line(no int64, line []byte, emit Emit) error {
	h, err := d.clock.parse(string(line))
	if err != nil || !strings.HasPrefix(h.Program, "dovecot") {
		return fmt.Errorf("dovecot: not a dovecot syslog line")
	}
	msg := h.Msg
	ev := event.New()
	ev.Timestamp = h.Time
	ev.Fields[event.FieldDataset] = "dovecot"
	ev.Fields[event.FieldOriginal] = string(line)
	ev.Fields[event.FieldLine] = no
	ev.Set("host.name", h.Host)
	ev.Set("message", msg)
	ev.Fields["event.category"] = []string{"email"}
	switch {
	case dcSession.MatchString(msg):
		m := dcSession.FindStringSubmatch(msg)
		ev.Set("network.protocol", m[1])
		user := m[2]
		if i := strings.IndexByte(user, ','); i >= 0 { // imap(user,ip) in some formats
			setIP(ev, "source.ip", user[i+1:])
			user = user[:i]
		}
		ev.Set("user.name", user)
		rest := m[3]
		for _, b := range dcBytes.FindAllStringSubmatch(rest, -1) {
			n, _ := strconv.ParseInt(b[2], 10, 64)
			ev.SetInt("dovecot."+b[1], n)
		}
		if n, ok := ev.Int("dovecot.out"); ok {
			ev.SetInt("destination.bytes", n) // sent by the server to the client
			ev.Fields["tags"] = []string{"mailbox_download_bytes"}
		}
		if n, ok := ev.Int("dovecot.in"); ok {
			ev.SetInt("source.bytes", n)
		}
		if strings.Contains(rest, "Logged out") || strings.HasPrefix(rest, "Disconnected") || strings.HasPrefix(rest, "Connection closed") {
			ev.Set("event.action", "logged-out")
			ev.Fields["event.type"] = []string{"end"}
		} else {
			ev.Set("event.action", strings.SplitN(rest, " ", 2)[0])
		}
	case dcLogin.MatchString(msg):
		m := dcLogin.FindStringSubmatch(msg)
		ev.Fields["event.category"] = []string{"email", "authentication"}
		ev.Set("network.protocol", m[1])
		ev.Set("user.name", m[3])
		if r := dcRIP.FindStringSubmatch(msg); r != nil {
			setIP(ev, "source.ip", r[1])
		}
		if r := dcLIP.FindStringSubmatch(msg); r != nil {
			setIP(ev, "destination.ip", r[1])
		}
		what := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m[2]), ":"))
		switch {
		case strings.HasPrefix(what, "Login"):
			ev.Set("event.action", "logged-in")
			ev.Set("event.outcome", "success")
		case strings.Contains(what, "auth failed"):
			ev.Set("event.action", "login-failed")
			ev.Set("event.outcome", "failure")
			ev.Set("event.reason", what)
		default:
			ev.Set("event.action", "disconnected")
			ev.Set("event.reason", what)
		}
	case dcAuth.MatchString(msg):
		m := dcAuth.FindStringSubmatch(msg)
		ev.Fields["event.category"] = []string{"authentication"}
		ev.Set("dovecot.auth_backend", m[1])
		ev.Set("user.name", m[2])
		setIP(ev, "source.ip", m[3])
		ev.Set("event.reason", m[4])
		ev.Set("event.action", "authentication")
		ev.Set("event.outcome", "failure")
	default:
		ev.Set("event.action", "dovecot")
	}
	emit(ev, linePos(no))
	return nil
}
