package event

import (
	"encoding/json"
	"slices"
	"strconv"
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
	out, err := appendObject(dst, m, skip, false, "", nil)
	return out, err == nil, err
}

// appendObject writes m plus, when extraKey is set, one more member that
// takes the place of m's own under that key.
func appendObject(dst []byte, m map[string]any, skip map[string]bool, hasExtra bool, extraKey string, extra any) ([]byte, error) {
	keys := make([]string, 0, len(m)+1)
	for k := range m {
		if (!hasExtra || k != extraKey) && !skip[k] {
			keys = append(keys, k)
		}
	}
	if hasExtra {
		keys = append(keys, extraKey)
	}
	slices.Sort(keys)
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

// appendString quotes s; strings needing escapes (quotes, controls, the
// HTML characters encoding/json escapes, invalid UTF-8, U+2028/9) go to
// encoding/json.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			if c >= utf8.RuneSelf && plainUTF8(s[i:]) {
				break
			}
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// plainUTF8 reports whether s is valid UTF-8 with nothing encoding/json
// escapes.
func plainUTF8(s string) bool {
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return false
			}
		case r < 0x20, r == '"', r == '\\', r == '<', r == '>', r == '&', r == '\u2028', r == '\u2029':
			return false
		}
	}
	return true
}

// AppendJSON appends the event's flat document (MarshalJSON's output).
func (e *Event) AppendJSON(dst []byte) ([]byte, error) {
	if e.Timestamp.IsZero() {
		return appendObject(dst, e.Fields, nil, false, "", nil)
	}
	return appendObject(dst, e.Fields, nil, true, "@timestamp", e.Timestamp.UTC().Format(time.RFC3339Nano))
}
