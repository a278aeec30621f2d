package parsers

import (
	"fmt"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// ExchangeExport reads Exchange's message tracking as an administrator
// exports it from the Exchange Management Shell: Get-MessageTrackingLog
// piped to Export-Csv (PowerShell's property names as the header, with or
// without its "#TYPE" line, ',' or a culture's ';'), or to Format-List
// into a file (list.go). Each row is read as
// the tracking log's row of the same columns (exchange.go): the same
// events, joined by message the same way. Timestamp is the exporting
// server's local time in its culture's pattern, no zone: read in --tz,
// its day/month order from the file. Export-Csv writes an array property
// as its type name: recipients written "System.String[]" were not
// exported, and that is said.
type ExchangeExport struct{}

func (ExchangeExport) Name() string { return "exchange-export" }
func (ExchangeExport) Description() string {
	return "Exchange message tracking exported by Get-MessageTrackingLog | Export-Csv or | Format-List"
}

// exchangeProperties are Get-MessageTrackingLog's property names
// (lower-cased) by the tracking log's column names.
var exchangeProperties = map[string]string{
	"timestamp": "date-time", "clientip": "client-ip", "clienthostname": "client-hostname",
	"serverip": "server-ip", "serverhostname": "server-hostname", "sourcecontext": "source-context",
	"connectorid": "connector-id", "source": "source", "eventid": "event-id",
	"internalmessageid": "internal-message-id", "messageid": "message-id", "networkmessageid": "network-message-id",
	"recipients": "recipient-address", "recipientstatus": "recipient-status", "totalbytes": "total-bytes",
	"recipientcount": "recipient-count", "relatedrecipientaddress": "related-recipient-address",
	"reference": "reference", "messagesubject": "message-subject", "sender": "sender-address",
	"returnpath": "return-path", "messageinfo": "message-info", "directionality": "directionality",
	"tenantid": "tenant-id", "originalclientip": "original-client-ip", "originalserverip": "original-server-ip",
	"eventdata": "custom-data", "transporttraffictype": "transport-traffic-type", "schemaversion": "schema-version",
}

func (ExchangeExport) Detect(head []byte) bool {
	if names, ok := listHead(head); ok && exchangeHeader(names) {
		return true
	}
	cols, ok := exportHeaderColumns(head)
	return ok && exchangeHeader(cols)
}

// exchangeHeader reports whether these are message tracking's properties.
func exchangeHeader(cols []string) bool {
	has := map[string]bool{}
	for _, c := range cols {
		has[exchangeProperties[strings.ToLower(strings.TrimSpace(c))]] = true
	}
	return has["date-time"] && has["event-id"] && has["message-id"] && (has["recipient-address"] || has["sender-address"])
}

// listCut is the column a list-form row is marked with when Format-List
// showed only the first of its recipients.
const listCut = "~cut"

// rows reads the export's rows, each as the log's columns, handing them
// to fn with their line (or the row's CSV error: encoding/csv goes on at
// the next line).
func (ExchangeExport) rows(in *Input, st *FileStats, fn func(line int64, raw string, col map[string]string, err error)) error {
	if head, err := in.Head(64 << 10); err == nil {
		if names, ok := listHead(head); ok && exchangeHeader(names) {
			return exchangeListRows(in, st, fn)
		}
	}
	var names []string
	return readExportCsv(in, st, "exchange-export", func(cols []string) error {
		for _, c := range cols {
			names = append(names, exchangeProperties[strings.ToLower(strings.TrimSpace(c))])
		}
		return nil
	}, func(r exportCsvRow) {
		if r.err != nil {
			fn(r.line, "", nil, r.err)
			return
		}
		col := make(map[string]string, len(r.rec))
		for i, v := range r.rec {
			if i < len(names) && names[i] != "" {
				col[names[i]] = v
			}
		}
		fn(r.line, r.raw, col, nil)
	})
}

// exchangeListRows reads Get-MessageTrackingLog | Format-List printed into
// a file (list.go): each record as the row of the same columns. An array
// shows at most four items: a record whose recipients were cut is marked.
func exchangeListRows(in *Input, st *FileStats, fn func(line int64, raw string, col map[string]string, err error)) error {
	before := func(no int64, l string) { fn(no, l, nil, errBeforeList) }
	return readList(in, st, "exchange-export", before, func(rec listRecord) bool {
		col := map[string]string{}
		for _, p := range rec.props {
			name := exchangeProperties[strings.ToLower(p.name)]
			switch name {
			case "", "custom-data":
				// EventData shows as "{[Key, Value]...}", cut at four
				// pairs: no tracking log's custom-data.
			case "recipient-address", "recipient-status", "reference":
				items, cut := listArray(p.value)
				col[name] = strings.Join(items, ";")
				if cut && name == "recipient-address" {
					col[listCut] = "1"
				}
			default:
				col[name] = p.value
			}
		}
		fn(rec.at, rec.original, col, nil)
		return true
	})
}

func (x ExchangeExport) ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error {
	opts := *o
	opts.Warn = st.Warn
	zone := newZoneless(&opts)
	// A first pass, only as long as the dates need it, finds the order of
	// their day and month.
	var order dateOrder
	_ = x.rows(in, &FileStats{}, func(_ int64, _ string, col map[string]string, _ error) {
		order.see(strings.TrimSpace(col["date-time"]))
	})
	order.settle(st.Warn)
	dec := ExchangeTracking{}.NewDecoder(&opts).(*exchangeDecoder)
	arrays, cut := 0, 0
	err := x.rows(in, st, func(line int64, raw string, col map[string]string, rowErr error) {
		if rowErr != nil {
			rawLine(emit, line, []byte(raw), "exchange-export: "+rowErr.Error())
			return
		}
		for _, k := range []string{"recipient-address", "recipient-status", "reference"} {
			if strings.HasPrefix(col[k], "System.") && strings.HasSuffix(col[k], "[]") {
				col[k] = ""
				if k == "recipient-address" {
					arrays++
				}
			}
		}
		if col[listCut] != "" {
			cut++
		}
		// Export-Csv users join the arrays with ';', ',' or a space.
		col["recipient-address"] = strings.Join(strings.FieldsFunc(col["recipient-address"], func(r rune) bool {
			return r == ';' || r == ',' || r == ' '
		}), ";")
		ev, err := x.event(dec, line, raw, col, &order, &zone, emit)
		if err != nil {
			ev = event.New()
			ev.Fields[event.FieldKind] = event.KindRaw
			ev.Fields[event.FieldError] = "exchange-export: " + err.Error()
			ev.Fields[event.FieldOriginal] = raw
			ev.Fields[event.FieldLine] = line
		}
		emit(ev, linePos(line))
	})
	dec.Flush(emit)
	if cut > 0 {
		st.Warn(fmt.Sprintf("%d record(s) with more recipients than Format-List shows (four, then \"...\"): the others are not in the file (export with Export-Csv, the recipients joined: @{n='Recipients';e={$_.Recipients -join ';'}})", cut))
	}
	if arrays > 0 {
		st.Warn(fmt.Sprintf("%d row(s) with Recipients written as System.String[]: Export-Csv did not export those recipients (join them: @{n='Recipients';e={$_.Recipients -join ';'}})", arrays))
	}
	return err
}

func (ExchangeExport) event(dec *exchangeDecoder, line int64, raw string, col map[string]string, order *dateOrder, zone *zoneless, emit Emit) (*event.Event, error) {
	s := strings.TrimSpace(col["date-time"])
	t, zoned, err := order.read(s, zone.tz)
	if err != nil {
		return nil, fmt.Errorf("Timestamp %q: %v", s, err)
	}
	ev := dec.row(line, raw, col, t.UTC(), emit)
	if !zoned {
		zone.mark(ev, "Get-MessageTrackingLog's Timestamp is the server's local time, exported without a zone", "the Exchange server's")
	}
	return ev, nil
}
