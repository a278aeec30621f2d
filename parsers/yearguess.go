package parsers

import "time"

// YearGuess is the year the year-less logs of a case meet its dated ones.
type YearGuess struct {
	Year  int      // the year to read them in
	Was   int      // the year their files' modification time gave
	Files []string // the files whose year it moves
	// Dated is the span of the logs whose timestamps carry their year.
	DatedFirst, DatedLast time.Time
}

// yearSlack lets a year-less log start or end a little outside the dated
// logs' span (a mail server logging a day before the firewall's log starts).
const yearSlack = 7 * 24 * time.Hour

// GuessYear finds the year in which the files read with a year taken from
// their modification time (YearGuessed) overlap the files whose timestamps
// carry their own: evidence copied without its times keeps the copy's year,
// which can be a year or more after the logs'. It answers only when every
// such file that misses the dated span meets it in one same year, and the
// ones that already meet it are read in that year too. A file whose times
// all fall outside the year it gave its year-less stamps was dated by its
// own dated field (a device's date beside a relay's year-less header): it
// counts as dated.
func GuessYear(files []*FileStats) (YearGuess, bool) {
	var g YearGuess
	var guessed []*FileStats
	type span struct{ first, last time.Time }
	var dated []span
	for _, st := range files {
		switch {
		case st == nil || st.Parsed == 0 || st.First.IsZero():
		case st.YearGuessed && (st.First.Year() == st.Year || st.Last.Year() == st.Year):
			guessed = append(guessed, st)
		default:
			dated = append(dated, span{st.First, st.Last})
			if g.DatedFirst.IsZero() || st.First.Before(g.DatedFirst) {
				g.DatedFirst = st.First
			}
			if st.Last.After(g.DatedLast) {
				g.DatedLast = st.Last
			}
		}
	}
	if len(guessed) == 0 || g.DatedFirst.IsZero() {
		return g, false
	}
	// Meeting the dated logs is overlapping one of them, not the hull of
	// unrelated logs years apart.
	meets := func(first, last time.Time) bool {
		for _, d := range dated {
			if !last.Before(d.first.Add(-yearSlack)) && !first.After(d.last.Add(yearSlack)) {
				return true
			}
		}
		return false
	}
	for _, st := range guessed {
		if meets(st.First, st.Last) {
			if g.Year != 0 && g.Year != st.Year {
				return g, false
			}
			g.Year = st.Year
			continue
		}
		found := 0
		for k := -3; k <= 3; k++ {
			if k != 0 && meets(st.First.AddDate(k, 0, 0), st.Last.AddDate(k, 0, 0)) {
				if found != 0 {
					return g, false // more than one year fits
				}
				found = st.Year + k
			}
		}
		if found == 0 || g.Year != 0 && g.Year != found {
			return g, false
		}
		g.Year, g.Was = found, st.Year
		g.Files = append(g.Files, st.Path)
	}
	return g, len(g.Files) > 0
}
