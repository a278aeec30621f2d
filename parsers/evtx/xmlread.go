package evtx

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding/ianaindex"
)

// ErrXMLTruncated reports text XML that ends inside an <Event>.
var ErrXMLTruncated = errors.New("XML ends inside an <Event> element (truncated)")

// charsetReader reads text whose declaration names an encoding other than
// UTF-8. The caller has already decoded UTF-16 (found by its byte-order
// mark or its zero bytes), so a Unicode label needs nothing more; a legacy
// one (windows-1252, iso-8859-1…) is decoded by its IANA name.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "utf-16", "utf-16le", "utf-16be", "unicode", "us-ascii", "ascii":
		return r, nil
	}
	enc, err := ianaindex.IANA.Encoding(label)
	if err != nil || enc == nil {
		return nil, fmt.Errorf("encoding %q declared, which exfiltrace cannot decode", label)
	}
	return enc.NewDecoder().Reader(r), nil
}

// ReadXMLEvents streams the <Event> elements of text XML (wevtutil output,
// with or without an <Events> root, or other readers' exports) as element
// trees, with the line each event starts on. Text that is only indentation
// is dropped; significant spaces are kept.
func ReadXMLEvents(r io.Reader, fn func(n *Node, line int) error) error {
	dec := xml.NewDecoder(r)
	dec.Strict = true
	dec.CharsetReader = charsetReader
	var stack []*Node
	start := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if len(stack) > 0 {
				return ErrXMLTruncated
			}
			return nil
		}
		if err != nil {
			line, _ := dec.InputPos()
			return fmt.Errorf("XML syntax error at line %d: %w", line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && t.Name.Local != "Event" {
				continue // <Events> root or other wrappers
			}
			if len(stack) == 0 {
				start, _ = dec.InputPos()
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
