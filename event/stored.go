package event

import (
	"encoding/binary"
	"errors"
	"time"
	"unicode/utf8"
)

// The event store keeps each event in a compact binary form: writing an
// event as JSON (quoting and escaping its original line) and reading it
// back (scanning that line again only to skip it) were a third of
// `analyze` on firewall lines. The form holds exactly what a JSON round
// trip would give back (FuzzStoredEqualsJSON); an event it cannot hold so
// — a string that is not UTF-8, which JSON would replace, a value of
// another type, a time outside years 0–9999 — is stored as JSON, and
// readers take either.
//
// Layout: the byte storedMagic; the time (0, or 1 then a signed varint of
// Unix seconds and a uvarint of nanoseconds); a uvarint count of members;
// each member a uvarint-prefixed name, a tag and its value — tagString and
// a uvarint-prefixed string, tagInt and a signed varint, tagList and a
// uvarint count of uvarint-prefixed strings. Members are in name order.

const (
	storedMagic = 0x01 // never the first byte of a JSON document
	tagString   = 's'
	tagInt      = 'i'
	tagList     = 'l'
)

var errBadStored = errors.New("event: malformed stored document")

// AppendStored appends the event in the event store's form: binary when
// it reads back as its JSON would, JSON otherwise.
func (e *Event) AppendStored(dst []byte) ([]byte, error) {
	if out, ok := e.appendBinary(dst); ok {
		return out, nil
	}
	return e.AppendJSON(dst)
}

func (e *Event) appendBinary(dst []byte) ([]byte, bool) {
	if _, ok := e.Fields["@timestamp"]; ok {
		return dst, false // JSON would read it as the event's time
	}
	start := len(dst)
	dst = append(dst, storedMagic)
	if e.Timestamp.IsZero() {
		dst = append(dst, 0)
	} else {
		t := e.Timestamp.UTC()
		if y := t.Year(); y < 0 || y > 9999 {
			return dst[:start], false // RFC 3339 cannot write it
		}
		dst = append(dst, 1)
		dst = binary.AppendVarint(dst, t.Unix())
		dst = binary.AppendUvarint(dst, uint64(t.Nanosecond()))
	}
	ko := keyOrders.Get().(*keyOrder)
	defer keyOrders.Put(ko)
	keys := ko.sorted(e.Fields, nil, false, "")
	n := 0
	for _, k := range keys {
		if kept(e.Fields[k]) {
			n++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	for _, k := range keys {
		v := e.Fields[k]
		if !kept(v) {
			continue
		}
		if !utf8.ValidString(k) {
			return dst[:start], false
		}
		dst = appendStr(dst, k)
		switch x := v.(type) {
		case string:
			if !utf8.ValidString(x) {
				return dst[:start], false
			}
			dst = appendStr(append(dst, tagString), x)
		case bool:
			// JSON's true and false read back as these strings.
			s := "false"
			if x {
				s = "true"
			}
			dst = appendStr(append(dst, tagString), s)
		case int64:
			dst = binary.AppendVarint(append(dst, tagInt), x)
		case int:
			dst = binary.AppendVarint(append(dst, tagInt), int64(x))
		case []string:
			dst = binary.AppendUvarint(append(dst, tagList), uint64(len(x)))
			for _, s := range x {
				if !utf8.ValidString(s) {
					return dst[:start], false
				}
				dst = appendStr(dst, s)
			}
		default:
			return dst[:start], false
		}
	}
	return dst, true
}

// kept reports whether a member survives a JSON round trip: null does not.
func kept(v any) bool {
	if v == nil {
		return false
	}
	if l, ok := v.([]string); ok && l == nil {
		return false
	}
	return true
}

func appendStr(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// DecodeStored reads one document of the event store, in either form.
func DecodeStored(b []byte) (*Event, error) { return DecodeStoredSelected(b, nil) }

// DecodeStoredSelected is DecodeStored keeping only the selected fields
// (and the time), as DecodeJSONSelected does.
func DecodeStoredSelected(b []byte, sel *Selection) (*Event, error) {
	if len(b) == 0 || b[0] != storedMagic {
		return DecodeJSONSelected(b, sel)
	}
	names := keyNames.Get().(*internedKeys)
	defer keyNames.Put(names)
	if names.sel != sel {
		names.sel, names.last = sel, names.last[:0]
	}
	r := storedReader{b: b, i: 1}
	var ev *Event
	if sel != nil && sel.Only != nil {
		ev = &Event{Fields: make(map[string]any, 16)}
	} else {
		ev = New()
	}
	var ok bool
	if ev.Timestamp, ok = r.time(); !ok {
		return nil, errBadStored
	}
	count, ok := r.uvarint()
	if !ok || count > uint64(len(b)) {
		return nil, errBadStored
	}
	for n := 0; n < int(count); n++ {
		raw, ok := r.bytes()
		if !ok {
			return nil, errBadStored
		}
		if string(raw) == "@timestamp" {
			return nil, errBadStored // the time is never a member here
		}
		k, keep := names.name(raw, n)
		if !keep {
			if !r.skip() {
				return nil, errBadStored
			}
			continue
		}
		v, ok := r.value()
		if !ok {
			return nil, errBadStored
		}
		ev.Fields[k] = v
	}
	if r.i != len(b) {
		return nil, errBadStored
	}
	return ev, nil
}

// StoredJSON gives a stored document as JSON (MarshalJSON's document), for
// a reader that takes JSON, such as Elasticsearch.
func StoredJSON(b []byte) ([]byte, error) {
	if len(b) == 0 || b[0] != storedMagic {
		return b, nil
	}
	ev, err := DecodeStored(b)
	if err != nil {
		return nil, err
	}
	return ev.AppendJSON(make([]byte, 0, len(b)+len(b)/2))
}

// StoredTime reads a stored document's time without the rest; ok is false
// for a JSON document.
func StoredTime(b []byte) (t time.Time, ok bool) {
	if len(b) == 0 || b[0] != storedMagic {
		return time.Time{}, false
	}
	r := storedReader{b: b, i: 1}
	t, ok = r.time()
	return t, ok
}

type storedReader struct {
	b []byte
	i int
}

func (r *storedReader) uvarint() (uint64, bool) {
	v, n := binary.Uvarint(r.b[r.i:])
	if n <= 0 {
		return 0, false
	}
	r.i += n
	return v, true
}

func (r *storedReader) time() (time.Time, bool) {
	if r.i >= len(r.b) {
		return time.Time{}, false
	}
	has := r.b[r.i]
	r.i++
	switch has {
	case 0:
		return time.Time{}, true
	case 1:
	default:
		return time.Time{}, false
	}
	sec, n := binary.Varint(r.b[r.i:])
	if n <= 0 {
		return time.Time{}, false
	}
	r.i += n
	nsec, ok := r.uvarint()
	if !ok || nsec >= 1e9 {
		return time.Time{}, false
	}
	t := time.Unix(sec, int64(nsec)).UTC()
	if y := t.Year(); y < 0 || y > 9999 || t.IsZero() {
		return time.Time{}, false // never written so
	}
	return t, true
}

// bytes reads a uvarint-prefixed string's bytes.
func (r *storedReader) bytes() ([]byte, bool) {
	l, ok := r.uvarint()
	if !ok || l > uint64(len(r.b)-r.i) {
		return nil, false
	}
	s := r.b[r.i : r.i+int(l)]
	r.i += int(l)
	return s, true
}

func (r *storedReader) value() (any, bool) {
	if r.i >= len(r.b) {
		return nil, false
	}
	tag := r.b[r.i]
	r.i++
	switch tag {
	case tagString:
		s, ok := r.bytes()
		return string(s), ok
	case tagInt:
		v, n := binary.Varint(r.b[r.i:])
		if n <= 0 {
			return nil, false
		}
		r.i += n
		return v, true
	case tagList:
		count, ok := r.uvarint()
		if !ok || count > uint64(len(r.b)-r.i) {
			return nil, false
		}
		var out []string // an empty list reads back as JSON's [] does
		if count > 0 {
			out = make([]string, 0, count)
		}
		for range count {
			s, ok := r.bytes()
			if !ok {
				return nil, false
			}
			out = append(out, string(s))
		}
		return out, true
	}
	return nil, false
}

// skip reads past a value, checking it as value would.
func (r *storedReader) skip() bool {
	if r.i >= len(r.b) {
		return false
	}
	tag := r.b[r.i]
	r.i++
	switch tag {
	case tagString:
		_, ok := r.bytes()
		return ok
	case tagInt:
		_, n := binary.Varint(r.b[r.i:])
		r.i += max(n, 0)
		return n > 0
	case tagList:
		count, ok := r.uvarint()
		if !ok || count > uint64(len(r.b)-r.i) {
			return false
		}
		for range count {
			if _, ok := r.bytes(); !ok {
				return false
			}
		}
		return true
	}
	return false
}
