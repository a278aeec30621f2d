package parsers

import (
	"strings"
	"time"
)

// tabbedRecord is a line as a Windows syslog collector writes it to its
// log file (Kiwi Syslog Server's default layout): the collector's receive
// time, the message's facility.level, the sender's host, then the message
// as received, tab-separated — "2024-03-12 03:14:09<TAB>Mail.Info<TAB>
// 10.0.0.5<TAB>Mar 12 03:14:09 mail01 postfix/smtp[1240]: …". Date and
// time may be one column or two.
type tabbedRecord struct {
	stamp, host, msg string
}

// isTabbed reports a collector's record.
func isTabbed(s string) bool {
	_, ok := readTabbed(s)
	return ok
}

func readTabbed(s string) (tabbedRecord, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || strings.IndexByte(s, '\t') < 0 {
		return tabbedRecord{}, false
	}
	f := strings.SplitN(s, "\t", 5)
	var r tabbedRecord
	switch {
	case len(f[0]) >= 19 && len(f) >= 4:
		r.stamp, f = f[0], f[1:]
	case len(f[0]) == 10 && len(f) == 5 && len(f[1]) >= 8 && f[1][2] == ':':
		r.stamp, f = f[0]+" "+f[1], f[2:]
	default:
		return tabbedRecord{}, false
	}
	if len(r.stamp) > 35 || strings.Count(r.stamp, " ") > 1 {
		return tabbedRecord{}, false // a line of another kind with tabs in it
	}
	if len(f) > 3 { // a tab inside the message
		f = []string{f[0], f[1], f[2] + "\t" + f[3]}
	}
	if !facilityLevel(f[0]) || f[1] == "" || strings.ContainsAny(f[1], " ") {
		return tabbedRecord{}, false
	}
	r.host, r.msg = f[1], f[2]
	return r, true
}

// facilityLevel reports a "Local7.Info", "Mail.Notice"-like column.
func facilityLevel(s string) bool {
	dot := strings.IndexByte(s, '.')
	if dot <= 0 || dot == len(s)-1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i != dot && !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// peekTabbed reads a collector's record as a syslog header. The message's
// own header, when it kept one, names its host and program and dates it —
// the device's clock, as its own file would — with the collector's year
// where a classic stamp names none; a message without a header is dated
// by the collector's stamp (in loc when it names no zone).
func (c *syslogClock) peekTabbed(r tabbedRecord) (syslogHeader, error) {
	t, err := parseISO(r.stamp, c.Loc)
	if err != nil {
		return syslogHeader{Priority: -1}, errNoSyslog
	}
	zoned := strings.IndexByte(r.stamp[10:], 'Z') >= 0 || strings.ContainsAny(r.stamp[19:], "+-")
	// The message's own stamps, when they date it, keep the account of the
	// repeated autumn hour; the collector's only when they do not.
	inner := syslogClock{Year: t.In(c.Loc).Year(), Loc: c.Loc, repeat: c.repeat}
	// A message opening with an ISO date naming no zone is its own first
	// column (a web proxy's W3C line) unless a program follows, as after
	// a header.
	if h, err := inner.peek(r.msg); err == nil && h.Host != "" && (h.Program != "" || h.Zoned || !isISODate(r.msg)) {
		c.repeat = inner.repeat
		if h.yearAssumed != 0 {
			// A year's turn between the device's stamp and the collector's.
			switch d := h.Time.Sub(t); {
			case d > 180*24*time.Hour:
				h.Time = h.Time.AddDate(-1, 0, 0)
			case d < -180*24*time.Hour:
				h.Time = h.Time.AddDate(1, 0, 0)
			}
			h.yearAssumed = 0
		}
		return h, nil
	}
	// The message alone: "prog[pid]: text", or the text.
	if !zoned {
		t = c.repeat.place(t.In(c.Loc), c.Loc).UTC()
	}
	inner.repeat = c.repeat
	h, err := inner.peek(t.In(c.Loc).Format("2006-01-02 15:04:05") + " " + r.host + " " + r.msg)
	if err != nil {
		return syslogHeader{Priority: -1}, errNoSyslog
	}
	h.Time, h.Zoned, h.yearAssumed = t, zoned, 0
	return h, nil
}
