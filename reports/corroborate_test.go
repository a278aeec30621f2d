package reports

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/rules"
	"github.com/exfiltrace/exfiltrace/samples/scenario"
)

// TestCorroborationAcrossAnUnknownZone: mail thefts whose Windows events
// come through NXLog or Export-Csv in the town's local time (east of UTC,
// no zone written) beside a mail log and a firewall that name theirs, with
// no moment shared by Windows and the others to check the clocks against.
// Read with no --tz, the account's mass file access lands hours after the
// mail it fed. The verdict is still the truth's: where only an unknown zone
// puts the collection before the mail, it corroborates said as uncertain in
// order (0.85), and a small mail no rule flags is in the ledger by it. Given
// the right zone the order is sure (0.95); given UTC explicitly, the
// analyst's zone is taken at its word: no uncertain corroboration, so those
// mails are not "confirmed".
func TestCorroborationAcrossAnUnknownZone(t *testing.T) {
	const uncertain = "its order with the transfer is not established"
	n, unsure, viaCollection := 0, 0, 0
	for seed := uint64(300); seed < 500 && (n < 8 || unsure < 3 || viaCollection < 1); seed++ {
		o := scenario.Draw(scenario.MailTheft, seed)
		if o.TZOffset < 3600 || o.Missing != "" {
			continue
		}
		// Windows in local time: NXLog's JSON, or Export-Csv's culture
		// pattern, in turn.
		o.SetWindowsForm(map[bool]string{true: "nxlog", false: "export-csv"}[n%2 == 0])
		o.ClassicSyslog, o.FortiMail, o.CiscoESA = false, false, false // Postfix, stamped with its zone
		inc, dir := confirmedTheftBehindSophos(t, o)
		if inc == nil {
			continue
		}
		n++
		read := func(tz *time.Location) (*Report, bool) {
			r, _ := analyzeDir(t, dir, parsers.Options{TZ: tz, Year: inc.Truth.Year}, "en")
			return r, strings.Contains(strings.Join(r.Verdict.Reasons, "\n"), uncertain)
		}
		r, said := read(nil)
		byCollection := false
		for _, e := range r.Exfiltration {
			byCollection = byCollection || strings.Contains(e.Anomaly, "in some zones the collection precedes them")
		}
		want := 0.95
		if said || byCollection {
			want = 0.85
		}
		if said {
			unsure++
		}
		if byCollection {
			viaCollection++
		}
		if bad := withoutTimes(checkIncident(r, inc.Truth)); len(bad) > 0 || r.Verdict.Confidence != want {
			t.Errorf("seed %d (%s), no zone given: confidence %.2f, want %.2f\n  %s\n%s", seed, inc.Truth.Notes, r.Verdict.Confidence, want,
				strings.Join(bad, "\n  "), strings.Join(r.Verdict.Reasons, "\n"))
		}
		r, saidRight := read(inc.Truth.Location())
		if bad := checkIncident(r, inc.Truth); len(bad) > 0 || r.Verdict.Confidence != 0.95 || saidRight {
			t.Errorf("seed %d, the right zone: confidence %.2f, order said uncertain %v\n  %s", seed, r.Verdict.Confidence, saidRight, strings.Join(bad, "\n  "))
		}
		r, saidUTC := read(time.UTC)
		if saidUTC || ((said || byCollection) && r.Verdict.DataTaken == Confirmed) {
			t.Errorf("seed %d, UTC given: %s %.2f, order said uncertain %v", seed, r.Verdict.DataTaken, r.Verdict.Confidence, saidUTC)
		}
	}
	if n < 8 || unsure < 3 || viaCollection < 1 {
		t.Errorf("%d incidents east of UTC, %d corroborated only across the unknown zone, %d mails in the ledger only by it", n, unsure, viaCollection)
	}
	t.Logf("%d incidents, %d corroborated only across the unknown zone, %d mails in the ledger only by it", n, unsure, viaCollection)
}

// TestCorroborationAcrossTheMailLogsZone: the mirror case — mail thefts
// in a town west of UTC whose Postfix log has classic syslog stamps (no
// zone) beside Windows events that name theirs. Read with no --tz, the mail
// lands hours before the collection that fed it; the verdict is still the
// truth's, the corroboration said as uncertain in order where it needs the
// mail log's zone.
func TestCorroborationAcrossTheMailLogsZone(t *testing.T) {
	n, unsure := 0, 0
	for seed := uint64(300); seed < 600 && (n < 6 || unsure < 2); seed++ {
		o := scenario.Draw(scenario.MailTheft, seed)
		if o.TZOffset > -3600 || o.Missing != "" {
			continue
		}
		o.ClassicSyslog, o.NXLog, o.WinExport, o.EvtxexportText, o.FortiMail, o.CiscoESA = true, false, false, false, false, false
		inc, dir := confirmedTheftBehindSophos(t, o)
		if inc == nil {
			continue
		}
		n++
		r, _ := analyzeDir(t, dir, parsers.Options{Year: inc.Truth.Year}, "en")
		said := strings.Contains(strings.Join(r.Verdict.Reasons, "\n"), "its order with the transfer is not established")
		if said {
			unsure++
		}
		if r.Verdict.DataTaken != Confirmed || said != (r.Verdict.Confidence == 0.85) {
			t.Errorf("seed %d (%s): %s %.2f, order said uncertain %v\n%s", seed, inc.Truth.Notes, r.Verdict.DataTaken, r.Verdict.Confidence, said, strings.Join(r.Verdict.Reasons, "\n"))
		}
		for _, e := range r.Exfiltration {
			if e.Channel == "email" && e.Bytes != inc.Truth.Exfil[0].Bytes {
				t.Errorf("seed %d: %d B by mail, want %d", seed, e.Bytes, inc.Truth.Exfil[0].Bytes)
			}
		}
	}
	if n < 6 || unsure < 2 {
		t.Errorf("%d incidents west of UTC, %d corroborated only across the mail log's unknown zone", n, unsure)
	}
	t.Logf("%d incidents, %d corroborated only across the mail log's unknown zone", n, unsure)
}

// confirmedTheftBehindSophos writes the incident o draws behind a Sophos
// XG (which dates its lines itself), or returns nil when its truth is not a
// confirmed theft.
func confirmedTheftBehindSophos(t *testing.T, o scenario.Options) (*scenario.Incident, string) {
	inc := scenario.Build(o)
	if inc.Truth.Verdict != Confirmed {
		return nil, ""
	}
	if err := inc.AsFirewall("sophos-xg"); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), fmt.Sprintf("mail-%d", o.Seed))
	if err := inc.Write(dir, dir+".truth.json"); err != nil {
		t.Fatal(err)
	}
	return inc, dir
}

// withoutTimes drops the complaints that are only about a clock check (the
// zoneless reading is checked apart).
func withoutTimes(bad []string) []string {
	var out []string
	for _, b := range bad {
		if !strings.HasPrefix(b, "the clock check claims") {
			out = append(out, b)
		}
	}
	return out
}

// TestCorroborationZoneBounds: when the activity's log or the transfer's
// names no zone, an activity corroborates only where some zone (UTC−12 …
// UTC+14, each log in its own when both name none) puts it in the day
// before the transfer or during it; both zoned, or once a zone was given,
// only where it was read.
func TestCorroborationZoneBounds(t *testing.T) {
	first := time.Date(2025, 3, 14, 17, 0, 0, 0, time.UTC)
	e := LedgerEntry{Channel: "email", Users: []string{"d.simon"}, FirstSeen: first, LastSeen: first.Add(20 * time.Minute),
		Destination: Destination{Email: "x@proton.me"}}
	for _, c := range []struct {
		name         string
		at           time.Duration // activity's time read, from the entry's first
		file         string
		mailZoneless bool // the mail log (the transfer's) names no zone
		zoneGiven    bool
		want         bool
		uncertain    bool
	}{
		{"zoned, before", -2 * time.Hour, "win.xml", false, false, true, false},
		{"zoned, after", 3 * time.Hour, "win.xml", false, false, false, false},
		{"zoneless, read 2 h after", 2 * time.Hour, "nxlog.json", false, false, true, true},
		{"zoneless, read 14 h after", 14 * time.Hour, "nxlog.json", false, false, true, true},
		{"zoneless, read 15 h 30 after", 15*time.Hour + 30*time.Minute, "nxlog.json", false, false, false, false},
		{"zoneless, read 35 h before", -35 * time.Hour, "nxlog.json", false, false, true, true},
		{"zoneless, read 37 h before", -37 * time.Hour, "nxlog.json", false, false, false, false},
		{"zoneless, read before", -time.Hour, "nxlog.json", false, false, true, false},
		{"zoneless, zone given", 2 * time.Hour, "nxlog.json", false, true, false, false},
		{"mail zoneless, read 13 h after", 13 * time.Hour, "win.xml", true, false, true, true},
		{"mail zoneless, read 14 h after", 14 * time.Hour, "win.xml", true, false, false, false},
		{"mail zoneless, read 37 h before", -37 * time.Hour, "win.xml", true, false, true, true},
		{"mail zoneless, read 39 h before", -39 * time.Hour, "win.xml", true, false, false, false},
		{"mail zoneless, zone given", 2 * time.Hour, "win.xml", true, true, false, false},
		{"both zoneless, read 15 h after", 15 * time.Hour, "nxlog.json", true, false, true, true},
		{"both zoneless, read 15 h 30 after", 15*time.Hour + 30*time.Minute, "nxlog.json", true, false, false, false},
		{"both zoneless, read 39 h before", -39 * time.Hour, "nxlog.json", true, false, false, false},
	} {
		a := NewAnalyzer(Options{Lang: "en"})
		a.zonelessFiles["nxlog.json"] = true
		a.zonelessKinds["windows"] = true
		if c.mailZoneless {
			a.zonelessFiles["mail.log"] = true
			a.zonelessKinds["mail"] = true
		}
		a.zoneGiven = c.zoneGiven
		at := first.Add(c.at)
		f := &rules.Finding{Title: "Mass file access by one account", Tags: []string{"attack.collection"},
			Evidence: []rules.Evidence{{File: c.file, Time: at}}}
		acts := []activity{{first: at, last: at.Add(5 * time.Minute), user: "d.simon", host: "NAS01", tags: f.Tags, finding: f}}
		info := a.corroborate(entryInfo{}, acts, e, nil)
		if info.corroborated != c.want || info.zoneUncertain != c.uncertain {
			t.Errorf("%s: corroborated %v uncertain %v, want %v %v (%s)", c.name, info.corroborated, info.zoneUncertain, c.want, c.uncertain, info.corrWhy)
		}
	}
}

// TestMailAfterCollectionZoneBounds: without an intrusion, mail to a new
// outside address follows an account's collection within two hours where
// it was read — or, for a collection from a log naming no zone when no
// zone was given, where some zone (UTC−12 … UTC+14) puts it; never when
// the address received mail before any such moment.
func TestMailAfterCollectionZoneBounds(t *testing.T) {
	at := time.Date(2025, 7, 6, 20, 43, 0, 0, time.UTC)
	for _, c := range []struct {
		name      string
		read      time.Duration // the collection's start as read, from the mail
		file      string
		zoneGiven bool
		earlier   time.Duration // a first message to the address before the mail (0: none)
		mail      bool          // the mail log names no zone
		want      bool
		uncertain bool
	}{
		{"zoned, an hour before", -time.Hour, "win.xml", false, 0, false, true, false},
		{"zoned, an hour after", time.Hour, "win.xml", false, 0, false, false, false},
		{"zoneless, read an hour after", time.Hour, "win.csv", false, 0, false, true, true},
		{"zoneless, read 13 h after", 13 * time.Hour, "win.csv", false, 0, false, true, true},
		{"zoneless, read 14 h 30 after", 14*time.Hour + 30*time.Minute, "win.csv", false, 0, false, false, false},
		{"zoneless, read 13 h before", -13 * time.Hour, "win.csv", false, 0, false, true, true},
		{"zoneless, read 15 h before", -15 * time.Hour, "win.csv", false, 0, false, false, false},
		{"zoneless, zone given", time.Hour, "win.csv", true, 0, false, false, false},
		{"zoneless, the address written to 10 h before", time.Hour, "win.csv", false, 10 * time.Hour, false, false, false},
		{"mail zoneless, zoned read an hour after", time.Hour, "win.xml", false, 0, true, true, true},
		{"mail zoneless, zoned read 11 h after", 11 * time.Hour, "win.xml", false, 0, true, true, true},
		{"mail zoneless, zoned read 13 h after", 13 * time.Hour, "win.xml", false, 0, true, false, false},
	} {
		a := NewAnalyzer(Options{Lang: "en"})
		a.zonelessFiles["win.csv"] = true
		a.zoneGiven = c.zoneGiven
		if c.mail {
			a.zonelessFiles["mail.log"] = true
			a.zonelessKinds["mail"] = true
		}
		r := &recipient{addr: "docs.889@laposte.net"}
		if c.earlier > 0 {
			r.messages = append(r.messages, mailMessage{key: "m0", size: 40_000, t: at.Add(-c.earlier), user: "p.blanc"})
		}
		r.messages = append(r.messages, mailMessage{key: "m1", size: 28_004_941, t: at, user: "p.blanc"})
		start := at.Add(c.read)
		f := &rules.Finding{Title: "Mass file access by one account", Tags: []string{"attack.collection"},
			Evidence: []rules.Evidence{{File: c.file, Time: start}}}
		acts := []activity{{first: start, last: start.Add(5 * time.Minute), user: "p.blanc", host: "NAS01", tags: f.Tags, finding: f}}
		mc, ok := a.mailAfterCollection(r, acts, nil)
		if ok != c.want || mc.zoneUncertain != c.uncertain {
			t.Errorf("%s: tied %v uncertain %v, want %v %v", c.name, ok, mc.zoneUncertain, c.want, c.uncertain)
		}
	}
}

// TestWindowMeetsTheLogAcrossAnUnknownZone: ransomware intrusions without
// theft, seen through a web proxy only (its log in GMT, ending with the
// day's last request), Windows through NXLog in the town's local time east
// of UTC. Read with no --tz, the intrusion lands hours after the proxy's
// last request; where some zone puts it within the proxy's log, the answer
// is what the proxy saw (no_evidence, 0.4) with the doubt said — not
// "insufficient data" — and read in the right zone it is the truth's.
func TestWindowMeetsTheLogAcrossAnUnknownZone(t *testing.T) {
	const doubt = "they cover part of it only in some zones (--tz would settle it)"
	n, said := 0, 0
	for seed := uint64(300); seed < 500 && (n < 8 || said < 2); seed++ {
		o := scenario.Draw(scenario.RansomNoTheft, seed)
		if o.TZOffset < 3600 || o.Missing != "" {
			continue
		}
		o.SetWindowsForm("nxlog")
		inc := scenario.Build(o)
		if err := inc.AsProxy("proxy-only"); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("ransom-%d", seed))
		if err := inc.Write(dir, dir+".truth.json"); err != nil {
			t.Fatal(err)
		}
		n++
		accepted := func(r *Report) bool {
			ok := r.Verdict.DataTaken == inc.Truth.Verdict
			for _, v := range inc.Truth.Accept {
				ok = ok || r.Verdict.DataTaken == v
			}
			return ok
		}
		r, _ := analyzeDir(t, dir, parsers.Options{Year: inc.Truth.Year}, "en")
		if hasReason(r, "Web proxy logs cover ") && strings.Contains(strings.Join(r.Verdict.Reasons, "\n"), doubt) {
			said++
			if r.Verdict.DataTaken != NoEvidence || r.Verdict.Confidence != 0.4 {
				t.Errorf("seed %d: %s %.2f with the doubt said", seed, r.Verdict.DataTaken, r.Verdict.Confidence)
			}
		}
		if !accepted(r) {
			t.Errorf("seed %d (%s), no zone given: %s, want %s\n%s", seed, inc.Truth.Notes, r.Verdict.DataTaken, inc.Truth.Verdict, strings.Join(r.Verdict.Reasons, "\n"))
		}
		if right, _ := analyzeDir(t, dir, parsers.Options{TZ: inc.Truth.Location(), Year: inc.Truth.Year}, "en"); !accepted(right) || hasReason(right, doubt) {
			t.Errorf("seed %d, the right zone: %s %v", seed, right.Verdict.DataTaken, right.Verdict.Reasons)
		}
	}
	if n < 8 || said < 2 {
		t.Errorf("%d incidents, %d with the window met only across the unknown zone", n, said)
	}
	t.Logf("%d incidents, %d with the window met only across the unknown zone", n, said)
}
