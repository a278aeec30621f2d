package parsers

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
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
		if st.Format != c.format || len(classic) == 0 {
			t.Fatalf("%s: %+v", c.file, st)
		}
		p := filepath.Join(t.TempDir(), "relayed.log")
		if err := os.WriteFile(p, []byte(asRFC5424(t, c.file)), 0o644); err != nil {
			t.Fatal(err)
		}
		relayed, st5424 := parseFile(t, p, &Options{TZ: time.UTC, Year: 2025})
		if st5424.Format != c.format || st5424.Raw != st.Raw || st5424.Parsed != st.Parsed {
			t.Fatalf("%s in RFC 5424: format %q, %d parsed, %d raw; classic: %q, %d, %d", c.file, st5424.Format, st5424.Parsed, st5424.Raw, st.Format, st.Parsed, st.Raw)
		}
		if len(relayed) != len(classic) {
			t.Fatalf("%s: %d events in RFC 5424, %d classic", c.file, len(relayed), len(classic))
		}
		for i := range classic {
			a, b := comparable5424(classic[i]), comparable5424(relayed[i])
			if z := relayed[i].Str("event.timezone"); z != "" {
				t.Errorf("%s event %d: RFC 5424 names its zone, yet event.timezone %q", c.file, i, z)
			}
			if !classic[i].Timestamp.Equal(relayed[i].Timestamp) || !reflect.DeepEqual(a, b) {
				t.Errorf("%s event %d:\nclassic  %s %v\nRFC 5424 %s %v", c.file, i, classic[i].Timestamp, a, relayed[i].Timestamp, b)
			}
		}
	}
}

// asRFC5424 rewrites a file's classic or ISO syslog headers as RFC 5424's.
func asRFC5424(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	clock := syslogClock{Year: 2025, Loc: time.UTC}
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		h, err := clock.peek(l)
		if err != nil {
			t.Fatalf("%s: %q: %v", path, l, err)
		}
		pid := h.PID
		if pid == "" {
			pid = "-"
		}
		b.WriteString("<22>1 " + h.Time.Format(time.RFC3339Nano) + " " + h.Host + " " + h.Program + " " + pid + " - - " + h.Msg + "\n")
	}
	return b.String()
}

// comparable5424 is an event's fields without those naming the line as
// written (its text, the file, the syslog priority only RFC 5424 gave, the
// zone a classic stamp was read in).
func comparable5424(ev *event.Event) map[string]any {
	m := map[string]any{}
	for k, v := range ev.Fields {
		switch {
		case k == event.FieldOriginal, k == event.FieldSHA256, k == event.FieldFile, k == event.FieldID, strings.HasPrefix(k, "log.syslog."),
			k == "event.timezone":
		default:
			m[k] = v
		}
	}
	return m
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
		st2, evs := parseText(t, "mail.log", b.String())
		if st2.Format != "exim" || st2.Parsed != st.Parsed || st2.Raw != 0 || len(evs) != len(own) {
			t.Errorf("%s: format %q, %d parsed, %d raw, %d events; own file: %d parsed, %d events", c.name, st2.Format, st2.Parsed, st2.Raw, len(evs), st.Parsed, len(own))
			continue
		}
		for i := range own {
			a, b := comparable5424(own[i]), comparable5424(evs[i])
			delete(a, "message") // Exim's text, with or without its stamp
			delete(b, "message")
			if !own[i].Timestamp.Equal(evs[i].Timestamp) || !reflect.DeepEqual(a, b) {
				t.Errorf("%s event %d:\nown file %s %v\nsyslog   %s %v", c.name, i, own[i].Timestamp, a, evs[i].Timestamp, b)
			}
		}
	}
}
