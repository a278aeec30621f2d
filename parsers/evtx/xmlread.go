package evtx

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"golang.org/x/text/encoding/ianaindex"
)

// ErrXMLTruncated reports text XML that ends inside an <Event>.
var ErrXMLTruncated = errors.New("XML ends inside an <Event> element (truncated)")

// ErrXMLRootUnclosed reports text XML that ends between events with its
// root (<Events>) still open: no event is cut, but the export stopped
// before its end (python-evtx's does when it fails on a record).
var ErrXMLRootUnclosed = errors.New("XML ends before its root element closes: the export stopped before its end")

// prologAttr finds the version and encoding of an XML declaration.
var prologAttr = regexp.MustCompile(`(version|encoding)\s*=\s*["']([^"']*)["']`)

// normalizeProlog gives the text with its XML declaration replaced by a
// plain one (as many lines long) and the rest decoded from the declared
// encoding: Go's decoder reads only XML 1.0 — python-evtx's evtx_dump.py
// declares 1.1 for 1.0 text — and a decoder started again after a syntax
// error has no declaration to learn the encoding from. UTF-16 was decoded
// by the caller (found by its byte-order mark or its zero bytes), so a
// Unicode label needs nothing more; a legacy one (windows-1252,
// iso-8859-1…) is decoded by its IANA name.
func normalizeProlog(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 512)
	head, _ := br.Peek(512)
	trimmed := bytes.TrimLeft(head, "\ufeff \t\r\n")
	end := bytes.Index(trimmed, []byte("?>"))
	if !bytes.HasPrefix(trimmed, []byte("<?xml")) || end < 0 {
		return br, nil
	}
	lead := len(head) - len(trimmed)
	prolog := trimmed[:end+2]
	var rest io.Reader = br
	for _, m := range prologAttr.FindAllSubmatch(prolog, -1) {
		if string(m[1]) != "encoding" {
			continue
		}
		switch label := string(m[2]); strings.ToLower(label) {
		case "utf-8", "utf8", "utf-16", "utf-16le", "utf-16be", "unicode", "us-ascii", "ascii":
		default:
			enc, err := ianaindex.IANA.Encoding(label)
			if err != nil || enc == nil {
				return nil, fmt.Errorf("encoding %q declared, which exfiltrace cannot decode", label)
			}
			rest = enc.NewDecoder().Reader(br)
		}
	}
	plain := append([]byte(nil), head[:lead]...)
	plain = append(plain, `<?xml version="1.0"?>`...)
	plain = append(plain, bytes.Repeat([]byte("\n"), bytes.Count(prolog, []byte("\n")))...)
	br.Discard(lead + len(prolog))
	return io.MultiReader(bytes.NewReader(plain), rest), nil
}

// ReadXMLEvents streams the <Event> elements of text XML (wevtutil output,
// with or without an <Events> root, or other readers' exports) as element
// trees, with the line each event starts on. Text that is only indentation
// is dropped; significant spaces are kept. It stops at the first syntax
// error; ReadXMLEventsSkipping goes on past it.
func ReadXMLEvents(r io.Reader, fn func(n *Node, line int) error) error {
	return ReadXMLEventsSkipping(r, fn, nil)
}

// ReadXMLEventsSkipping is ReadXMLEvents that, given skip, goes on past a
// syntax error: the event it is in is skipped (skip is told the line it
// starts on and the error) and reading starts again at the next <Event>,
// so one damaged event does not take the rest of the file with it.
// Characters XML forbids are read as U+FFFD, not as errors (xmlChars).
func ReadXMLEventsSkipping(r io.Reader, fn func(n *Node, line int) error, skip func(line int, err error)) error {
	_, err := ReadXMLEventsCounting(r, fn, skip)
	return err
}

// ReadXMLEventsCounting is ReadXMLEventsSkipping that also says how many
// bytes were not UTF-8 and were read as Windows-1252 (xmlChars).
func ReadXMLEventsCounting(r io.Reader, fn func(n *Node, line int) error, skip func(line int, err error)) (notUTF8 int64, err error) {
	src, err := normalizeProlog(r)
	if err != nil {
		return 0, fmt.Errorf("XML declaration: %w", err)
	}
	chars := newXMLChars(src)
	defer func() { notUTF8 = chars.legacy }()
	return 0, readXMLEvents(bufio.NewReaderSize(chars, 64<<10), fn, skip)
}

func readXMLEvents(br *bufio.Reader, fn func(n *Node, line int) error, skip func(line int, err error)) error {
	var in io.Reader = br
	first := 1 // the line the current decoder starts on
	for {
		err := decodeEvents(in, first, fn)
		var se *eventSyntaxError
		if err == nil || skip == nil || !errors.As(err, &se) {
			if se != nil {
				return se.err
			}
			return err
		}
		// The decoder reads byte by byte from br, so br stands where it
		// stopped: the next event starts at the next "<Event".
		lines, found := nextEvent(br)
		switch {
		case se.inEvent && se.eof:
			return ErrXMLTruncated
		case se.inEvent:
			skip(se.start, se.err)
		case found:
			skip(se.line, se.err)
		case se.eof:
			return ErrXMLRootUnclosed
		}
		if !found {
			return nil
		}
		first = se.line + lines
		in = &prefixed{pre: []byte("<Event"), br: br}
	}
}

// eventSyntaxError is a syntax error and where: inEvent when inside an
// <Event> starting on line start; outside one, it matters only if an event
// follows (else it is the end tag of a root whose start was skipped).
type eventSyntaxError struct {
	err         error
	line, start int
	inEvent     bool
	eof         bool // the text ends there
}

func (e *eventSyntaxError) Error() string { return e.err.Error() }

// nextEvent advances br to just after the next "<Event" start tag's name,
// counting the lines it passes.
func nextEvent(br *bufio.Reader) (lines int, found bool) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return lines, false
		}
		if b == '\n' {
			lines++
		}
		if b != '<' {
			continue
		}
		next, _ := br.Peek(6)
		if len(next) == 6 && string(next[:5]) == "Event" && strings.IndexByte(" \t\r\n>/", next[5]) >= 0 {
			br.Discard(5)
			return lines, true
		}
	}
}

// prefixed reads pre, then br, one byte at a time if asked: Go's decoder
// then reads no further ahead than it has decoded.
type prefixed struct {
	pre []byte
	br  *bufio.Reader
}

func (p *prefixed) ReadByte() (byte, error) {
	if len(p.pre) > 0 {
		b := p.pre[0]
		p.pre = p.pre[1:]
		return b, nil
	}
	return p.br.ReadByte()
}

func (p *prefixed) Read(b []byte) (int, error) {
	if len(p.pre) > 0 {
		n := copy(b, p.pre)
		p.pre = p.pre[n:]
		return n, nil
	}
	return p.br.Read(b)
}

// decodeEvents decodes the events of in, whose first byte is on line first.
func decodeEvents(in io.Reader, first int, fn func(n *Node, line int) error) error {
	dec := xml.NewDecoder(in)
	dec.Strict = true
	var stack []*Node
	start := 0
	abs := func() int {
		line, _ := dec.InputPos()
		return first + line - 1
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if len(stack) > 0 {
				return ErrXMLTruncated
			}
			return nil
		}
		if err != nil {
			line := abs()
			var xe *xml.SyntaxError
			eof := errors.As(err, &xe) && xe.Msg == "unexpected EOF"
			return &eventSyntaxError{err: fmt.Errorf("XML syntax error at line %d: %w", line, err), line: line, start: start, inEvent: len(stack) > 0, eof: eof}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && t.Name.Local != "Event" {
				continue // <Events> root or other wrappers
			}
			if len(stack) == 0 {
				start = abs()
			}
			if len(stack) >= maxDepth {
				return fmt.Errorf("XML nesting deeper than %d in event starting at line %d", maxDepth, start)
			}
			n := &Node{Name: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				n.Attrs = append(n.Attrs, Attr{Name: a.Name.Local, Value: a.Value})
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			}
		case xml.EndElement:
			if len(stack) == 0 {
				continue
			}
			n := stack[len(stack)-1]
			if len(n.Children) > 0 || (strings.TrimSpace(n.Text) == "" && strings.ContainsAny(n.Text, "\r\n")) {
				n.Text = strings.TrimSpace(n.Text)
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				if err := fn(n, start); err != nil {
					return err
				}
			}
		}
	}
}
