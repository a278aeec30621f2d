package parsers

import (
	"encoding/csv"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// ExchangeProtocol reads Exchange protocol logs: SMTP send/receive
// (date-time,connector-id,session-id,sequence-number,local-endpoint,
// remote-endpoint,event,data,context) and POP3/IMAP4 (dateTime,sessionId,
// seqNumber,sIp,cIp,user,duration,rqsz,rpsz,cmd,parameters,context). rpsz is
// what the server answered: a mailbox downloaded over POP/IMAP shows there.
type ExchangeProtocol struct{}

func (ExchangeProtocol) Name() string { return "exchange-protocol" }
func (ExchangeProtocol) Description() string {
	return "Exchange SMTP and POP3/IMAP4 protocol logs (CSV)"
}

func endpoint(s string) (netip.AddrPort, bool) {
	ap, err := netip.ParseAddrPort(s)
	return ap, err == nil
}

func exchangeProtoKind(f []string) string {
	if len(f) >= 9 {
		if _, ok := endpoint(f[4]); ok {
			if _, ok := endpoint(f[5]); ok && len(f[6]) <= 1 {
				return "smtp"
			}
		}
	}
	if len(f) >= 10 {
		if _, ok := endpoint(f[3]); ok {
			if _, ok := endpoint(f[4]); ok {
				return "popimap"
			}
		}
	}
	return ""
}

func (ExchangeProtocol) Detect(head []byte) bool {
	if h := string(head); strings.Contains(h, "#Software: Microsoft Exchange") && strings.Contains(h, "Protocol") {
		return true
	}
	return mostLines(head, ExchangeProtocol{}.matchLine)
}

func (ExchangeProtocol) matchLine(l string) bool {
	r := csv.NewReader(strings.NewReader(l))
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	f, err := r.Read()
	if err != nil || len(f) < 9 {
		return false
	}
	if _, err := time.Parse(time.RFC3339Nano, f[0]); err != nil {
		return false
	}
	return exchangeProtoKind(f) != ""
}

func (ExchangeProtocol) NewDecoder(o *Options) LineDecoder { return exchangeProtoDecoder{} }

type exchangeProtoDecoder struct{}

func (exchangeProtoDecoder) Flush(Emit) {}

func (exchangeProtoDecoder) Line(no int64, line []byte, emit Emit) error {
	s := string(line)
	ev := event.New()
	ev.Fields[event.FieldDataset] = "microsoft.exchange.protocol"
	ev.Fields[event.FieldLine] = no
	if strings.HasPrefix(s, "#") {
		ev.Fields[event.FieldKind] = "state"
		ev.Fields["message"] = s
		emit(ev, linePos(no))
		return nil
	}
	r := csv.NewReader(strings.NewReader(s))
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	f, err := r.Read()
	if err != nil {
		return fmt.Errorf("exchange-protocol: CSV: %v", err)
	}
	t, err := time.Parse(time.RFC3339Nano, f[0])
	if err != nil {
		return fmt.Errorf("exchange-protocol: time %q", f[0])
	}
	ev.Timestamp = t.UTC()
	ev.Fields[event.FieldOriginal] = s
	ev.Fields["event.category"] = []string{"email", "network"}
	switch exchangeProtoKind(f) {
	case "smtp":
		ev.Set("network.protocol", "smtp")
		ev.Set("exchange.connector_id", f[1])
		ev.Set("exchange.session_id", f[2])
		ev.Set("exchange.sequence_number", f[3])
		local, _ := endpoint(f[4])
		remote, _ := endpoint(f[5])
		ev.Fields["server.ip"] = local.Addr().Unmap().String()
		ev.SetInt("server.port", int64(local.Port()))
		ev.Fields["source.ip"] = remote.Addr().Unmap().String()
		ev.SetInt("source.port", int64(remote.Port()))
		ev.Fields["client.ip"] = ev.Fields["source.ip"]
		ev.Set("exchange.event", f[6])
		data := f[7]
		ev.Set("message", data)
		if len(data) >= 3 && data[0] >= '2' && data[0] <= '5' && data[1] >= '0' && data[1] <= '9' {
			ev.Set("exchange.smtp_code", data[:3])
			if strings.HasPrefix(data, "535") {
				ev.Fields["event.category"] = []string{"email", "authentication"}
				ev.Set("event.action", "authentication-failed")
				ev.Set("event.outcome", "failure")
			}
		}
		if len(f) > 8 {
			ev.Set("exchange.context", f[8])
		}
	case "popimap":
		ev.Set("exchange.session_id", f[1])
		ev.Set("exchange.sequence_number", f[2])
		server, _ := endpoint(f[3])
		client, _ := endpoint(f[4])
		ev.Fields["server.ip"] = server.Addr().Unmap().String()
		ev.SetInt("server.port", int64(server.Port()))
		ev.Fields["source.ip"] = client.Addr().Unmap().String()
		ev.SetInt("source.port", int64(client.Port()))
		ev.Set("network.protocol", map[uint16]string{110: "pop3", 995: "pop3", 143: "imap", 993: "imap"}[server.Port()])
		ev.Set("user.name", f[5])
		if n, err := strconv.ParseInt(f[6], 10, 64); err == nil {
			ev.SetInt("event.duration", n*int64(time.Millisecond))
		}
		if n, err := strconv.ParseInt(f[7], 10, 64); err == nil {
			ev.SetInt("source.bytes", n) // request size
		}
		if n, err := strconv.ParseInt(f[8], 10, 64); err == nil {
			ev.SetInt("destination.bytes", n) // response size: mail sent to the client
		}
		ev.Set("event.action", strings.ToLower(f[9]))
		if len(f) > 10 {
			ev.Set("exchange.parameters", f[10])
		}
		if n, _ := ev.Int("destination.bytes"); n > 0 && exchangeFetches(f) {
			ev.Fields["tags"] = []string{"mailbox_download_bytes"}
		}
		if len(f) > 11 {
			ev.Set("exchange.context", f[11])
			if strings.Contains(f[11], "AuthFailed") || strings.Contains(f[11], "-ERR") {
				ev.Fields["event.category"] = []string{"email", "authentication"}
				ev.Set("event.outcome", "failure")
			}
		}
	default:
		return fmt.Errorf("exchange-protocol: neither an SMTP nor a POP/IMAP protocol log row")
	}
	emit(ev, linePos(no))
	return nil
}

// exchangeFetches says whether a POP3/IMAP4 row's response carried mail:
// RETR and TOP, FETCH and UID FETCH. Other responses (LIST, STAT, a
// login's greeting) are not a mailbox's content.
func exchangeFetches(f []string) bool {
	switch strings.ToLower(f[9]) {
	case "retr", "top", "fetch":
		return true
	case "uid":
		return len(f) > 10 && strings.HasPrefix(strings.ToLower(strings.TrimSpace(f[10])), "fetch")
	}
	return false
}
