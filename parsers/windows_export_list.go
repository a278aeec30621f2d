package parsers

import (
	"bufio"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// The list form of a Windows export: what `Get-WinEvent … | Format-List`
// (fl, fl *) or `Get-EventLog … | fl` prints, redirected to a file:
//
//	TimeCreated  : 3/17/2019 12:30:30 PM
//	ProviderName : Microsoft-Windows-Security-Auditing
//	Id           : 5142
//	Message      : A network share object was added.
//
//	               Subject:
//	               	Security ID:		S-1-5-21-…
//
// Each property is a line "Name<padding>: value" at the margin; a value's
// further lines (the message's) are indented to the values' column. Every
// record lists the same properties in the same order, so a record starts
// where the file's first property comes again. Property names are the
// objects' own, never translated: the CSV export's names read them
// (winExportColumns), and the same row reader maps them.

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

// isWinListHead reports whether a file's first lines are a Windows event
// list: properties from its first lines on (a console's prompt may come
// first), naming an event's id, time and provider, message or log.
func isWinListHead(head []byte) bool {
	// A record's message can take a hundred lines before its other
	// properties: the whole head is read, to the first record's end.
	lines := headLines(head, 1000)
	if len(lines) == 0 {
		return false
	}
	lines[0] = strings.TrimPrefix(lines[0], "\ufeff")
	// A copy of a console may begin with its prompt and command.
	skip := 0
	for skip < len(lines) && skip < 3 {
		if _, _, _, ok := listProperty(lines[skip]); ok {
			break
		}
		skip++
	}
	if skip == len(lines) {
		return false
	}
	first, _, _, ok := listProperty(lines[skip])
	if !ok {
		return false
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
	return winExportHeader(names)
}

// listRows reads a list-form export's records, each as a row, and hands
// each to fn until it returns false; a line before the first record is
// kept raw.
func (x *winExport) listRows(in *Input, st *FileStats, emit Emit, fn func(*winRow) bool) error {
	x.kind = "powershell-list"
	rc, err := in.Reader()
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(&bomSkipper{r: bufio.NewReaderSize(rc, 1<<16)})
	sc.Buffer(make([]byte, 1<<16), 16<<20)
	legacy := legacyText{unit: "line"}
	defer legacy.warn(st)
	var (
		first string // the records' first property
		no    int64
		block []string
		start int64
		stop  bool
	)
	flush := func() {
		for len(block) > 0 && strings.TrimSpace(block[len(block)-1]) == "" {
			block = block[:len(block)-1]
		}
		if len(block) > 0 && !stop {
			stop = !fn(listRow(block, start))
		}
		block = block[:0]
	}
	for !stop && sc.Scan() {
		no++
		l := legacy.string(strings.TrimRight(sc.Text(), "\r"), no)
		if name, _, _, ok := listProperty(l); ok && (first == "" || name == first) {
			flush()
			first, start = name, no
		} else if len(block) == 0 {
			if strings.TrimSpace(l) != "" && emit != nil {
				rawLine(emit, no, []byte(l), "windows-export: a line before the list's first record")
			}
			continue
		}
		block = append(block, l)
	}
	flush()
	if err := sc.Err(); err != nil {
		st.AddLost("windows-export: "+err.Error(), 1)
		return err
	}
	return nil
}

// listRow reads one record's lines as a row: each property's value, its
// further lines joined to it without the values' indentation.
func listRow(block []string, at int64) *winRow {
	r := &winRow{f: map[string]string{}, pos: linePos(at), at: at, original: strings.Join(block, "\n")}
	var name string
	var value []string
	col := 0
	put := func() {
		if name == "" {
			return
		}
		v := strings.TrimRight(strings.Join(value, "\n"), " \t\n")
		switch name {
		case "props":
			// Format-List shows at most four of an array's items, then
			// "…": no value to name; the message holds them all.
		case "keywordnames":
			// "{Audit Success}", "{Classique, Audit Success}"
			v = strings.TrimSuffix(strings.TrimPrefix(v, "{"), "}")
			r.f[name] = strings.Join(strings.Split(v, ", "), "\n")
		default:
			if v != "" && r.f[name] == "" {
				r.f[name] = v
			}
		}
	}
	for _, l := range block {
		if n, v, c, ok := listProperty(l); ok {
			put()
			name, value, col = winExportColumn(n), []string{v}, c
			continue
		}
		// A further line of the value: the values' indentation, then the
		// line as the value holds it (the message's tabs included).
		i := 0
		for i < col && i < len(l) && l[i] == ' ' {
			i++
		}
		value = append(value, l[i:])
	}
	put()
	return r
}

// listFile reads a list-form export: the dates' order first (from the
// time properties alone), then the records.
func (x *winExport) listFile(in *Input, st *FileStats, emit Emit) error {
	_ = x.listRows(in, &FileStats{}, nil, func(r *winRow) bool {
		s := strings.TrimSpace(r.f["time"])
		if isISODate(s) {
			return false
		}
		return !x.order.see(s)
	})
	x.order.settle(st.Warn)
	return x.listRows(in, st, emit, func(r *winRow) bool {
		e, err := x.event(r)
		if err != nil {
			e = event.New()
			e.Fields[event.FieldKind] = event.KindRaw
			e.Fields[event.FieldError] = "windows-export: " + err.Error()
		}
		e.Fields[event.FieldOriginal] = r.original
		e.Fields[event.FieldLine] = r.at
		emit(e, r.pos)
		return true
	})
}
