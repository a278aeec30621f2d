package parsers

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/unicode"
)

// traceCmdlet writes rows as Get-MessageTrace | Export-Csv -UseCulture does
// on a French Windows: #TYPE line, ';', day-first dates (UTC).
func traceCmdlet(rows [][6]string) []byte {
	var b bytes.Buffer
	b.WriteString("#TYPE Deserialized.Microsoft.Exchange.Management.FfoReporting.MessageTrace\r\n")
	b.WriteString(`"PSComputerName";"RunspaceId";"PSShowComputerName";"Organization";"MessageId";"Received";"SenderAddress";"RecipientAddress";"Subject";"Status";"ToIP";"FromIP";"Size";"MessageTraceId";"StartDate";"EndDate";"Index"` + "\r\n")
	for i, r := range rows { // received, from, to, size, status, subject
		fmt.Fprintf(&b, `"outlook.office365.com";"0b1c";"False";"agglo.onmicrosoft.com";"<m%d@eurprd.outlook.com>";"%s";"%s";"%s";"%s";"%s";"142.250.27.27";"185.220.101.47";"%s";"tid-%d";"12/03/2025 00:00:00";"16/03/2025 00:00:00";"%d"`+"\r\n",
			i, r[0], r[1], r[2], r[5], r[4], r[3], i, i)
	}
	return b.Bytes()
}

// TestExchangeOnlineTrace reads a tenant's message trace in both exports:
// exact times (UTC, a culture's day-first dates), sender, recipients,
// sizes, what was not delivered, and each message's direction — said by
// the extended report, read by the cmdlet's export from the domain on more
// than half its rows.
func TestExchangeOnlineTrace(t *testing.T) {
	const own, perso = "agglo-exemple.fr", "jmartin.perso@gmail.com"
	rows := [][6]string{
		{"14/03/2025 22:43:10", "j.martin@" + own, perso, "18175317", "Delivered", "Documents 1"},
		{"14/03/2025 22:50:00", "j.martin@" + own, perso, "18175317", "Delivered", "Documents 2"},
		{"14/03/2025 22:51:00", "j.martin@" + own, perso, "18175318", "Failed", "Documents 3"},
		{"14/03/2025 09:00:00", "dgs@" + own, "compta@" + own, "20000", "Delivered", "Budget"},
		{"13/03/2025 08:00:00", "newsletter@fournisseur.com", "dgs@" + own, "50000", "Delivered", "Offre"},
		{"13/03/2025 08:00:01", "newsletter@fournisseur.com", "compta@" + own, "50000", "FilteredAsSpam", "Offre"},
	}
	p := filepath.Join(t.TempDir(), "trace.csv")
	if err := os.WriteFile(p, traceCmdlet(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	evs, st := parseFile(t, p, &Options{TZ: time.UTC})
	if st.Format != "exchange-online-trace" || st.Parsed != int64(len(rows)) || st.Raw != 0 || st.Lost != 0 {
		t.Fatalf("stats %+v", st)
	}
	if !strings.Contains(strings.Join(st.Warnings, "\n"), "agglo-exemple.fr (6 of 6 rows)") {
		t.Errorf("warnings %q: want the tenant's domain said", st.Warnings)
	}
	want(t, "sent out", evs[0], "2025-03-14T22:43:10Z", map[string]any{
		"email.from.address": "j.martin@" + own, "email.to.address": []string{perso}, "email.size": int64(18175317),
		"email.direction": "Originating", "email.message_id": "m0@eurprd.outlook.com", "email.subject": "Documents 1",
		"source.ip": "185.220.101.47", "destination.ip": "142.250.27.27", "event.outcome": "success", "event.dataset": "microsoft.exchange_online"})
	want(t, "failed", evs[2], "2025-03-14T22:51:00Z", map[string]any{
		"email.to.address": nil, "microsoft.exchange_online.not_delivered": []string{perso}, "event.outcome": "failure"})
	want(t, "internal", evs[3], "", map[string]any{"email.direction": "Originating"})
	want(t, "received", evs[4], "2025-03-13T08:00:00Z", map[string]any{"email.direction": "Incoming", "email.to.address": []string{"dgs@" + own}})
	want(t, "spam", evs[5], "", map[string]any{"email.to.address": nil, "microsoft.exchange_online.status": "FilteredAsSpam"})

	// No domain on more than half the rows: no direction guessed.
	p2 := filepath.Join(t.TempDir(), "trace2.csv")
	os.WriteFile(p2, traceCmdlet([][6]string{
		{"14/03/2025 22:43:10", "a@x.fr", "b@y.fr", "1", "Delivered", "s"},
		{"14/03/2025 22:43:11", "c@z.fr", "d@w.fr", "1", "Delivered", "s"},
	}), 0o644)
	evs2, st2 := parseFile(t, p2, &Options{TZ: time.UTC})
	if _, ok := evs2[0].Fields["email.direction"]; ok || !strings.Contains(strings.Join(st2.Warnings, "\n"), "no domain is on more than half") {
		t.Errorf("direction %v, warnings %q", evs2[0].Fields["email.direction"], st2.Warnings)
	}

	// Filtered on one outside recipient: its domain is on every row too.
	p4 := filepath.Join(t.TempDir(), "trace-to-gmail.csv")
	os.WriteFile(p4, traceCmdlet([][6]string{
		{"14/03/2025 22:43:10", "j.martin@" + own, perso, "18175317", "Delivered", "a"},
		{"14/03/2025 22:50:00", "dgs@" + own, perso, "1000", "Delivered", "b"},
	}), 0o644)
	evs4, st4 := parseFile(t, p4, &Options{TZ: time.UTC})
	if _, ok := evs4[0].Fields["email.direction"]; ok || !strings.Contains(strings.Join(st4.Warnings, "\n"), "several domains are on more than half") {
		t.Errorf("filtered trace: direction %v, warnings %q", evs4[0].Fields["email.direction"], st4.Warnings)
	}

	// The admin center's extended report, UTF-16 as it is downloaded.
	report := "origin_timestamp_utc,sender_address,recipient_status,message_subject,total_bytes,message_id,network_message_id,original_client_ip,directionality,connector_id,delivery_priority\r\n" +
		`2025-03-14T22:43:10.1234567Z,j.martin@agglo-exemple.fr,"jmartin.perso@gmail.com##Receive, Send;dgs@agglo-exemple.fr##Receive, Deliver;x@bad.example##Receive, Fail",Documents,18175317,<m1@eurprd.outlook.com>,3f0e-1,185.220.101.47,Originating,,Normal` + "\r\n" +
		`2025-03-13T08:00:00Z,newsletter@fournisseur.com,"dgs@agglo-exemple.fr##Receive, Deliver",Offre,50000,<n1@fournisseur.com>,3f0e-2,203.0.113.9,Incoming,,Normal` + "\r\n"
	utf16, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(report)
	p3 := filepath.Join(t.TempDir(), "MTSummary_Report.csv")
	os.WriteFile(p3, []byte(utf16), 0o644)
	evs3, st3 := parseFile(t, p3, &Options{TZ: time.UTC})
	if st3.Format != "exchange-online-trace" || st3.Parsed != 2 || st3.Raw != 0 {
		t.Fatalf("report stats %+v", st3)
	}
	want(t, "report out", evs3[0], "2025-03-14T22:43:10.1234567Z", map[string]any{
		"email.to.address": []string{perso, "dgs@" + own}, "microsoft.exchange_online.not_delivered": []string{"x@bad.example"},
		"email.size": int64(18175317), "email.direction": "Originating", "source.ip": "185.220.101.47", "email.local_id": "3f0e-1"})
	want(t, "report in", evs3[1], "2025-03-13T08:00:00Z", map[string]any{"email.direction": "Incoming"})
}
