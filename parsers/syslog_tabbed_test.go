package parsers

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestCollectorTabbedFile: a Windows syslog collector's log file (Kiwi
// Syslog Server's layout: receive time, facility.level, sender, message,
// tab-separated) gives, line for line, the events the devices' own lines
// give — mail joined into messages, firewall sessions with their bytes —
// dated by the collector's stamp, whose year is written.
func TestCollectorTabbedFile(t *testing.T) {
	for _, c := range []struct {
		file, format string
		split        bool // date and time in two columns
		bare         bool // the collector kept the message without its header
	}{
		{"testdata/sendmail.log", "sendmail", false, false},
		{"testdata/sendmail.log", "sendmail", true, false},
		{"testdata/sendmail.log", "sendmail", false, true},
		{"testdata/postfix.log", "postfix", false, false},
		{"testdata/postfix.log", "postfix", true, true},
		{"testdata/dovecot.log", "dovecot", false, false},
		{"testdata/dovecot.log", "dovecot", true, true},
		{"testdata/cisco_asa.log", "cisco-asa", false, false},
		{"testdata/cisco_asa.log", "cisco-asa", true, true},
	} {
		name := c.file
		if c.split {
			name += ", date and time apart"
		}
		if c.bare {
			name += ", message without its header"
		}
		own, st := parseFile(t, c.file, &Options{TZ: time.UTC, Year: 2025})
		data, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		clock := syslogClock{Year: 2025, Loc: time.UTC}
		for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			h, err := clock.peek(l)
			if err != nil {
				t.Fatalf("%s: %q: %v", c.file, l, err)
			}
			stamp := h.Time.Format("2006-01-02 15:04:05.999999")
			if c.split {
				stamp = strings.Replace(stamp, " ", "\t", 1)
			}
			msg := l
			if c.bare {
				msg = h.Msg
				switch {
				case h.PID != "":
					msg = h.Program + "[" + h.PID + "]: " + h.Msg
				case h.Program != "":
					msg = h.Program + ": " + h.Msg
				}
			}
			b.WriteString(stamp + "\tMail.Info\t" + h.Host + "\t" + msg + "\n")
		}
		p := filepath.Join(t.TempDir(), "SyslogCatchAll.txt")
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		got, st2 := parseFile(t, p, &Options{TZ: time.UTC})
		if st2.Raw != 0 || st2.Parsed != st.Parsed || len(got) != len(own) {
			t.Errorf("%s: format %q, %d parsed, %d raw %v, %d events; own lines: %q, %d, %d", name, st2.Format, st2.Parsed, st2.Raw, st2.RawReasons, len(got), st.Format, st.Parsed, len(own))
			continue
		}
		if st2.YearGuessed {
			t.Errorf("%s: the collector's stamps name their year, yet the year is a guess", name)
		}
		for i := range own {
			a, b := comparable5424(own[i]), comparable5424(got[i])
			if c.bare {
				delete(a, "message") // the ASA's text kept its header's stamp
				delete(b, "message")
			}
			if !own[i].Timestamp.Equal(got[i].Timestamp) || !reflect.DeepEqual(a, b) {
				t.Errorf("%s event %d:\nown lines %s %v\ncollector %s %v", name, i, own[i].Timestamp, a, got[i].Timestamp, b)
			}
		}
	}
}

// TestTabbedNotAnEnvelope: lines that only look like a collector's record
// are not read as one.
func TestTabbedNotAnEnvelope(t *testing.T) {
	for _, l := range []string{
		"2024-03-12 03:14:09\tnot a level\thost\tmsg",
		"2024-03-12 03:14:09\tMail.Info\ttwo words\tmsg",
		"2024-03-12 03:14:09\tMail.Info",
		"2024-03-12\tMail.Info\thost\tmsg",
		"2024-03-12 03:14:09 host prog: a\tb",
	} {
		if r, ok := readTabbed(l); ok {
			t.Errorf("%q read as a collector's record: %+v", l, r)
		}
	}
}

// TestTabbedZonedMessageDates: a message keeping its own header is dated
// by it — not by the collector's local stamp — with the collector's year
// where a classic stamp names none (the year before across New Year); a
// message without a header by the collector's stamp.
func TestTabbedZonedMessageDates(t *testing.T) {
	clock := syslogClock{Year: 2026, Loc: time.UTC}
	for _, c := range []struct{ line, want string }{
		{"2024-03-12 03:14:09\tMail.Info\t10.0.0.5\t2024-03-12T03:14:09.5+01:00 mail01 postfix/qmgr[1234]: 4Tv1Zq0Y2Kz9bcd: removed", "2024-03-12T02:14:09.5Z"},
		{"2024-03-12 03:14:09\tMail.Info\t10.0.0.5\t<22>1 2024-03-12T03:14:09+01:00 mail01 postfix/qmgr 1234 - - 4Tv1Zq0Y2Kz9bcd: removed", "2024-03-12T02:14:09Z"},
		{"2024-03-12 03:14:09\tMail.Info\t10.0.0.5\tMar 12 03:14:08 mail01 postfix/qmgr[1234]: 4Tv1Zq0Y2Kz9bcd: removed", "2024-03-12T03:14:08Z"},
		{"2025-01-01 00:00:01\tMail.Info\t10.0.0.5\tDec 31 23:59:59 mail01 postfix/qmgr[1234]: 4Tv1Zq0Y2Kz9bcd: removed", "2024-12-31T23:59:59Z"},
		{"2024-03-12\t03:14:09\tMail.Info\t10.0.0.5\tpostfix/qmgr[1234]: 4Tv1Zq0Y2Kz9bcd: removed", "2024-03-12T03:14:09Z"},
	} {
		h, err := clock.peek(c.line)
		if err != nil {
			t.Fatalf("%q: %v", c.line, err)
		}
		if got := h.Time.Format(time.RFC3339Nano); got != c.want || h.Program != "postfix/qmgr" || h.Msg != "4Tv1Zq0Y2Kz9bcd: removed" {
			t.Errorf("%q: %s %q %q, want %s", c.line, got, h.Program, h.Msg, c.want)
		}
		if h.yearAssumed != 0 {
			t.Errorf("%q: year assumed %d", c.line, h.yearAssumed)
		}
	}
}

// TestCollectorTabbedFormats: every syslog-borne format's sample, each
// line put through a collector's file as received, gives the events the
// sample gives.
func TestCollectorTabbedFormats(t *testing.T) {
	files, _ := filepath.Glob("testdata/formats/*.log")
	tried := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		clock := syslogClock{Year: 2025, Loc: time.UTC}
		ok := true
		for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			h, err := clock.peek(l)
			if err != nil || h.Host == "" || strings.HasSuffix(h.Host, ":") || logLevelWords[h.Host] || isISODate(l) && h.Program == "" {
				// Not every line behind a syslog header: a daemon's or a
				// log server's own file ("imap-login: Info: …", "… INFO
				// [thread] …", "2025-03-14 23:45:50 Member2 Allow …"),
				// which no collector receives.
				ok = false
				break
			}
			b.WriteString(h.Time.Format("2006-01-02 15:04:05.999999999") + "\tLocal7.Info\t10.0.0.1\t" + l + "\n")
		}
		if !ok {
			continue
		}
		tried++
		t.Log(f)
		own, st := parseFile(t, f, &Options{TZ: time.UTC, Year: 2025})
		p := filepath.Join(t.TempDir(), "SyslogCatchAll.txt")
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		got, st2 := parseFile(t, p, &Options{TZ: time.UTC})
		if st2.Raw != st.Raw || st2.Parsed != st.Parsed || len(got) != len(own) {
			t.Errorf("%s: %q %d parsed %d raw %v; own lines %q %d %d %v", f, st2.Format, st2.Parsed, st2.Raw, st2.RawReasons, st.Format, st.Parsed, st.Raw, st.RawReasons)
			continue
		}
		for i := range own {
			a, b := comparable5424(own[i]), comparable5424(got[i])
			if !own[i].Timestamp.Equal(got[i].Timestamp) || !reflect.DeepEqual(a, b) {
				t.Errorf("%s event %d:\nown lines %s %v\ncollector %s %v", f, i, own[i].Timestamp, a, got[i].Timestamp, b)
				break
			}
		}
	}
	if tried < 5 {
		t.Errorf("only %d samples behind syslog headers", tried)
	}
	t.Logf("%d samples put through a collector's file", tried)
}

var logLevelWords = map[string]bool{"DEBUG": true, "INFO": true, "WARN": true, "ERROR": true}

// TestRelayHeaderBeforeSender: a relay that writes its own header before
// the sender's whole line ("Mar 12 03:14:09 10.0.0.5 Mar 12 03:14:09 mail01
// postfix/smtp[1240]: …", or an RFC 5424 header) gives, line for line, the
// events of the sender's own lines, for every syslog-borne sample.
func TestRelayHeaderBeforeSender(t *testing.T) {
	files, _ := filepath.Glob("testdata/formats/*.log")
	files = append(files, "testdata/postfix.log", "testdata/sendmail.log", "testdata/cisco_asa.log", "testdata/dovecot.log")
	tried := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		clock := syslogClock{Year: 2025, Loc: time.UTC}
		var classic, ietf strings.Builder
		ok := true
		for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			h, err := clock.peek(l)
			if err != nil || h.Host == "" || strings.HasSuffix(h.Host, ":") || logLevelWords[h.Host] || isISODate(l) && h.Program == "" {
				// Not a syslog line: a daemon's or a log server's own
				// file, which no relay forwards.
				ok = false
				break
			}
			classic.WriteString(h.Time.Format(time.Stamp) + " relay01 " + l + "\n")
			ietf.WriteString("<13>1 " + h.Time.Format(time.RFC3339Nano) + " relay01 - - - - " + l + "\n")
		}
		if !ok {
			continue
		}
		tried++
		own, st := parseFile(t, f, &Options{TZ: time.UTC, Year: 2025})
		for _, relayed := range []struct{ name, text string }{{"classic relay header", classic.String()}, {"RFC 5424 relay header", ietf.String()}} {
			p := filepath.Join(t.TempDir(), "relay.log")
			if err := os.WriteFile(p, []byte(relayed.text), 0o644); err != nil {
				t.Fatal(err)
			}
			got, st2 := parseFile(t, p, &Options{TZ: time.UTC, Year: 2025})
			if st2.Raw != st.Raw || st2.Parsed != st.Parsed || len(got) != len(own) {
				t.Errorf("%s, %s: %q %d parsed %d raw %v; own lines %q %d %d", f, relayed.name, st2.Format, st2.Parsed, st2.Raw, st2.RawReasons, st.Format, st.Parsed, st.Raw)
				continue
			}
			for i := range own {
				a, b := comparable5424(own[i]), comparable5424(got[i])
				if !own[i].Timestamp.Equal(got[i].Timestamp) || !reflect.DeepEqual(a, b) {
					t.Errorf("%s, %s, event %d:\nown lines %s %v\nrelayed   %s %v", f, relayed.name, i, own[i].Timestamp, a, got[i].Timestamp, b)
					break
				}
			}
		}
	}
	t.Logf("%d samples behind a relay's header", tried)
	if tried < 10 {
		t.Errorf("only %d samples", tried)
	}
}

// TestCollectorTabbedW3C: a web proxy's W3C log (directives, then lines
// opening with their own date and time) in a collector's file gives the
// proxy's own events: the date is the line's first column, not a header.
func TestCollectorTabbedW3C(t *testing.T) {
	for _, f := range []string{"testdata/proxysg_elff.log", "testdata/tmg_w3c.log"} {
		own, st := parseFile(t, f, &Options{TZ: time.UTC, Year: 2025})
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			b.WriteString("2025-10-20 12:00:00\tLocal7.Info\t10.0.0.9\t" + l + "\n")
		}
		p := filepath.Join(t.TempDir(), "SyslogCatchAll.txt")
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		got, st2 := parseFile(t, p, &Options{TZ: time.UTC, Year: 2025})
		if st2.Raw != st.Raw || len(got) != len(own) {
			t.Fatalf("%s: %q %d parsed %d raw %v; own %q %d %d", f, st2.Format, st2.Parsed, st2.Raw, st2.RawReasons, st.Format, st.Parsed, st.Raw)
		}
		n := 0
		for i := range own {
			if own[i].Str("event.kind") == "pipeline_error" || own[i].Str("url.original") == "" {
				continue // directives
			}
			n++
			a, b := comparable5424(own[i]), comparable5424(got[i])
			if !own[i].Timestamp.Equal(got[i].Timestamp) || !reflect.DeepEqual(a, b) {
				t.Errorf("%s event %d:\nown       %s %v\ncollector %s %v", f, i, own[i].Timestamp, a, got[i].Timestamp, b)
			}
		}
		if n == 0 {
			t.Errorf("%s: no request compared", f)
		}
	}
}
