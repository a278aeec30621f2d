package reports

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/exfiltrace/exfiltrace/parsers"
)

// yearReason says that the logs naming no year were read in the year in
// which they meet the dated logs, not in their files' modification year.
func yearReason(g *parsers.YearGuess, lang string) string {
	return fmt.Sprintf(tr(lang,
		"Années : les journaux qui n'indiquent pas l'année (%s) ont été lus en %d, l'année où ils rejoignent les journaux datés (%s → %s), et non en %d, l'année de modification de leurs fichiers (copie sans ses dates) ; --year l'emporte sur ce choix.",
		"Years: the logs that name no year (%s) were read in %d, the year in which they meet the dated logs (%s → %s), not in %d, their files' modification year (a copy without its dates); --year overrides this choice."),
		movedFiles(g), g.Year, g.DatedFirst.Format("2006-01-02"), g.DatedLast.Format("2006-01-02"), g.Was)
}

// yearMissedReason says that the logs naming no year, read in their files'
// modification year, meet the dated logs only in another: a kept case is
// not read again, the analyst gives --year.
func yearMissedReason(g *parsers.YearGuess, lang string) string {
	return fmt.Sprintf(tr(lang,
		"Années : les journaux qui n'indiquent pas l'année (%s) ont été lus en %d, l'année de modification de leurs fichiers ; ils ne rejoignent les journaux datés (%s → %s) qu'en %d : relancer avec --year %d si leurs fichiers sont une copie sans ses dates.",
		"Years: the logs that name no year (%s) were read in %d, their files' modification year; they meet the dated logs (%s → %s) only in %d: rerun with --year %d if their files are a copy without its dates."),
		movedFiles(g), g.Was, g.DatedFirst.Format("2006-01-02"), g.DatedLast.Format("2006-01-02"), g.Year, g.Year)
}

// movedFiles names the files whose year was guessed, as the reasons do.
func movedFiles(g *parsers.YearGuess) string {
	var names []string
	for _, f := range g.Files {
		names = append(names, filepath.Base(f))
	}
	return strings.Join(names, ", ")
}
