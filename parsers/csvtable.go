package parsers

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// tableRow is one row of a table with a header line: its fields by the
// header's names, how many it had and the header has, its text as written
// again (its event.original) and the line it began on.
type tableRow struct {
	f           map[string]string
	cols, heads int
	original    []byte
	line        int64
}

// readTable reads a table whose first line names its columns, by the
// delimiter that line has most columns by (a French spreadsheet re-saves
// commas as semicolons), its text as UTF-8 or else Windows-1252. fn gets
// each row, and the CSV reader's error for a row it could not read (then
// reading goes on at the next line); what names the format in errors.
func readTable(br *bufio.Reader, st *FileStats, what string, fn func(r tableRow, err error)) error {
	head, _ := br.Peek(64 << 10)
	first, _, _ := strings.Cut(string(head), "\n")
	_, delim := csvHeader(strings.TrimRight(first, "\r"))
	cr := csv.NewReader(br)
	cr.Comma = delim
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: header: %w", what, err)
	}
	legacy := legacyText{unit: "line"}
	defer legacy.warn(st)
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Comma = delim
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := cr.FieldPos(0)
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			return fmt.Errorf("%s: line %d: %w", what, line, err)
		}
		legacy.fields(rec, int64(line))
		buf.Reset()
		cw.Write(rec)
		cw.Flush()
		f := make(map[string]string, len(header))
		for i, v := range rec {
			if i < len(header) {
				f[strings.TrimSpace(header[i])] = v
			}
		}
		fn(tableRow{f: f, cols: len(rec), heads: len(header), original: bytes.TrimRight(buf.Bytes(), "\n"), line: int64(line)}, err)
	}
}
