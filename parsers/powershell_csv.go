package parsers

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// PowerShell's Export-Csv: a header of property names, after PowerShell
// 5's "#TYPE …" line, then a row per object; ',' or a culture's ';'.

// exportCsvHeader finds the header of Export-Csv's output without reading
// past it: the first line, or the second after PowerShell 5's "#TYPE …"
// line (skip is then 1); ok is false when there is none.
func exportCsvHeader(br *bufio.Reader) (header string, skip int, ok bool) {
	head, _ := br.Peek(64 << 10)
	lines := rawHeadLines(head, 3)
	if len(lines) > 0 && strings.HasPrefix(lines[0], "#TYPE ") {
		skip, lines = 1, lines[1:]
	}
	if len(lines) == 0 {
		return "", 0, false
	}
	return lines[0], skip, true
}

// exportHeaderColumns are the columns of Export-Csv's header in a file's
// first bytes, for detectors.
func exportHeaderColumns(head []byte) ([]string, bool) {
	lines := headLines(head, 3) // three: a truncated head's last line is dropped
	if len(lines) > 0 && strings.HasPrefix(lines[0], "#TYPE ") {
		lines = lines[1:]
	}
	if len(lines) == 0 {
		return nil, false
	}
	cols, _ := csvHeader(lines[0])
	return cols, true
}

// exportCsvRow is one row of Export-Csv's output.
type exportCsvRow struct {
	line int64
	rec  []string // nil when err is set
	raw  string   // the row's values joined by the file's delimiter
	err  error    // a CSV syntax error: encoding/csv goes on at the next line
}

// readExportCsv reads Export-Csv's output: header is given the header's
// columns (and may refuse them), fn each row. Values that are not UTF-8
// are read as Windows-1252 and counted on st.
func readExportCsv(in *Input, st *FileStats, format string, header func(cols []string) error, fn func(r exportCsvRow)) error {
	rc, err := in.Reader()
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(&bomSkipper{r: bufio.NewReaderSize(rc, 1<<16)}, 1<<16)
	h, skip, ok := exportCsvHeader(br)
	if !ok {
		return fmt.Errorf("%s: no header", format)
	}
	legacy := legacyText{unit: "line"}
	defer legacy.warn(st)
	cols, delim := csvHeader(legacy.string(h, int64(skip+1)))
	if err := header(cols); err != nil {
		return err
	}
	cr := csv.NewReader(br)
	cr.Comma, cr.LazyQuotes, cr.FieldsPerRecord = delim, true, -1
	for i := 0; i <= skip; i++ {
		if _, err := cr.Read(); err != nil {
			return fmt.Errorf("%s: header: %w", format, err)
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && rec == nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("%s: %w", format, err)
			}
			fn(exportCsvRow{line: int64(pe.StartLine), err: pe})
			continue
		}
		line, _ := cr.FieldPos(0)
		legacy.fields(rec, int64(line))
		fn(exportCsvRow{line: int64(line), rec: rec, raw: strings.Join(rec, string(delim))})
	}
}
