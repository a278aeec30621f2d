package evtx

import (
	"bytes"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// xmlChars passes text XML on with the characters XML 1.0 forbids made
// U+FFFD: control bytes and U+FFFE/U+FFFF written raw (libevtx's
// evtxexport writes the former; a string holding a binary value can hold
// the latter) and
// character references to them (python-evtx's XML 1.1 output does), which
// Go's decoder refuses and which would otherwise end the file's reading.
// Strings in event data can hold them: a binary value rendered as text.
type xmlChars struct {
	r    io.Reader
	buf  []byte
	held []byte // a trailing "&#…" or partial UTF-8 sequence whose end has not been read yet
	out  []byte
	err  error
	// legacy counts the bytes that were not UTF-8, read as Windows-1252.
	legacy int64
}

func newXMLChars(r io.Reader) *xmlChars { return &xmlChars{r: r, buf: make([]byte, 32<<10)} }

// maxCharRef bounds what is held back as a possible reference cut between
// two reads; leading zeros make references of any length, and one longer
// than this reaches the decoder as written (which refuses it if forbidden:
// the event is then skipped, and counted).
const maxCharRef = 4096

// openRef reports whether s ("&…") may be the start of a character
// reference whose end is still to come.
func openRef(s []byte) bool {
	if len(s) < 2 {
		return true
	}
	if s[1] != '#' {
		return false
	}
	digits := s[2:]
	if len(digits) > 0 && (digits[0] == 'x' || digits[0] == 'X') {
		digits = digits[1:]
	}
	for _, c := range digits {
		if !isHex(c) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func (x *xmlChars) Read(p []byte) (int, error) {
	for len(x.out) == 0 {
		if x.err != nil {
			return 0, x.err
		}
		n, err := x.r.Read(x.buf)
		x.err = err
		data := x.buf[:n]
		if len(x.held) > 0 {
			data = append(x.held, data...)
			x.held = nil
		}
		if err == nil {
			cut := len(data) - partialRune(data)
			if i := bytes.LastIndexByte(data[:cut], '&'); i >= 0 && cut-i < maxCharRef && openRef(data[i:cut]) {
				cut = i
			}
			if cut < len(data) {
				x.held = append([]byte(nil), data[cut:]...)
				data = data[:cut]
			}
		}
		x.out = cleanXMLChars(x.out[:0], data, &x.legacy)
	}
	n := copy(p, x.out)
	x.out = x.out[n:]
	return n, nil
}

// partialRune is how many bytes at the end of data begin a UTF-8
// sequence whose end has not been read yet.
func partialRune(data []byte) int {
	for k := 1; k <= utf8.UTFMax-1 && k <= len(data); k++ {
		c := data[len(data)-k]
		if c < 0x80 {
			return 0
		}
		if c >= 0xC0 { // a lead byte
			if utf8.FullRune(data[len(data)-k:]) {
				return 0
			}
			return k
		}
	}
	return 0
}

// cleanXMLChars appends src to dst with forbidden characters replaced,
// and bytes that are not UTF-8 read as Windows-1252 (counted in legacy):
// text XML that declares no encoding is UTF-8, but an export redirected
// by a French or other Western European Windows (wevtutil's rendered
// messages, a user named Hélène) comes in its code page, and Go's decoder
// refused each event holding such a byte — every event of the file, for
// rendered French messages. Windows-1252 is the code page of those
// systems' ANSI text; what was written in another shows other letters
// there, and the count is said with the file.
func cleanXMLChars(dst, src []byte, legacy *int64) []byte {
	start := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			dst = append(dst, src[start:i]...)
			dst = utf8.AppendRune(dst, utf8.RuneError)
			start = i + 1
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(src[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				dst = append(dst, src[start:i]...)
				dst = utf8.AppendRune(dst, charmap.Windows1252.DecodeByte(c))
				if legacy != nil {
					*legacy++
				}
				start = i + 1
			case r == 0xFFFE || r == 0xFFFF:
				// Written raw: not XML 1.0 characters either.
				dst = append(dst, src[start:i]...)
				dst = utf8.AppendRune(dst, utf8.RuneError)
				start = i + size
			}
			i += size - 1
		case c == '&' && i+2 < len(src) && src[i+1] == '#':
			end := i + 2
			if src[end] == 'x' || src[end] == 'X' {
				end++
			}
			for end < len(src) && isHex(src[end]) {
				end++
			}
			if end == len(src) || src[end] != ';' {
				continue
			}
			end -= i
			ref := src[i+2 : i+end]
			var v uint64
			var err error
			if len(ref) > 0 && (ref[0] == 'x' || ref[0] == 'X') {
				v, err = strconv.ParseUint(string(ref[1:]), 16, 64)
			} else {
				v, err = strconv.ParseUint(string(ref), 10, 64)
			}
			if err == nil && v > unicode.MaxRune {
				v = 0 // out of range: as forbidden as a control character
			}
			if err != nil || xmlChar(rune(v)) {
				continue // not a number (the decoder says so) or allowed
			}
			dst = append(dst, src[start:i]...)
			dst = append(dst, "&#xFFFD;"...)
			i += end
			start = i + 1
		}
	}
	return append(dst, src[start:]...)
}

// xmlChar reports a character XML 1.0 allows (its Char production).
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
