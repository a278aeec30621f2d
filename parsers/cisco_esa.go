package parsers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// CiscoESA reads the mail logs of Cisco Secure Email Gateway (IronPort
// ESA, AsyncOS): "Info: MID 6 ICID 5 RID 0 To: <…>", pushed by syslog
// (the log's name as program, with or without a host) or collected as the
// appliance's own files ("Mon Apr 17 19:56:22 2003 Info: …"). A message's
// lines are joined by its MID into one message event, as Postfix's by
// queue id: sender, recipients, size ("ready N bytes"), the policy table
// that took it (inbound or outbound), the client and the account that
// submitted it (the ICID's connection and SMTP AUTH), the relays that
// received it (the DCID's connection), and what became of each recipient.
// Connections, logins and the appliance's other lines are events of their
// own.
type CiscoESA struct{}

const esaDataset = "cisco_secure_email_gateway.log"

func (CiscoESA) Name() string { return "cisco-esa" }
func (CiscoESA) Description() string {
	return "Cisco Secure Email Gateway (IronPort ESA) mail logs, syslog or files: joined by MID into message events (sender, recipients, size, direction, client, account, relay)"
}

func (CiscoESA) Detect(head []byte) bool { return mostLines(head, CiscoESA{}.matchLine) }

var (
	esaIDs = regexp.MustCompile(`\b(?:MID|ICID|DCID) \d+\b`)
	// The appliance's own stamp, just before the level: first in its
	// files, after a relay's header when a collector received them.
	esaFileTime = regexp.MustCompile(`(?:^|\s)(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}) $`)
	esaLevels   = []string{"Info", "Warning", "Critical", "Debug", "Trace"}

	esaNewICID = regexp.MustCompile(`^New SMTP ICID (\d+) interface .*? address (\S+)(?: reverse dns host (\S+))?`)
	esaNewDCID = regexp.MustCompile(`^New SMTP DCID (\d+) interface \S+ address (\S+)`)
	esaClose   = regexp.MustCompile(`^([ID]CID) (\d+) close`)
	esaAuth    = regexp.MustCompile(`^SMTP Auth: \(ICID (\d+)\) (succeeded|failed) for user: (\S+)(?: using AUTH mechanism: (\S+))?`)
	esaStart   = regexp.MustCompile(`^Start MID (\d+) ICID (\d+)`)
	esaFrom    = regexp.MustCompile(`^MID (\d+) ICID (\d+) From: <([^>]*)>`)
	esaTo      = regexp.MustCompile(`^MID (\d+) ICID (\d+) RID (\d+) To: <([^>]*)>`)
	esaReady   = regexp.MustCompile(`^MID (\d+) ready (\d+) bytes from <([^>]*)>`)
	esaPolicy  = regexp.MustCompile(`^MID (\d+) matched .* in the (inbound|outbound) table`)
	esaMsgID   = regexp.MustCompile(`^MID (\d+) Message-ID '(.*)'$`)
	esaSubject = regexp.MustCompile(`^MID (\d+) Subject (.*)$`)
	// AsyncOS before 4 wrote "to [0]", later "to RID [0]".
	esaDelivery = regexp.MustCompile(`^(Delivery start|Message done) DCID (\d+) MID (\d+) to (?:RID )?\[([\d, ]+)\]`)
	// "Bounced: DCID 0 MID 8 to RID 0 - 5.1.2 - …"; later releases name
	// the addresses: "… MID 8 From: <a> To: <b> RID 0 - 5.4.7 - …".
	esaBounced  = regexp.MustCompile(`^Bounced: (?:DCID (\d+) )?MID (\d+) (?:From: <[^>]*> To: <([^>]*)> RID|to RID|to) (\d+) - (\S+) - `)
	esaFinished = regexp.MustCompile(`^Message finished MID (\d+) (\w+)`)
	esaRewrite  = regexp.MustCompile(`^(?:MID (\d+) rewritten to|(?:EUQ|ISQ): Reinjected MID (\d+) as) MID (\d+)`)
	esaMID      = regexp.MustCompile(`\bMID (\d+)\b`)
)

// matchLine: a level word and a connection or message number, after a
// syslog header or the file's own stamp.
func (CiscoESA) matchLine(l string) bool {
	_, _, _, ok := esaLevelBody(l)
	return ok && esaIDs.MatchString(l)
}

// esaLevelBody finds "Info: " (or another level) where the appliance's text
// begins: after a syslog header whose program is the log's name, or
// after the file's stamp.
func esaLevelBody(l string) (before, level, body string, ok bool) {
	for _, lv := range esaLevels {
		if i := strings.Index(l, lv+": "); i >= 0 && (i == 0 || l[i-1] == ' ') {
			return l[:i], lv, l[i+len(lv)+2:], true
		}
	}
	return "", "", "", false
}

func (CiscoESA) NewDecoder(o *Options) LineDecoder {
	return &esaDecoder{loc: o.TZ, clock: o.clock(), zone: newZoneless(o), repeat: repeatedHour{warn: o.Warn}, warn: o.Warn,
		icids: newOpenMessages(esaConnLine), dcids: newOpenMessages(esaConnLine), pending: newOpenMessages(func(m *esaMessage) int64 { return m.firstLine })}
}

// esaConn is an SMTP connection: a client's (ICID) or a delivery's to a
// relay (DCID), from the line that opened it.
type esaConn struct {
	ip, host, user, method string
	line                   int64
}

func esaConnLine(c *esaConn) int64 { return c.line }

// forgetConn: a connection whose close the log never writes is forgotten
// once too many are open, as a message is (openMessages).
func forgetConn(*esaConn) {}

type esaMessage struct {
	pfMessage
	rids      map[string]*pfRcpt
	ridOrder  []string // rcpts[i]'s RID
	direction string
	subject   string
	rewritten string // the MID it went on as
}

type esaDecoder struct {
	loc     *time.Location
	clock   syslogClock
	zone    zoneless
	repeat  repeatedHour
	icids   openMessages[*esaConn] // inbound connections still open
	dcids   openMessages[*esaConn] // delivery connections still open: the relay's address
	pending openMessages[*esaMessage]
	// offset is the file's own word on its stamps ("Info: Time offset
	// from UTC: -18000 seconds", the third line of every log file).
	offset *time.Location
	warn   func(string)
}

// esaLine is one line's stamp and text.
type esaLine struct {
	t      time.Time
	zoned  bool
	host   string
	level  string
	body   string
	whole  string
	number int64
}

func (d *esaDecoder) read(no int64, s string) (esaLine, error) {
	l := esaLine{whole: s, number: no}
	before, level, body, ok := esaLevelBody(s)
	if !ok {
		return l, fmt.Errorf("cisco-esa: no Info:, Warning:, Critical:, Debug: or Trace: text")
	}
	l.level, l.body = level, body
	if off, ok := strings.CutPrefix(body, "Time offset from UTC: "); ok {
		d.learnOffset(off)
	}
	if m := esaFileTime.FindStringSubmatch(before); m != nil {
		if d.offset != nil {
			t, err := time.ParseInLocation("Jan _2 15:04:05 2006", m[1], d.offset)
			if err != nil {
				return l, fmt.Errorf("cisco-esa: bad time %q: %v", m[1], err)
			}
			l.t, l.zoned = t.UTC(), true
			return l, nil
		}
		t, err := time.ParseInLocation("Jan _2 15:04:05 2006", m[1], d.loc)
		if err != nil {
			return l, fmt.Errorf("cisco-esa: bad time %q: %v", m[1], err)
		}
		l.t = d.repeat.place(t, d.loc).UTC()
		return l, nil
	}
	h, err := d.clock.parse(s)
	if err != nil {
		return l, fmt.Errorf("cisco-esa: no syslog header or file stamp")
	}
	l.t, l.zoned = h.Time, h.Zoned
	// "Mar 17 18:24:37 mail_logs: Info: …" has no host: the syslog reader
	// takes the log's name for one.
	if !strings.HasSuffix(h.Host, ":") {
		l.host = h.Host
	}
	return l, nil
}

// learnOffset takes a log file's "Time offset from UTC: N seconds": its
// stamps are then read at that offset, not in --tz. An offset no zone has
// (not whole quarter hours, beyond ±14 h) is said and not taken.
func (d *esaDecoder) learnOffset(text string) {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(text), " seconds"))
	switch {
	case err != nil:
		return
	case n%900 != 0 || n < -14*3600 || n > 14*3600:
		if d.warn != nil {
			d.warn(fmt.Sprintf("the gateway's log says its stamps are %d s from UTC, which no zone is: not taken, its stamps read in --tz", n))
		}
		return
	}
	if d.offset == nil || d.offset.String() != esaOffsetName(n) {
		d.offset = time.FixedZone(esaOffsetName(n), n)
		if d.warn != nil {
			d.warn(fmt.Sprintf("the gateway's log file says its stamps are %d s from UTC (%s): read so, whatever --tz says", n, esaOffsetName(n)))
		}
	}
}

func esaOffsetName(n int) string {
	sign := "+"
	if n < 0 {
		sign, n = "-", -n
	}
	return fmt.Sprintf("UTC%s%02d:%02d", sign, n/3600, n%3600/60)
}

func (d *esaDecoder) Line(no int64, line []byte, emit Emit) error {
	l, err := d.read(no, string(line))
	if err != nil {
		return err
	}
	b := l.body
	if esaMID.MatchString(b) {
		d.messageLine(l, emit)
		return nil
	}
	ev := d.lineEvent(l)
	if m := esaNewICID.FindStringSubmatch(b); m != nil {
		d.icids.done(m[1]) // an id the appliance uses again is a new connection
		d.icids.add(m[1], &esaConn{ip: m[2], host: m[3], line: no}, forgetConn)
		ev.Set("event.action", "smtp-connection-opened")
		ev.Fields["event.category"] = []string{"email", "network"}
		setIP(ev, "source.ip", m[2])
		ev.Set("source.domain", m[3])
		ev.Set(esaDataset+".icid", m[1])
	} else if m := esaNewDCID.FindStringSubmatch(b); m != nil {
		d.dcids.done(m[1])
		d.dcids.add(m[1], &esaConn{ip: m[2], line: no}, forgetConn)
		ev.Set("event.action", "smtp-delivery-connection-opened")
		ev.Fields["event.category"] = []string{"email", "network"}
		setIP(ev, "destination.ip", m[2])
		ev.Set(esaDataset+".dcid", m[1])
	} else if m := esaClose.FindStringSubmatch(b); m != nil {
		if m[1] == "ICID" {
			d.icids.done(m[2])
		} else {
			d.dcids.done(m[2])
		}
		ev.Set("event.action", "smtp-connection-closed")
		ev.Set(esaDataset+"."+strings.ToLower(m[1]), m[2])
	} else if m := esaAuth.FindStringSubmatch(b); m != nil {
		ev.Fields["event.category"] = []string{"email", "authentication"}
		ev.Fields["event.type"] = []string{"start"}
		ev.Set("event.action", "smtp-auth")
		ev.Set("user.name", m[3])
		ev.Set(esaDataset+".icid", m[1])
		ev.Set(esaDataset+".auth_mechanism", m[4])
		if c, ok := d.icids.get(m[1]); ok {
			setIP(ev, "source.ip", c.ip)
			if m[2] == "succeeded" {
				c.user, c.method = m[3], m[4]
			}
		}
		if m[2] == "succeeded" {
			ev.Set("event.outcome", "success")
		} else {
			ev.Set("event.outcome", "failure")
		}
	} else {
		ev.Set("event.action", "esa")
		if id := esaIDs.FindString(b); id != "" {
			k, v, _ := strings.Cut(id, " ")
			ev.Set(esaDataset+"."+strings.ToLower(k), v)
		}
	}
	emit(ev, linePos(no))
	return nil
}

// lineEvent is a line as an event of its own.
func (d *esaDecoder) lineEvent(l esaLine) *event.Event {
	ev := event.New()
	ev.Timestamp = l.t
	if !l.zoned {
		markMailZoneless(&d.zone, ev)
	}
	ev.Fields[event.FieldDataset] = esaDataset
	ev.Fields[event.FieldOriginal] = l.whole
	ev.Fields[event.FieldLine] = l.number
	ev.Fields["event.category"] = []string{"email"}
	ev.Set("observer.vendor", "Cisco")
	ev.Set("observer.product", "Secure Email Gateway")
	ev.Set("host.name", l.host)
	ev.Set("log.level", strings.ToLower(l.level))
	ev.Set("message", l.body)
	return ev
}

// message returns the message of a MID, begun at this line if it is new.
func (d *esaDecoder) message(mid string, l esaLine, emit Emit) *esaMessage {
	m, ok := d.pending.get(mid)
	if !ok {
		m = &esaMessage{pfMessage: pfMessage{qid: mid, firstLine: l.number, first: l.t, host: l.host}, rids: map[string]*pfRcpt{}}
		if !l.zoned {
			m.zone = &d.zone
		}
		d.pending.add(mid, m, func(old *esaMessage) { d.emit(old, emit) })
	}
	m.lines = append(m.lines, strconv.FormatInt(l.number, 10))
	if l.t.After(m.last) {
		m.last = l.t
	}
	return m
}

func (d *esaDecoder) fromConn(m *esaMessage, icid string) {
	if c, ok := d.icids.get(icid); ok && m.clientIP == "" {
		m.clientIP, m.clientHost, m.saslUser, m.saslMethod = c.ip, c.host, c.user, c.method
	}
}

func (d *esaDecoder) rcpt(m *esaMessage, rid string) *pfRcpt {
	r := m.rids[rid]
	if r == nil {
		r = &pfRcpt{}
		m.rids[rid] = r
		m.rcpts = append(m.rcpts, r)
		m.ridOrder = append(m.ridOrder, rid)
	}
	return r
}

// messageLine joins a line naming a MID to its message.
func (d *esaDecoder) messageLine(l esaLine, emit Emit) {
	b := l.body
	if x := esaStart.FindStringSubmatch(b); x != nil {
		d.fromConn(d.message(x[1], l, emit), x[2])
	} else if x := esaFrom.FindStringSubmatch(b); x != nil {
		m := d.message(x[1], l, emit)
		d.fromConn(m, x[2])
		m.from = x[3]
	} else if x := esaTo.FindStringSubmatch(b); x != nil {
		m := d.message(x[1], l, emit)
		d.fromConn(m, x[2])
		d.rcpt(m, x[3]).to = x[4]
	} else if x := esaReady.FindStringSubmatch(b); x != nil {
		m := d.message(x[1], l, emit)
		if n, err := strconv.ParseInt(x[2], 10, 64); err == nil {
			m.size, m.hasSize = n, true
		}
		if m.from == "" {
			m.from = x[3]
		}
	} else if x := esaPolicy.FindStringSubmatch(b); x != nil {
		d.message(x[1], l, emit).direction = x[2]
	} else if x := esaMsgID.FindStringSubmatch(b); x != nil {
		d.message(x[1], l, emit).msgID = strings.Trim(x[2], "<>")
	} else if x := esaSubject.FindStringSubmatch(b); x != nil {
		s := x[2]
		if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
			s = s[1 : len(s)-1]
		}
		d.message(x[1], l, emit).subject = s
	} else if x := esaDelivery.FindStringSubmatch(b); x != nil {
		m := d.message(x[3], l, emit)
		for _, rid := range strings.Split(x[4], ",") {
			r := d.rcpt(m, strings.TrimSpace(rid))
			if c, ok := d.dcids.get(x[2]); ok {
				r.relayIP = c.ip
			}
			if x[1] == "Message done" {
				r.status = "sent"
			}
		}
	} else if x := esaBounced.FindStringSubmatch(b); x != nil {
		r := d.rcpt(d.message(x[2], l, emit), x[4])
		if x[3] != "" && r.to == "" {
			r.to = x[3]
		}
		r.status, r.dsn = "bounced", x[5]
		if c, ok := d.dcids.get(x[1]); x[1] != "" && ok {
			r.relayIP = c.ip
		}
	} else if x := esaRewrite.FindStringSubmatch(b); x != nil {
		// The message goes on under a new MID (a policy split it, a filter
		// rewrote it): counted there, once.
		was := x[1] + x[2]
		old := d.message(was, l, emit)
		old.rewritten = x[3]
		m := d.message(x[3], l, emit)
		m.from, m.size, m.hasSize, m.direction, m.subject, m.msgID = old.from, old.size, old.hasSize, old.direction, old.subject, old.msgID
		m.clientIP, m.clientHost, m.saslUser, m.saslMethod = old.clientIP, old.clientHost, old.saslUser, old.saslMethod
		for i, r := range old.rcpts {
			if n := d.rcpt(m, old.ridOrder[i]); n.to == "" {
				n.to = r.to
			}
		}
	} else if x := esaFinished.FindStringSubmatch(b); x != nil {
		m := d.message(x[1], l, emit)
		m.removed = true
		if x[2] != "done" {
			m.rejected = "message " + x[2]
		}
		d.emit(m, emit)
	} else {
		// Verdicts, filters, DLP, URLs: part of the message's lines.
		d.message(esaMID.FindStringSubmatch(b)[1], l, emit)
	}
}

// emit writes a message and forgets it.
func (d *esaDecoder) emit(m *esaMessage, emit Emit) {
	d.pending.done(m.qid)
	emitMailMessage(&m.pfMessage, esaDataset, func(ev *event.Event, pos string) {
		ev.Set("observer.vendor", "Cisco")
		ev.Set("observer.product", "Secure Email Gateway")
		ev.Set("email.direction", m.direction)
		ev.Set("email.subject", m.subject)
		if m.rewritten != "" {
			// Its recipients and bytes are the new MID's to count.
			ev.Set("event.action", "message-rewritten")
			ev.Set(esaDataset+".rewritten_to", m.rewritten)
		}
		emit(ev, pos)
	})
}

func (d *esaDecoder) Flush(emit Emit) {
	d.pending.drain(func(m *esaMessage) { d.emit(m, emit) })
}
