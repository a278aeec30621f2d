package event

import (
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Writing each event as JSON (event store, columnar store) was the largest
// cost of ingest after parsing: encoding/json sorts a map's keys through
// reflection. AppendObject writes the event model's value types directly and
// leaves anything else to encoding/json, byte for byte the same output
// (TestAppendObjectEqualsEncodingJSON).

// AppendObject appends m as a JSON object with sorted keys, as json.Marshal
// would write it.
func AppendObject(dst []byte, m map[string]any) ([]byte, error) {
	return appendObject(dst, m, nil, false, "", nil)
}

// AppendObjectWithout is AppendObject leaving out the keys in skip; it
// returns dst unchanged, and false, when nothing is left.
func AppendObjectWithout(dst []byte, m map[string]any, skip map[string]bool) ([]byte, bool, error) {
	left := false
	for k := range m {
		if !skip[k] {
			left = true
			break
		}
	}
	if !left {
		return dst, false, nil
	}
	out, err := appendObject(dst, m, func(k string) bool { return skip[k] }, false, "", nil)
	return out, err == nil, err
}

// appendObject writes m plus, when extraKey is set, one more member that
// takes the place of m's own under that key.
func appendObject(dst []byte, m map[string]any, omit func(string) bool, hasExtra bool, extraKey string, extra any) ([]byte, error) {
	ko := keyOrders.Get().(*keyOrder)
	defer keyOrders.Put(ko)
	keys := ko.sorted(m, omit, hasExtra, extraKey)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		v := m[k]
		if hasExtra && k == extraKey {
			v = extra
		}
		var err error
		if dst, err = appendValue(dst, v); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

func appendValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendString(dst, x), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case nil:
		return append(dst, "null"...), nil
	case []string:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, s := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, s)
		}
		return append(dst, ']'), nil
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		return appendObject(dst, x, nil, false, "", nil)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// keyOrder remembers the last sorted key list: events from one parser
// mostly share their keys, and sorting them for every event was a tenth of
// writing the event store.
type keyOrder struct{ keys []string }

var keyOrders = sync.Pool{New: func() any { return &keyOrder{} }}

func (ko *keyOrder) sorted(m map[string]any, omit func(string) bool, hasExtra bool, extraKey string) []string {
	n := 0
	for k := range m {
		if (!hasExtra || k != extraKey) && (omit == nil || !omit(k)) {
			n++
		}
	}
	if hasExtra {
		n++
	}
	if len(ko.keys) == n && ko.holds(m, omit, hasExtra, extraKey) {
		return ko.keys
	}
	keys := ko.keys[:0]
	for k := range m {
		if (!hasExtra || k != extraKey) && (omit == nil || !omit(k)) {
			keys = append(keys, k)
		}
	}
	if hasExtra {
		keys = append(keys, extraKey)
	}
	slices.Sort(keys)
	ko.keys = keys
	return keys
}

// holds reports whether every remembered key is one to write; with equal
// counts the two sets are then the same.
func (ko *keyOrder) holds(m map[string]any, omit func(string) bool, hasExtra bool, extraKey string) bool {
	for _, k := range ko.keys {
		if hasExtra && k == extraKey {
			continue
		}
		if _, ok := m[k]; !ok || omit != nil && omit(k) {
			return false
		}
	}
	return true
}

// jsonSafe marks the ASCII bytes encoding/json writes as they are.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// appendString quotes s exactly as encoding/json does with HTML escaping
// (TestAppendObjectEqualsEncodingJSON): FortiGate and CEF lines carry quotes
// in event.original, and handing those to encoding/json cost a tenth of
// writing the event store.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendJSONSelected is AppendJSON writing only the fields sel keeps (and
// the time): a scratch case made for one report stores what the report
// reads. A nil sel writes every field.
func (e *Event) AppendJSONSelected(dst []byte, sel *Selection) ([]byte, error) {
	if sel == nil {
		return e.AppendJSON(dst)
	}
	omit := func(k string) bool { return !keeps(sel, k) }
	if e.Timestamp.IsZero() {
		return appendObject(dst, e.Fields, omit, false, "", nil)
	}
	return appendObject(dst, e.Fields, omit, true, "@timestamp", e.Timestamp.UTC().Format(time.RFC3339Nano))
}

// AppendJSON appends the event's flat document (MarshalJSON's output).
func (e *Event) AppendJSON(dst []byte) ([]byte, error) {
	if e.Timestamp.IsZero() {
		return appendObject(dst, e.Fields, nil, false, "", nil)
	}
	return appendObject(dst, e.Fields, nil, true, "@timestamp", e.Timestamp.UTC().Format(time.RFC3339Nano))
}
