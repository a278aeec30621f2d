package event

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

var errBadJSON = errors.New("event: malformed flat JSON document")

// DecodeJSON reads one flat event document, as written by MarshalJSON (keys
// are dotted names; values are strings, numbers, booleans or arrays of them).
// It is a dedicated parser because decoding stored events is the hot path of
// hunt and report, and encoding/json's reflection costs several times more.
//
// Keys are interned: values are copied one by one, never as slices of the
// document, because a rule's state or a finding that keeps one value would
// keep the whole document alive (hunt's memory grew by half that way).
func DecodeJSON(b []byte) (*Event, error) { return DecodeJSONSelected(b, nil) }

// Selection names the fields a reader of stored events uses, so that the
// others are read past without being copied: hunt reads a few fields of a
// firewall session and never its original line, which is most of the bytes
// and most of the decoding. A nil Selection keeps every field.
type Selection struct {
	Only map[string]bool // when not nil, only these fields are kept…
	// …and those whose names end with one of these: fields named after
	// their dataset (postfix.queue_id, exim.queue_id).
	Suffixes []string
	Except   map[string]bool // never kept
}

// ExceptOriginal selects every field but the original line, which no rule
// or report reads and which is most of a stored event's bytes.
func ExceptOriginal() *Selection { return exceptOriginal }

var exceptOriginal = &Selection{Except: map[string]bool{FieldOriginal: true}}

func (s *Selection) keeps(name []byte) bool { return keeps(s, name) }

// Keeps says whether s keeps the field name (a nil Selection keeps all).
func (s *Selection) Keeps(name string) bool { return keeps(s, name) }

// keeps says whether sel keeps a field, named as text or as bytes.
func keeps[T string | []byte](s *Selection, name T) bool {
	if s == nil {
		return true
	}
	if s.Only != nil && !s.Only[string(name)] && !hasSuffix(s.Suffixes, name) {
		return false
	}
	return !s.Except[string(name)]
}

// Trim leaves e only the fields sel keeps, in a map of their number: an
// event held a while before it is read (put back in time order) then
// holds what a reader of the stored event would see, and no more memory.
func (e *Event) Trim(sel *Selection) {
	if sel == nil {
		return
	}
	n := 0
	for k := range e.Fields {
		if keeps(sel, k) {
			n++
		}
	}
	if n == len(e.Fields) {
		return
	}
	kept := make(map[string]any, n)
	for k, v := range e.Fields {
		if keeps(sel, k) {
			kept[k] = v
		}
	}
	e.Fields = kept
}

func hasSuffix[T string | []byte](suffixes []string, name T) bool {
	for _, x := range suffixes {
		if len(name) >= len(x) && string(name[len(name)-len(x):]) == x {
			return true
		}
	}
	return false
}

// DecodeJSONSelected is DecodeJSON keeping only the selected fields (and
// the time). It accepts and refuses exactly the documents DecodeJSON does:
// a value read past is still checked.
func DecodeJSONSelected(b []byte, sel *Selection) (*Event, error) {
	return DecodeJSONSelectedInto(nil, b, sel)
}

// DecodeJSONSelectedInto is DecodeJSONSelected into ev, emptied first (a
// new event when nil): a caller done with its events reuses their maps,
// which a stream of millions would otherwise allocate and collect one by
// one. On error ev may hold part of the document.
func DecodeJSONSelectedInto(ev *Event, b []byte, sel *Selection) (*Event, error) {
	names := keyNames.Get().(*internedKeys)
	defer keyNames.Put(names)
	if names.sel != sel {
		names.sel, names.last = sel, names.last[:0]
	}
	d := decoder{b: b}
	switch {
	case ev != nil:
		clear(ev.Fields)
		ev.Timestamp = time.Time{}
	case sel != nil && sel.Only != nil:
		// A few fields are kept: room for all of a document's would be
		// most of the allocation.
		ev = &Event{Fields: make(map[string]any, 16)}
	default:
		ev = New()
	}
	d.ws()
	if !d.eat('{') {
		return nil, errBadJSON
	}
	d.ws()
	if d.eat('}') {
		return ev, nil
	}
	for n := 0; ; n++ {
		d.ws()
		k, kept, ok := d.key(names, n)
		if !ok {
			return nil, errBadJSON
		}
		d.ws()
		if !d.eat(':') {
			return nil, errBadJSON
		}
		d.ws()
		if !kept {
			if !d.skip(true) {
				return nil, errBadJSON
			}
		} else if k != "@timestamp" && n < len(names.last) && names.last[n].name == k {
			// A kept name at the place it held before: its value is often
			// the one it had then (a dataset, an action, a device name),
			// shared instead of copied and boxed again.
			last := &names.last[n]
			if last.same != "" && d.plainIs(last.same) {
				ev.Fields[k] = last.val
			} else {
				start := d.i
				v, ok := d.value(true)
				if !ok {
					return nil, errBadJSON
				}
				if v != nil {
					ev.Fields[k] = v
				}
				// Only a string without escapes (its text two quotes longer
				// than the value) is compared by its text.
				if s, isStr := v.(string); isStr && s != "" && len(s) <= maxSharedValue && d.i-start == len(s)+2 {
					last.same, last.val = s, v
				} else {
					last.same, last.val = "", nil
				}
			}
		} else {
			v, ok := d.value(true)
			if !ok {
				return nil, errBadJSON
			}
			if k == "@timestamp" {
				s, _ := v.(string)
				t, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					return nil, err
				}
				ev.Timestamp = t
			} else if v != nil {
				ev.Fields[k] = v
			}
		}
		d.ws()
		if d.eat(',') {
			continue
		}
		if d.eat('}') {
			return ev, nil
		}
		return nil, errBadJSON
	}
}

// keyNames holds interned field names; a pool gives each decoding goroutine
// its own, bounded by maxKeyNames against documents of ever-new keys.
var keyNames = sync.Pool{New: func() any { return &internedKeys{names: make(map[string]string, 256)} }}

// internedKeys are the field names a decoder has met, and the names of the
// last document in order with what the selection said of each: stored
// events of one file share their sorted keys, so a name is most often the
// one at the same place in the document before, and one comparison of
// bytes replaces two map lookups.
type internedKeys struct {
	names map[string]string
	sel   *Selection
	last  []lastKey
}

type lastKey struct {
	name string
	kept bool
	// same is the last value read under the name at this place, when it
	// was a string written without escapes; val is it boxed.
	same string
	val  any
}

// maxSharedValue bounds the values compared: longer ones (messages,
// command lines) seldom repeat.
const maxSharedValue = 64

// plainIs says whether the string at d.i is s written without escapes,
// and reads past it if so. s has neither quote nor backslash (plain read
// it), so its text ends at the same quote.
func (d *decoder) plainIs(s string) bool {
	end := d.i + 1 + len(s)
	if end < len(d.b) && d.b[d.i] == '"' && d.b[end] == '"' && string(d.b[d.i+1:end]) == s {
		d.i = end + 1
		return true
	}
	return false
}

const maxKeyNames = 4096

type decoder struct {
	b []byte
	i int
}

func (d *decoder) ws() {
	for d.i < len(d.b) && (d.b[d.i] == ' ' || d.b[d.i] == '\n' || d.b[d.i] == '\t' || d.b[d.i] == '\r') {
		d.i++
	}
}

func (d *decoder) eat(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *decoder) value(allowArray bool) (any, bool) {
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '"':
		return d.str()
	case c == '[' && allowArray:
		d.i++
		var out []string
		d.ws()
		if d.eat(']') {
			return out, true
		}
		for {
			d.ws()
			v, ok := d.value(false)
			if !ok {
				return nil, false
			}
			switch x := v.(type) {
			case string:
				out = append(out, x)
			case int64:
				out = append(out, strconv.FormatInt(x, 10))
			case float64:
				out = append(out, strconv.FormatFloat(x, 'f', -1, 64))
			}
			d.ws()
			if d.eat(',') {
				continue
			}
			if d.eat(']') {
				return out, true
			}
			return nil, false
		}
	case c == 't' && d.lit("true"):
		return "true", true
	case c == 'f' && d.lit("false"):
		return "false", true
	case c == 'n' && d.lit("null"):
		return nil, true
	case c == '-' || c >= '0' && c <= '9':
		tok, isFloat := d.number()
		s := string(tok)
		if !isFloat {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return n, true
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, false
		}
		if f == float64(int64(f)) {
			return int64(f), true
		}
		return f, true
	}
	return nil, false
}

// number reads the bytes of a number at d.i; isFloat says whether it has
// a fraction, an exponent or a plus sign (what ParseInt does not read).
func (d *decoder) number() (tok []byte, isFloat bool) {
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if c == '.' || c == 'e' || c == 'E' || c == '+' {
			isFloat = true
		} else if !(c == '-' || c >= '0' && c <= '9') {
			break
		}
		d.i++
	}
	return d.b[start:d.i], isFloat
}

// skipNumber reads past a number, refusing what value refuses: value reads
// a number ParseInt or else ParseFloat reads, and ParseFloat reads every
// number ParseInt does; up to 18 digits after an optional minus sign,
// ParseInt always reads it, and nothing is converted.
func (d *decoder) skipNumber() bool {
	tok, _ := d.number()
	digits := tok
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if n := len(digits); n > 0 && n <= 18 {
		all := true
		for _, c := range digits {
			if c < '0' || c > '9' {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	if len(tok) == 0 {
		return false
	}
	_, err := strconv.ParseFloat(string(tok), 64)
	return err == nil
}

func (d *decoder) lit(s string) bool {
	if d.i+len(s) <= len(d.b) && string(d.b[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return true
	}
	return false
}

// str reads a JSON string.
func (d *decoder) str() (string, bool) {
	if raw, ok := d.plain(); ok {
		return string(raw), true
	}
	return d.withEscapes()
}

// key reads the n-th member name, interned unless it has escapes. A name
// the selection does not keep comes back as "" with kept false (an empty
// name that is kept comes back with kept true).
func (d *decoder) key(in *internedKeys, n int) (k string, kept, ok bool) {
	// Documents of one source repeat their names in the same order: the
	// name read at this place last time (by plain), when it is there
	// again, needs no search for its closing quote.
	if n < len(in.last) {
		if l := in.last[n]; d.plainIs(l.name) {
			if !l.kept {
				return "", false, true
			}
			return l.name, true, true
		}
	}
	raw, ok := d.plain()
	if !ok {
		k, ok := d.withEscapes()
		if !ok || k != "@timestamp" && !in.sel.keeps([]byte(k)) {
			return "", false, ok
		}
		return k, true, true
	}
	if n < len(in.last) && in.last[n].name == string(raw) {
		if !in.last[n].kept {
			return "", false, true
		}
		return in.last[n].name, true, true
	}
	k, hit := in.names[string(raw)]
	if !hit {
		k = string(raw)
		if len(in.names) < maxKeyNames {
			in.names[k] = k
		}
	}
	kept = k == "@timestamp" || in.sel.keeps(raw)
	if n < len(in.last) {
		in.last[n] = lastKey{name: k, kept: kept}
	} else if n == len(in.last) && n < maxKeyNames {
		in.last = append(in.last, lastKey{name: k, kept: kept})
	}
	if !kept {
		return "", false, true
	}
	return k, true, true
}

// skip reads past a value as value does, refusing what value refuses,
// without copying its strings.
func (d *decoder) skip(allowArray bool) bool {
	if d.i >= len(d.b) {
		return false
	}
	switch c := d.b[d.i]; {
	case c == '"':
		if _, ok := d.plain(); ok {
			return true
		}
		if !d.eat('"') {
			return false
		}
		start := d.i
		bs := bytes.IndexByte(d.b[start:], '\\')
		if bs < 0 {
			return false
		}
		d.i = start + bs
		return d.skipEscaped()
	case c == '-' || c >= '0' && c <= '9':
		return d.skipNumber()
	case c == '[' && allowArray:
		d.i++
		d.ws()
		if d.eat(']') {
			return true
		}
		for {
			d.ws()
			if !d.skip(false) {
				return false
			}
			d.ws()
			if d.eat(',') {
				continue
			}
			return d.eat(']')
		}
	}
	_, ok := d.value(allowArray)
	return ok
}

// plain reads a string without escapes at d.i, returning its bytes; for
// any other input it reads nothing and returns false.
func (d *decoder) plain() ([]byte, bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, false
	}
	start := d.i + 1
	end := bytes.IndexByte(d.b[start:], '"')
	if end < 0 || bytes.IndexByte(d.b[start:start+end], '\\') >= 0 {
		return nil, false
	}
	d.i = start + end + 1
	return d.b[start : start+end], true
}

// withEscapes reads a string that plain did not: one with escapes, or an
// unterminated one (an error).
func (d *decoder) withEscapes() (string, bool) {
	if !d.eat('"') {
		return "", false
	}
	start := d.i
	bs := bytes.IndexByte(d.b[start:], '\\')
	if bs < 0 {
		return "", false // no closing quote either
	}
	d.i = start + bs
	return d.escaped(start)
}

// skipEscaped reads past the rest of a string with escapes, refusing what
// escaped refuses: a bad escape, a \u without four hex digits (a
// surrogate pair is two of them), no closing quote. Byte by byte: the
// escapes of a stored line (FortiGate's \" around every quoted value) are
// too close together for two byte searches per escape to pay.
func (d *decoder) skipEscaped() bool {
	for d.i < len(d.b) {
		// Eight bytes at a time to the next quote or backslash.
		for d.i+8 <= len(d.b) {
			w := binary.LittleEndian.Uint64(d.b[d.i:])
			if m := hasByte(w, '"') | hasByte(w, '\\'); m != 0 {
				d.i += bits.TrailingZeros64(m) / 8
				break
			}
			d.i += 8
		}
		if d.i >= len(d.b) {
			break
		}
		switch d.b[d.i] {
		case '"':
			d.i++
			return true
		case '\\':
			if d.i+1 >= len(d.b) {
				return false
			}
			switch d.b[d.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i += 2
			case 'u':
				if _, ok := d.hex4(d.i + 2); !ok {
					return false
				}
				d.i += 6
			default:
				return false
			}
		default:
			d.i++
		}
	}
	return false
}

// hasByte flags (0x80) the bytes of w equal to c; the lowest flag is exact
// (a borrow may flag bytes above it).
func hasByte(w uint64, c byte) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	x := w ^ (ones * uint64(c))
	return (x - ones) &^ x & highs
}

// escaped reads the rest of a string from its first backslash at d.i,
// copying the runs between escapes whole.
func (d *decoder) escaped(start int) (string, bool) {
	buf := make([]byte, 0, d.i-start+64)
	buf = append(buf, d.b[start:d.i]...)
	for d.i < len(d.b) {
		// The next quote, then a backslash before it: two byte searches
		// are several times faster than one for either byte.
		run := bytes.IndexByte(d.b[d.i:], '"')
		if run < 0 {
			return "", false
		}
		if bs := bytes.IndexByte(d.b[d.i:d.i+run], '\\'); bs >= 0 {
			run = bs
		}
		buf = append(buf, d.b[d.i:d.i+run]...)
		d.i += run
		if d.b[d.i] == '"' {
			d.i++
			return string(buf), true
		}
		if d.i+1 >= len(d.b) {
			return "", false
		}
		d.i++
		var c byte
		switch e := d.b[d.i]; e {
		case '"', '\\', '/':
			c = e
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		case 'u':
			r, ok := d.hex4(d.i + 1)
			if !ok {
				return "", false
			}
			d.i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := d.hex4(d.i + 3); ok && d.i+2 < len(d.b) && d.b[d.i+1] == '\\' && d.b[d.i+2] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						d.i += 6
					}
				}
			}
			buf = utf8.AppendRune(buf, r)
			d.i++
			continue
		default:
			return "", false
		}
		buf = append(buf, c)
		d.i++
	}
	return "", false
}

func (d *decoder) hex4(at int) (rune, bool) {
	if at+4 > len(d.b) {
		return 0, false
	}
	var r rune
	for _, c := range d.b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
