package parsers

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// syslogHeader is what a syslog transport header tells: when, from which
// host, which program. Formats carried over syslog share this stage.
type syslogHeader struct {
	Time     time.Time
	Host     string
	Program  string
	PID      string
	Msg      string
	SD       string // RFC 5424 structured data, as written ("" or "[id k=\"v\" …]…")
	Priority int    // -1 if absent
	// Zoned: the stamp named its zone (RFC 5424, an ISO stamp with an
	// offset); a classic or zoneless ISO stamp was read in Loc.
	Zoned bool
	// yearAssumed is the year a classic stamp naming none was read in (0
	// when the stamp named its year).
	yearAssumed int
}

var errNoSyslog = errors.New("no syslog header")

var months = map[string]time.Month{"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6, "Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}

// syslogClock resolves year-less RFC 3164 stamps: the analyst's year and
// zone, with the year advanced when a file runs from December into January.
type syslogClock struct {
	Year int
	Loc  *time.Location
	last time.Month
	// taken hears of the year-less stamps that date an event
	// (Options.yearTaken); started: a year-less stamp was read.
	taken   *yearTaken
	started bool
	// zoneTaken hears of the stamps naming no zone that date an event
	// (Options.zoneTaken).
	zoneTaken *bool
	// repeat places stamps of the hour a zone's clocks show twice.
	repeat repeatedHour
}

// yearAhead is how far after its file's modification time a first
// year-less stamp may fall and still be of that year: stamps are read in
// --tz, the file's time is absolute, and zones span 26 hours.
const yearAhead = 2 * 24 * time.Hour

// syslogProgram is the program a line's syslog header names ("" without
// a header): RFC 5424 writes it without the "name[pid]: " that classic
// headers give formats to recognise.
func syslogProgram(l string) string {
	c := syslogClock{Year: 2000, Loc: time.UTC}
	h, err := c.peek(l)
	if err != nil {
		return ""
	}
	return h.Program
}

// parse reads a header whose time dates the event (see peek).
func (c *syslogClock) parse(line string) (syslogHeader, error) {
	h, err := c.peek(line)
	if err == nil {
		c.take(h)
	}
	return h, err
}

// take says that h's time dates an event: when its stamp named no year,
// the file's year is a guess (FileStats.YearGuessed).
func (c *syslogClock) take(h syslogHeader) {
	if h.yearAssumed != 0 && c.taken != nil && !c.taken.used {
		c.taken.used, c.taken.year = true, h.yearAssumed
	}
	if !h.Zoned && c.zoneTaken != nil {
		*c.zoneTaken = true
	}
}

// peek parses an RFC 3164 ("Mar 14 02:13:05 host prog[pid]: msg"),
// ISO 8601 (rsyslog's default on Debian 12) or RFC 5424 header. Year-less
// RFC 3164 stamps take year and loc from the analyst's options, or the
// file's modification year: the year before when the file's first such
// stamp would fall after its modification time. A decoder whose events
// are dated by their own field peeks at a relay's header and takes it only
// when it dates an event.
func (c *syslogClock) peek(line string) (syslogHeader, error) {
	before := c.repeat
	h, err := c.peekOne(line)
	if err != nil || h.Program != "" || !startsLikeHeader(h.Msg) {
		return h, err
	}
	// A relay that put its own header before the sender's, whole: "Mar 12
	// 03:14:09 10.0.0.5 Mar 12 03:14:09 mail01 postfix/smtp[1240]: …". The
	// sender's header names the host and program; its time dates the line
	// unless only the relay's names its zone. The sender's stamps, not the
	// relay's, keep the account of the repeated autumn hour.
	after := c.repeat
	c.repeat = before
	inner, err := c.peekOne(h.Msg)
	// An ISO date naming no zone opening a message may be its own first
	// column (a web proxy's W3C line): it is a header only with a program
	// after it.
	if err != nil || inner.Host == "" || isISODate(h.Msg) && inner.Program == "" && !inner.Zoned {
		c.repeat = after
		return h, nil
	}
	if inner.Priority < 0 {
		inner.Priority = h.Priority
	}
	if h.Zoned && !inner.Zoned {
		inner.Time, inner.Zoned, inner.yearAssumed = h.Time, true, 0
	}
	return inner, nil
}

// startsLikeHeader reports text beginning as a syslog header does: a
// priority, a classic stamp or an ISO date.
func startsLikeHeader(s string) bool {
	return len(s) >= 15 && (s[0] == '<' || months[s[:3]] != 0 && s[3] == ' ' || isISODate(s) || journalFullStamp(s) || journalUnixStamp(s))
}

// journalFullStamp says whether s begins as journalctl's short-full
// output: a weekday, an ISO date, a time, then a zone.
func journalFullStamp(s string) bool {
	return len(s) > 26 && s[3] == ' ' && s[14] == ' ' && s[23] == ' ' && weekdays[s[:3]] && isISODate(s[4:])
}

var weekdays = map[string]bool{"Mon": true, "Tue": true, "Wed": true, "Thu": true, "Fri": true, "Sat": true, "Sun": true}

// journalUnixStamp says whether s begins as journalctl's short-unix
// output: seconds since 1970 with six decimals, then a host.
func journalUnixStamp(s string) bool {
	if len(s) < 19 || s[10] != '.' || s[17] != ' ' || s[18] == ' ' || s[18] >= '0' && s[18] <= '9' {
		return false
	}
	for i := 0; i < 17; i++ {
		if i != 10 && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// peekOne reads one header (see peek).
func (c *syslogClock) peekOne(line string) (syslogHeader, error) {
	loc := c.Loc
	h := syslogHeader{Priority: -1}
	s := line
	if strings.HasPrefix(s, "<") {
		end := strings.IndexByte(s, '>')
		if end < 2 || end > 4 {
			return h, errNoSyslog
		}
		p, err := strconv.Atoi(s[1:end])
		if err != nil {
			return h, errNoSyslog
		}
		h.Priority = p
		s = s[end+1:]
		if strings.HasPrefix(s, "1 ") { // RFC 5424
			return parse5424(h, s[2:])
		}
	}
	if r, ok := readTabbed(s); ok {
		if h, err := c.peekTabbed(r); err == nil {
			return h, nil
		}
	}
	var rest string
	switch {
	case journalFullStamp(s):
		// journalctl -o short-full: "Fri 2025-03-14 23:05:12 CET host …",
		// the exporting machine's zone by its abbreviation.
		end := 24 + strings.IndexByte(s[24:], ' ')
		if end < 24 {
			return h, errNoSyslog
		}
		zone, zoned := zoneOf(s[24:end])
		if !zoned {
			zone = loc
		}
		t, err := time.ParseInLocation("2006-01-02 15:04:05", s[4:23], zone)
		if err != nil {
			return h, errNoSyslog
		}
		h.Time, h.Zoned, rest = t.UTC(), zoned, s[end:]
		if !zoned {
			h.Time = c.repeat.place(t, loc).UTC()
		}
	case journalUnixStamp(s):
		// journalctl -o short-unix: "1741989912.123456 host …", UTC.
		t, err := epochSeconds(s[:17])
		if err != nil {
			return h, errNoSyslog
		}
		h.Time, h.Zoned, rest = t.UTC(), true, s[17:]
	case len(s) >= 14 && months[s[:3]] != 0 && s[3] == ' ':
		// "Mar 14 02:13:05", "Mar  4 02:13:05" or "Sep 8 07:46:30"
		j := 4
		for j < len(s) && s[j] == ' ' {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		day, err := strconv.Atoi(s[j:k])
		if err != nil || k-j > 2 || k >= len(s) || s[k] != ' ' || len(s) < k+9 {
			return h, errNoSyslog
		}
		hh, mm, ss, ok := clock3(s[k+1 : k+9])
		if !ok {
			return h, errNoSyslog
		}
		rest = s[k+9:]
		nsec := 0
		if strings.HasPrefix(rest, ".") { // fractional seconds
			i := 1
			for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
				i++
			}
			frac := rest[1:i]
			for len(frac) < 9 {
				frac += "0"
			}
			nsec, _ = strconv.Atoi(frac[:9])
			rest = rest[i:]
		}
		m := months[s[:3]]
		if c.last == time.December && m == time.January {
			c.Year++
		}
		c.last = m
		year, own := c.Year, false
		// Some devices (Zyxel) write the year after the time: "May 22 17:24:03 2026 host".
		if len(rest) > 6 && rest[0] == ' ' && rest[5] == ' ' {
			if y, err := strconv.Atoi(rest[1:5]); err == nil && y >= 1990 && y <= 2100 {
				year, rest, own = y, rest[5:], true
			}
		}
		if !own {
			if !c.started {
				c.started = true
				if c.taken != nil && !c.taken.ref.IsZero() && time.Date(c.Year, m, day, hh, mm, ss, nsec, loc).After(c.taken.ref.Add(yearAhead)) {
					c.Year--
				}
				year = c.Year
			}
			h.yearAssumed = year
		}
		h.Time = c.repeat.place(time.Date(year, m, day, hh, mm, ss, nsec, loc), loc).UTC()
	case isISODate(s):
		end := strings.IndexByte(s, ' ')
		if s[10] == ' ' {
			end = 19 + strings.IndexByte(s[19:], ' ')
			if end < 19 {
				return h, errNoSyslog
			}
		}
		if end < 0 {
			return h, errNoSyslog
		}
		t, err := parseISO(s[:end], loc)
		if err != nil {
			return h, errNoSyslog
		}
		h.Time, h.Zoned = t, len(s[:end]) > 19 && strings.ContainsAny(s[19:end], "Z+-")
		if !h.Zoned {
			h.Time = c.repeat.place(t.In(loc), loc).UTC()
		}
		rest = s[end:]
	default:
		return h, errNoSyslog
	}
	rest = strings.TrimLeft(rest, " ")
	// Some relays insert "<facility.priority>" before the host.
	if strings.HasPrefix(rest, "<") {
		if e := strings.Index(rest, "> "); e > 0 && !strings.ContainsAny(rest[1:e], " <") {
			rest = rest[e+2:]
		}
	}
	// host
	sp := strings.IndexByte(rest, ' ')
	if sp <= 0 {
		return h, errNoSyslog
	}
	h.Host = rest[:sp]
	rest = rest[sp+1:]
	// program[pid]:
	if colon := strings.Index(rest, ": "); colon > 0 && !strings.ContainsAny(rest[:colon], " =") {
		tag := rest[:colon]
		if b := strings.IndexByte(tag, '['); b > 0 && strings.HasSuffix(tag, "]") {
			h.PID = tag[b+1 : len(tag)-1]
			tag = tag[:b]
		}
		h.Program = tag
		rest = rest[colon+2:]
	}
	h.Msg = rest
	return h, nil
}

func parse5424(h syslogHeader, s string) (syslogHeader, error) {
	f := strings.SplitN(s, " ", 6)
	if len(f) < 6 {
		return h, errNoSyslog
	}
	if f[0] != "-" {
		t, err := time.Parse(time.RFC3339Nano, f[0])
		if err != nil {
			return h, errNoSyslog
		}
		h.Time, h.Zoned = t.UTC(), true
	}
	if f[1] != "-" {
		h.Host = f[1]
	}
	if f[2] != "-" {
		h.Program = f[2]
	}
	if f[3] != "-" {
		h.PID = f[3]
	}
	msg := f[5]
	// structured data: "-" or one or more [..] blocks
	if strings.HasPrefix(msg, "- ") {
		msg = msg[2:]
	} else if msg == "-" {
		msg = ""
	} else if strings.HasPrefix(msg, "[") {
		depth, i := 0, 0
		for ; i < len(msg); i++ {
			c := msg[i]
			if c == '\\' {
				i++
				continue
			}
			if c == '[' {
				depth++
			} else if c == ']' {
				depth--
				if depth == 0 && (i+1 == len(msg) || msg[i+1] != '[') {
					i++
					break
				}
			}
		}
		i = min(i, len(msg)) // a backslash ending the line escapes nothing
		h.SD = msg[:i]
		msg = strings.TrimLeft(msg[i:], " ")
	}
	h.Msg = strings.TrimPrefix(msg, "\ufeff")
	return h, nil
}

// isISODate reports whether s starts with an ISO 8601 date and time.
// epochSeconds reads "1460620800.123" (Squid, W3C proxies' timestamp):
// seconds and their fraction parsed apart to stay exact.
func epochSeconds(v string) (time.Time, error) {
	sec, frac, _ := strings.Cut(v, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, errors.New("not seconds since 1970")
	}
	var ns int64
	if frac != "" {
		frac = (frac + "000000000")[:9]
		if ns, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, errors.New("not seconds since 1970")
		}
	}
	return time.Unix(s, ns).UTC(), nil
}

func isISODate(s string) bool {
	return len(s) >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == ' ')
}

// parseISO parses ISO 8601 stamps with or without zone; a stamp without zone is read in loc.
func parseISO(s string, loc *time.Location) (time.Time, error) {
	s = strings.Replace(s, " ", "T", 1)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, loc)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// clock3 reads "HH:MM:SS" without time.Parse, which costs more than the
// rest of a syslog header.
func clock3(s string) (h, m, sec int, ok bool) {
	if len(s) != 8 || s[2] != ':' || s[5] != ':' {
		return 0, 0, 0, false
	}
	d := func(i int) int {
		a, b := s[i]-'0', s[i+1]-'0'
		if a > 9 || b > 9 {
			return -1
		}
		return int(a)*10 + int(b)
	}
	h, m, sec = d(0), d(3), d(6)
	if h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60 {
		return 0, 0, 0, false
	}
	return h, m, sec, true
}
