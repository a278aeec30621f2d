package parsers

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/parsers/evtx"
)

// WindowsXML reads events as printed by `wevtutil qe LOG /f:xml` (or
// /f:RenderedXml), with or without an <Events> root.
type WindowsXML struct{}

func (WindowsXML) Name() string { return "windows-xml" }
func (WindowsXML) Description() string {
	return "Windows events as XML (wevtutil qe /f:xml or /f:RenderedXml, Event Viewer export)"
}

func (WindowsXML) Detect(head []byte) bool {
	s := bytes.TrimLeft(head, "\ufeff \t\r\n-")
	return (bytes.HasPrefix(s, []byte("<Event")) || bytes.HasPrefix(s, []byte("<?xml"))) &&
		bytes.Contains(head, []byte("schemas.microsoft.com/win/2004/08/events/event"))
}

func (WindowsXML) ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error {
	r, err := in.Reader()
	if err != nil {
		return err
	}
	defer r.Close()
	cr := &countingReader{r: bufio.NewReaderSize(r, 1<<16)}
	dec := xml.NewDecoder(cr)
	dec.Strict = true
	ordinal := int64(0)
	var stack []*evtx.Node
	var startLine int
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if len(stack) > 0 {
				st.AddLost("file ends inside an <Event> element (truncated)", 1)
			}
			return nil
		}
		if err != nil {
			line, _ := dec.InputPos()
			st.AddLost(fmt.Sprintf("XML syntax error at line %d: %v; rest of file (%d bytes) not parsed", line, err, in.Size-cr.n), 1)
			return nil
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && t.Name.Local != "Event" {
				continue // <Events> root or other wrappers
			}
			if len(stack) == 0 {
				startLine, _ = dec.InputPos()
			}
			n := &evtx.Node{Name: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				n.Attrs = append(n.Attrs, evtx.Attr{Name: a.Name.Local, Value: a.Value})
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
			if len(stack) > 64 {
				return fmt.Errorf("XML nesting deeper than 64 at line %d", startLine)
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			}
		case xml.EndElement:
			if len(stack) == 0 {
				continue
			}
			n := stack[len(stack)-1]
			if len(n.Children) > 0 {
				n.Text = strings.TrimSpace(n.Text)
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				ordinal++
				emitXMLEvent(n, int64(startLine), ordinal, emit)
			}
		}
	}
}

func emitXMLEvent(n *evtx.Node, line, ordinal int64, emit Emit) {
	w, err := winRecordFromNode(n)
	var ev *event.Event
	if err != nil {
		ev = event.New()
		ev.Fields[event.FieldKind] = event.KindRaw
		ev.Fields[event.FieldError] = "XML event: " + err.Error()
		ev.Fields[event.FieldOriginal] = n.XML()
	} else {
		ev = w.toEvent()
		if ri := n.Child("RenderingInfo"); ri != nil {
			if m := ri.Child("Message"); m != nil && m.Text != "" {
				ev.Fields["message"] = m.Text
			}
		}
	}
	ev.Fields[event.FieldLine] = line
	ev.Fields[event.FieldRecord] = ordinal
	emit(ev, "E"+strconv.FormatInt(ordinal, 10))
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
