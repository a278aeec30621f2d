package parsers

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// exchangeTrackingRows are a tracking log's rows by its own column names:
// a message submitted by a user to two recipients outside, sent; an
// internal one delivered; a failed one.
var exchangeTrackingRows = []map[string]string{
	{"date-time": "2025-03-14T22:43:32.000Z", "client-ip": "10.212.134.200", "client-hostname": "PC-REMOTE", "server-ip": "10.10.1.25", "server-hostname": "MAIL01", "source": "SMTP", "event-id": "RECEIVE", "internal-message-id": "12345", "message-id": "<m1@agglo-exemple.fr>", "network-message-id": "3f0e-1", "recipient-address": "jmartin.perso@gmail.com;x@proton.me", "total-bytes": "18175317", "recipient-count": "2", "message-subject": "Documents", "sender-address": "j.martin@agglo-exemple.fr", "directionality": "Originating", "original-client-ip": "10.212.134.200"},
	{"date-time": "2025-03-14T22:43:35.000Z", "client-ip": "10.10.1.25", "server-ip": "142.250.27.27", "server-hostname": "gmail-smtp-in.l.google.com", "source": "SMTP", "event-id": "SEND", "internal-message-id": "12345", "message-id": "<m1@agglo-exemple.fr>", "network-message-id": "3f0e-1", "recipient-address": "jmartin.perso@gmail.com;x@proton.me", "recipient-status": "250 2.0.0 OK", "total-bytes": "18175317", "recipient-count": "2", "message-subject": "Documents", "sender-address": "j.martin@agglo-exemple.fr", "directionality": "Originating"},
	{"date-time": "2025-03-14T08:00:00.000Z", "server-hostname": "MAIL01", "source": "STOREDRIVER", "event-id": "DELIVER", "message-id": "<m2@agglo-exemple.fr>", "recipient-address": "compta@agglo-exemple.fr", "total-bytes": "20000", "recipient-count": "1", "message-subject": "Budget", "sender-address": "dgs@agglo-exemple.fr", "directionality": "Originating"},
	{"date-time": "2025-03-14T09:00:00.000Z", "server-hostname": "MAIL01", "source": "SMTP", "event-id": "FAIL", "message-id": "<m3@agglo-exemple.fr>", "recipient-address": "nobody@example.com", "recipient-status": "550 5.1.1 unknown", "total-bytes": "5000", "sender-address": "dgs@agglo-exemple.fr", "directionality": "Originating"},
}

// TestExchangeExport: Get-MessageTrackingLog | Export-Csv on a French
// server (local time, day-first, ';' or ','), read as the tracking log's
// rows of the same columns — the same events, fields and joined messages
// but the original line and the zone note; recipients written as
// System.String[] are said lost.
func TestExchangeExport(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	log.WriteString("#Software: Microsoft Exchange Server\r\n#Version: 15.02.1118.007\r\n#Log-type: Message Tracking Log\r\n#Fields: " + strings.Join(exchangeDefaultFields, ",") + "\r\n")
	lw := csv.NewWriter(&log)
	props := map[string]string{}
	for p, c := range exchangeProperties {
		props[c] = p
	}
	header := []string{"RunspaceId"}
	for _, c := range exchangeDefaultFields {
		if p := props[c]; p != "" {
			header = append(header, strings.ToUpper(p[:1])+p[1:])
		}
	}
	for _, delim := range []rune{',', ';'} {
		var exp bytes.Buffer
		exp.WriteString("#TYPE Microsoft.Exchange.Management.TransportLogSearchTasks.MessageTrackingEvent\r\n")
		ew := csv.NewWriter(&exp)
		ew.Comma = delim
		ew.Write(header)
		for _, row := range exchangeTrackingRows {
			rec := make([]string, len(exchangeDefaultFields))
			for i, c := range exchangeDefaultFields {
				rec[i] = row[c]
			}
			if delim == ',' {
				lw.Write(rec)
			}
			out := []string{"5b3c"}
			for _, h := range header[1:] {
				c := exchangeProperties[strings.ToLower(h)]
				v := row[c]
				if c == "date-time" {
					ts, _ := time.Parse(time.RFC3339Nano, v)
					v = ts.In(paris).Format("02/01/2006 15:04:05")
				}
				out = append(out, v)
			}
			ew.Write(out)
		}
		lw.Flush()
		ew.Flush()
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "MSGTRK2025031422-1.LOG"), log.Bytes(), 0o644)
		os.WriteFile(filepath.Join(dir, "tracking.csv"), exp.Bytes(), 0o644)
		want, wst := parseFile(t, filepath.Join(dir, "MSGTRK2025031422-1.LOG"), &Options{TZ: paris})
		got, gst := parseFile(t, filepath.Join(dir, "tracking.csv"), &Options{TZ: paris})
		if wst.Format != "exchange" || gst.Format != "exchange-export" || gst.Raw != 0 {
			t.Fatalf("%q: formats %s / %s, stats %+v", delim, wst.Format, gst.Format, gst)
		}
		sameAsTrackingLog(t, string(delim), want, got)
	}

	// Recipients as Export-Csv writes an array it was not told to join.
	p := filepath.Join(t.TempDir(), "arrays.csv")
	os.WriteFile(p, []byte(`"Timestamp","EventId","MessageId","Recipients","RecipientStatus","TotalBytes","Sender"`+"\n"+
		`"14/03/2025 23:43:35","SEND","<m1@x>","System.String[]","System.String[]","100","a@b.fr"`+"\n"), 0o644)
	evs, st := parseFile(t, p, &Options{TZ: paris})
	if st.Parsed != 2 || !strings.Contains(strings.Join(st.Warnings, "\n"), "1 row(s) with Recipients written as System.String[]") {
		t.Errorf("stats %+v", st)
	}
	if v, ok := evs[0].Fields["email.to.address"]; ok {
		t.Errorf("recipients %v from System.String[]", v)
	}
}

// TestExchangeExportList: Get-MessageTrackingLog | Format-List printed into
// a file (a US culture's dates, recipients as "{a, b}") gives the events
// the tracking log's rows give; a record whose recipients Format-List cut
// ("{a, b, c, d...}") is said.
func TestExchangeExportList(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	var log, list strings.Builder
	log.WriteString("#Software: Microsoft Exchange Server\r\n#Version: 15.02.1118.007\r\n#Log-type: Message Tracking Log\r\n#Fields: " + strings.Join(exchangeDefaultFields, ",") + "\r\n")
	lw := csv.NewWriter(&log)
	props := map[string]string{}
	for p, c := range exchangeProperties {
		props[c] = p
	}
	list.WriteString("\r\n\r\n")
	for _, row := range exchangeTrackingRows {
		rec := make([]string, len(exchangeDefaultFields))
		for i, c := range exchangeDefaultFields {
			rec[i] = row[c]
		}
		lw.Write(rec)
		list.WriteString("RunspaceId              : 5b3c\r\n")
		for _, c := range exchangeDefaultFields {
			p := props[c]
			if p == "" {
				continue
			}
			v := row[c]
			switch c {
			case "date-time":
				ts, _ := time.Parse(time.RFC3339Nano, v)
				v = ts.In(paris).Format("1/2/2006 3:04:05 PM")
			case "recipient-address", "recipient-status", "reference":
				v = "{" + strings.Join(strings.FieldsFunc(v, func(r rune) bool { return r == ';' }), ", ") + "}"
			}
			list.WriteString(fmt.Sprintf("%-23s : %s\r\n", strings.ToUpper(p[:1])+p[1:], v))
		}
		list.WriteString("\r\n")
	}
	lw.Flush()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "MSGTRK2025031422-1.LOG"), []byte(log.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "tracking.txt"), []byte(list.String()), 0o644)
	want, _ := parseFile(t, filepath.Join(dir, "MSGTRK2025031422-1.LOG"), &Options{TZ: paris})
	got, gst := parseFile(t, filepath.Join(dir, "tracking.txt"), &Options{TZ: paris})
	if gst.Format != "exchange-export" || gst.Raw != 0 || len(gst.Warnings) != 1 || !strings.Contains(gst.Warnings[0], "read in Europe/Paris") {
		t.Fatalf("stats %+v", gst)
	}
	sameAsTrackingLog(t, "Format-List", want, got)

	// Five recipients: Format-List shows four, then "...".
	p := filepath.Join(dir, "cut.txt")
	os.WriteFile(p, []byte("Timestamp      : 3/14/2025 11:43:35 PM\r\nEventId        : SEND\r\nMessageId      : <m9@x>\r\nRecipients     : {a@gmail.com, b@gmail.com, c@gmail.com, d@gmail.com...}\r\nTotalBytes     : 100\r\nSender         : j.martin@agglo-exemple.fr\r\n"), 0o644)
	evs, st := parseFile(t, p, &Options{TZ: paris})
	if st.Format != "exchange-export" || !strings.Contains(strings.Join(st.Warnings, "\n"), "1 record(s) with more recipients than Format-List shows") {
		t.Errorf("cut: stats %+v", st)
	}
	var to []string
	for _, ev := range evs {
		to = append(to, ev.Strings("email.to.address")...)
	}
	if len(to) == 0 || !reflect.DeepEqual(to[:4], []string{"a@gmail.com", "b@gmail.com", "c@gmail.com", "d@gmail.com"}) {
		t.Errorf("cut: recipients %v", to)
	}
}

// sameAsTrackingLog compares an export's events with the tracking log's
// of the same rows: equal but for provenance, the original line and the
// zone note.
func sameAsTrackingLog(t *testing.T, what string, want, got []*event.Event) {
	t.Helper()
	var wantEvents []*event.Event
	for _, ev := range want {
		if ev.Str(event.FieldKind) != "state" { // the log's # lines
			wantEvents = append(wantEvents, ev)
		}
	}
	if len(got) != len(wantEvents) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(wantEvents))
	}
	for i := range got {
		a, b := wantEvents[i].Fields, got[i].Fields
		for _, m := range []map[string]any{a, b} {
			for k := range m {
				if strings.HasPrefix(k, "evidence.") || strings.HasPrefix(k, "log.") || k == event.FieldOriginal || k == "event.id" || k == "event.timezone" || k == "microsoft.exchange.datetime" {
					delete(m, k)
				}
			}
		}
		if !wantEvents[i].Timestamp.Equal(got[i].Timestamp) || !reflect.DeepEqual(a, b) {
			t.Errorf("%s event %d:\n got %v %v\nwant %v %v", what, i, got[i].Timestamp, b, wantEvents[i].Timestamp, a)
		}
	}
}
