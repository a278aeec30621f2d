package parsers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Exim reads Exim's mainlog. Lines of one message (<= arrival, => -> **
// == deliveries, Completed) are joined by message id into one message event
// with sender, every recipient, size, client and authenticated user, like
// Postfix; other lines (connections, authentication failures) are events of
// their own. Exim stamps carry no zone unless log_timezone is set: --tz.
type Exim struct{}

func (Exim) Name() string        { return "exim" }
func (Exim) Description() string { return "Exim mainlog, joined by message id into message events" }

var (
	eximStamp = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)(?: ([+-]\d{4}))? (?:\[\d+\] )?(.*)$`)
	eximID    = regexp.MustCompile(`^([0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}) (<=|=>|->|>>|\*\*|==|Completed|SMTP error|H=)(.*)$`)
	eximAuth  = regexp.MustCompile(`(\w+) authenticator failed for (?:([^\s(]\S*) )?(?:\(([^)]*)\) )?\[([0-9A-Fa-f.:]+)\](?::(\d+))?: (\d{3}) .*?(?:\(set_id=([^)]*)\))?$`)
	eximHost  = regexp.MustCompile(`H=(?:(\S+) )?(?:\(([^)]*)\) )?\[([0-9A-Fa-f.:]+)\](?::(\d+))?`)
	eximKV    = regexp.MustCompile(`\b(S|A|P|R|T|id|U)=(\S+)`)
	eximFrom  = regexp.MustCompile(`\bF=<([^>]*)>`)
	eximRcpt  = regexp.MustCompile(`rejected RCPT <([^>]*)>:(.*)$`)
	eximPID   = regexp.MustCompile(`^\[\d+\] `)
)

func (Exim) Detect(head []byte) bool {
	return mostLines(head, Exim{}.matchLine)
}

func (Exim) matchLine(l string) bool {
	if strings.HasPrefix(l, "#") {
		return false
	}
	var text string
	if m := eximStamped(l); m != nil {
		text = m[3]
	} else if h, ok := eximSyslog(l); ok {
		text = h.Msg
	} else {
		return false
	}
	return eximID.MatchString(text) || strings.Contains(text, "authenticator failed") ||
		strings.HasPrefix(text, "SMTP connection") || strings.Contains(text, "rejected RCPT") || strings.HasPrefix(text, "Start queue run")
}

// eximStamped matches Exim's own stamp and the text after it: at the
// line's start (Exim's log files), or behind the syslog header of
// log_file_path = syslog ("host exim[pid]: 2021-07-17 23:20:49 …", with or
// without a syslog stamp; RFC 5424's "exim 4242 - - 2021-07-17 …").
func eximStamped(s string) []string {
	if m := eximStamp.FindStringSubmatch(s); m != nil {
		return m
	}
	if i := strings.Index(s, "exim["); i >= 0 {
		if j := strings.Index(s[i:], "]: "); j > 0 {
			return eximStamp.FindStringSubmatch(s[i+j+3:])
		}
	}
	if h, ok := eximSyslog(s); ok {
		return eximStamp.FindStringSubmatch(h.Msg)
	}
	return nil
}

// eximSyslog reads the syslog header of a line Exim sent to syslog; its
// Msg is Exim's text, without the "[pid] " Exim may put first.
func eximSyslog(s string) (syslogHeader, bool) {
	if !strings.Contains(s, "exim") {
		return syslogHeader{}, false
	}
	c := syslogClock{Year: 2000, Loc: time.UTC}
	h, err := c.peek(s)
	if err != nil || !strings.HasPrefix(h.Program, "exim") {
		return syslogHeader{}, false
	}
	h.Msg = eximPID.ReplaceAllString(h.Msg, "")
	return h, true
}

func (Exim) NewDecoder(o *Options) LineDecoder {
	return &eximDecoder{loc: o.TZ, clock: o.clock(), pending: map[string]*pfMessage{}, zone: newZoneless(o)}
}

type eximDecoder struct {
	loc     *time.Location
	clock   syslogClock
	pending map[string]*pfMessage
	zone    zoneless
}

func (d *eximDecoder) time(stamp, zone string) (time.Time, error) {
	if zone != "" {
		t, err := time.Parse("2006-01-02 15:04:05.999999 -0700", stamp+" "+zone)
		return t.UTC(), err
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05.999999", stamp, d.loc)
	return t.UTC(), err
}

func (d *eximDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	if strings.HasPrefix(s, "#") {
		return fmt.Errorf("exim: comment line")
	}
	var t time.Time
	var rest string
	var zoned bool
	if m := eximStamped(s); m != nil {
		var err error
		if t, err = d.time(m[1], m[2]); err != nil {
			return fmt.Errorf("exim: time %q: %v", m[1], err)
		}
		rest, zoned = m[3], m[2] != ""
	} else if _, ok := eximSyslog(s); ok {
		// syslog_timestamp = false: the syslog header dates the line.
		h, err := d.clock.parse(s)
		if err != nil {
			return fmt.Errorf("exim: %v", err)
		}
		t, zoned, rest = h.Time, h.Zoned, eximPID.ReplaceAllString(h.Msg, "")
	} else {
		return fmt.Errorf("exim: no timestamp")
	}
	if mm := eximID.FindStringSubmatch(rest); mm != nil {
		d.messageLine(no, t, zoned, mm[1], mm[2], strings.TrimSpace(mm[3]), emit)
		return nil
	}
	ev := event.New()
	ev.Timestamp = t
	if !zoned {
		d.zone.mark(ev, "Exim writes its local time without a zone (log_timezone unset)", "the mail server's")
	}
	ev.Fields[event.FieldDataset] = "exim"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Fields["event.category"] = []string{"email"}
	ev.Set("message", rest)
	switch {
	case eximAuth.MatchString(rest):
		a := eximAuth.FindStringSubmatch(rest)
		ev.Fields["event.category"] = []string{"email", "authentication"}
		ev.Set("event.action", "authentication-failed")
		ev.Set("event.outcome", "failure")
		ev.Set("exim.authenticator", a[1])
		ev.Set("source.domain", a[2])
		ev.Set("exim.helo", a[3])
		setIP(ev, "source.ip", a[4])
		setPort(ev, "source.port", a[5])
		ev.Set("user.name", a[7])
	case strings.HasPrefix(rest, "SMTP connection"):
		ev.Set("event.action", "connection")
		if h := eximHost.FindStringSubmatch(strings.Replace(rest, "from ", "H=", 1)); h != nil {
			setIP(ev, "source.ip", h[3])
			setPort(ev, "source.port", h[4])
		}
	default:
		ev.Set("event.action", "exim")
		if h := eximHost.FindStringSubmatch(rest); h != nil {
			ev.Set("source.domain", h[1])
			setIP(ev, "source.ip", h[3])
			setPort(ev, "source.port", h[4])
		}
		if f := eximFrom.FindStringSubmatch(rest); f != nil {
			ev.Set("email.from.address", f[1])
		}
		if r := eximRcpt.FindStringSubmatch(rest); r != nil {
			ev.Set("event.action", "rejected-rcpt")
			ev.Set("event.outcome", "failure")
			ev.Add("email.to.address", r[1])
			ev.Set("event.reason", strings.TrimSpace(r[2]))
		} else if strings.Contains(rest, "rejected") || strings.Contains(rest, "verify fail") {
			ev.Set("event.action", "rejected")
			ev.Set("event.outcome", "failure")
		}
	}
	emit(ev, linePos(no))
	return nil
}

func (d *eximDecoder) messageLine(no int64, t time.Time, zoned bool, id, op, rest string, emit Emit) {
	msg := d.pending[id]
	if msg == nil {
		msg = &pfMessage{qid: id, firstLine: no, first: t}
		if !zoned {
			msg.zone = &d.zone
		}
		d.pending[id] = msg
	}
	msg.lines = append(msg.lines, strconv.FormatInt(no, 10))
	if t.After(msg.last) {
		msg.last = t
	}
	kv := map[string]string{}
	for _, m := range eximKV.FindAllStringSubmatch(rest, -1) {
		kv[m[1]] = m[2]
	}
	switch op {
	case "<=":
		msg.from = strings.Fields(rest + " ")[0]
		if msg.from == "<>" {
			msg.from = ""
		}
		if n, err := strconv.ParseInt(kv["S"], 10, 64); err == nil {
			msg.size, msg.hasSize = n, true
		}
		msg.msgID = strings.Trim(kv["id"], "<>")
		if a := kv["A"]; a != "" {
			if _, user, ok := strings.Cut(a, ":"); ok {
				msg.saslUser = user
			}
			msg.saslMethod = strings.SplitN(a, ":", 2)[0]
		}
		if h := eximHost.FindStringSubmatch(rest); h != nil {
			msg.clientHost, msg.clientIP, msg.clientPort = h[1], h[3], h[4]
		}
	case "=>", "->", ">>", "**", "==":
		r := &pfRcpt{to: strings.Trim(strings.Fields(rest + " ")[0], "<>")}
		r.status = map[string]string{"=>": "sent", "->": "sent", ">>": "sent", "**": "bounced", "==": "deferred"}[op]
		if h := eximHost.FindStringSubmatch(rest); h != nil {
			r.relay, r.relayIP = h[1], h[3]
		}
		for i, old := range msg.rcpts {
			if old.to == r.to {
				msg.rcpts[i] = r
				return
			}
		}
		msg.rcpts = append(msg.rcpts, r)
	case "Completed":
		msg.removed = true
		emitMailMessage(msg, "exim", emit)
		delete(d.pending, id)
	}
}

func (d *eximDecoder) Flush(emit Emit) {
	for id, m := range d.pending {
		emitMailMessage(m, "exim", emit)
		delete(d.pending, id)
	}
}
