package parsers

import "strings"

// Windows events in PowerShell's list form (list.go): what
// `Get-WinEvent … | Format-List` (fl, fl *) or `Get-EventLog … | fl`
// prints into a file. Property names are the objects' own, those of the
// CSV export (winExportColumns): each record is read as the row of the
// same columns.

// isWinListHead reports whether a file's first lines are a list of
// Windows events: properties naming an event's id, time and provider,
// message or log.
func isWinListHead(head []byte) bool {
	names, ok := listHead(head)
	return ok && winExportHeader(names)
}

// listRow reads one record as an export's row.
func listRow(rec listRecord) *winRow {
	r := &winRow{f: map[string]string{}, pos: linePos(rec.at), at: rec.at, original: rec.original}
	for _, p := range rec.props {
		switch name := winExportColumn(p.name); name {
		case "", "props":
			// Format-List shows at most four of an array's items, then
			// "…": no value to name; the message holds them all.
		case "keywordnames":
			// "{Audit Success}", "{Classique, Audit Success}"
			items, _ := listArray(p.value)
			r.f[name] = strings.Join(items, "\n")
		default:
			if p.value != "" && r.f[name] == "" {
				r.f[name] = p.value
			}
		}
	}
	return r
}
