package parsers

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The rows of a Windows export, from its CSV (Export-Csv, Event Viewer),
// JSON (ConvertTo-Json) or list (Format-List, windows_export_list.go) form,
// each as its columns by winExportColumns' names.

// rows reads the file's events, CSV or JSON, and hands each to fn until it
// returns false.
func (x *winExport) rows(in *Input, st *FileStats, fn func(*winRow) bool) error {
	if head, err := in.Head(64 << 10); err == nil && isWinListHead(head) {
		x.kind = "powershell-list"
		before := func(no int64, l string) {
			fn(&winRow{pos: linePos(no), at: no, original: l, err: errBeforeList})
		}
		return readList(in, st, "windows-export", before, func(rec listRecord) bool { return fn(listRow(rec)) })
	}
	br, first, rc, err := openText(in, "windows-export")
	if err != nil {
		return err
	}
	defer rc.Close()
	if first == '[' || first == '{' {
		x.kind = "powershell-json"
		return x.jsonRows(br, st, fn)
	}
	return x.csvRows(br, st, fn)
}

func (x *winExport) csvRows(br *bufio.Reader, st *FileStats, fn func(*winRow) bool) error {
	legacy := legacyText{unit: "line"}
	defer legacy.warn(st)
	header, skip, ok := exportCsvHeader(br)
	if !ok {
		return fmt.Errorf("windows-export: no header")
	}
	cols, delim := csvHeader(legacy.string(header, int64(skip+1))) // a French header: "Mots clés"
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = winExportColumn(c)
	}
	x.kind = "event-viewer-" + map[rune]string{'\t': "text"}[delim]
	if x.kind == "event-viewer-" {
		x.kind += "csv"
	}
	for _, n := range names {
		if n == "pid" || n == "record" || n == "computer" || n == "channel" {
			x.kind = "powershell-csv" // Event Viewer writes only level, time, source, id and task
		}
	}
	for _, n := range names {
		if n == "strings" {
			x.kind = "logparser-csv"
		}
	}
	cr := csv.NewReader(br)
	cr.Comma = delim
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	for i := 0; i <= skip; i++ {
		if _, err := cr.Read(); err != nil {
			return fmt.Errorf("windows-export: header: %w", err)
		}
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Comma = delim
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := cr.FieldPos(0)
		legacy.fields(rec, int64(line))
		buf.Reset()
		cw.Write(rec)
		cw.Flush()
		r := &winRow{pos: linePos(int64(line)), at: int64(line), original: strings.TrimRight(buf.String(), "\n")}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && !errors.Is(pe.Err, csv.ErrFieldCount) {
				r.err = pe // encoding/csv resynchronises at the next line
			} else if rec == nil {
				return fmt.Errorf("windows-export: line %d: %w", line, err)
			}
		}
		if r.err == nil {
			r.f = make(map[string]string, len(rec))
			for i, v := range rec {
				name := ""
				if i < len(names) {
					name = names[i]
				} else if i == len(names) && r.f["message"] == "" {
					name = "message" // Event Viewer writes the message under no header
				}
				if name != "" && v != "" && r.f[name] == "" {
					r.f[name] = v
				}
			}
		}
		if !fn(r) {
			return nil
		}
	}
}

func (x *winExport) jsonRows(br *bufio.Reader, st *FileStats, fn func(*winRow) bool) error {
	dec := json.NewDecoder(br)
	var n int64
	legacy := legacyText{unit: "row"}
	defer legacy.warn(st)
	one := func(raw json.RawMessage) bool {
		n++
		raw = legacy.bytes(raw, n)
		r := &winRow{pos: "R" + strconv.FormatInt(n, 10), at: n, original: string(raw)}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			r.err = err
		} else {
			r.f = map[string]string{}
			for k, v := range m {
				name := winExportColumn(k)
				switch name {
				case "":
				case "props":
					r.props = jsonValues(v)
				case "keywordnames":
					r.f[name] = strings.Join(jsonValues(v), "\n")
				default:
					r.f[name] = jsonScalar(v)
				}
			}
		}
		return fn(r)
	}
	if c, _ := br.Peek(1); len(c) == 1 && c[0] == '[' {
		dec.Token()
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				st.AddLost("windows-export: JSON syntax error, the rest of the file is unreadable", 1)
				return fmt.Errorf("windows-export: after row %d: %w", n, err)
			}
			if !one(raw) {
				return nil
			}
		}
		return nil
	}
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			st.AddLost("windows-export: JSON syntax error, the rest of the file is unreadable", 1)
			return fmt.Errorf("windows-export: after row %d: %w", n, err)
		}
		if !one(raw) {
			return nil
		}
	}
}

// jsonScalar is a JSON value as text. PowerShell writes a .NET object
// beyond its -Depth as {…"Value": "S-1-5-18"} (a SID) or
// {"value": "/Date(…)/", "DateTime": …} (a date with notes).
func jsonScalar(v any) string {
	if m, ok := v.(map[string]any); ok {
		for _, k := range []string{"Value", "value"} {
			if s, ok := m[k]; ok {
				return jsonScalar(s)
			}
		}
	}
	return jsonText(v)
}

// jsonValues reads Properties ([{"Value": …}]) or a list of strings.
func jsonValues(v any) []string {
	a, ok := v.([]any)
	if !ok {
		if s := jsonScalar(v); s != "" {
			return []string{s}
		}
		return nil
	}
	out := make([]string, len(a))
	for i, e := range a {
		out[i] = jsonScalar(e)
	}
	return out
}
