package parsers

import (
	"bytes"
	"fmt"
	"strings"
)

// journalctl's text output (a mail server that logs only to the systemd
// journal, exported with `journalctl … > mail.log`) puts its own lines
// among the log's: the range it read ("-- Logs begin at …, end at … --",
// "-- Journal begins at …, ends at …. --"), each boot ("-- Reboot --",
// "-- Boot 3f2a… --"), "-- No entries --", and with -x the message
// catalog's explanations ("-- Subject: …", "-- Defined-By: systemd").
// They are no record of the server's: they are taken out before the lines
// are read, and the file's warnings say how many and what they said.

// isJournalMark says whether a line is one of journalctl's own.
func isJournalMark(line []byte) bool {
	return bytes.HasPrefix(line, []byte("-- ")) || bytes.Equal(bytes.TrimSpace(line), []byte("--"))
}

// journalMarks counts the lines of journalctl's own a file held.
type journalMarks struct {
	ranges        []string // the range lines, as written
	boots, others int64
	firstBoot     int64 // the line of the first boot marker
	first         int64 // the line of the first mark
}

func (j *journalMarks) note(line []byte, at int64) {
	if j.first == 0 {
		j.first = at
	}
	s := strings.TrimSpace(string(line))
	inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "--"), "--"))
	switch {
	case strings.HasPrefix(inner, "Logs begin at "), strings.HasPrefix(inner, "Journal begins at "):
		if len(j.ranges) < 3 {
			j.ranges = append(j.ranges, inner)
		}
	case inner == "Reboot", strings.HasPrefix(inner, "Boot ") && strings.HasSuffix(s, " --"):
		if j.boots++; j.boots == 1 {
			j.firstBoot = at
		}
	default:
		j.others++
	}
}

func (j *journalMarks) warn(st *FileStats) {
	if j.first == 0 {
		return
	}
	var parts []string
	for _, r := range j.ranges {
		parts = append(parts, fmt.Sprintf("the range it read (%q)", r))
	}
	if j.boots > 0 {
		parts = append(parts, fmt.Sprintf("%d boot marker(s), the first at line %d: the server restarted", j.boots, j.firstBoot))
	}
	if j.others > 0 {
		parts = append(parts, fmt.Sprintf("%d other line(s) (\"-- No entries --\", the message catalog's explanations of -x)", j.others))
	}
	st.Warn(fmt.Sprintf("journalctl's own lines taken out, not log records (the first: line %d): %s", j.first, strings.Join(parts, "; ")))
}
