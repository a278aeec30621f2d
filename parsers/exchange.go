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
// SEND and SENDEXTERNAL rows are the messages that left a server: they are
// the mail events rules and the ledger count.
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
	return mostLines(head, func(l string) bool {
		if len(l) < 25 || l[4] != '-' || l[10] != 'T' || !strings.Contains(l[:min(30, len(l))], "Z,") {
			return false
		}
		for _, id := range exchangeEventIDs {
			if strings.Contains(l, id) {
				return true
			}
		}
		return false
	})
}

var exchangeDefaultFields = strings.Split("date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data,transport-traffic-type,log-id,schema-version", ",")

func (ExchangeTracking) NewDecoder(o *Options) LineDecoder {
	return &exchangeDecoder{fields: exchangeDefaultFields}
}

type exchangeDecoder struct{ fields []string }

func (d *exchangeDecoder) Flush(Emit) {}

func (d *exchangeDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	if strings.HasPrefix(s, "#") {
		if strings.HasPrefix(s, "#Fields:") {
			d.fields = strings.Split(strings.TrimSpace(strings.TrimPrefix(s, "#Fields:")), ",")
		}
		ev := event.New() // header lines are kept: they document the log
		ev.Fields[event.FieldKind] = "state"
		ev.Fields[event.FieldDataset] = "microsoft.exchange"
		ev.Fields[event.FieldLine] = no
		ev.Fields["message"] = s
		emit(ev, linePos(no))
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
	ev := event.New()
	ev.Timestamp = t.UTC()
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
	switch id {
	case "SEND", "SENDEXTERNAL":
		// A message leaving this server: the unit rules and the byte ledger count.
		ev.Set("event.action", "message")
		setIP(ev, "source.ip", firstNonEmpty(col["original-client-ip"], col["client-ip"]))
		setIP(ev, "destination.ip", col["server-ip"])
		ev.Set("destination.domain", col["server-hostname"])
	default:
		ev.Set("event.action", strings.ToLower(id))
		setIP(ev, "source.ip", firstNonEmpty(col["original-client-ip"], col["client-ip"]))
	}
	if strings.HasPrefix(col["recipient-status"], "5") || id == "FAIL" || id == "DROP" {
		ev.Set("event.outcome", "failure")
	} else if id != "" {
		ev.Set("event.outcome", "success")
	}
	emit(ev, linePos(no))
	return nil
}
