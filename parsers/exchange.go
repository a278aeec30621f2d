package parsers

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// ExchangeTracking reads Microsoft Exchange message tracking logs (CSV; the
// #Fields: header gives the columns, else Exchange 2013+'s default order).
// Every row is an event; the rows of one message id are also joined into one
// message event (sender, every recipient, size, event ids, client and server
// addresses), which is what rules and the byte ledger count.
type ExchangeTracking struct{}

func (ExchangeTracking) Name() string { return "exchange" }
func (ExchangeTracking) Description() string {
	return "Microsoft Exchange message tracking logs (CSV with or without #Fields: header)"
}

var exchangeEventIDs = []string{",RECEIVE,", ",SEND,", ",DELIVER,", ",SENDEXTERNAL,", ",HAREDIRECT", ",SUBMIT", ",NOTIFYMAPI,", ",DROP,", ",FAIL,", ",EXPAND,", ",RESOLVE,", ",DEFER,", ",TRANSFER,", ",AGENTINFO,", ",HARECEIVE,", ",DSN,", ",REDIRECT,", ",BADMAIL,", ",POISONMESSAGE,", ",DUPLICATEDELIVER,", ",INITMESSAGECREATED,", ",MODERATOR", ",PROCESS", ",THROTTLE,"}

func (ExchangeTracking) Detect(head []byte) bool {
	h := string(head)
	if strings.Contains(h, "#Software: Microsoft Exchange") && strings.Contains(h, "#Log-type: Message Tracking Log") {
		return true
	}
	return mostLines(head, ExchangeTracking{}.matchLine)
}

func (ExchangeTracking) matchLine(l string) bool {
	if len(l) < 25 || l[4] != '-' || l[10] != 'T' || !strings.Contains(l[:min(30, len(l))], "Z,") {
		return false
	}
	for _, id := range exchangeEventIDs {
		if strings.Contains(l, id) {
			return true
		}
	}
	return false
}

var exchangeDefaultFields = strings.Split("date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data,transport-traffic-type,log-id,schema-version", ",")

func (ExchangeTracking) NewDecoder(o *Options) LineDecoder {
	return &exchangeDecoder{fields: exchangeDefaultFields, msgs: map[string]*exMessage{}}
}

type exchangeDecoder struct {
	fields []string
	msgs   map[string]*exMessage
	order  []string
}

// exMessage gathers the rows of one message id.
type exMessage struct {
	id, sender, subject, direction  string
	firstLine                       int64
	first, last                     time.Time
	size                            int64
	rcpts, events, clients, servers []string
}

func addOnce(list []string, v string) []string {
	if v == "" {
		return list
	}
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

func (d *exchangeDecoder) join(no int64, t time.Time, col map[string]string, id string, emit Emit) {
	key := col["message-id"]
	if key == "" {
		return
	}
	m := d.msgs[key]
	if m == nil {
		if len(d.msgs) >= maxPendingMessages {
			d.emitOldest(emit)
		}
		m = &exMessage{id: key, firstLine: no, first: t}
		d.msgs[key] = m
		d.order = append(d.order, key)
	}
	if t.After(m.last) {
		m.last = t
	}
	if s := col["sender-address"]; s != "" && s != "<>" && m.sender == "" {
		m.sender = s
	}
	m.subject = firstNonEmpty(m.subject, col["message-subject"])
	m.direction = firstNonEmpty(m.direction, col["directionality"])
	if n, err := strconv.ParseInt(col["total-bytes"], 10, 64); err == nil && n > m.size {
		m.size = n
	}
	for _, to := range strings.Split(col["recipient-address"], ";") {
		m.rcpts = addOnce(m.rcpts, strings.TrimSpace(to))
	}
	m.events = addOnce(m.events, id)
	if id == "RECEIVE" || id == "SUBMIT" {
		m.clients = addOnce(m.clients, firstNonEmpty(col["original-client-ip"], col["client-ip"]))
	}
	if id == "SEND" || id == "SENDEXTERNAL" {
		m.servers = addOnce(m.servers, col["server-ip"])
	}
}

func (d *exchangeDecoder) emitOldest(emit Emit) {
	for len(d.order) > 0 {
		k := d.order[0]
		d.order = d.order[1:]
		if m, ok := d.msgs[k]; ok {
			d.emitMessage(m, emit)
			delete(d.msgs, k)
			return
		}
	}
}

func (d *exchangeDecoder) emitMessage(m *exMessage, emit Emit) {
	ev := event.New()
	ev.Timestamp = m.first
	ev.Fields[event.FieldDataset] = "microsoft.exchange"
	ev.Fields[event.FieldLine] = m.firstLine
	ev.Fields["event.category"] = []string{"email"}
	ev.Fields["tags"] = []string{"exchange_message_joined"}
	ev.Set("event.action", "message")
	ev.Set("email.message_id", m.id)
	ev.Set("email.from.address", m.sender)
	ev.Set("email.subject", m.subject)
	ev.Set("email.direction", m.direction)
	for _, r := range m.rcpts {
		ev.Add("email.to.address", r)
	}
	if m.size > 0 {
		ev.SetInt("email.size", m.size)
	}
	ev.Fields["microsoft.exchange.eventids"] = m.events
	if len(m.clients) > 0 {
		setIP(ev, "source.ip", m.clients[0])
	}
	if len(m.servers) > 0 {
		setIP(ev, "destination.ip", m.servers[0])
	}
	if m.last.After(m.first) {
		ev.Fields["event.end"] = m.last.UTC().Format(time.RFC3339Nano)
	}
	ev.Set("message", fmt.Sprintf("%s from=<%s> to=%s size=%d", m.id, m.sender, strings.Join(m.rcpts, ","), m.size))
	emit(ev, fmt.Sprintf("M%d:%s", m.firstLine, m.id))
}

func (d *exchangeDecoder) Flush(emit Emit) {
	for _, k := range d.order {
		if m, ok := d.msgs[k]; ok {
			d.emitMessage(m, emit)
			delete(d.msgs, k)
		}
	}
	d.order = nil
}

func (d *exchangeDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	if strings.HasPrefix(s, "#") {
		if strings.HasPrefix(s, "#Fields:") {
			d.fields = strings.Split(strings.TrimSpace(strings.TrimPrefix(s, "#Fields:")), ",")
		}
		emitHeaderLine(emit, no, "microsoft.exchange", s)
		return nil
	}
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	rec, err := r.Read()
	if err != nil {
		return fmt.Errorf("exchange: CSV: %v", err)
	}
	col := map[string]string{}
	for i, name := range d.fields {
		if i < len(rec) {
			col[name] = rec[i]
		}
	}
	t, err := time.Parse(time.RFC3339Nano, col["date-time"])
	if err != nil {
		return fmt.Errorf("exchange: date-time %q: %v", col["date-time"], err)
	}
	emit(d.row(no, s, col, t.UTC(), emit), linePos(no))
	return nil
}

// row makes the event of one tracking row, its columns by the log's
// names, and joins the row to its message (emitting the oldest message
// when too many are open).
func (d *exchangeDecoder) row(no int64, s string, col map[string]string, t time.Time, emit Emit) *event.Event {
	ev := event.New()
	ev.Timestamp = t
	ev.Fields[event.FieldDataset] = "microsoft.exchange"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Fields["event.category"] = []string{"email"}
	for k, v := range col {
		if v != "" {
			ev.Fields["microsoft.exchange."+strings.ReplaceAll(k, "-", "")] = v
		}
	}
	setIP(ev, "client.ip", col["client-ip"])
	ev.Set("client.domain", col["client-hostname"])
	setIP(ev, "server.ip", col["server-ip"])
	ev.Set("server.domain", col["server-hostname"])
	ev.Set("host.name", col["server-hostname"])
	for _, to := range strings.Split(col["recipient-address"], ";") {
		ev.Add("email.to.address", strings.TrimSpace(to))
	}
	if s := col["sender-address"]; s != "" && s != "<>" {
		ev.Set("email.sender.address", s)
		ev.Add("email.from.address", s)
	}
	ev.Set("email.message_id", col["message-id"])
	ev.Set("email.subject", col["message-subject"])
	ev.Set("email.direction", col["directionality"])
	ev.Set("email.local_id", col["network-message-id"])
	if n, err := strconv.ParseInt(col["total-bytes"], 10, 64); err == nil {
		ev.SetInt("email.size", n)
	}
	id := strings.ToUpper(col["event-id"])
	ev.Set("microsoft.exchange.eventid", id)
	ev.Set("event.action", strings.ToLower(id))
	setIP(ev, "source.ip", firstNonEmpty(col["original-client-ip"], col["client-ip"]))
	if id == "SEND" || id == "SENDEXTERNAL" {
		setIP(ev, "destination.ip", col["server-ip"])
		ev.Set("destination.domain", col["server-hostname"])
	}
	d.join(no, ev.Timestamp, col, id, emit)
	if strings.HasPrefix(col["recipient-status"], "5") || id == "FAIL" || id == "DROP" {
		ev.Set("event.outcome", "failure")
	} else if id != "" {
		ev.Set("event.outcome", "success")
	}
	return ev
}
