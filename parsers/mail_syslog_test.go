package parsers

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestMailLogsOverRFC5424: a mail server's log forwarded in RFC 5424
// (rsyslog's RSYSLOG_SyslogProtocol23Format, syslog-ng's syslog()
// destination) names the program without "name[pid]: ". Its lines are read
// by their own format and joined into the same message events as the
// classic file's, field for field: read as generic syslog, the messages
// sent out were not counted.
func TestMailLogsOverRFC5424(t *testing.T) {
	for _, c := range []struct{ file, format string }{
		{"testdata/postfix.log", "postfix"},
		{"testdata/sendmail.log", "sendmail"},
	} {
		classic, st := parseFile(t, c.file, &Options{TZ: time.UTC, Year: 2025})
		_, headers, ok := syslogSample(t, c.file)
		if st.Format != c.format || len(classic) == 0 || !ok {
			t.Fatalf("%s: %+v", c.file, st)
		}
		var b strings.Builder
		for _, h := range headers {
			pid := h.PID
			if pid == "" {
				pid = "-"
			}
			b.WriteString("<22>1 " + h.Time.Format(time.RFC3339Nano) + " " + h.Host + " " + h.Program + " " + pid + " - - " + h.Msg + "\n")
		}
		relayed, st5424 := parseRewritten(t, "relayed.log", b.String())
		if st5424.Format != c.format {
			t.Errorf("%s in RFC 5424: format %q", c.file, st5424.Format)
		}
		sameEvents(t, c.file+" in RFC 5424", classic, st, relayed, st5424)
		for i, ev := range relayed {
			if z := ev.Str("event.timezone"); z != "" {
				t.Errorf("%s event %d: RFC 5424 names its zone, yet event.timezone %q", c.file, i, z)
			}
		}
	}
}

// TestPostfixRelayNotADomain: a delivery agent's line outside a queued
// message names its relay's host, not "relay=host".
func TestPostfixRelayNotADomain(t *testing.T) {
	_, evs := parseText(t, "mail.log", "Mar 12 03:14:09 mail01 postfix/smtp[1240]: connect to mail.protonmail.ch[185.70.42.37]:25: Connection timed out\n"+
		"Mar 12 03:14:10 mail01 postfix/smtp[1240]: warning: relay=mail.protonmail.ch[185.70.42.37]:25 lost\n")
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	for _, ev := range evs {
		want(t, "smtp", ev, "", map[string]any{"destination.domain": "mail.protonmail.ch", "destination.ip": "185.70.42.37", "destination.port": int64(25)})
	}
}

// TestEximThroughSyslog: Exim sending its log to syslog (log_file_path =
// syslog) behind a classic or RFC 5424 header, with its own stamp or
// without (syslog_timestamp = false, the header dating the line), gives
// the events its own log file gives.
func TestEximThroughSyslog(t *testing.T) {
	own, st := parseFile(t, "testdata/exim.log", &Options{TZ: time.UTC})
	if st.Format != "exim" || len(own) == 0 {
		t.Fatalf("%+v", st)
	}
	data, err := os.ReadFile("testdata/exim.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	for _, c := range []struct {
		name   string
		header func(stamp time.Time, text string) string
	}{
		{"classic header, Exim's stamp", func(ts time.Time, text string) string {
			return ts.Format(time.Stamp) + " mail01 exim[4242]: " + text
		}},
		{"RFC 5424 header, Exim's stamp", func(ts time.Time, text string) string {
			return "<22>1 " + ts.Format(time.RFC3339) + " mail01 exim 4242 - - " + text
		}},
		{"RFC 5424 header alone", func(ts time.Time, text string) string {
			return "<22>1 " + ts.Format(time.RFC3339) + " mail01 exim 4242 - - " + text[len("2006-01-02 15:04:05 "):]
		}},
	} {
		var b strings.Builder
		for _, l := range lines {
			ts, err := time.Parse(time.DateTime, l[:19])
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(c.header(ts, l) + "\n")
		}
		evs, st2 := parseRewritten(t, "mail.log", b.String())
		if st2.Format != "exim" {
			t.Errorf("%s: format %q", c.name, st2.Format)
		}
		sameEvents(t, c.name, own, st, evs, st2, "message") // Exim's text, with or without its stamp
	}
}
