package parsers

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// explainUnknown is the error for a text file no format takes: what its
// first lines look like, which formats came closest (how many lines each
// recognised) and why each refused the first line, and how to force one.
func explainUnknown(head []byte) error {
	var lines []string
	for _, l := range headLines(head, 40) {
		if !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
		if len(lines) == 20 {
			break
		}
	}
	if len(lines) == 0 {
		return fmt.Errorf("unknown format: no text line in the first %d bytes (force one with --format; 'exfiltrace formats' lists them)", len(head))
	}
	first := lines[0]
	type near struct {
		f     LineFormat
		lines int
	}
	var closest []near
	for _, f := range registry {
		m, ok := f.(lineMatcher)
		if !ok {
			continue
		}
		n := 0
		for _, l := range lines {
			if m.matchLine(l) {
				n++
			}
		}
		if n > 0 {
			closest = append(closest, near{m, n})
		}
	}
	sort.SliceStable(closest, func(i, j int) bool { return closest[i].lines > closest[j].lines })
	if len(closest) == 0 {
		for _, name := range shapeCandidates(first) {
			if f, err := Lookup(name); err == nil {
				if lf, ok := f.(LineFormat); ok {
					closest = append(closest, near{lf, 0})
				}
			}
		}
	}
	if len(closest) > 3 {
		closest = closest[:3]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "unknown format: none of the first %d lines fits one known format", len(lines))
	if shape := describeShape(first); shape != "" {
		fmt.Fprintf(&b, "; the first line %s", shape)
	}
	fmt.Fprintf(&b, "; first line %q", clip(first, 160))
	if len(closest) > 0 {
		b.WriteString("; closest:")
		for i, c := range closest {
			if i > 0 {
				b.WriteString(";")
			}
			if c.lines > 0 {
				fmt.Fprintf(&b, " %s (%d of %d lines look like it", c.f.Name(), c.lines, len(lines))
			} else {
				fmt.Fprintf(&b, " %s (same envelope", c.f.Name())
			}
			if why := refusal(c.f, first); why != "" {
				fmt.Fprintf(&b, "; first line refused: %s", why)
			}
			b.WriteString(")")
		}
	}
	b.WriteString(". Force a format with --format NAME ('exfiltrace formats' lists them: " + strings.Join(Names(), ", ") + ")")
	return fmt.Errorf("%s", b.String())
}

// refusal is what a format's decoder says of a line, "" if it reads it.
func refusal(f LineFormat, line string) string {
	dec := f.NewDecoder(&Options{TZ: time.UTC, Year: 2000})
	var raw string
	err := dec.Line(1, []byte(line), func(ev *event.Event, _ string) {
		if ev.Fields[event.FieldKind] == event.KindRaw {
			raw = ev.Str(event.FieldError)
		}
	})
	switch {
	case err != nil:
		return err.Error()
	case raw != "":
		return raw
	}
	return ""
}

// describeShape says what envelope a line has, to orient the analyst.
func describeShape(l string) string {
	t := strings.TrimSpace(l)
	switch {
	case strings.HasPrefix(t, "{"):
		var m map[string]any
		if json.Unmarshal([]byte(t), &m) != nil {
			return "starts like JSON but is not a complete JSON object"
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) > 8 {
			keys = append(keys[:8], "…")
		}
		return "is a JSON object with keys " + strings.Join(keys, ", ")
	}
	c := syslogClock{Year: 2000, Loc: time.UTC}
	if h, err := c.parse(l); err == nil {
		s := "has a syslog header (host " + h.Host
		if h.Program != "" {
			s += ", program " + h.Program
		}
		return s + ")"
	}
	if n := strings.Count(t, "="); n >= 3 {
		return fmt.Sprintf("is key=value text (%d pairs)", n)
	}
	if n := strings.Count(t, ","); n >= 5 {
		return fmt.Sprintf("is comma-separated (%d fields)", n+1)
	}
	return ""
}

// shapeCandidates are the formats whose envelope a line shares, when no
// format recognised any line.
func shapeCandidates(l string) []string {
	t := strings.TrimSpace(l)
	switch {
	case strings.HasPrefix(t, "{"):
		return []string{"json-export", "winlogbeat", "suricata"}
	case strings.Count(t, "=") >= 3:
		return []string{"fortigate", "stormshield", "sonicwall"}
	case strings.Count(t, ",") >= 5:
		return []string{"panos", "pf-filterlog", "exchange-protocol"}
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
