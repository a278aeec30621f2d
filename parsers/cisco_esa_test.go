package parsers

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// esaElasticLines are mail_logs lines as Elastic's Cisco Secure Email
// Gateway integration's pipeline tests show them, pushed by syslog: without
// a host ("<166>Mar 17 18:24:37 mail_logs: Info: …") and with one.
var esaElasticLines = []string{
	`<166>Mar 17 18:24:37 mail_logs: Info: New SMTP ICID 5 interface Management (1.128.3.4) address 1.128.3.4 reverse dns host http://example.com/example/example.txt.com verified yes`,
	`<166>Mar 17 18:24:37 mail_logs: Info: Start MID 6 ICID 5`,
	`<166>Mar 17 18:24:37 mail_logs: Info: MID 6 ICID 5 From: <example.com>`,
	`<166>Mar 17 18:24:37 mail_logs: Info: MID 6 ICID 5 RID 0 To: <example.com>`,
	`<166>Mar 17 18:24:37 mail_logs: Info: MID 6 ready 100 bytes from <example.com>`,
	`<166>Mar 17 18:24:37 mail_logs: Info: ICID 5 close`,
	`<166>Mar 17 18:24:37 mail_logs: Info: New SMTP DCID 8 interface 1.128.3.4 address 1.128.3.4`,
	`<166>Mar 17 18:24:37 mail_logs: Info: Delivery start DCID 8 MID 6 to RID [0]`,
	`<166>Mar 17 18:24:37 mail_logs: Info: Message done DCID 8 MID 6 to RID [0] [('from', 'service-account@example.com'), ('reply-to', 'service-account@example.com'), ('to', 'userA@example.com, userB@example.com')]`,
	`<166>Mar 17 18:24:37 mail_logs: Info: DCID 8 close`,
	`<166>Mar 17 18:24:37 mail_logs: Warning: URL category definitions have changed. Please check and update your filters to use the new definitions`,
	`<94>Nov 24 14:22:57 REDACTED.africa.example.net mail_logs: Info: Start MID 204841507 ICID 146047847`,
	`<94>Nov 24 14:22:57 REDACTED.africa.example.net mail_logs: Info: MID 204841507 Message-ID '<34GKVKY0MMK_69244e1696998_eb554d1fc6ee78_sprut@example.com>'`,
	`<94>Nov 24 14:22:57 REDACTED.africa.example.net mail_logs: Info: MID 204841507 Subject Re: [example: #129226] FW: example MARKETING SOUTH AFRICA\r\n (PTY) LTD | Autoprice and STP`,
	`<94>Nov 24 14:22:57 REDACTED.africa.example.net mail_logs: Info: MID 204841507 ICID 146047847 RID 0 To: <redacted@whatever.awsapps.com>`,
	`<94>Nov 24 14:22:57 REDACTED.africa.example.net mail_logs: Info: MID 204841507 ICID 146047847 From: <support@example.com>`,
	`<94>Nov 24 14:22:57 REDACTED.africa.example.net mail_logs: Info: MID 204841507 ready 94020 bytes from <support@example.com>`,
	`<94>Nov 24 14:22:57 REDACTED.africa.example.net mail_logs: Info: MID 204841507 matched all recipients for per-recipient policy DEFAULT in the outbound table`,
	`<94>Nov 24 14:22:57 REDACTED.africa.example.net mail_logs: Info: MID 204841507 URL http://www.example.com has reputation 3.0 matched Condition: URL Reputation Rule`,
	`<94>Nov 24 14:22:57 REDACTED.africa.example.net mail_logs: Info: Message finished MID 204841507 done`,
}

// TestCiscoESASyslog: every line is read; a MID's lines make one message
// with its sender, recipient, size, relay and direction; the appliance's
// other lines are events of their own. A line without a host takes none.
func TestCiscoESASyslog(t *testing.T) {
	st, evs := parseText(t, "mail_logs", strings.Join(esaElasticLines, "\n")+"\n")
	if st.Format != "cisco-esa" || st.Raw != 0 || st.Lost != 0 {
		t.Fatalf("format %s, %d raw %v, %d lost", st.Format, st.Raw, st.RawReasons, st.Lost)
	}
	var msgs []*event.Event
	others := 0
	for _, ev := range evs {
		if ev.Str(event.FieldDataset) != esaDataset {
			t.Errorf("dataset %q", ev.Str(event.FieldDataset))
		}
		if ev.Str("event.action") == "message" {
			msgs = append(msgs, ev)
		} else {
			others++
		}
	}
	// 15 of the 20 lines belong to the two messages.
	if len(msgs) != 2 || others != 5 {
		t.Fatalf("%d messages and %d other events, want 2 and 5", len(msgs), others)
	}
	// The year-less stamps take the year the file suggests: compared without it.
	// MID 6 never finishes in these lines: it comes at the end.
	want := []map[string]string{
		{"@t": "11-24T14:22:57", "cisco_secure_email_gateway.log.queue_id": "204841507", "email.from.address": "support@example.com",
			"email.to.address": "redacted@whatever.awsapps.com", "email.size": "94020", "email.direction": "outbound", "host.name": "REDACTED.africa.example.net",
			"email.message_id":                     "34GKVKY0MMK_69244e1696998_eb554d1fc6ee78_sprut@example.com",
			"email.subject":                        `Re: [example: #129226] FW: example MARKETING SOUTH AFRICA\r\n (PTY) LTD | Autoprice and STP`,
			"cisco_secure_email_gateway.log.lines": "12,13,14,15,16,17,18,19,20", "source.ip": ""},
		{"@t": "03-17T18:24:37", "cisco_secure_email_gateway.log.queue_id": "6", "email.from.address": "example.com", "email.to.address": "example.com",
			"email.size": "100", "source.ip": "1.128.3.4", "cisco_secure_email_gateway.log.relay_ip": "1.128.3.4", "event.outcome": "success",
			"host.name": "", "tags": "message_not_completed_in_log", "cisco_secure_email_gateway.log.lines": "2,3,4,5,8,9"},
	}
	for i, ev := range msgs {
		for k, w := range want[i] {
			got := strings.Join(ev.Strings(k), ",")
			if k == "@t" {
				got = ev.Timestamp.Format("01-02T15:04:05")
			}
			if got != w {
				t.Errorf("message %d: %s = %q, want %q", i+1, k, got, w)
			}
		}
	}
}

// TestCiscoESAFile: the appliance's own files, in its local time; the
// account that authenticated on the connection submits the message; a
// message rewritten under a new MID is counted once, under it.
func TestCiscoESAFile(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	evs, st := parseFile(t, "testdata/formats/cisco-esa.log", &Options{TZ: paris})
	if st.Format != "cisco-esa" || st.Raw != 0 {
		t.Fatalf("format %s, %d raw %v", st.Format, st.Raw, st.RawReasons)
	}
	var got []string
	for _, ev := range evs {
		a := ev.Str("event.action")
		if !strings.HasPrefix(a, "message") {
			continue
		}
		got = append(got, strings.Join([]string{a, ev.Timestamp.Format(time.RFC3339), ev.Str("cisco_secure_email_gateway.log.queue_id"),
			ev.Str("user.name"), ev.Str("source.ip"), ev.Str("email.from.address"), strings.Join(ev.Strings("email.to.address"), ","),
			ev.Str("email.size"), ev.Str("email.direction"), strings.Join(ev.Strings("cisco_secure_email_gateway.log.status"), ","),
			strings.Join(ev.Strings("cisco_secure_email_gateway.log.relay_ip"), ","), ev.Str("event.outcome"), ev.Str("event.timezone")}, "|"))
	}
	want := []string{
		"message|2025-03-14T21:58:41Z|88120|j.martin|10.20.3.17|j.martin@mairie-exemple.fr|dropbox.2025@protonmail.com,archive.x@gmail.com|24873402|outbound|dropbox.2025@protonmail.com=sent,archive.x@gmail.com=bounced|198.51.100.44|failure|Europe/Paris",
		"message-rewritten|2025-03-14T22:10:03Z|88121||203.0.113.80|facturation@fournisseur.example|compta@mairie-exemple.fr|51230|inbound|compta@mairie-exemple.fr=|||Europe/Paris",
		"message|2025-03-14T22:10:05Z|88122||203.0.113.80|facturation@fournisseur.example|compta@mairie-exemple.fr|51230|inbound|compta@mairie-exemple.fr=sent|10.20.1.5|success|Europe/Paris",
	}
	if !slices.Equal(got, want) {
		t.Errorf("messages:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCiscoESAForms: the other forms AsyncOS releases write: "to [0]"
// before RID was written, bounces naming their addresses, a message put
// back from the quarantine under a new MID, a message never finished in
// the log (emitted at the end, flagged).
func TestCiscoESAForms(t *testing.T) {
	lines := []string{
		"Wed Feb  4 14:02:10 2004 Info: MID 4806 ICID 12 From: <a@example.org>",
		"Wed Feb  4 14:02:10 2004 Info: MID 4806 ICID 12 RID 0 To: <b@example.net>",
		"Wed Feb  4 14:02:11 2004 Info: New SMTP DCID 3312 interface 10.0.0.2 address 192.0.2.9",
		"Wed Feb  4 14:02:12 2004 Info: Message done DCID 3312 MID 4806 to [0]",
		"Mon Mar 19 20:16:20 2018 Info: MID 19338947 ICID 7 From: <MariaDubois@example.com>",
		"Mon Mar 19 20:16:27 2018 Info: Bounced: DCID 8413617 MID 19338947 From: <MariaDubois@example.com> To: <zecora@buttercupgames.com> RID 0 - 5.4.7 - Delivery expired (message too old) ('000', ['timeout'])",
		"Mon Mar 19 20:16:28 2018 Info: Message finished MID 19338947 done",
		"Thu Dec  8 15:52:11 2005 Info: MID 4433 ICID 9 From: <c@example.org>",
		"Thu Dec  8 15:52:11 2005 Info: MID 4433 ICID 9 RID 0 To: <d@example.net>",
		"Thu Dec  8 20:16:32 2005 Info: ISQ: Reinjected MID 4433 as MID 4449",
	}
	evs, st := parseFile(t, writeTemp(t, "mail.current", strings.Join(lines, "\n")+"\n"), &Options{TZ: time.UTC})
	if st.Format != "cisco-esa" || st.Raw != 0 {
		t.Fatalf("format %s, %d raw %v", st.Format, st.Raw, st.RawReasons)
	}
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Str("event.action")+" "+ev.Str("cisco_secure_email_gateway.log.queue_id")+" "+
			strings.Join(ev.Strings("cisco_secure_email_gateway.log.status"), ",")+" "+strings.Join(ev.Strings("cisco_secure_email_gateway.log.relay_ip"), ",")+
			" "+strings.Join(ev.Strings("tags"), ","))
	}
	want := []string{
		"smtp-delivery-connection-opened    ",
		"message 19338947 zecora@buttercupgames.com=bounced  ",
		"message 4806 b@example.net=sent 192.0.2.9 message_not_completed_in_log",
		"message-rewritten 4433 d@example.net=  message_not_completed_in_log",
		"message 4449 d@example.net=  message_not_completed_in_log",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := t.TempDir() + "/" + name
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCiscoESABehindRelay: a collector's header before each line (its
// own reception time) does not date the gateway's events: its own stamp
// does, in its file form or its syslog push.
func TestCiscoESABehindRelay(t *testing.T) {
	for _, inner := range []string{"Mon Oct 14 08:13:47 2024 Info: ", "<22>Oct 14 08:13:47 esa01 mail_logs: Info: "} {
		var b strings.Builder
		for _, l := range []string{"Start MID 7 ICID 3", "MID 7 ICID 3 From: <a@example.org>", "MID 7 ICID 3 RID 0 To: <b@example.net>",
			"MID 7 ready 2048 bytes from <a@example.org>", "Message finished MID 7 done"} {
			b.WriteString("Oct 20 12:00:00 relay01 " + inner + l + "\n")
		}
		evs, st := parseFile(t, writeTemp(t, "relay.log", b.String()), &Options{TZ: time.UTC, Year: 2024})
		if st.Format != "cisco-esa" || st.Raw != 0 || len(evs) != 1 {
			t.Fatalf("%q: format %s, %d raw %v, %d events", inner, st.Format, st.Raw, st.RawReasons, len(evs))
		}
		ev := evs[0]
		if got := ev.Timestamp.Format(time.RFC3339); got != "2024-10-14T08:13:47Z" || ev.Str("email.size") != "2048" || ev.Str("email.to.address") != "b@example.net" {
			t.Errorf("%q: %s, size %s, to %s", inner, got, ev.Str("email.size"), ev.Str("email.to.address"))
		}
	}
}

// TestCiscoESAOffsetHeader: a log file's third line says how far its
// stamps are from UTC (as AsyncOS writes every log file's head): they are
// read so, whatever --tz says; an offset no zone has is not taken.
func TestCiscoESAOffsetHeader(t *testing.T) {
	head := func(offset string) string {
		return "Mon May 13 07:25:10 2019 Info: Begin Logfile\n" +
			"Mon May 13 07:25:10 2019 Info: Version: 12.0.0-478 SN: 420D4B6FA42E0000-CE7D00000000\n" +
			"Mon May 13 07:25:10 2019 Info: Time offset from UTC: " + offset + " seconds\n" +
			"Mon May 13 07:25:22 2019 Info: Start MID 9 ICID 4\n" +
			"Mon May 13 07:25:22 2019 Info: MID 9 ICID 4 From: <a@example.org>\n" +
			"Mon May 13 07:25:22 2019 Info: MID 9 ICID 4 RID 0 To: <b@example.net>\n" +
			"Mon May 13 07:25:23 2019 Info: Message finished MID 9 done\n"
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, c := range []struct{ offset, want, zone string }{
		{"-25200", "2019-05-13T14:25:22Z", ""},          // UTC-7, as the line's own "-0700" says
		{"113", "2019-05-13T05:25:22Z", "Europe/Paris"}, // no zone is 113 s off: --tz
	} {
		evs, st := parseFile(t, writeTemp(t, "mail.current", head(c.offset)), &Options{TZ: paris})
		warnings := st.Warnings
		if st.Format != "cisco-esa" || st.Raw != 0 {
			t.Fatalf("format %s, %d raw", st.Format, st.Raw)
		}
		msg := evs[len(evs)-1]
		if msg.Str("event.action") != "message" || msg.Timestamp.Format(time.RFC3339) != c.want || msg.Str("event.timezone") != c.zone {
			t.Errorf("offset %s: %s at %s, zone %q; want %s, zone %q", c.offset, msg.Str("event.action"), msg.Timestamp.Format(time.RFC3339), msg.Str("event.timezone"), c.want, c.zone)
		}
		if !strings.Contains(strings.Join(warnings, "\n"), c.offset+" s from UTC") {
			t.Errorf("offset %s: warnings %q", c.offset, warnings)
		}
	}
}
