package reports

import (
	"fmt"
	"sort"
	"strings"
)

// timeline dates the findings and the start of each ledger channel.
func timeline(r *Report, lang string) []TimelineEntry {
	var out []TimelineEntry
	for _, f := range r.Findings {
		s := f.Title
		if len(f.Hosts) > 0 {
			s += " — " + strings.Join(f.Hosts, ", ")
		}
		if len(f.Users) > 0 {
			s += " (" + strings.Join(f.Users, ", ") + ")"
		}
		out = append(out, TimelineEntry{Time: f.FirstSeen, Summary: s, FindingID: f.ID})
	}
	for _, e := range r.Exfiltration {
		out = append(out, TimelineEntry{Time: e.FirstSeen, Summary: fmt.Sprintf("→ %s: %s (%s)", destName(e), HumanBytes(e.Bytes, lang), channelName(lang, e.Channel))})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}
