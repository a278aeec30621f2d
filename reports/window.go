package reports

import (
	"sort"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/rules"
)

// The incident window is anchored on what an intruder does — initial access,
// credential use, lateral movement, collection, staging, transfer tools,
// cover-up — never on volume: a large transfer is what the window is used to
// judge, so it cannot define it. Volumes are then compared with the days
// before the window.

// episodeGap joins activity less than this apart into one episode: an
// intrusion's steps follow each other within hours.
const episodeGap = 6 * time.Hour

var levelRank = map[string]int{"informational": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

// activity is one occurrence of a finding that shows someone acting on the
// network (not a volume measurement).
type activity struct {
	first, last time.Time
	rule        string
	level       int
	host, user  string
	src         string
	tags        []string
	finding     *rules.Finding
}

func (a activity) has(prefix string) bool {
	for _, t := range a.tags {
		if strings.HasPrefix(t, prefix) {
			return true
		}
	}
	return false
}

// collects reports whether the activity gathers or moves data on a host:
// collection (staging, mass reading) or an exfiltration tool.
func (a activity) collects() bool {
	return a.has("attack.collection") || a.has("attack.exfiltration")
}

// activities flattens the findings into occurrences, leaving out what only
// sees data leave (rules marked signal: transfer or volume) and
// informational rules.
func activities(found []*rules.Finding) []activity {
	var out []activity
	for _, f := range found {
		lv := levelRank[f.Level]
		if lv < levelRank["medium"] || f.Signal == "transfer" || f.Signal == "volume" {
			continue
		}
		occ := f.Occurrences
		if len(occ) == 0 {
			occ = []rules.Occurrence{{First: f.First, Last: f.Last, Count: f.Count}}
		}
		for _, o := range occ {
			out = append(out, activity{first: o.First, last: o.Last, rule: f.Title, level: lv, host: o.Host, user: o.User, src: o.Src, tags: f.Tags, finding: f})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].first.Before(out[j].first) })
	return out
}

// episode is activity close together in time.
type episode struct {
	first, last time.Time
	rules       map[string]bool
	maxLevel    int
}

// intrusion reports an episode that shows an intruder rather than one odd
// event: a critical finding (brute force then success, a transfer tool,
// shadow copies deleted), or two different high findings together. One
// medium or high rule alone (a staff member's RDP from the VPN, internet
// password spraying) does not open a window.
func (e episode) intrusion() bool {
	return e.maxLevel >= levelRank["critical"] || (len(e.rules) >= 2 && e.maxLevel >= levelRank["high"])
}

func episodes(acts []activity) []episode {
	var out []episode
	for _, a := range acts {
		if n := len(out); n > 0 && !a.first.After(out[n-1].last.Add(episodeGap)) {
			e := &out[n-1]
			e.rules[a.rule] = true
			e.maxLevel = max(e.maxLevel, a.level)
			if a.last.After(e.last) {
				e.last = a.last
			}
			continue
		}
		out = append(out, episode{first: a.first, last: a.last, rules: map[string]bool{a.rule: true}, maxLevel: a.level})
	}
	return out
}

// intrusionWindow spans from the first intrusion episode to the last
// activity after it; nil when no episode shows an intrusion.
func intrusionWindow(acts []activity) *Range {
	var w *Range
	for _, e := range episodes(acts) {
		if w == nil && !e.intrusion() {
			continue
		}
		if w == nil {
			w = &Range{Start: e.first, End: e.last}
			continue
		}
		if e.last.After(w.End) {
			w.End = e.last
		}
	}
	return w
}
