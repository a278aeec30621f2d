package parsers

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCollectorTabbedFile: a Windows syslog collector's log file (Kiwi
// Syslog Server's layout: receive time, facility.level, sender, message,
// tab-separated) gives, line for line, the events the devices' own lines
// give — mail joined into messages, firewall sessions with their bytes —
// whether the collector kept each message's header or not.
func TestCollectorTabbedFile(t *testing.T) {
	for _, c := range []struct {
		file  string
		split bool // date and time in two columns
		bare  bool // the collector kept the message without its header
	}{
		{"testdata/sendmail.log", false, false},
		{"testdata/sendmail.log", true, false},
		{"testdata/sendmail.log", false, true},
		{"testdata/postfix.log", false, false},
		{"testdata/postfix.log", true, true},
		{"testdata/dovecot.log", false, false},
		{"testdata/dovecot.log", true, true},
		{"testdata/cisco_asa.log", false, false},
		{"testdata/cisco_asa.log", true, true},
	} {
		name := c.file
		if c.split {
			name += ", date and time apart"
		}
		if c.bare {
			name += ", message without its header"
		}
		own, st := parseFile(t, c.file, &Options{TZ: time.UTC, Year: 2025})
		lines, headers, ok := syslogSample(t, c.file)
		if !ok {
			t.Fatalf("%s: not a syslog sample", c.file)
		}
		var b strings.Builder
		for i, h := range headers {
			stamp := h.Time.Format("2006-01-02 15:04:05.999999")
			if c.split {
				stamp = strings.Replace(stamp, " ", "\t", 1)
			}
			msg := lines[i]
			if c.bare {
				switch {
				case h.PID != "":
					msg = h.Program + "[" + h.PID + "]: " + h.Msg
				case h.Program != "":
					msg = h.Program + ": " + h.Msg
				default:
					msg = h.Msg
				}
			}
			b.WriteString(stamp + "\tMail.Info\t" + h.Host + "\t" + msg + "\n")
		}
		got, st2 := parseRewritten(t, "SyslogCatchAll.txt", b.String())
		if st2.YearGuessed {
			t.Errorf("%s: the collector's stamps name their year, yet the year is a guess", name)
		}
		if c.bare {
			sameEvents(t, name, own, st, got, st2, "message") // the ASA's text kept its header's stamp
		} else {
			sameEvents(t, name, own, st, got, st2)
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

// syslogSamples are the samples of the syslog-borne formats.
func syslogSamples(t *testing.T) []string {
	files, _ := filepath.Glob("testdata/formats/*.log")
	files = append(files, "testdata/postfix.log", "testdata/sendmail.log", "testdata/cisco_asa.log", "testdata/dovecot.log")
	var out []string
	for _, f := range files {
		if _, _, ok := syslogSample(t, f); ok {
			out = append(out, f)
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d syslog samples", len(out))
	}
	return out
}

// TestCollectorTabbedFormats: every syslog-borne format's sample, each
// line put through a collector's file as received, gives the events the
// sample gives.
func TestCollectorTabbedFormats(t *testing.T) {
	for _, f := range syslogSamples(t) {
		own, st := parseFile(t, f, &Options{TZ: time.UTC, Year: 2025})
		lines, headers, _ := syslogSample(t, f)
		var b strings.Builder
		for i, h := range headers {
			b.WriteString(h.Time.Format("2006-01-02 15:04:05.999999999") + "\tLocal7.Info\t10.0.0.1\t" + lines[i] + "\n")
		}
		got, st2 := parseRewritten(t, "SyslogCatchAll.txt", b.String())
		sameEvents(t, f+" in a collector's file", own, st, got, st2)
	}
}

// TestRelayHeaderBeforeSender: a relay that writes its own header before
// the sender's whole line ("Mar 12 03:14:09 10.0.0.5 Mar 12 03:14:09 mail01
// postfix/smtp[1240]: …", or an RFC 5424 header) gives, line for line, the
// events of the sender's own lines, for every syslog-borne sample.
func TestRelayHeaderBeforeSender(t *testing.T) {
	for _, f := range syslogSamples(t) {
		own, st := parseFile(t, f, &Options{TZ: time.UTC, Year: 2025})
		lines, headers, _ := syslogSample(t, f)
		var classic, ietf strings.Builder
		for i, h := range headers {
			classic.WriteString(h.Time.Format(time.Stamp) + " relay01 " + lines[i] + "\n")
			ietf.WriteString("<13>1 " + h.Time.Format(time.RFC3339Nano) + " relay01 - - - - " + lines[i] + "\n")
		}
		got, st2 := parseRewritten(t, "relay.log", classic.String())
		sameEvents(t, f+" behind a classic relay header", own, st, got, st2)
		got, st2 = parseRewritten(t, "relay.log", ietf.String())
		sameEvents(t, f+" behind an RFC 5424 relay header", own, st, got, st2)
	}
}

// TestCollectorTabbedW3C: a web proxy's W3C log (directives, then lines
// opening with their own date and time) in a collector's file gives the
// proxy's own requests: the date is the line's first column, not a header.
func TestCollectorTabbedW3C(t *testing.T) {
	for _, f := range []string{"testdata/proxysg_elff.log", "testdata/tmg_w3c.log"} {
		own, st := parseFile(t, f, &Options{TZ: time.UTC, Year: 2025})
		var b strings.Builder
		for _, l := range strings.SplitAfter(readText(t, f), "\n") {
			if l != "" {
				b.WriteString("2025-10-20 12:00:00\tLocal7.Info\t10.0.0.9\t" + l)
			}
		}
		got, st2 := parseRewritten(t, "SyslogCatchAll.txt", b.String())
		if sameEvents(t, f+" in a collector's file", own, st, got, st2) && st.Parsed == 0 {
			t.Errorf("%s: no request read", f)
		}
	}
}

// TestTabbedZonedHeaderWithoutProgram: a message opening with an ISO
// stamp naming its zone and a host is a header even with no program after
// it (NetScreen's "… 10.0.0.1 ssg5: NetScreen device_id=…"): it dates the
// line, not the collector's stamp.
func TestTabbedZonedHeaderWithoutProgram(t *testing.T) {
	clock := syslogClock{Year: 2026, Loc: time.UTC}
	for _, l := range []string{
		"2024-10-20 12:00:00\tLocal7.Info\t10.0.0.1\t2025-12-14T00:28:37.000000+01:00 10.0.0.1 ssg5:",
		"Oct 20 12:00:00 relay01 2025-12-14T00:28:37+01:00 10.0.0.1 ssg5:",
	} {
		h, err := clock.peek(l)
		if err != nil || h.Time.Format(time.RFC3339) != "2025-12-13T23:28:37Z" || h.Host != "10.0.0.1" {
			t.Errorf("%q: %s %q %v", l, h.Time, h.Host, err)
		}
	}
}
