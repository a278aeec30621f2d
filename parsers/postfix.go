package parsers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Postfix reads Postfix syslog lines. Lines of one message (smtpd, pickup,
// cleanup, qmgr, smtp/lmtp/local/virtual/pipe, bounce) are joined by queue id
// into one message event, emitted when the queue file is removed; lines
// without a queue id (connections, NOQUEUE rejects, SASL failures) are events
// of their own.
type Postfix struct{}

func (Postfix) Name() string { return "postfix" }
func (Postfix) Description() string {
	return "Postfix mail logs (syslog), joined by queue id into message events"
}

func (Postfix) Detect(head []byte) bool {
	return mostLines(head, Postfix{}.matchLine)
}

func (Postfix) matchLine(l string) bool {
	if !strings.Contains(l, "postfix") {
		return false
	}
	// The program is named after a space in a classic header; RFC 5424
	// and collectors' files name it apart.
	return strings.Contains(l, " postfix") && strings.Contains(l, "]: ") || strings.HasPrefix(syslogProgram(l), "postfix")
}

func (Postfix) NewDecoder(o *Options) LineDecoder {
	return &postfixDecoder{clock: o.clock(), pending: newOpenMessages(pfFirstLine), zone: newZoneless(o)}
}

// maxPendingMessages bounds memory on logs whose messages never reach
// "removed" (cut logs): beyond it the oldest pending message is emitted as is.
const maxPendingMessages = 200000

var (
	pfClient   = regexp.MustCompile(`([^\s\[=]*)\[([0-9A-Fa-f.:]+|unknown)\](?::(\d+))?`)
	pfStatusRe = regexp.MustCompile(`status=(\w+)(?: \((.*)\))?$`)
	// anvil: "for (smtpd:1.2.3.4)", "for (smtpd:2604::3)", "for (127.0.0.1:2525:127.0.0.1)"
	pfAnvil = regexp.MustCompile(`for \(([^)]*)\)`)
	pfDNSBL = regexp.MustCompile(`^addr ([0-9A-Fa-f.:]+) listed by`)
)

type pfRcpt struct {
	to, origTo, relay, relayIP, status, dsn, response string
}

type pfMessage struct {
	qid       string
	firstLine int64
	// zone marks the message's time as read without a zone (its first
	// line's stamp named none); nil when it named one.
	zone       *zoneless
	lines      []string
	first      time.Time
	last       time.Time
	host       string
	clientHost string
	clientIP   string
	clientPort string
	saslUser   string
	saslMethod string
	from       string
	msgID      string
	size       int64
	hasSize    bool
	nrcpt      string
	rcpts      []*pfRcpt
	rejected   string
	notify     string // queue id of a bounce notification
	removed    bool
	// a relay named by a delivery agent outside a to= line (failed attempts)
	triedRelay, triedRelayIP string
}

type postfixDecoder struct {
	clock   syslogClock
	pending openMessages[*pfMessage]
	zone    zoneless
}

func (d *postfixDecoder) Line(no int64, line []byte, emit Emit) error {
	h, err := d.clock.parse(string(line))
	if err != nil {
		return fmt.Errorf("postfix: no syslog header")
	}
	if !strings.HasPrefix(h.Program, "postfix") {
		return fmt.Errorf("postfix: line from %q, not postfix", h.Program)
	}
	comp := h.Program[strings.LastIndexByte(h.Program, '/')+1:]
	msg := h.Msg
	if qid, rest, ok := pfQueueIDPrefix(msg); ok {
		d.queueLine(no, h, comp, qid, rest, emit)
		return nil
	}
	d.standalone(no, h, comp, msg, string(line), emit)
	return nil
}

func (d *postfixDecoder) queueLine(no int64, h syslogHeader, comp, qid, rest string, emit Emit) {
	m, ok := d.pending.get(qid)
	if !ok {
		m = &pfMessage{qid: strings.Clone(qid), firstLine: no, first: h.Time, host: h.Host}
		if !h.Zoned {
			m.zone = &d.zone
		}
		d.pending.add(qid, m, func(old *pfMessage) { emitMailMessage(old, "postfix", emit) })
	}
	m.lines = append(m.lines, strconv.FormatInt(no, 10))
	if h.Time.After(m.last) {
		m.last = h.Time
	}
	switch {
	case rest == "removed":
		m.removed = true
		emitMailMessage(m, "postfix", emit)
		d.pending.done(qid)
		return
	case strings.HasPrefix(rest, "client="):
		if c := pfClient.FindStringSubmatch(rest[len("client="):]); c != nil {
			m.clientHost, m.clientIP, m.clientPort = c[1], c[2], c[3]
		}
	case strings.HasPrefix(rest, "message-id="):
		m.msgID = strings.Trim(strings.TrimPrefix(rest, "message-id="), "<>")
	case strings.HasPrefix(rest, "to=<"):
		r := &pfRcpt{}
		pfPairs(rest, func(k, raw string) {
			v := strings.Trim(raw, "<>")
			switch k {
			case "to":
				r.to = v
			case "orig_to":
				r.origTo = v
			case "relay":
				r.relay = v
				if c := pfClient.FindStringSubmatch(v); c != nil {
					r.relay, r.relayIP = c[1], c[2]
				}
			case "dsn":
				r.dsn = v
			}
		})
		if s := pfStatusRe.FindStringSubmatch(rest); s != nil {
			r.status, r.response = s[1], s[2]
		}
		// A later attempt for the same recipient (deferred, then sent) replaces the earlier one.
		for i, old := range m.rcpts {
			if old.to == r.to {
				m.rcpts[i] = r
				return
			}
		}
		m.rcpts = append(m.rcpts, r)
	case strings.HasPrefix(rest, "from=<") || strings.HasPrefix(rest, "uid="):
		pfPairs(rest, func(k, raw string) {
			v := strings.Trim(raw, "<>")
			switch k {
			case "from":
				m.from = v
			case "size":
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					m.size, m.hasSize = n, true
				}
			case "nrcpt":
				m.nrcpt = v
			}
		})
	case strings.HasPrefix(rest, "sender non-delivery notification: "), strings.HasPrefix(rest, "sender delivery status notification: "):
		m.notify = rest[strings.LastIndexByte(rest, ' ')+1:]
	case strings.HasPrefix(rest, "reject: "), strings.HasPrefix(rest, "milter-reject: "), strings.HasPrefix(rest, "discard: "):
		m.rejected = rest
	default:
		// "lost connection with host[ip]", "host host[ip] said: …": the relay tried.
		if (comp == "smtp" || comp == "lmtp") && m.triedRelayIP == "" {
			if c := pfClient.FindStringSubmatch(rest); c != nil {
				m.triedRelay, m.triedRelayIP = c[1], c[2]
			}
		}
	}
	if strings.Contains(rest, "sasl_") {
		pfPairs(rest, func(k, v string) {
			switch k {
			case "sasl_username":
				m.saslUser = v
			case "sasl_method":
				m.saslMethod = v
			}
		})
	}
}

func (d *postfixDecoder) Flush(emit Emit) {
	// Messages still in the queue at end of log: emitted, marked incomplete.
	d.pending.drain(func(m *pfMessage) { emitMailMessage(m, "postfix", emit) })
}

func pfFirstLine(m *pfMessage) int64 { return m.firstLine }

// markMailZoneless says on a mail event that its syslog stamp named no
// zone, and warns once per file (Postfix and Sendmail share it).
func markMailZoneless(z *zoneless, ev *event.Event) {
	z.mark(ev, "the mail log's stamps name no zone", "the mail server's")
}

// emitMailMessage emits one joined message; ns is the MTA's namespace and
// dataset (postfix, exim, sendmail), which share this message model.
func emitMailMessage(m *pfMessage, ns string, emit Emit) {
	ev := event.New()
	ev.Timestamp = m.first
	if m.zone != nil {
		markMailZoneless(m.zone, ev)
	}
	ev.Fields[event.FieldDataset] = ns
	ev.Fields[event.FieldLine] = m.firstLine
	ev.Fields[ns+".lines"] = m.lines
	ev.Fields["event.category"] = []string{"email"}
	ev.Fields["event.type"] = []string{"info"}
	ev.Set("event.action", "message")
	ev.Set("host.name", m.host)
	ev.Set(ns+".queue_id", m.qid)
	ev.Set("email.from.address", m.from)
	ev.Set("email.message_id", m.msgID)
	ev.Set("user.name", m.saslUser)
	ev.Set(ns+".sasl_method", m.saslMethod)
	ev.Set(ns+".nrcpt", m.nrcpt)
	ev.Set(ns+".notification_queue_id", m.notify)
	ev.Set(ns+".reject", m.rejected)
	if m.clientHost != "unknown" {
		ev.Set("source.domain", m.clientHost)
	}
	if m.clientIP != "unknown" {
		setIP(ev, "source.ip", m.clientIP)
	}
	setPort(ev, "source.port", m.clientPort)
	if m.hasSize {
		ev.SetInt("email.size", m.size)
	}
	if !m.removed {
		ev.Fields[ns+".incomplete"] = "true"
		ev.Fields["tags"] = []string{"message_not_completed_in_log"}
	}
	if !m.last.IsZero() && m.last.After(m.first) {
		ev.SetInt("event.duration", int64(m.last.Sub(m.first)))
		ev.Fields["event.end"] = m.last.UTC().Format(time.RFC3339Nano)
	}
	sent, failed := 0, 0
	for _, r := range m.rcpts {
		ev.Add("email.to.address", r.to)
		ev.Add(ns+".orig_to", r.origTo)
		ev.Add(ns+".relay", r.relay)
		if r.relayIP != "" {
			ev.Add(ns+".relay_ip", r.relayIP)
		}
		ev.Add(ns+".status", r.to+"="+r.status)
		ev.Add(ns+".dsn", r.dsn)
		switch r.status {
		case "sent", "delivered":
			sent++
		case "bounced", "expired", "undeliverable":
			failed++
		}
	}
	if len(m.rcpts) > 0 && m.rcpts[0].relay != "" {
		r := m.rcpts[0]
		ev.Set("destination.domain", r.relay)
		if r.relayIP != "" {
			setIP(ev, "destination.ip", r.relayIP)
		}
	} else if m.triedRelayIP != "" {
		ev.Set("destination.domain", m.triedRelay)
		setIP(ev, "destination.ip", m.triedRelayIP)
	}
	switch {
	case m.rejected != "":
		ev.Set("event.outcome", "failure")
	case sent > 0 && failed == 0:
		ev.Set("event.outcome", "success")
	case failed > 0:
		ev.Set("event.outcome", "failure")
	}
	ev.Set("message", pfSummary(m))
	emit(ev, "L"+strconv.FormatInt(m.firstLine, 10)+"Q"+m.qid)
}

// anvilClient reads the client of an anvil statistics key: "smtpd:1.2.3.4",
// "smtpd:2604::3" (service:address) or "127.0.0.1:2525:127.0.0.1" (address:port:address).
func anvilClient(key string) string {
	if i := strings.IndexByte(key, ':'); i > 0 {
		head := key[:i]
		if strings.Trim(head, "abcdefghijklmnopqrstuvwxyz_-") == "" {
			return key[i+1:]
		}
		return head
	}
	return key
}

func pfSummary(m *pfMessage) string {
	var to []string
	for _, r := range m.rcpts {
		to = append(to, r.to+" ("+r.status+")")
	}
	s := fmt.Sprintf("%s from=<%s> to=%s", m.qid, m.from, strings.Join(to, ", "))
	if m.hasSize {
		s += fmt.Sprintf(" size=%d", m.size)
	}
	if m.saslUser != "" {
		s += " sasl_username=" + m.saslUser
	}
	return s
}

func (d *postfixDecoder) standalone(no int64, h syslogHeader, comp, msg, line string, emit Emit) {
	ev := event.New()
	ev.Timestamp = h.Time
	if !h.Zoned {
		markMailZoneless(&d.zone, ev)
	}
	ev.Fields[event.FieldDataset] = "postfix"
	ev.Fields[event.FieldLine] = no
	ev.Fields[event.FieldOriginal] = line
	ev.Set("host.name", h.Host)
	ev.Set("process.name", h.Program)
	if pid, err := strconv.ParseInt(h.PID, 10, 64); err == nil {
		ev.SetInt("process.pid", pid)
	}
	ev.Set("postfix.component", comp)
	ev.Set("message", msg)
	ev.Fields["event.category"] = []string{"email"}
	if qid, _, ok := pfQueueIDPrefix(strings.TrimPrefix(msg, "warning: ")); ok {
		ev.Set("postfix.queue_id", qid)
	} else if strings.HasPrefix(msg, "NOQUEUE: ") {
		ev.Set("postfix.queue_id", "NOQUEUE")
	}
	// The remote end of the line: a relay for the delivery agents, a client otherwise.
	side := "source"
	if comp == "smtp" || comp == "lmtp" {
		side = "destination"
	}
	if c := pfClient.FindStringSubmatch(msg); c != nil {
		if c[1] != "unknown" && c[1] != "" {
			ev.Set(side+".domain", c[1])
		}
		if c[2] != "unknown" {
			setIP(ev, side+".ip", c[2])
		}
		setPort(ev, side+".port", c[3])
	} else if a := pfAnvil.FindStringSubmatch(msg); a != nil && comp == "anvil" {
		setIP(ev, "source.ip", anvilClient(a[1]))
	} else if a := pfDNSBL.FindStringSubmatch(msg); a != nil {
		setIP(ev, "source.ip", a[1])
	}
	switch {
	case strings.HasPrefix(msg, "connect from "):
		ev.Set("event.action", "connect")
		ev.Fields["event.category"] = []string{"email", "network"}
		ev.Fields["event.type"] = []string{"connection", "start"}
	case strings.HasPrefix(msg, "disconnect from "):
		ev.Set("event.action", "disconnect")
		ev.Fields["event.category"] = []string{"email", "network"}
		ev.Fields["event.type"] = []string{"connection", "end"}
	case strings.HasPrefix(msg, "NOQUEUE: reject: "), strings.HasPrefix(msg, "NOQUEUE: milter-reject: "):
		ev.Set("event.action", "reject")
		ev.Set("event.outcome", "failure")
		ev.Fields["event.type"] = []string{"denied"}
		pfPairs(msg, func(k, raw string) {
			v := strings.Trim(raw, "<>")
			switch k {
			case "from":
				ev.Set("email.from.address", v)
			case "to":
				ev.Add("email.to.address", v)
			case "helo":
				ev.Set("postfix.helo", v)
			case "proto":
				ev.Set("network.protocol", strings.ToLower(v))
			}
		})
		if i := strings.Index(msg, "]: "); i > 0 {
			reason := msg[i+3:]
			if j := strings.Index(reason, "; from="); j > 0 {
				reason = reason[:j]
			}
			ev.Set("event.reason", reason)
		}
	case strings.Contains(msg, "SASL") && strings.Contains(msg, "authentication failed"):
		ev.Set("event.action", "sasl-authentication-failed")
		ev.Set("event.outcome", "failure")
		ev.Fields["event.category"] = []string{"email", "authentication"}
		ev.Fields["event.type"] = []string{"start"}
		if i := strings.Index(msg, "sasl_username="); i >= 0 {
			ev.Set("user.name", strings.Fields(msg[i+len("sasl_username="):])[0])
		}
	case strings.HasPrefix(msg, "warning: "):
		ev.Set("event.action", "warning")
		ev.Set("log.level", "warning")
	case strings.HasPrefix(msg, "fatal: "), strings.HasPrefix(msg, "panic: "), strings.HasPrefix(msg, "error: "):
		ev.Set("log.level", "error")
		ev.Set("event.action", strings.SplitN(msg, ":", 2)[0])
	default:
		ev.Set("event.action", comp)
	}
	emit(ev, linePos(no))
}

// pfQueueIDPrefix splits "QUEUEID: rest": a short (hex, 5+) or long
// (Postfix's base-52 alphabet, 10+) queue id.
func pfQueueIDPrefix(msg string) (qid, rest string, ok bool) {
	i := strings.Index(msg, ": ")
	if i < 5 {
		return "", "", false
	}
	id := msg[:i]
	hex, long := true, i >= 10
	for j := 0; j < len(id); j++ {
		c := id[j]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			hex = false
		}
		// The long form leaves out vowels so that ids spell nothing.
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') || strings.IndexByte("AEIOUaeiou", c) >= 0 {
			long = false
		}
	}
	if !hex && !long {
		return "", "", false
	}
	return id, msg[i+2:], true
}

// pfPairs calls fn for each "key=value" of a Postfix message, where a value
// is "<…>" (kept with its brackets) or runs to the next comma or space.
func pfPairs(s string, fn func(k, v string)) {
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			continue
		}
		ks := i
		for ks > 0 && (isWordByte(s[ks-1]) || s[ks-1] == '-') {
			ks--
		}
		for ks < i && s[ks] == '-' {
			ks++
		}
		if ks == i {
			continue
		}
		k := s[ks:i]
		j := i + 1
		if j < len(s) && s[j] == '<' {
			e := strings.IndexByte(s[j:], '>')
			if e < 0 {
				j = len(s)
			} else {
				j += e + 1
			}
		} else {
			for j < len(s) && s[j] != ',' && s[j] != ' ' && s[j] != '\t' {
				j++
			}
		}
		fn(k, s[i+1:j])
		i = j - 1
	}
}
