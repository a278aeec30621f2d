package parsers

import (
	"errors"
	"strings"
)

// PowerShell's list form of any object, as `… | Format-List` prints it
// into a file (Windows events: windows_export_list.go; message tracking:
// exchange_export.go):
//
//	TimeCreated  : 3/17/2019 12:30:30 PM
//	ProviderName : Microsoft-Windows-Security-Auditing
//	Message      : A network share object was added.
//
//	               Subject:
//
// Each property is a line "Name<padding> : value" at the margin; a value's
// further lines are indented to the values' column. Every record lists the
// same properties in the same order, so a record starts where the file's
// first property comes again. Property names are the objects' own, never
// translated. An array shows as "{a, b, c, d...}": at most four items
// ($FormatEnumerationLimit), then "...".

// listProp is one property of a record: its name and its value, the
// further lines joined to it without the values' indentation.
type listProp struct{ name, value string }

// listRecord is one record of a list, with the line it starts at and its
// lines as written.
type listRecord struct {
	props    []listProp
	at       int64
	original string
}

// errBeforeList is a line before the list's first record.
var errBeforeList = errors.New("a line before the list's first record")

// listProperty reads a line "Name : value" written at the margin; col is
// where the value starts, for the lines that continue it.
func listProperty(l string) (name, value string, col int, ok bool) {
	i := 0
	for i < len(l) && (l[i] >= 'A' && l[i] <= 'Z' || l[i] >= 'a' && l[i] <= 'z' || i > 0 && l[i] >= '0' && l[i] <= '9') {
		i++
	}
	if i == 0 {
		return "", "", 0, false
	}
	name = l[:i]
	for i < len(l) && l[i] == ' ' {
		i++
	}
	if i >= len(l) || l[i] != ':' {
		return "", "", 0, false
	}
	i++
	if i < len(l) && l[i] != ' ' {
		return "", "", 0, false // "C:\…", "http://…": no property
	}
	if i < len(l) {
		i++
	}
	return name, l[i:], i, true
}

// listHead gives the properties of a file's first record when its first
// lines are a list (a console's prompt and command may come first).
func listHead(head []byte) ([]string, bool) {
	// A record's message can take a hundred lines before its other
	// properties: the whole head is read, to the first record's end.
	lines := headLines(head, 1000)
	if len(lines) == 0 {
		return nil, false
	}
	lines[0] = strings.TrimPrefix(lines[0], "\ufeff")
	skip := 0
	for skip < len(lines) && skip < 3 {
		if _, _, _, ok := listProperty(lines[skip]); ok {
			break
		}
		skip++
	}
	if skip == len(lines) {
		return nil, false
	}
	first, _, _, ok := listProperty(lines[skip])
	if !ok {
		return nil, false
	}
	names := []string{first}
	for _, l := range lines[skip+1:] {
		name, _, _, ok := listProperty(l)
		if ok && name == first {
			break
		}
		if ok {
			names = append(names, name)
		}
	}
	return names, true
}

// readList reads a list's records and hands each to fn until it returns
// false; a line before the first record is handed to before (nil: not
// said). A record starts where the file's first property comes again.
func readList(in *Input, st *FileStats, what string, before func(no int64, line string), fn func(listRecord) bool) error {
	first := "" // the records' first property
	isStart := func(l string) bool {
		name, _, _, ok := listProperty(l)
		if ok && first == "" {
			first = name
		}
		return ok && name == first
	}
	return readBlocks(in, st, what, isStart, before, func(block []string, start int64) bool {
		return fn(listRecordOf(block, start))
	})
}

// listRecordOf reads one record's lines: each property's value, its
// further lines without the values' indentation (the message's own tabs
// kept).
func listRecordOf(block []string, at int64) listRecord {
	r := listRecord{at: at, original: strings.Join(block, "\n")}
	col := 0
	var value []string
	put := func() {
		if len(r.props) > 0 {
			r.props[len(r.props)-1].value = strings.TrimRight(strings.Join(value, "\n"), " \t\n")
		}
	}
	for _, l := range block {
		if n, v, c, ok := listProperty(l); ok {
			put()
			r.props = append(r.props, listProp{name: n})
			value, col = []string{v}, c
			continue
		}
		i := 0
		for i < col && i < len(l) && l[i] == ' ' {
			i++
		}
		value = append(value, l[i:])
	}
	put()
	return r
}

// listArray reads an array as Format-List shows it ("{a, b}"): its items,
// and whether it was cut ("{a, b, c, d...}").
func listArray(v string) (items []string, cut bool) {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, "{") || !strings.HasSuffix(v, "}") {
		if v == "" {
			return nil, false
		}
		return []string{v}, false
	}
	v = strings.TrimSuffix(strings.TrimPrefix(v, "{"), "}")
	for _, dots := range []string{"...", "…"} {
		if w, ok := strings.CutSuffix(v, dots); ok {
			v, cut = w, true
			break
		}
	}
	for _, x := range strings.Split(v, ", ") {
		if x = strings.TrimSpace(x); x != "" {
			items = append(items, x)
		}
	}
	return items, cut
}
