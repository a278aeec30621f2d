package parsers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// MSDNSDebug reads the Microsoft DNS server debug log (dns.log with packet
// logging): which client asked for which name, when — a workstation
// resolving mega.nz or a tunnel's odd subdomains. Dates follow the server's
// locale: with AM/PM they are read month/day/year (US), in 24-hour form
// day/month/year (the French and most European locales) unless a day over 12
// says otherwise; times are the server's local time, read in --tz.
type MSDNSDebug struct{}

func (MSDNSDebug) Name() string { return "ms-dns-debug" }
func (MSDNSDebug) Description() string {
	return "Microsoft DNS server debug log (packet logging): client, query name and type, response code"
}

var msdnsLine = regexp.MustCompile(`^(\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}) (\d{1,2}:\d\d:\d\d(?: [AP]M)?) ([0-9A-Fa-f]{3,5}) PACKET\s+([0-9A-Fa-f]+) (UDP|TCP) (Rcv|Snd) (\S+)\s+([0-9A-Fa-f]{4}) (R)?\s*([A-Z?]) \[([0-9A-Fa-f]{4})\s+([A-Z ]*?)\s*([A-Z]+)\]\s+(\S+)\s+(\S+)\s*$`)

func (MSDNSDebug) Detect(head []byte) bool {
	if strings.Contains(string(head), "DNS Server log file creation at") {
		return true
	}
	return mostLines(head, MSDNSDebug{}.matchLine)
}

func (MSDNSDebug) matchLine(l string) bool {
	return strings.Contains(l, " PACKET ") && msdnsLine.MatchString(l)
}

func (MSDNSDebug) NewDecoder(o *Options) LineDecoder { return &msdnsDecoder{loc: o.TZ, o: o} }

type msdnsDecoder struct {
	loc      *time.Location
	o        *Options
	dayFirst int // 0 unknown, 1 day/month, -1 month/day
}

func (d *msdnsDecoder) Flush(Emit) {}

func (d *msdnsDecoder) Line(no int64, line []byte, emit Emit) error {
	s := strings.TrimRight(string(line), " \t")
	m := msdnsLine.FindStringSubmatch(s)
	if m == nil {
		if !strings.Contains(s, " PACKET ") {
			return nil // the file's preamble: creation date and the field legend
		}
		return fmt.Errorf("ms-dns-debug: PACKET line not in the debug log's layout")
	}
	t, err := d.time(m[1], m[2])
	if err != nil {
		return err
	}
	ev := event.New()
	ev.Timestamp = t
	ev.Fields[event.FieldDataset] = "microsoft.dns"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Fields["event.category"] = []string{"network"}
	ev.Fields["event.type"] = []string{"protocol"}
	ev.Set("network.protocol", "dns")
	ev.Set("network.transport", strings.ToLower(m[5]))
	ev.Set("dns.id", m[8])
	response := m[9] == "R"
	if response {
		ev.Set("dns.type", "answer")
		ev.Set("dns.response_code", m[13])
	} else {
		ev.Set("dns.type", "query")
	}
	// The peer: the client for queries received and answers sent; another
	// server for recursion (queries sent, answers received).
	client := m[6] == "Rcv" && !response || m[6] == "Snd" && response
	if client {
		setIP(ev, "source.ip", m[7])
	} else {
		setIP(ev, "destination.ip", m[7])
	}
	ev.Set("dns.question.type", m[14])
	ev.Set("dns.question.name", dnsLabels(m[15]))
	ev.Set("event.action", "dns-"+strings.ToLower(m[6]))
	emit(ev, linePos(no))
	return nil
}

// time reads the locale's date: see MSDNSDebug.
func (d *msdnsDecoder) time(date, clock string) (time.Time, error) {
	sep := date[strings.IndexAny(date, "/.-")]
	f := strings.Split(date, string(sep))
	if len(f) != 3 {
		return time.Time{}, fmt.Errorf("ms-dns-debug: bad date %q", date)
	}
	a, _ := strconv.Atoi(f[0])
	b, _ := strconv.Atoi(f[1])
	y, _ := strconv.Atoi(f[2])
	if len(f[0]) == 4 { // year first (ISO-like locales)
		y, a, b = a, b, y
		d.dayFirst = -1
	}
	switch {
	case a > 12:
		d.dayFirst = 1
	case b > 12:
		d.dayFirst = -1
	case d.dayFirst == 0 && strings.HasSuffix(clock, "M"):
		d.dayFirst = -1
	case d.dayFirst == 0:
		d.dayFirst = 1
	}
	day, month := a, b
	if d.dayFirst < 0 {
		day, month = b, a
	}
	if y < 100 {
		y += 2000
	}
	layout := "15:04:05"
	if strings.HasSuffix(clock, "M") {
		layout = "3:04:05 PM"
	}
	c, err := time.Parse(layout, clock)
	if err != nil {
		return time.Time{}, fmt.Errorf("ms-dns-debug: bad time %q", clock)
	}
	d.o.zoneRead() // the server's local time
	return time.Date(y, time.Month(month), day, c.Hour(), c.Minute(), c.Second(), 0, d.loc).UTC(), nil
}

// dnsLabels turns the log's "(7)example(3)com(0)" into "example.com".
func dnsLabels(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '(' {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			break
		}
		if b.Len() > 0 && i+j+1 < len(s) {
			b.WriteByte('.')
		}
		i += j + 1
	}
	return b.String()
}
