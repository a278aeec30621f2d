package parsers

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// ExchangeOnline reads Exchange Online's message trace as an administrator
// exports it: Get-MessageTrace or Get-MessageTraceV2 piped to Export-Csv (a
// row per recipient: Received, SenderAddress, RecipientAddress, Subject,
// Status, FromIP, ToIP, Size, MessageId) and the historical search or
// extended report of the admin center (a row per message:
// origin_timestamp_utc, sender_address, recipient_status
// "addr##Receive, Deliver;…", total_bytes, original_client_ip,
// directionality, message_id). For a tenant whose mail has no server of its
// own, it is the only record of what mail left. Times are UTC in both (the
// service's), written ISO or in the exporting machine's culture.
//
// Which domains are the tenant's: the extended report says each message's
// direction (Originating: sent by one of its users; Incoming: received).
// Get-MessageTrace does not; every row of a tenant's trace has one of its
// mailboxes as sender or recipient, so a domain on more than half the rows
// is the tenant's, and each message's direction follows from it (said in a
// warning). None is guessed when no domain is, nor when several are (a
// trace filtered on one outside address has its domain on every row).
type ExchangeOnline struct{}

func (ExchangeOnline) Name() string { return "exchange-online-trace" }
func (ExchangeOnline) Description() string {
	return "Exchange Online message trace (Get-MessageTrace | Export-Csv, admin center historical or extended report CSV)"
}

func (ExchangeOnline) Detect(head []byte) bool {
	cols, ok := exportHeaderColumns(head)
	return ok && traceKindOf(cols) != ""
}

// traceKindOf names the export a header is: "cmdlet" (a row per
// recipient), "report" (a row per message), "" for none.
func traceKindOf(cols []string) string {
	has := map[string]bool{}
	for _, c := range cols {
		has[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(c, "\ufeff")))] = true
	}
	switch {
	case has["received"] && has["senderaddress"] && has["recipientaddress"] && (has["size"] || has["messagetraceid"]):
		return "cmdlet"
	case has["origin_timestamp_utc"] && has["sender_address"] && has["recipient_status"]:
		return "report"
	}
	return ""
}

// traceRow is one row by its lower-cased column names.
type traceRow struct {
	f    map[string]string
	line int64
	raw  string
	err  error
}

// rows reads the export's rows, handing each to fn.
func (ExchangeOnline) rows(in *Input, st *FileStats, fn func(r *traceRow)) (kind string, err error) {
	var cols []string
	err = readExportCsv(in, st, "exchange-online-trace", func(c []string) error {
		if kind = traceKindOf(c); kind == "" {
			return fmt.Errorf("exchange-online-trace: the header is no message trace's")
		}
		for _, name := range c {
			cols = append(cols, strings.ToLower(strings.TrimSpace(name)))
		}
		return nil
	}, func(row exportCsvRow) {
		r := &traceRow{line: row.line, raw: row.raw, err: row.err, f: make(map[string]string, len(row.rec))}
		for i, v := range row.rec {
			if i < len(cols) && v != "" {
				r.f[cols[i]] = strings.TrimSpace(v)
			}
		}
		fn(r)
	})
	return kind, err
}

func (x ExchangeOnline) ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error {
	st.TZ = "UTC (the service's times)"
	// A first pass counts the domains on each row (the cmdlet's export
	// says no direction) and finds the order of a culture's dates.
	var rows int64
	domains := map[string]int64{}
	var order dateOrder
	kind, err := x.rows(in, &FileStats{}, func(r *traceRow) {
		if r.err != nil {
			return
		}
		rows++
		seen := map[string]bool{}
		for _, a := range traceAddresses(r) {
			if d := mailDomain(a); d != "" && !seen[d] && len(domains) < 1<<16 {
				seen[d] = true
				domains[d]++
			}
		}
		order.see(firstNonEmpty(r.f["received"], r.f["origin_timestamp_utc"]))
	})
	if err != nil {
		return err
	}
	order.settle(st.Warn)
	own := map[string]bool{}
	if kind == "cmdlet" {
		var names []string
		for d, n := range domains {
			if 2*n > rows {
				own[d] = true
				names = append(names, fmt.Sprintf("%s (%d of %d rows)", d, n, rows))
			}
		}
		sort.Strings(names)
		switch {
		case len(names) == 1:
			st.Warn("the tenant's domain read from the trace, on more than half its rows: " + names[0] + "; a message from it is counted as sent by the organisation")
		case len(names) > 1:
			// A trace filtered on one address (-RecipientAddress
			// someone@gmail.com) has that domain on every row too: which
			// side is the tenant's is not told.
			clear(own)
			st.Warn("several domains are on more than half the trace's rows — " + strings.Join(names, ", ") + " — as in a trace filtered on one address: the tenant's domains are unknown (own_mail_domains in the case configuration)")
		case rows > 0:
			st.Warn("no domain is on more than half the trace's rows: the tenant's domains are unknown (own_mail_domains in the case configuration)")
		}
	}
	_, err = x.rows(in, st, func(r *traceRow) {
		ev, err := x.event(r, kind, own, &order)
		if err != nil {
			ev = event.New()
			ev.Fields[event.FieldKind] = event.KindRaw
			ev.Fields[event.FieldError] = "exchange-online-trace: " + err.Error()
		}
		ev.Fields[event.FieldOriginal] = r.raw
		ev.Fields[event.FieldLine] = r.line
		emit(ev, linePos(r.line))
	})
	return err
}

// traceAddresses are a row's sender and recipients.
func traceAddresses(r *traceRow) []string {
	out := []string{firstNonEmpty(r.f["senderaddress"], r.f["sender_address"])}
	if to := r.f["recipientaddress"]; to != "" {
		out = append(out, to)
	}
	for _, rs := range traceRecipients(r.f["recipient_status"]) {
		out = append(out, rs.addr)
	}
	return out
}

func mailDomain(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 || i == len(addr)-1 {
		return ""
	}
	return strings.ToLower(addr[i+1:])
}

type traceRecipient struct{ addr, events string }

// traceRecipients reads the report's "a@x.fr##Receive, Deliver;b@y.com##Receive, Send".
func traceRecipients(s string) []traceRecipient {
	var out []traceRecipient
	for _, part := range strings.Split(s, ";") {
		addr, events, _ := strings.Cut(strings.TrimSpace(part), "##")
		if addr = strings.TrimSpace(addr); addr != "" {
			out = append(out, traceRecipient{addr, events})
		}
	}
	return out
}

// traceNotDelivered are the cmdlet's statuses of a message that did not
// leave the service.
var traceNotDelivered = map[string]bool{"failed": true, "quarantined": true, "filteredasspam": true}

func (ExchangeOnline) event(r *traceRow, kind string, own map[string]bool, order *dateOrder) (*event.Event, error) {
	if r.err != nil {
		return nil, r.err
	}
	stamp := firstNonEmpty(r.f["received"], r.f["origin_timestamp_utc"])
	t, _, err := order.read(stamp, time.UTC)
	if err != nil {
		return nil, fmt.Errorf("time %q: %v", stamp, err)
	}
	ev := event.New()
	ev.Timestamp = t
	ev.Fields[event.FieldDataset] = "microsoft.exchange_online"
	ev.Fields["event.category"] = []string{"email"}
	ev.Set("event.action", "message")
	from := firstNonEmpty(r.f["senderaddress"], r.f["sender_address"])
	ev.Set("email.from.address", from)
	ev.Set("email.subject", firstNonEmpty(r.f["subject"], r.f["message_subject"]))
	ev.Set("email.message_id", strings.Trim(firstNonEmpty(r.f["messageid"], r.f["message_id"]), "<>"))
	ev.Set("email.local_id", firstNonEmpty(r.f["messagetraceid"], r.f["network_message_id"]))
	if n, err := strconv.ParseInt(firstNonEmpty(r.f["size"], r.f["total_bytes"]), 10, 64); err == nil {
		ev.SetInt("email.size", n)
	}
	for _, k := range []string{"fromip", "original_client_ip"} {
		if a, err := netip.ParseAddr(r.f[k]); err == nil {
			ev.Set("source.ip", a.Unmap().String())
		}
	}
	if a, err := netip.ParseAddr(r.f["toip"]); err == nil {
		ev.Set("destination.ip", a.Unmap().String())
	}
	var to, notDelivered []string
	if kind == "cmdlet" {
		status := r.f["status"]
		ev.Set("microsoft.exchange_online.status", status)
		if traceNotDelivered[strings.ToLower(status)] {
			notDelivered = append(notDelivered, r.f["recipientaddress"])
		} else if r.f["recipientaddress"] != "" {
			to = append(to, r.f["recipientaddress"])
		}
		switch rcpt := mailDomain(r.f["recipientaddress"]); {
		case own[mailDomain(from)]:
			ev.Set("email.direction", "Originating")
		case own[rcpt]:
			ev.Set("email.direction", "Incoming")
		}
	} else {
		ev.Set("email.direction", r.f["directionality"])
		var statuses []string
		for _, rs := range traceRecipients(r.f["recipient_status"]) {
			statuses = append(statuses, rs.addr+"##"+rs.events)
			e := strings.ToLower(rs.events)
			if strings.Contains(e, "fail") && !strings.Contains(e, "send") && !strings.Contains(e, "deliver") {
				notDelivered = append(notDelivered, rs.addr)
			} else {
				to = append(to, rs.addr)
			}
		}
		if len(statuses) > 0 {
			ev.Fields["microsoft.exchange_online.recipient_status"] = statuses
		}
	}
	if len(to) > 0 {
		ev.Fields["email.to.address"] = to
		ev.Set("event.outcome", "success")
	} else if len(notDelivered) > 0 {
		ev.Set("event.outcome", "failure")
	}
	if len(notDelivered) > 0 {
		ev.Fields["microsoft.exchange_online.not_delivered"] = notDelivered
	}
	return ev, nil
}
