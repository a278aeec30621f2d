package parsers

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The times CEF (rt, start, end) and LEEF (devTime) carry are written as
// the sending product chooses: epoch milliseconds, ArcSight's "MMM dd yyyy
// HH:mm:ss[.SSS] [zzz]", ISO 8601, or — in LEEF — any Java date pattern
// the line names in devTimeFormat. A zone abbreviation Go does not know
// would silently read as UTC (Go fabricates a zero offset for it): it is
// read from the table of unambiguous abbreviations, else the time is read
// in --tz and said to be so.

// vendorLayouts are the forms tried when the line names none, in order.
var vendorLayouts = []string{
	"Jan 2 2006 15:04:05",
	"Jan 2 2006 15:04:05 MST",
	"Jan 2 2006 15:04:05 -0700",
	"Jan-2-2006 15:04:05",
	"Jan-2-2006 15:04:05 MST",
	"2006-01-02 15:04:05",
	"2006/01/02 15:04:05",
	"Jan 2, 2006 3:04:05 PM",
	"Jan 2, 2006, 3:04:05 PM",
	// CEF's forms without a year: dated by the line's syslog header.
	"Jan 2 15:04:05",
	"Jan 2 15:04:05 MST",
}

// readVendorTime reads v, in the Java pattern javaFormat when one is given;
// zoned says whether v named its zone (else it was read in loc). near, when
// not zero, dates a pattern without a year: the year that puts v nearest
// to it (the line's syslog header).
func readVendorTime(v, javaFormat string, loc *time.Location, near time.Time) (t time.Time, zoned bool, err error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false, fmt.Errorf("empty time")
	}
	if isDigits(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("time %q: %w", v, err)
		}
		if len(v) <= 10 { // seconds: epoch milliseconds have 13 digits since 2001
			return time.Unix(n, 0).UTC(), true, nil
		}
		return time.UnixMilli(n).UTC(), true, nil
	}
	f := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(javaFormat), " ", ""))
	if f == "ISO8601" || f == "ISO-8601" || v[0] >= '0' && v[0] <= '9' && strings.Contains(v, "T") {
		if t, zoned, err := parseISOZoned(v, loc); err == nil {
			return t.UTC(), zoned, nil
		}
	}
	var named error // the line's own format, when it does not read v
	if javaFormat != "" && f != "ISO8601" && f != "ISO-8601" {
		layout, err := goLayout(javaFormat)
		if err == nil {
			var t time.Time
			var zoned bool
			if t, zoned, err = parseZoned(layout, v, loc, near); err == nil {
				return t, zoned, nil
			}
		}
		named = fmt.Errorf("time %q in the format %q the line names: %w", v, javaFormat, err)
	}
	// A product that names one format and writes another (CarbonBlack's
	// "Apr-15-2016 06:54:00 GMT" for "MMM dd yyyy HH:mm:ss z").
	for _, layout := range vendorLayouts {
		if t, zoned, err := parseZoned(layout, v, loc, near); err == nil {
			return t, zoned, nil
		}
	}
	if t, zoned, err := parseISOZoned(v, loc); err == nil {
		return t.UTC(), zoned, nil
	}
	if named != nil {
		return time.Time{}, false, named
	}
	return time.Time{}, false, fmt.Errorf("time %q in no form known", v)
}

// parseZoned parses v in layout, reading a zone abbreviation from the
// table of unambiguous ones rather than as Go's fabricated UTC.
func parseZoned(layout, v string, loc *time.Location, near time.Time) (time.Time, bool, error) {
	t, err := time.ParseInLocation(layout, v, loc)
	if err != nil {
		return time.Time{}, false, err
	}
	if t.Year() == 0 && !strings.Contains(layout, "06") { // "2006" or "06": a year written
		if near.IsZero() {
			return time.Time{}, false, fmt.Errorf("no year, and no dated header to take one from")
		}
		t = nearestYear(t, near)
	}
	zoned := strings.Contains(layout, "MST") || strings.Contains(layout, "Z07") || strings.Contains(layout, "-07")
	if strings.Contains(layout, "MST") {
		name, off := t.Zone()
		if t.Location() != loc && off == 0 && name != "UTC" && !strings.HasPrefix(name, "GMT") {
			wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
			if z, ok := zoneFromAbbrev(name); ok {
				_, zoff := wall.In(z).Zone()
				t = wall.Add(-time.Duration(zoff) * time.Second)
			} else {
				// An abbreviation that names more than one offset (IST,
				// CST…) or none known: the wall clock in --tz.
				t, zoned = time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), loc), false
			}
		}
	}
	return t.UTC(), zoned, nil
}

// nearestYear gives t (read without a year) the year that puts it nearest
// to ref.
func nearestYear(t, ref time.Time) time.Time {
	best := t.AddDate(ref.Year()-t.Year(), 0, 0)
	for _, y := range []int{ref.Year() - 1, ref.Year() + 1} {
		c := t.AddDate(y-t.Year(), 0, 0)
		if c.Sub(ref).Abs() < best.Sub(ref).Abs() {
			best = c
		}
	}
	return best
}

// goLayout turns a Java SimpleDateFormat pattern into Go's layout.
func goLayout(java string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(java); {
		c := java[i]
		if c == '\'' { // a quoted literal; '' is a quote, inside one or out
			if i+1 < len(java) && java[i+1] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			j := i + 1
			for ; ; j++ {
				if j >= len(java) {
					return "", fmt.Errorf("date format %q: unclosed quote", java)
				}
				if java[j] != '\'' {
					b.WriteByte(java[j])
					continue
				}
				if j+1 < len(java) && java[j+1] == '\'' {
					b.WriteByte('\'')
					j++
					continue
				}
				break
			}
			i = j + 1
			continue
		}
		n := 1
		for i+n < len(java) && java[i+n] == c {
			n++
		}
		tok, ok := javaTokens[javaKey{c, min(n, 4)}]
		switch {
		case ok:
			b.WriteString(tok)
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			return "", fmt.Errorf("date format %q: pattern letter %q not read", java, strings.Repeat(string(c), n))
		default:
			b.WriteString(java[i : i+n])
		}
		i += n
	}
	return b.String(), nil
}

type javaKey struct {
	c byte
	n int
}

var javaTokens = map[javaKey]string{
	{'y', 4}: "2006", {'y', 3}: "2006", {'y', 2}: "06", {'y', 1}: "2006",
	{'M', 4}: "January", {'M', 3}: "Jan", {'M', 2}: "01", {'M', 1}: "1",
	{'d', 2}: "2", {'d', 1}: "2", // Java reads one digit or two for either
	{'H', 2}: "15", {'H', 1}: "15",
	{'h', 2}: "03", {'h', 1}: "3",
	{'m', 2}: "04", {'m', 1}: "4",
	{'s', 2}: "05", {'s', 1}: "5",
	{'S', 1}: "0", {'S', 2}: "00", {'S', 3}: "000", {'S', 4}: "000000",
	{'a', 1}: "PM",
	{'E', 1}: "Mon", {'E', 2}: "Mon", {'E', 3}: "Mon", {'E', 4}: "Monday",
	{'z', 1}: "MST", {'z', 2}: "MST", {'z', 3}: "MST", {'z', 4}: "MST",
	{'Z', 1}: "-0700", {'Z', 2}: "-0700", {'Z', 3}: "-0700", {'Z', 4}: "-07:00",
	{'X', 1}: "Z07", {'X', 2}: "Z0700", {'X', 3}: "Z07:00", {'X', 4}: "Z07:00",
}
