package parsers

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// legacyText reads text that is not UTF-8 as Windows-1252 and counts it.
// Windows tools write the system's code page where no encoding is asked
// for: a French DHCP server's "Démarré", wevtutil's text redirected by
// cmd.exe, PowerShell 5's Set-Content and Export-Csv -Encoding Default, an
// export re-saved by a French Excel. Read as UTF-8 every accented letter
// would be lost to U+FFFD; as Windows-1252 each byte is a character. The
// unit of decision is the line, row or document, never the file: valid
// UTF-8 beside it stays UTF-8.
type legacyText struct {
	unit     string // what is counted: "line", "row", "event", "document"
	n, first int64
}

// bytes returns b as UTF-8, read as Windows-1252 if it is not UTF-8; at
// is the unit's number, for the warning.
func (l *legacyText) bytes(b []byte, at int64) []byte {
	if utf8.Valid(b) {
		return b
	}
	l.count(at)
	return fromWindows1252(b)
}

// string is bytes for text held as a string.
func (l *legacyText) string(s string, at int64) string {
	if utf8.ValidString(s) {
		return s
	}
	l.count(at)
	return string(fromWindows1252([]byte(s)))
}

// fields reads a CSV record's fields in place; the record counts once.
func (l *legacyText) fields(rec []string, at int64) {
	counted := false
	for i, v := range rec {
		if utf8.ValidString(v) {
			continue
		}
		if !counted {
			l.count(at)
			counted = true
		}
		rec[i] = string(fromWindows1252([]byte(v)))
	}
}

func (l *legacyText) count(at int64) {
	if l.n++; l.n == 1 {
		l.first = at
	}
}

// warn says on the file how many units were read as Windows-1252.
func (l *legacyText) warn(st *FileStats) {
	if l.n > 0 {
		st.Warn(fmt.Sprintf("%d %s(s) not UTF-8, read as Windows-1252 (the first: %s %d)", l.n, l.unit, l.unit, l.first))
	}
}

// fromWindows1252 reads text in Windows' Western European code page.
func fromWindows1252(b []byte) []byte {
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	return out
}
