package parsers

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/parsers/evtx"
)

// WindowsXML reads events as printed by `wevtutil qe LOG /f:xml` (or
// /f:RenderedXml), with or without an <Events> root, and by other readers
// of EVTX files: python-evtx's evtx_dump.py, libevtx's `evtxexport -f xml`.
type WindowsXML struct{}

func (WindowsXML) Name() string { return "windows-xml" }
func (WindowsXML) Description() string {
	return "Windows events as XML (wevtutil qe /f:xml or /f:RenderedXml, Event Viewer export, python-evtx evtx_dump.py, evtxexport -f xml)"
}

func (WindowsXML) Detect(head []byte) bool {
	s := bytes.TrimLeft(head, "\ufeff \t\r\n-")
	// libevtx's `evtxexport -f xml` prints its name and version first.
	if rest, ok := bytes.CutPrefix(s, []byte("evtxexport ")); ok {
		if i := bytes.IndexByte(rest, '\n'); i > 0 && len(bytes.Trim(rest[:i], "0123456789\r")) == 0 {
			s = bytes.TrimLeft(rest[i:], " \t\r\n")
		}
	}
	// evtx_dump (omerbenamram/evtx, as Chainsaw and Zircolite use it)
	// prints "Record N" before each event.
	if rest, ok := bytes.CutPrefix(s, []byte("Record ")); ok {
		if i := bytes.IndexByte(rest, '\n'); i > 0 && len(bytes.Trim(rest[:i], "0123456789\r")) == 0 {
			s = bytes.TrimLeft(rest[i:], " \t\r\n")
		}
	}
	if !bytes.HasPrefix(s, []byte("<Event")) && !bytes.HasPrefix(s, []byte("<?xml")) {
		return false
	}
	return bytes.Contains(head, []byte("schemas.microsoft.com/win/2004/08/events/event")) || emptyEventsExport(s)
}

// emptyEventsExport reports wevtutil's output for a log with no event in the
// query: an <Events> root and nothing inside it (after an optional prolog).
func emptyEventsExport(s []byte) bool {
	if bytes.HasPrefix(s, []byte("<?xml")) {
		end := bytes.Index(s, []byte("?>"))
		if end < 0 {
			return false
		}
		s = bytes.TrimSpace(s[end+2:])
	}
	for _, root := range [][]byte{[]byte("<Events>"), []byte("<Events/>")} {
		if bytes.HasPrefix(s, root) {
			rest := bytes.TrimSpace(s[len(root):])
			return len(rest) == 0 || bytes.Equal(rest, []byte("</Events>"))
		}
	}
	return false
}

func (WindowsXML) ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error {
	r, err := in.Reader()
	if err != nil {
		return err
	}
	defer r.Close()
	cr := &countingReader{r: bufio.NewReaderSize(r, 1<<16)}
	ordinal := int64(0)
	notUTF8, err := evtx.ReadXMLEventsCounting(cr, func(n *evtx.Node, line int) error {
		ordinal++
		emitXMLEvent(n, int64(line), ordinal, emit)
		return nil
	}, func(line int, err error) {
		// Its ordinal is used: the events after it keep their positions
		// (and ids) whether or not a later reader can read it.
		ordinal++
		st.AddLost(fmt.Sprintf("event starting at line %d not read (%v); reading went on at the next <Event>", line, err), 1)
	})
	if notUTF8 > 0 {
		st.Warn(fmt.Sprintf("%d bytes are not UTF-8 and no encoding is declared: read as Windows-1252 (a Western European Windows' code page; text written in another shows other letters there)", notUTF8))
	}
	switch {
	case err == nil:
	case errors.Is(err, evtx.ErrXMLRootUnclosed):
		st.Warn(err.Error())
	case errors.Is(err, evtx.ErrXMLTruncated):
		st.AddLost("the last event is cut: "+err.Error(), 1)
	default:
		// What reading cannot go on past (an undecodable encoding, nesting
		// too deep): the rest is counted as one loss, said with where.
		st.AddLost(fmt.Sprintf("%v; rest of file not parsed (from about byte %d of its text)", err, cr.n), 1)
	}
	return nil
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

// windowsEventXML reads text that is one Windows event's XML, as a SIEM
// keeps a copy of it (Splunk's XmlWinEventLog, Winlogbeat's
// event.original); ok is false for any other text.
func windowsEventXML(text string) (*event.Event, bool) {
	s := strings.TrimSpace(text)
	if !strings.HasPrefix(s, "<Event") || !strings.HasSuffix(s, "</Event>") {
		return nil, false
	}
	var node *evtx.Node
	_, err := evtx.ReadXMLEventsCounting(strings.NewReader(s), func(n *evtx.Node, _ int) error {
		if node == nil {
			node = n
		}
		return nil
	}, func(int, error) {})
	if err != nil || node == nil {
		return nil, false
	}
	w, err := winRecordFromNode(node)
	if err != nil {
		return nil, false
	}
	ev := w.toEvent()
	if ri := node.Child("RenderingInfo"); ri != nil {
		if m := ri.Child("Message"); m != nil && m.Text != "" {
			ev.Fields["message"] = m.Text
		}
	}
	return ev, true
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
