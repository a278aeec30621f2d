package parsers

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// CSVExport reads CSV exports of log collectors: Graylog ("timestamp",
// "source", "message", …), Kibana Discover (@timestamp and the chosen
// columns, ECS names), Splunk (_raw, _time, host, …). Rows are read by
// exportReader: the original line by its own format, or the columns as ECS
// fields.
type CSVExport struct{}

func (CSVExport) Name() string { return "csv-export" }
func (CSVExport) Description() string {
	return "CSV export of a log collector (Graylog, Kibana/Elasticsearch, Splunk, Wazuh): each row's original line read by its own format, or its ECS columns kept"
}

func (CSVExport) Detect(head []byte) bool {
	lines := headLines(head, 1)
	if len(lines) == 0 {
		return false
	}
	cols, _ := csvHeader(lines[0])
	return exportHeaderKind(cols) != ""
}

// csvHeader splits a header line with the delimiter that gives most columns
// (Kibana and Graylog write commas, a French Excel re-save semicolons).
func csvHeader(line string) ([]string, rune) {
	line = strings.TrimPrefix(line, "\ufeff")
	var best []string
	delim := ','
	for _, d := range []rune{',', ';', '\t'} {
		r := csv.NewReader(strings.NewReader(line))
		r.Comma = d
		r.LazyQuotes = true
		f, err := r.Read()
		if err == nil && len(f) > len(best) {
			best, delim = f, d
		}
	}
	return best, delim
}

// exportHeaderKind names the collector whose columns these are, "" if the
// line is no export header: it needs a column holding the original line, or
// a time column with ECS event columns.
func exportHeaderKind(cols []string) string {
	if len(cols) < 2 {
		return ""
	}
	has := map[string]bool{}
	for _, c := range cols {
		has[strings.TrimSpace(c)] = true
	}
	switch {
	case has["_raw"]:
		return "splunk"
	case has["full_log"]:
		return "wazuh"
	case has["timestamp"] && has["source"] && has["message"]:
		return "graylog"
	}
	timeCol := false
	for _, k := range exportTimeKeys {
		timeCol = timeCol || has[k]
	}
	if !timeCol {
		return ""
	}
	for _, k := range exportTextKeys[:5] {
		if has[k] {
			return "elastic"
		}
	}
	ecs := 0
	for c := range has {
		for _, ns := range ecsEventNamespaces {
			if strings.HasPrefix(c, ns) {
				ecs++
				break
			}
		}
	}
	if ecs >= 2 || has["message"] && ecs >= 1 {
		return "elastic"
	}
	return ""
}

func (CSVExport) ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error {
	rc, err := in.Reader()
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 1<<16)
	head, _ := br.Peek(64 << 10)
	lines := headLines(head, 1)
	if len(lines) == 0 {
		return fmt.Errorf("csv export: empty file")
	}
	cols, delim := csvHeader(lines[0])
	kind := exportHeaderKind(cols)
	if kind == "" {
		return fmt.Errorf("csv export: the first line is not a collector's header (no message, _raw, full_log or event.original column)")
	}
	for i := range cols {
		cols[i] = strings.TrimSpace(strings.TrimPrefix(cols[i], "\ufeff"))
	}
	cr := csv.NewReader(&bomSkipper{r: br})
	cr.Comma = delim
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil {
		return fmt.Errorf("csv export: header: %w", err)
	}
	x := newExportReader(kind+"-csv", in, o, st, emit)
	var row int64
	for {
		offset := cr.InputOffset()
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		row++
		x.legacy.fields(rec, row)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && !errors.Is(pe.Err, csv.ErrFieldCount) {
				// encoding/csv resynchronises at the next line: the row is kept raw.
				x.raw(&exportRecord{row: row, offset: offset}, time.Time{}, strings.Join(rec, string(delim)), "csv export: "+pe.Error())
				continue
			}
			if rec == nil {
				return fmt.Errorf("csv export: row %d: %w", row, err)
			}
		}
		fields := make(map[string]any, len(cols))
		for i, v := range rec {
			// Kibana writes "-" for a missing value; elsewhere it is a value
			// (Windows' own for "none": SubjectUserName "-").
			if v == "" || v == "-" && kind == "elastic" {
				continue
			}
			if i < len(cols) && cols[i] != "" {
				fields[cols[i]] = v
			} else {
				fields[fmt.Sprintf("column%d", i+1)] = v
			}
		}
		x.record(&exportRecord{fields: fields, row: row, offset: offset})
	}
	x.finish()
	return nil
}

// bomSkipper drops a UTF-8 byte order mark at the start of a stream.
type bomSkipper struct {
	r    *bufio.Reader
	done bool
}

func (b *bomSkipper) Read(p []byte) (int, error) {
	if !b.done {
		b.done = true
		if h, err := b.r.Peek(3); err == nil && string(h) == "\ufeff" {
			b.r.Discard(3)
		}
	}
	return b.r.Read(p)
}
