package rules

import (
	"bytes"
	"strings"
	"sync"

	"github.com/exfiltrace/exfiltrace/event"
)

// A keyword rule searches every value of an event, so an event of its log
// source had to be decoded whole: one SigmaHQ rule (Mimikatz keywords, all
// Windows channels) made every Windows event cost a second, complete
// decoding and a search of all its values, about half of a SigmaHQ hunt.
// A rawGate asks the stored document first. A keyword can only match a
// string value (a number's digits are formatted anew, a boolean is "true"
// or "false", both written as they read), and the store's JSON writer
// (event.appendString, encoding/json before it) copies printable ASCII
// other than " \ < > & as it is. So the runs of such characters in a
// keyword, lowered, appear in the lowered document whenever the keyword
// matches; when none can, the event is decoded with the selected fields
// only and the keyword's matcher, searching a part of the values, still
// says no.

// rawKeyword is what one keyword value needs of a stored document: every
// piece (numbers in the engine's pieceSet), or nothing known (unknown) when
// the value is not a plain ASCII literal a string value must hold.
type rawKeyword struct {
	pieces  []int
	unknown bool
}

// rawGate is the keyword matchers of the rules that apply to some events.
type rawGate struct {
	matchers []rawMatcher
}

type rawMatcher struct {
	all      bool // keywords|all: every value must match
	keywords []rawKeyword
}

func (g *rawGate) add(k *keywordM, set *pieceSet) {
	rm := rawMatcher{all: k.all}
	for _, vm := range k.values {
		rm.keywords = append(rm.keywords, rawKeywordOf(vm, set))
	}
	g.matchers = append(g.matchers, rm)
}

// rawKeywordOf splits a keyword's literal at the characters a JSON writer
// may escape.
func rawKeywordOf(vm valueM, set *pieceSet) rawKeyword {
	m, ok := vm.(*strM)
	if !ok || m.kind == '*' || !mustBeString(m.lit) {
		return rawKeyword{unknown: true}
	}
	var k rawKeyword
	start := -1
	for i := 0; i <= len(m.lit); i++ {
		if i < len(m.lit) && m.lit[i] >= 0x80 {
			return rawKeyword{unknown: true}
		}
		if i < len(m.lit) && rawSafe(m.lit[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			k.pieces = append(k.pieces, set.add(strings.ToLower(m.lit[start:i])))
			start = -1
		}
	}
	if len(k.pieces) == 0 {
		return rawKeyword{unknown: true}
	}
	return k
}

// mustBeString: a value holding s is a string, not a number formatted by
// the decoder (digits, '.', '-'), whose stored form may differ (1e+21).
func mustBeString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c == '.' || c == '-') {
			return true
		}
	}
	return false
}

// rawSafe: printable ASCII that no JSON writer of the store escapes.
func rawSafe(c byte) bool {
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
}

// possible reports whether a keyword matcher of the gate could match the
// document scanned.
func (g *rawGate) possible(doc *scan) bool {
	if g == nil || len(g.matchers) == 0 {
		return false
	}
	found := doc.found()
	if found == nil {
		return true
	}
	for _, m := range g.matchers {
		if m.possible(found) {
			return true
		}
	}
	return false
}

func (m rawMatcher) possible(found []bool) bool {
	for _, k := range m.keywords {
		ok := k.possible(found)
		if m.all && !ok {
			return false
		}
		if !m.all && ok {
			return true
		}
	}
	return m.all
}

func (k rawKeyword) possible(found []bool) bool {
	if k.unknown {
		return true
	}
	for _, p := range k.pieces {
		if !found[p] {
			return false
		}
	}
	return true
}

// pieceSet finds which of the keywords' pieces a document holds, ASCII
// case folded, in one pass. A search per piece cost more than the decoding
// it spared (20 Mimikatz keywords over a Windows event's 3 KB), and so did
// testing every position that starts a piece (keys such as "event_data"
// start "event::clear"). Each piece of four bytes or more is looked for by
// its least common four bytes (anchorOf): the pass hashes every four bytes
// of the document into a bit table, and only a set bit is looked up and
// tested. Shorter pieces are each searched for by their least common byte.
type pieceSet struct {
	pieces []string
	index  map[string]int
	once   sync.Once
	grams  map[uint32][]anchor
	bits   [gramBits / 64]uint64
	short  []int // pieces under four bytes
}

// anchor is a piece found by the four bytes at off.
type anchor struct {
	piece int
	off   int
}

const gramBits = 1 << 16

func gramHash(g uint32) uint32 { return (g * 0x9E3779B1) >> 16 }

func (s *pieceSet) add(p string) int {
	if i, ok := s.index[p]; ok {
		return i
	}
	if s.index == nil {
		s.index = map[string]int{}
	}
	s.index[p] = len(s.pieces)
	s.pieces = append(s.pieces, p)
	return len(s.pieces) - 1
}

func (s *pieceSet) build() {
	s.grams = map[uint32][]anchor{}
	for i, p := range s.pieces {
		if len(p) < 4 {
			s.short = append(s.short, i)
			continue
		}
		off := anchorOf(p)
		g := uint32(p[off])<<24 | uint32(p[off+1])<<16 | uint32(p[off+2])<<8 | uint32(p[off+3])
		s.grams[g] = append(s.grams[g], anchor{piece: i, off: off})
		h := gramHash(g)
		s.bits[h/64] |= 1 << (h % 64)
	}
}

// anchorOf chooses the four bytes of p least likely elsewhere in a stored
// event: those with the most characters other than lowercase letters
// (JSON keys and most values are words), the last such at a tie.
func anchorOf(p string) int {
	best, bestScore := 0, -1
	for off := 0; off+4 <= len(p); off++ {
		score := 0
		for _, c := range []byte(p[off : off+4]) {
			if c < 'a' || c > 'z' {
				score++
			}
		}
		if score >= bestScore {
			best, bestScore = off, score
		}
	}
	return best
}

var lowerASCII = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] = byte(i) + 'a' - 'A'
		}
	}
	return t
}()

// scan is one stored document, searched once for every gate that asks.
type scan struct {
	set  *pieceSet
	doc  []byte
	hits []bool
	done bool
	any  bool // the document holds a character that lowers to ASCII
}

var scans = sync.Pool{New: func() any { return new(scan) }}

// found says which pieces the document holds; nil when it holds a
// character that lowers to ASCII, and any keyword might match.
func (d *scan) found() []bool {
	if d.done {
		if d.any {
			return nil
		}
		return d.hits
	}
	d.done = true
	s := d.set
	s.once.Do(s.build)
	d.hits = append(d.hits[:0], make([]bool, len(s.pieces))...)
	doc := d.doc
	memberValues(doc, func(lo, hi int) bool {
		var g uint32
		for i := lo; i < hi; i++ {
			a := lowerASCII[doc[i]]
			if (a == 0xc4 || a == 0xe2 || a == '\\') && lowersToASCII(doc[i:hi]) {
				d.any = true
				return false
			}
			g = g<<8 | uint32(a)
			if h := gramHash(g); i-lo < 3 || s.bits[h/64]&(1<<(h%64)) == 0 {
				continue
			}
			for _, an := range s.grams[g] {
				at := i - 3 - an.off
				if at >= lo && !d.hits[an.piece] && hasFoldedPrefix(doc[at:hi], s.pieces[an.piece]) {
					d.hits[an.piece] = true
				}
			}
		}
		return true
	})
	if d.any {
		return nil
	}
	for _, p := range s.short {
		d.hits[p] = containsFolded(doc, s.pieces[p])
	}
	return d.hits
}

// memberValues calls fn with the span of each member's value in a stored
// document, the flat object the store's writer wrote, until fn returns
// false. Keyword searches read values only, and not the original line:
// names are half of a Windows event's bytes, the original line most of a
// firewall event's. Where the document is not as expected, fn gets the
// rest of it whole: the gate may let through, never miss.
func memberValues(doc []byte, fn func(lo, hi int) bool) {
	if len(doc) == 0 || doc[0] != '{' {
		fn(0, len(doc))
		return
	}
	for i := 1; i < len(doc); {
		if doc[i] == '}' && i == len(doc)-1 {
			return
		}
		q := stringEnd(doc, i)
		if q < 0 || q+1 >= len(doc) || doc[q+1] != ':' {
			fn(i, len(doc))
			return
		}
		original := string(doc[i+1:q]) == event.FieldOriginal
		lo := q + 2
		hi := valueEnd(doc, lo)
		if hi < 0 {
			fn(lo, len(doc))
			return
		}
		if !original && !fn(lo, hi) {
			return
		}
		if doc[hi] == '}' {
			if hi != len(doc)-1 {
				fn(hi, len(doc))
			}
			return
		}
		i = hi + 1
	}
}

// stringEnd is the index of the quote closing the JSON string opening at
// doc[i], or -1.
func stringEnd(doc []byte, i int) int {
	if i >= len(doc) || doc[i] != '"' {
		return -1
	}
	for j := i + 1; ; {
		k := bytes.IndexByte(doc[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		bs := 0
		for b := q - 1; b > i && doc[b] == '\\'; b-- {
			bs++
		}
		if bs%2 == 0 {
			return q
		}
		j = q + 1
	}
}

// valueEnd is the index of the comma or brace ending the member value at
// doc[lo] (a string, an array of them or a bare literal), or -1.
func valueEnd(doc []byte, lo int) int {
	j := lo
	switch {
	case lo >= len(doc):
		return -1
	case doc[lo] == '"':
		q := stringEnd(doc, lo)
		if q < 0 {
			return -1
		}
		j = q + 1
	case doc[lo] == '[':
		for j = lo + 1; j < len(doc) && doc[j] != ']'; j++ {
			if doc[j] == '"' {
				if j = stringEnd(doc, j); j < 0 {
					return -1
				}
			}
		}
		j++
	default:
		for j < len(doc) && doc[j] != ',' && doc[j] != '}' && doc[j] != '"' {
			j++
		}
	}
	if j < len(doc) && (doc[j] == ',' || doc[j] == '}') {
		return j
	}
	return -1
}

// lowersToASCII: b starts with one of the two non-ASCII characters that
// lower to ASCII (İ to i, the Kelvin sign to k), written as it is or
// escaped: with them a value can hold a keyword its ASCII bytes, lowered,
// do not show.
func lowersToASCII(b []byte) bool {
	switch {
	case len(b) >= 2 && b[0] == 0xc4 && b[1] == 0xb0:
		return true
	case len(b) >= 3 && b[0] == 0xe2 && b[1] == 0x84 && b[2] == 0xaa:
		return true
	case len(b) >= 6 && b[0] == '\\' && b[1] == 'u':
		h := string(b[2:6])
		return h == "0130" || strings.EqualFold(h, "212a")
	}
	return false
}

// containsFolded finds a short lowered piece by its least common byte
// (anchorOf's order), with the bytes package's fast search for it in both
// cases.
func containsFolded(doc []byte, p string) bool {
	off := 0
	for i := range len(p) {
		if p[i] < 'a' || p[i] > 'z' {
			off = i
		}
	}
	c := p[off]
	for i := 0; i < len(doc); {
		j := bytes.IndexByte(doc[i:], c)
		if up := c - ('a' - 'A'); 'a' <= c && c <= 'z' {
			if k := bytes.IndexByte(doc[i:], up); k >= 0 && (j < 0 || k < j) {
				j = k
			}
		}
		if j < 0 {
			return false
		}
		at := i + j - off
		if at >= 0 && hasFoldedPrefix(doc[at:], p) {
			return true
		}
		i += j + 1
	}
	return false
}

// hasFoldedPrefix: b starts with the lowered ASCII piece p, ASCII case
// folded.
func hasFoldedPrefix(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if lowerASCII[b[i]] != p[i] {
			return false
		}
	}
	return true
}
