package parsers

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Windows tools write a date as the exporting machine's culture does:
// PowerShell's Export-Csv and Event Viewer's "Save As" use its general
// pattern — "15/03/2024 14:13:07" in France, "3/15/2024 2:13:07 PM" in the
// United States, "15.03.2024 14:13:07" in Germany, "2024/03/15 14:13:07" in
// Japan — local time, no zone, no fraction. A date whose first number is
// above 12 is day-first, one whose second is above 12 is month-first; a file
// is read in one order, decided by its first date that tells, and said when
// none does.

// localDate is a numeric date and time as a culture writes it.
type localDate struct {
	a, b, year          int // the date's numbers: year last, or year first (a = month, b = day)
	yearFirst           bool
	hour, minute, sec   int
	nsec                int
	meridiem            string // "am", "pm" or ""
	firstOver, scndOver bool   // a > 12, b > 12: the order is known
}

// digits reads a number written with digits only: strconv.Atoi also takes
// a sign, and a fraction "-1" moved the time back (FuzzLocalDate).
func digits(x string) (int, bool) {
	if x == "" || strings.Trim(x, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.Atoi(x)
	return v, err == nil
}

// parseLocalDate reads "d/m/y h:m[:s][.f] [AM|PM]" with '/', '.' or '-'
// between the date's numbers (and "y/m/d …").
func parseLocalDate(s string) (localDate, error) {
	var d localDate
	s = strings.TrimSpace(s)
	date, clock, ok := strings.Cut(s, " ")
	if !ok {
		return d, fmt.Errorf("date %q has no time", s)
	}
	clock = strings.TrimSpace(clock)
	if f := strings.Fields(clock); len(f) == 2 {
		m := strings.ToLower(strings.ReplaceAll(f[1], ".", ""))
		if m != "am" && m != "pm" {
			return d, fmt.Errorf("date %q: %q is no AM/PM", s, f[1])
		}
		d.meridiem, clock = m, f[0]
	} else if len(f) != 1 {
		return d, fmt.Errorf("date %q is not date and time", s)
	}
	var p []string
	for _, sep := range []string{"/", ".", "-"} {
		if q := strings.Split(strings.TrimSuffix(date, "."), sep); len(q) == 3 {
			p = q
		}
	}
	if p == nil {
		return d, fmt.Errorf("date %q is not day, month and year", s)
	}
	n := make([]int, 3)
	for i, x := range p {
		v, ok := digits(x)
		if !ok || len(x) > 4 {
			return d, fmt.Errorf("date %q: %q is not a number", s, x)
		}
		n[i] = v
	}
	switch {
	case len(p[0]) == 4:
		d.yearFirst, d.year, d.a, d.b = true, n[0], n[1], n[2]
	case len(p[2]) == 4:
		d.a, d.b, d.year = n[0], n[1], n[2]
	default:
		return d, fmt.Errorf("date %q has no four-digit year", s)
	}
	hms := strings.Split(clock, ":")
	if len(hms) < 2 || len(hms) > 3 {
		return d, fmt.Errorf("date %q: time %q", s, clock)
	}
	if len(hms) == 3 {
		sec, frac, _ := strings.Cut(hms[2], ".")
		hms[2] = sec
		if frac != "" {
			f, ok := digits(frac)
			if !ok || len(frac) > 9 {
				return d, fmt.Errorf("date %q: fraction %q", s, frac)
			}
			for i := len(frac); i < 9; i++ {
				f *= 10
			}
			d.nsec = f
		}
	}
	t := []*int{&d.hour, &d.minute, &d.sec}
	for i, x := range hms {
		v, ok := digits(x)
		if !ok || len(x) > 2 {
			return d, fmt.Errorf("date %q: time %q", s, clock)
		}
		*t[i] = v
	}
	if d.meridiem != "" {
		if d.hour < 1 || d.hour > 12 {
			return d, fmt.Errorf("date %q: hour %d with %s", s, d.hour, d.meridiem)
		}
		d.hour %= 12
		if d.meridiem == "pm" {
			d.hour += 12
		}
	}
	if !d.yearFirst {
		d.firstOver, d.scndOver = d.a > 12, d.b > 12
	}
	return d, nil
}

// dateOrder is how a file's numeric dates are read.
type dateOrder struct {
	decided  bool
	dayFirst bool
	assumed  string     // why, when no date of the file told
	first    *localDate // the first numeric date seen, to assume from
}

// see takes a date as a file writes it, in a first pass over the file;
// it reports whether the order is decided. ISO dates and what is no date
// tell nothing.
func (o *dateOrder) see(s string) bool {
	if o.decided || isISODate(s) {
		return o.decided
	}
	if d, err := parseLocalDate(s); err == nil {
		if o.first == nil {
			o.first = &d
		}
		o.observe(d)
	}
	return o.decided
}

// settle assumes an order, and says so through warn, when the first pass
// saw numeric dates but none that told.
func (o *dateOrder) settle(warn func(string)) {
	if o.first != nil && !o.decided {
		o.assume(*o.first)
		warn(o.assumed)
	}
}

// read gives the instant of a date as a file writes it: ISO 8601 (in loc
// when it has no zone; zoned says it had one), else the culture's numbers
// by the file's order, in loc.
func (o *dateOrder) read(s string, loc *time.Location) (t time.Time, zoned bool, err error) {
	if t, zoned, err = parseISOZoned(s, loc); err == nil {
		return t, zoned, nil
	}
	d, err := parseLocalDate(s)
	if err != nil {
		return time.Time{}, false, err
	}
	t, err = o.time(d, loc)
	return t, false, err
}

// observe decides the order from a date that tells; it reports whether it did.
func (o *dateOrder) observe(d localDate) bool {
	if o.decided || d.yearFirst || d.firstOver == d.scndOver {
		return o.decided
	}
	o.decided, o.dayFirst = true, d.firstOver
	return true
}

// assume picks an order when no date told: month-first beside AM/PM (the
// United States' culture writes both), day-first otherwise (France's,
// Britain's, Germany's…); the file then says so.
func (o *dateOrder) assume(d localDate) {
	if o.decided {
		return
	}
	o.decided = true
	o.dayFirst = d.meridiem == ""
	order := "day before month"
	if !o.dayFirst {
		order = "month before day"
	}
	o.assumed = fmt.Sprintf("no date in the file has a day above 12: dates were read %s (as a %s culture writes them) — check one event against a known time", order,
		map[bool]string{true: "French or British", false: "United States"}[o.dayFirst])
}

// time gives d's instant in loc, by the file's order.
func (o *dateOrder) time(d localDate, loc *time.Location) (time.Time, error) {
	day, month := d.b, d.a
	if !d.yearFirst && o.dayFirst {
		day, month = d.a, d.b
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || d.hour > 23 || d.minute > 59 || d.sec > 59 {
		return time.Time{}, fmt.Errorf("date %04d, numbers %d and %d, %02d:%02d:%02d is not a date read %s", d.year, d.a, d.b, d.hour, d.minute, d.sec, o.name())
	}
	t := time.Date(d.year, time.Month(month), day, d.hour, d.minute, d.sec, d.nsec, loc)
	if t.Day() != day {
		return time.Time{}, fmt.Errorf("day %d of month %d of %d does not exist (dates read %s)", day, month, d.year, o.name())
	}
	return t.UTC(), nil
}

func (o *dateOrder) name() string {
	if o.dayFirst {
		return "day first"
	}
	return "month first"
}
