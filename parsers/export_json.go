package parsers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// JSONExport reads JSON exports of log collectors, one document per line or
// as one array or search response: Elasticsearch/OpenSearch hits (_source,
// from _search, elasticdump or Kibana), Wazuh archives.json/alerts.json
// (full_log), Splunk JSON exports ({"result": {"_raw": …}}), Graylog API
// searches ({"messages": [{"message": {…}}]}), Filebeat/Logstash ECS
// documents written to files, and systemd's journal (journalctl -o json:
// a mail server without rsyslog logs there only).
type JSONExport struct{}

func (JSONExport) Name() string { return "json-export" }
func (JSONExport) Description() string {
	return "JSON export of a log collector (Elasticsearch/OpenSearch hits, Wazuh archives/alerts, Splunk, Graylog, Filebeat/Logstash ECS documents, journalctl -o json): each row's original line read by its own format, or its ECS fields kept"
}

// jsonExportMarkers are keys only collectors' envelopes carry.
var jsonExportMarkers = []string{`"_source"`, `"full_log"`, `"_raw"`, `"full_message"`, `"event.original"`, `"original"`, `"__REALTIME_TIMESTAMP"`}

func (JSONExport) Detect(head []byte) bool {
	h := bytes.TrimSpace(bytes.TrimPrefix(head, []byte("\ufeff")))
	if len(h) == 0 || h[0] != '{' && h[0] != '[' {
		return false
	}
	if mostLines(head, JSONExport{}.matchLine) {
		return true
	}
	// One pretty-printed document: a search response or an array of hits.
	s := string(h)
	return strings.Contains(s, `"hits"`) && strings.Contains(s, `"_source"`) ||
		strings.Contains(s, `"messages"`) && strings.Contains(s, `"message"`) && strings.Contains(s, `"timestamp"`) ||
		strings.Contains(s, `"result"`) && strings.Contains(s, `"_raw"`) ||
		h[0] == '[' && strings.Contains(s, `"@timestamp"`) && !strings.Contains(s, `"winlog"`)
}

func (JSONExport) matchLine(l string) bool {
	l = strings.TrimSpace(l)
	if !strings.HasPrefix(l, "{") {
		return false
	}
	for _, m := range jsonExportMarkers {
		if strings.Contains(l, m) {
			return true
		}
	}
	if strings.Contains(l, `"manager":`) && strings.Contains(l, `"agent":`) { // Wazuh alerts without full_log
		return true
	}
	// An ECS document written by Filebeat or Logstash (not Winlogbeat's,
	// which has its own reader).
	return strings.Contains(l, `"@timestamp"`) && !strings.Contains(l, `"winlog"`) &&
		(strings.Contains(l, `"message"`) || strings.Contains(l, `"source"`) || strings.Contains(l, `"event"`))
}

func (JSONExport) ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error {
	rc, err := in.Reader()
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 1<<16)
	head, _ := br.Peek(64 << 10)
	x := newExportReader(jsonExportKind(head), in, o, st, emit)
	w := &jsonWalker{x: x}
	if lines := headLines(head, 1); len(lines) == 1 && json.Valid([]byte(lines[0])) {
		err = w.lines(br)
	} else {
		w.dec = json.NewDecoder(br)
		w.dec.UseNumber()
		err = w.top()
	}
	x.finish()
	return err
}

// lines reads one document per line (NDJSON: Wazuh, elasticdump, Splunk,
// Filebeat), so that a broken line — often the last, cut while the
// collector was writing — is kept raw and the next one read.
func (w *jsonWalker) lines(br *bufio.Reader) error {
	var off int64
	for {
		line, err := br.ReadBytes('\n')
		start := off
		off += int64(len(line))
		if t := bytes.TrimSpace(line); len(t) > 0 {
			w.row++
			if len(t) > MaxLine {
				w.x.raw(&exportRecord{row: w.row, offset: start}, time.Time{}, string(t[:rawKeep]), fmt.Sprintf("json export: document longer than %d bytes; first %d bytes kept", MaxLine, rawKeep))
			} else if !json.Valid(t) {
				w.x.raw(&exportRecord{row: w.row, offset: start}, time.Time{}, string(bytes.ToValidUTF8(t, []byte("\uFFFD"))), "json export: the line is not a complete JSON document")
			} else if t[0] == '{' && !bytes.Contains(t, []byte(`"hits"`)) && !bytes.Contains(t, []byte(`"messages"`)) && !bytes.Contains(t, []byte(`"results"`)) {
				w.document(t, start)
			} else {
				// A whole search response or array on one line.
				w.row--
				w.dec, w.base = json.NewDecoder(bytes.NewReader(t)), start
				w.dec.UseNumber()
				if err := w.top(); err != nil {
					return err
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// jsonExportKind names the collector from the first document.
func jsonExportKind(head []byte) string {
	s := string(head)
	switch {
	case strings.Contains(s, `"full_log"`) || strings.Contains(s, `"manager"`) && strings.Contains(s, `"decoder"`):
		return "wazuh"
	case strings.Contains(s, `"_raw"`):
		return "splunk"
	case strings.Contains(s, `"_source"`):
		return "elasticsearch"
	case strings.Contains(s, `"gl2_`) || strings.Contains(s, `"messages"`):
		return "graylog"
	case strings.Contains(s, `"__REALTIME_TIMESTAMP"`):
		return "journald" // journalctl -o json
	}
	return "ecs-json"
}

// jsonWalker streams the rows out of whatever shape the export has, without
// holding the file in memory: documents one after another (NDJSON), an
// array of documents, or an object with the rows inside (hits.hits,
// messages, results).
type jsonWalker struct {
	dec  *json.Decoder
	base int64 // offset of dec's input in the file
	x    *exportReader
	row  int64
}

func (w *jsonWalker) top() error {
	for {
		tok, err := w.dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return w.broken(err)
		}
		switch tok {
		case json.Delim('['):
			if err := w.array(); err != nil {
				return err
			}
		case json.Delim('{'):
			if err := w.object(); err != nil {
				return err
			}
		default:
			return fmt.Errorf("json export: a %v where a document should start (offset %d)", tok, w.dec.InputOffset())
		}
	}
}

// broken ends the file at a syntax error, counting what follows as lost:
// encoding/json cannot resynchronise inside a document.
func (w *jsonWalker) broken(err error) error {
	w.x.st.AddLost("json export: syntax error, the rest of the file is unreadable", 1)
	return fmt.Errorf("json export: after row %d (offset %d): %w", w.row, w.dec.InputOffset(), err)
}

// array reads rows until the closing bracket.
func (w *jsonWalker) array() error {
	for w.dec.More() {
		off := w.base + w.dec.InputOffset()
		var raw json.RawMessage
		if err := w.dec.Decode(&raw); err != nil {
			return w.broken(err)
		}
		w.row++
		w.document(raw, off)
	}
	if _, err := w.dec.Token(); err != nil { // ']'
		return w.broken(err)
	}
	return nil
}

// rowContainers are the keys under which search responses keep their rows.
var rowContainers = map[string]bool{"hits": true, "messages": true, "results": true}

// object reads a document whose '{' was just consumed: either a container
// of rows (a search response) or a row itself.
func (w *jsonWalker) object() error {
	off := w.base + w.dec.InputOffset() - 1
	doc := map[string]json.RawMessage{}
	contained := false
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return w.broken(err)
		}
		key, _ := tok.(string)
		if rowContainers[key] {
			// Peek at the value: an array is rows; an object may hold hits.hits.
			next, err := w.dec.Token()
			if err != nil {
				return w.broken(err)
			}
			switch next {
			case json.Delim('['):
				contained = true
				if err := w.array(); err != nil {
					return err
				}
				continue
			case json.Delim('{'):
				contained = true
				if err := w.object(); err != nil {
					return err
				}
				continue
			default:
				b, _ := json.Marshal(next)
				doc[key] = b
				continue
			}
		}
		var v json.RawMessage
		if err := w.dec.Decode(&v); err != nil {
			return w.broken(err)
		}
		doc[key] = v
	}
	if _, err := w.dec.Token(); err != nil { // '}'
		return w.broken(err)
	}
	if contained || len(doc) == 0 || isSearchEnvelope(doc) {
		return nil
	}
	w.row++
	raw, _ := json.Marshal(doc)
	w.document(raw, off)
	return nil
}

// isSearchEnvelope recognises what is left of a search response once its
// rows were read (took, _shards, total…): no row of its own.
func isSearchEnvelope(doc map[string]json.RawMessage) bool {
	for k := range doc {
		switch k {
		case "took", "timed_out", "_shards", "total", "max_score", "_scroll_id", "preview", "init_offset", "fields", "highlight":
		default:
			return false
		}
	}
	return true
}

// document unwraps one row (an Elasticsearch hit's _source, a Splunk
// result, a Graylog message) and hands it to the export reader.
func (w *jsonWalker) document(raw json.RawMessage, off int64) {
	raw = w.x.legacy.bytes(raw, w.row)
	var top map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&top); err != nil {
		w.x.raw(&exportRecord{row: w.row, offset: off}, time.Time{}, string(raw), "json export: row is not an object: "+err.Error())
		return
	}
	body, meta := top, map[string]any{}
	for _, k := range []string{"_source", "result", "message"} {
		if inner, ok := top[k].(map[string]any); ok {
			body = inner
			for mk, mv := range top {
				if mk != k {
					meta[mk] = mv
				}
			}
			break
		}
	}
	fields := make(map[string]any, 32)
	flattenInto(fields, "", body)
	if id, ok := meta["_id"].(string); ok {
		fields["_id"] = id
	}
	if body2, err := json.Marshal(body); err == nil {
		raw = body2
	}
	w.x.record(&exportRecord{fields: fields, row: w.row, offset: off, raw: raw})
}
