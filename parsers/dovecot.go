package parsers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

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
	return mostLines(head, Dovecot{}.matchLine)
}

// matchLine takes lines a syslog daemon wrote for dovecot and those of
// Dovecot's own log file (log_path), which name no host and no program:
// read as plain syslog, a mailbox's downloaded bytes (out=) were lost.
func (Dovecot) matchLine(l string) bool {
	if strings.Contains(l, " dovecot") && strings.Contains(l, ": ") || dcOwnLine.MatchString(l) {
		return true
	}
	// A collector's file names the program after a tab.
	return strings.Contains(l, "dovecot") && strings.HasPrefix(syslogProgram(l), "dovecot")
}

func (Dovecot) NewDecoder(o *Options) LineDecoder {
	return &dovecotDecoder{clock: o.clock()}
}

type dovecotDecoder struct {
	clock    syslogClock
	sessions loginPlaces
}

func (d *dovecotDecoder) Flush(Emit) {}

var (
	dcSession = regexp.MustCompile(`^(?i:(imap|pop3|lmtp|managesieve|submission))\(([^)]*)\)((?:<[^>]*>)*): (.*)$`)
	dcIDs     = regexp.MustCompile(`<([^>]*)>`)
	dcMPID    = regexp.MustCompile(`\bmpid=(\d+)`)
	dcSessID  = regexp.MustCompile(`\bsession=<([^>]*)>`)
	dcLogin   = regexp.MustCompile(`^(imap|pop3|submission|managesieve)-login: (?:Info: )?(.*?)user=<([^>]*)>`)
	dcRIP     = regexp.MustCompile(`\brip=([0-9A-Fa-f.:]+)`)
	dcLIP     = regexp.MustCompile(`\blip=([0-9A-Fa-f.:]+)`)
	dcPamUnix = regexp.MustCompile(`pam_unix\(dovecot:auth\): authentication failure;.*?rhost=(\S*)(?:.*?\buser=(\S+))?`)
	dcAuth    = regexp.MustCompile(`^auth(?:-worker)?(?:\(|:).*?\b([a-z][\w-]*)\(([^,()]*),([0-9A-Fa-f.:]+)(?:,[^)]*)?\): (.*)$`)
	dcBytes   = regexp.MustCompile(`\b(in|out|bytes|retr|top|deleted|expunged|trashed|body_bytes|hdr_bytes)=(\d+)(?:/(\d+))?`)
)

// dcOwnLine is dcNative as detection needs it: the process must be
// followed by ": " or "(", where a syslog line's host (a server named
// "imap" or "master") is followed by a space.
var dcOwnLine = regexp.MustCompile(`^(?:\w{3} +\d{1,2} \d\d:\d\d:\d\d|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|@[0-9a-f]{24}) (?:(?:Info|Warn|Warning|Error|Fatal|Panic|Debug): )?(?:(?i:imap|pop3|submission|managesieve|lmtp)(?:-login)?|auth(?:-worker)?|dovecot|master)(?:: |\()`)

// dcNative matches Dovecot's own log file (log_path): a syslog-style or
// tai64n stamp, an optional level, no host and no program.
var dcNative = regexp.MustCompile(`^(\w{3} +\d{1,2} \d\d:\d\d:\d\d|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|@[0-9a-f]{24}) (?:(?:Info|Warn|Warning|Error|Fatal|Panic|Debug): )?((?i:imap|pop3|submission|managesieve|lmtp)(?:-login)?[:(]|auth|dovecot|master).*$`)

// tai64n decodes a daemontools "@4000…" stamp.
func tai64n(s string) (time.Time, bool) {
	if len(s) != 25 {
		return time.Time{}, false
	}
	secs, err1 := strconv.ParseUint(s[1:17], 16, 64)
	nsec, err2 := strconv.ParseUint(s[17:25], 16, 32)
	if err1 != nil || err2 != nil || secs < 1<<62 {
		return time.Time{}, false
	}
	return time.Unix(int64(secs-(1<<62)), int64(nsec)).UTC(), true
}

func (d *dovecotDecoder) Line(no int64, line []byte, emit Emit) error {
	h, err := d.clock.peek(string(line))
	ours := err == nil && (strings.HasPrefix(h.Program, "dovecot") || h.Program == "auth" && strings.Contains(h.Msg, "(dovecot:auth)"))
	if ours {
		d.clock.take(h)
	} else {
		s := string(line)
		m := dcNative.FindStringSubmatchIndex(s)
		if m == nil {
			return fmt.Errorf("dovecot: not a dovecot log line")
		}
		// Dovecot's own log file: re-read the stamp, the message starts after the level.
		stamp := s[m[2]:m[3]]
		h = syslogHeader{Program: "dovecot", Msg: s[m[4]:]}
		if t, ok := tai64n(stamp); ok {
			h.Time = t
		} else if t, err := time.ParseInLocation("2006-01-02 15:04:05", stamp, d.clock.Loc); err == nil {
			h.Time = t.UTC()
			d.clock.take(h) // its own stamp names no zone (Zoned false), nor lacks a year
		} else if hh, err := d.clock.parse(stamp + " localhost dovecot: x"); err == nil {
			h.Time = hh.Time
		} else {
			return fmt.Errorf("dovecot: time %q", stamp)
		}
	}
	msg := h.Msg
	for _, lvl := range []string{"Info: ", "Warn: ", "Warning: ", "Error: "} {
		msg = strings.TrimPrefix(msg, lvl)
	}
	// "auth-worker(default): Info: pam(…)": the level can follow the process too.
	if i := strings.Index(msg, "): Info: "); i > 0 {
		msg = msg[:i+3] + msg[i+9:]
	}
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
		user, pid := m[2], ""
		if i := strings.IndexByte(user, ','); i >= 0 { // imap(user,ip) in some formats
			setIP(ev, "source.ip", user[i+1:])
			user = user[:i]
		}
		if i := strings.LastIndexByte(user, ' '); i >= 0 && isDigits(user[i+1:]) { // pop3(user pid), Dovecot 1
			user, pid = user[:i], user[i+1:]
		}
		ev.Set("user.name", user)
		var sess string
		for _, id := range dcIDs.FindAllStringSubmatch(m[3], -1) { // <pid><session>, the default prefix
			if isDigits(id[1]) {
				pid = id[1]
			} else {
				sess = id[1]
			}
		}
		if ip, local, ok := d.sessions.find(h.Host, sess, pid); ok {
			if _, has := ev.Fields["source.ip"]; !has {
				setIP(ev, "source.ip", ip)
			}
			setIP(ev, "destination.ip", local)
		}
		rest := m[4]
		dovecotBytes(ev, dcBytes.FindAllStringSubmatch(rest, -1))
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
		if strings.HasPrefix(strings.TrimSpace(m[2]), "Login") {
			var sess, pid string
			if r := dcSessID.FindStringSubmatch(msg); r != nil {
				sess = r[1]
			}
			if r := dcMPID.FindStringSubmatch(msg); r != nil {
				pid = r[1]
			}
			d.sessions.add(h.Host, sess, pid, ev.Str("source.ip"), ev.Str("destination.ip"))
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
	case dcPamUnix.MatchString(msg):
		m := dcPamUnix.FindStringSubmatch(msg)
		ev.Fields["event.category"] = []string{"authentication"}
		ev.Set("event.action", "authentication")
		ev.Set("event.outcome", "failure")
		setIP(ev, "source.ip", m[1])
		ev.Set("user.name", m[2])
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

// dovecotBytes reads a session's closing counters. The bytes the server
// sent are what a mailbox's download is measured by: IMAP's out= (its
// default logout format), else POP3's "bytes=in/out" (a common
// pop3_logout_format), else POP3's default, "top=count/bytes,
// retr=count/bytes": the messages' bytes, without the protocol's.
func dovecotBytes(ev *event.Event, pairs [][]string) {
	type counter struct {
		n, of int64
		hasOf bool
	}
	got := map[string]counter{}
	for _, b := range pairs {
		c := counter{}
		c.n, _ = strconv.ParseInt(b[2], 10, 64)
		if b[3] != "" {
			c.of, _ = strconv.ParseInt(b[3], 10, 64)
			c.hasOf = true
		}
		got[b[1]] = c
		switch {
		case b[1] == "bytes" && c.hasOf: // bytes=in/out
			got["in"], got["out"] = counter{n: c.n}, counter{n: c.of}
			ev.SetInt("dovecot.in", c.n)
			ev.SetInt("dovecot.out", c.of)
		case c.hasOf: // top=, retr=: messages/bytes
			ev.SetInt("dovecot."+b[1], c.n)
			ev.SetInt("dovecot."+b[1]+"_bytes", c.of)
		default:
			ev.SetInt("dovecot."+b[1], c.n)
		}
	}
	if c, ok := got["out"]; ok {
		ev.SetInt("destination.bytes", c.n) // sent by the server to the client
	} else if top, retr := got["top"], got["retr"]; top.hasOf || retr.hasOf {
		ev.SetInt("destination.bytes", top.of+retr.of)
	} else {
		return
	}
	ev.Fields["tags"] = []string{"mailbox_download_bytes"}
	if c, ok := got["in"]; ok {
		ev.SetInt("source.bytes", c.n)
	}
}

// loginPlaces remembers where each login came from, for its session's
// lines: a session's logout, with the bytes it downloaded, names the user
// and the session, not the client's address, which only its login line
// gives. Keyed by host and session id (Dovecot 2.2+ logs both), else by
// the mail process's id (mpid=). Two generations of at most
// loginPlacesGeneration each bound the memory of a log whose logouts are
// missing.
type loginPlaces struct {
	now, before map[string][2]string
}

const loginPlacesGeneration = 1 << 16

func (l *loginPlaces) add(host, sess, pid, ip, local string) {
	if ip == "" && local == "" {
		return
	}
	if l.now == nil || len(l.now) >= loginPlacesGeneration {
		l.before, l.now = l.now, make(map[string][2]string)
	}
	if sess != "" {
		l.now[host+"\x00s"+sess] = [2]string{ip, local}
	}
	if pid != "" {
		l.now[host+"\x00p"+pid] = [2]string{ip, local}
	}
}

// find prefers the session id: process ids are reused.
func (l *loginPlaces) find(host, sess, pid string) (ip, local string, ok bool) {
	for _, k := range []string{"s" + sess, "p" + pid} {
		if len(k) == 1 {
			continue
		}
		for _, m := range []map[string][2]string{l.now, l.before} {
			if v, found := m[host+"\x00"+k]; found {
				return v[0], v[1], true
			}
		}
	}
	return "", "", false
}
