package index

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Match evaluates a parsed query on one event, without any store: the
// query language's meaning written plainly (Fields' kinds; free text split
// into words as the full-text index splits it), which the stores are held to
// in tests. A nil query matches everything.
func (n *Node) Match(ev *event.Event) bool {
	if n == nil {
		return true
	}
	switch n.Op {
	case "and":
		for _, c := range n.Children {
			if !c.Match(ev) {
				return false
			}
		}
		return true
	case "or":
		for _, c := range n.Children {
			if c.Match(ev) {
				return true
			}
		}
		return false
	case "not":
		return !n.Children[0].Match(ev)
	}
	field := n.Field
	if field == "" {
		field = "message"
	}
	kind := Fields[field]
	if field == "event.id" {
		kind = Keyword
	}
	v := n.Value
	if n.Cmp != "" {
		v = strings.Trim(v, `"`)
	}
	wild := !n.Phrase && strings.ContainsAny(v, "*?")
	switch kind {
	case Number:
		have, ok := ev.Int(field)
		if v == "*" && !n.Phrase {
			return ok
		}
		want, err := strconv.ParseFloat(v, 64)
		return ok && err == nil && compare(float64(have), want, n.Cmp)
	case Timestamp:
		ts, ok := QueryTime(ev)
		if !ok {
			return false
		}
		if v == "*" && !n.Phrase {
			return true
		}
		t, err := ParseQueryTime(v)
		if err != nil {
			return false
		}
		return compare(float64(ts.Compare(t)), 0, n.Cmp)
	case Text:
		words := textWords(ev.Str(field))
		if wild {
			re := wildcard(strings.ToLower(v))
			for _, w := range words {
				if re.MatchString(w) {
					return true
				}
			}
			return false
		}
		want := textWords(v)
		if len(want) == 0 {
			return false
		}
		if n.Phrase {
			for i := 0; i+len(want) <= len(words); i++ {
				if slices.Equal(words[i:i+len(want)], want) {
					return true
				}
			}
			return false
		}
		for _, w := range want {
			if !slices.Contains(words, w) {
				return false
			}
		}
		return true
	case Keyword, Name:
		if n.Cmp != "" {
			return false
		}
		if kind == Name {
			v = strings.ToLower(v)
		}
		var re *regexp.Regexp
		if wild {
			re = wildcard(v)
		}
		for _, have := range FieldStrings(ev, field) {
			if have == "" {
				continue
			}
			if kind == Name {
				have = strings.ToLower(have)
			}
			if v == "*" && !n.Phrase || re != nil && re.MatchString(have) || re == nil && have == v {
				return true
			}
		}
	}
	return false
}

// FieldStrings is a field's values as text, as queries match them: lists
// element by element, numbers in decimal, booleans as true/false.
func FieldStrings(ev *event.Event, field string) []string {
	switch v := ev.Fields[field].(type) {
	case bool:
		return []string{strconv.FormatBool(v)}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return ev.Strings(field)
}

// textWords splits free text as the full-text index does (wordRuns: runs
// of letters, digits and underscores), lower-cased.
func textWords(s string) []string {
	var words []string
	b := []byte(s)
	start := -1
	for i := 0; i < len(b); {
		w, size := wordRune(b[i:])
		if w && start < 0 {
			start = i
		} else if !w && start >= 0 {
			words = append(words, strings.ToLower(s[start:i]))
			start = -1
		}
		i += size
	}
	if start >= 0 {
		words = append(words, strings.ToLower(s[start:]))
	}
	return words
}

// wildcard is the anchored regular expression of a pattern with * and ?.
func wildcard(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`)$`)
	return regexp.MustCompile(b.String())
}

func compare(have, want float64, cmp string) bool {
	switch cmp {
	case ">":
		return have > want
	case ">=":
		return have >= want
	case "<":
		return have < want
	case "<=":
		return have <= want
	}
	return have == want
}

// Query times are nanoseconds since 1970 in an int64, as the columnar store
// keeps them: 1677-09-21 to 2262-04-11.
var (
	MinQueryTime = time.Unix(0, math.MinInt64).UTC()
	MaxQueryTime = time.Unix(0, math.MaxInt64).UTC()
)

// QueryTime is an event's time as queries see it: none when the event has
// none, or when its clock gave a year outside 1677–2262 (a zeroed Windows
// FILETIME reads as 1601). Such an event keeps its time in the event store
// and in every output; time ranges do not match it and it is listed last.
func QueryTime(ev *event.Event) (time.Time, bool) {
	t := ev.Timestamp
	if t.IsZero() || t.Before(MinQueryTime) || t.After(MaxQueryTime) {
		return time.Time{}, false
	}
	return t, true
}
