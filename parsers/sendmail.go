package parsers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// Sendmail reads sendmail syslog lines (sm-mta, sendmail, sm-msp-queue…).
// Lines of one message (from=, to=) are joined by queue id into one message
// event, as for Postfix; ruleset rejects and other lines are events of their own.
type Sendmail struct{}

func (Sendmail) Name() string { return "sendmail" }
func (Sendmail) Description() string {
	return "sendmail syslog, joined by queue id into message events"
}

var (
	smProgram = regexp.MustCompile(`^(sendmail|sm-mta|sm-msp-queue|sm-acceptingconnections|sm-[\w-]+)$`)
	smQID     = regexp.MustCompile(`^([0-9A-Za-z]{14}): (.*)$`)
	smRelay   = regexp.MustCompile(`relay=(?:(\S+) )?\[([0-9A-Fa-f.:]+)\]`)
	smKV      = regexp.MustCompile(`\b(from|to|size|nrcpts|msgid|stat|ruleset|arg1|reject|mailer|dsn|authid|ctladdr)=(<[^>]*>(?:,<[^>]*>)*|[^,]*)`)
)

func (Sendmail) Detect(head []byte) bool {
	return mostLines(head, Sendmail{}.matchLine)
}

func (Sendmail) matchLine(l string) bool {
	if (strings.Contains(l, " sm-") || strings.Contains(l, " sendmail[")) && strings.Contains(l, "]: ") {
		return true
	}
	// RFC 5424 ("sm-mta 4242 - -") and collectors' files name the
	// program apart.
	if !strings.Contains(l, "sm-") && !strings.Contains(l, "sendmail") {
		return false
	}
	p := syslogProgram(l)
	return strings.HasPrefix(p, "sm-") || p == "sendmail"
}

func (Sendmail) NewDecoder(o *Options) LineDecoder {
	return &sendmailDecoder{clock: o.clock(), pending: newOpenMessages(pfFirstLine), zone: newZoneless(o)}
}

type sendmailDecoder struct {
	clock   syslogClock
	pending openMessages[*pfMessage]
	zone    zoneless
}

func (d *sendmailDecoder) Line(no int64, line []byte, emit Emit) error {
	h, err := d.clock.parse(string(line))
	if err != nil || !smProgram.MatchString(h.Program) {
		return fmt.Errorf("sendmail: not a sendmail syslog line")
	}
	m := smQID.FindStringSubmatch(h.Msg)
	kv := map[string]string{}
	rest := h.Msg
	if m != nil {
		rest = m[2]
	}
	for _, x := range smKV.FindAllStringSubmatch(rest, -1) {
		kv[x[1]] = strings.TrimSpace(x[2])
	}
	if m != nil && kv["ruleset"] == "" && (kv["from"] != "" || kv["to"] != "") {
		msg, ok := d.pending.get(m[1])
		if !ok {
			msg = &pfMessage{qid: m[1], firstLine: no, first: h.Time, host: h.Host}
			if !h.Zoned {
				msg.zone = &d.zone
			}
			d.pending.add(m[1], msg, func(old *pfMessage) { emitMailMessage(old, "sendmail", emit) })
		}
		msg.lines = append(msg.lines, strconv.FormatInt(no, 10))
		if h.Time.After(msg.last) {
			msg.last = h.Time
		}
		if f := kv["from"]; f != "" {
			msg.from = strings.Trim(f, "<>")
			if n, err := strconv.ParseInt(kv["size"], 10, 64); err == nil {
				msg.size, msg.hasSize = n, true
			}
			msg.nrcpt = kv["nrcpts"]
			msg.msgID = strings.Trim(kv["msgid"], "<>")
			msg.saslUser = kv["authid"]
			if r := smRelay.FindStringSubmatch(rest); r != nil {
				msg.clientHost, msg.clientIP = r[1], r[2]
			}
		}
		if to := kv["to"]; to != "" {
			status := strings.ToLower(strings.SplitN(kv["stat"], " ", 2)[0])
			relay, relayIP := "", ""
			if r := smRelay.FindStringSubmatch(rest); r != nil {
				relay, relayIP = r[1], r[2]
			}
			for _, addr := range strings.Split(to, ",") {
				msg.rcpts = append(msg.rcpts, &pfRcpt{to: strings.Trim(addr, "<> "), status: status, relay: relay, relayIP: relayIP, dsn: kv["dsn"]})
			}
			if status == "sent" || status == "bounced" {
				msg.removed = true
				emitMailMessage(msg, "sendmail", emit)
				d.pending.done(m[1])
			}
		}
		return nil
	}
	ev := event.New()
	ev.Timestamp = h.Time
	if !h.Zoned {
		markMailZoneless(&d.zone, ev)
	}
	ev.Fields[event.FieldDataset] = "sendmail"
	ev.Fields[event.FieldOriginal] = string(line)
	ev.Fields[event.FieldLine] = no
	ev.Fields["event.category"] = []string{"email"}
	ev.Set("host.name", h.Host)
	ev.Set("message", h.Msg)
	if m != nil {
		ev.Set("sendmail.queue_id", m[1])
	}
	if r := smRelay.FindStringSubmatch(rest); r != nil {
		ev.Set("source.domain", r[1])
		setIP(ev, "source.ip", r[2])
	}
	if rej := kv["reject"]; rej != "" {
		ev.Set("event.action", "reject")
		ev.Set("event.outcome", "failure")
		ev.Set("event.reason", rej)
		ev.Add("email.to.address", strings.Trim(kv["arg1"], "<>"))
		ev.Set("sendmail.ruleset", kv["ruleset"])
	} else {
		ev.Set("event.action", "sendmail")
	}
	emit(ev, linePos(no))
	return nil
}

func (d *sendmailDecoder) Flush(emit Emit) {
	d.pending.drain(func(m *pfMessage) { emitMailMessage(m, "sendmail", emit) })
}
