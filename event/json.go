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
	return appendObject(dst, m, filter{}, false, "", nil)
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
	out, err := appendObject(dst, m, filter{skip: skip}, false, "", nil)
	return out, err == nil, err
}

// filter is what appendObject leaves out: the keys in skip, and those sel
// does not keep.
type filter struct {
	sel  *Selection
	skip map[string]bool
}

func (f filter) omits(k string) bool {
	return f.skip != nil && f.skip[k] || f.sel != nil && !keeps(f.sel, k)
}

// appendObject writes m plus, when hasExtra, one more member that takes the
// place of m's own under extraKey (written whatever the filter says).
//
// Documents of one parser mostly share their keys, so the sorted keys of
// the last few kinds of document (and, per Selection, which of them are
// written) are remembered: a document with the same keys as one of them is
// written in one pass that looks each key up once and finds out on the way
// that it has those keys (TestKeyOrderFollowsEachDocument,
// FuzzAppendObjectSequence). A few, not one: Postfix's events of a
// connection, a message and a delivery come in turn, and with one order
// remembered every one of them was sorted again.
func appendObject(dst []byte, m map[string]any, f filter, hasExtra bool, extraKey string, extra any) ([]byte, error) {
	set := keyOrders.Get().(*keyOrderSet)
	defer keyOrders.Put(set)
	n := len(m) // the keys of m's order
	if hasExtra {
		if _, ok := m[extraKey]; !ok {
			n++
		}
	}
	for i, ko := range set.orders {
		if len(ko.keys) != n || !ko.fits(f, hasExtra, extraKey) {
			continue
		}
		out, same, err := ko.write(dst, m, f, hasExtra, extraKey, extra)
		if same || err != nil {
			set.use(i)
			return out, err
		}
	}
	ko := set.add()
	ko.learn(m, f, hasExtra, extraKey)
	out, _, err := ko.write(dst, m, f, hasExtra, extraKey, extra)
	return out, err
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
		return appendObject(dst, x, filter{}, false, "", nil)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// keyOrder is the last document's keys, sorted, with the extra key among
// them, and for a Selection whether each is written.
type keyOrder struct {
	keys     []string
	written  []bool
	sel      *Selection // written was decided for this selection (nil: per call)
	hasExtra bool
	extraKey string
}

// keyOrderSet holds the orders of the last kinds of document written, the
// most recently used first.
type keyOrderSet struct{ orders []*keyOrder }

// maxKeyOrders bounds the kinds remembered: a miss tries each, so a parser
// whose documents all differ pays at most this many failed passes, each
// stopping at the first key the document lacks.
const maxKeyOrders = 8

var keyOrders = sync.Pool{New: func() any { return &keyOrderSet{} }}

// use moves order i to the front.
func (s *keyOrderSet) use(i int) {
	ko := s.orders[i]
	copy(s.orders[1:i+1], s.orders[:i])
	s.orders[0] = ko
}

// add returns an order to learn, at the front: a new one, or the least
// recently used one's storage when the set is full.
func (s *keyOrderSet) add() *keyOrder {
	if len(s.orders) < maxKeyOrders {
		s.orders = append(s.orders, &keyOrder{})
	}
	s.use(len(s.orders) - 1)
	return s.orders[0]
}

// fits says whether the remembered order was made for this kind of call.
func (ko *keyOrder) fits(f filter, hasExtra bool, extraKey string) bool {
	return len(ko.keys) > 0 && ko.hasExtra == hasExtra && ko.extraKey == extraKey && ko.sel == f.sel
}

// learn remembers m's keys in order.
func (ko *keyOrder) learn(m map[string]any, f filter, hasExtra bool, extraKey string) {
	keys := ko.keys[:0]
	for k := range m {
		if !hasExtra || k != extraKey {
			keys = append(keys, k)
		}
	}
	if hasExtra {
		keys = append(keys, extraKey)
	}
	slices.Sort(keys)
	ko.keys, ko.hasExtra, ko.extraKey, ko.sel = keys, hasExtra, extraKey, f.sel
	ko.written = ko.written[:0]
	for _, k := range keys {
		ko.written = append(ko.written, hasExtra && k == extraKey || f.sel == nil || keeps(f.sel, k))
	}
}

// write writes m in the remembered order; same is false (and what was
// written is to be dropped) when m's keys are not the remembered ones.
func (ko *keyOrder) write(dst []byte, m map[string]any, f filter, hasExtra bool, extraKey string, extra any) (out []byte, same bool, err error) {
	dst = append(dst, '{')
	found, first := 0, true
	for i, k := range ko.keys {
		var v any
		if hasExtra && k == extraKey {
			v = extra
		} else {
			var ok bool
			if v, ok = m[k]; !ok {
				return dst, false, nil
			}
			found++
			if !ko.written[i] || f.skip != nil && f.skip[k] {
				continue
			}
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, k)
		dst = append(dst, ':')
		if dst, err = appendValue(dst, v); err != nil {
			return nil, true, err
		}
	}
	inM := 0
	if hasExtra {
		if _, ok := m[extraKey]; ok {
			inM = 1
		}
	}
	if found != len(m)-inM {
		return dst, false, nil
	}
	return append(dst, '}'), true, nil
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
	if e.Timestamp.IsZero() {
		return appendObject(dst, e.Fields, filter{sel: sel}, false, "", nil)
	}
	return appendObject(dst, e.Fields, filter{sel: sel}, true, "@timestamp", e.Timestamp.UTC().Format(time.RFC3339Nano))
}

// AppendJSON appends the event's flat document (MarshalJSON's output).
func (e *Event) AppendJSON(dst []byte) ([]byte, error) { return e.AppendJSONSelected(dst, nil) }
