package parsers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGuessYear: year-less logs whose files' modification time says 2026,
// beside dated logs of March 2025, are read in 2025; a file that already
// meets the dated span keeps its year; nothing is guessed without dated
// logs, when the year-less files would need different years, or when they
// already meet the dated span.
func TestGuessYear(t *testing.T) {
	d := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	dated := &FileStats{Path: "fw.log", Parsed: 10, First: d("2025-03-01T00:00:00Z"), Last: d("2025-03-09T23:00:00Z")}
	mail := &FileStats{Path: "mail.log", Parsed: 5, YearGuessed: true, Year: 2026, First: d("2026-03-01T01:00:00Z"), Last: d("2026-03-09T22:00:00Z")}
	for _, tc := range []struct {
		name  string
		files []*FileStats
		year  int
		ok    bool
	}{
		{"copied a year later", []*FileStats{dated, mail}, 2025, true},
		{"no dated log", []*FileStats{mail}, 0, false},
		{"already meets", []*FileStats{dated, {Path: "m", Parsed: 3, YearGuessed: true, Year: 2025, First: d("2025-03-02T00:00:00Z"), Last: d("2025-03-03T00:00:00Z")}}, 0, false},
		{"two years needed", []*FileStats{dated, mail, {Path: "old", Parsed: 3, YearGuessed: true, Year: 2027, First: d("2027-03-02T00:00:00Z"), Last: d("2027-03-03T00:00:00Z")}}, 2025, true},
		{"one meets as read, one a year later", []*FileStats{dated, mail, {Path: "m", Parsed: 3, YearGuessed: true, Year: 2025, First: d("2025-03-02T00:00:00Z"), Last: d("2025-03-03T00:00:00Z")}}, 2025, true},
		{"one read from December 2024 meets, one needs 2025", []*FileStats{
			{Path: "fw.log", Parsed: 10, First: d("2024-12-28T00:00:00Z"), Last: d("2025-03-09T23:00:00Z")}, mail,
			{Path: "m", Parsed: 3, YearGuessed: true, Year: 2024, First: d("2024-12-30T00:00:00Z"), Last: d("2025-01-02T00:00:00Z")}}, 0, false},
		{"a device's own dates beside a relay's year-less header", []*FileStats{
			{Path: "sophos.log", Parsed: 10, YearGuessed: true, Year: 2026, First: d("2025-03-01T00:00:00Z"), Last: d("2025-03-09T23:00:00Z")}, mail}, 2025, true},
		{"dated logs months apart, no year meets one", []*FileStats{
			{Path: "jan.log", Parsed: 4, First: d("2024-01-01T00:00:00Z"), Last: d("2024-01-02T00:00:00Z")},
			{Path: "dec.log", Parsed: 4, First: d("2024-12-20T00:00:00Z"), Last: d("2024-12-20T18:00:00Z")}, mail}, 0, false},
		{"a span no year meets", []*FileStats{dated, {Path: "m", Parsed: 3, YearGuessed: true, Year: 2026, First: d("2026-07-01T00:00:00Z"), Last: d("2026-07-03T00:00:00Z")}}, 0, false},
	} {
		g, ok := GuessYear(tc.files)
		if ok != tc.ok || ok && g.Year != tc.year {
			t.Errorf("%s: %+v %v, want %d %v", tc.name, g, ok, tc.year, tc.ok)
		}
	}
	if g, _ := GuessYear([]*FileStats{dated, mail}); g.Was != 2026 || len(g.Files) != 1 || g.Files[0] != "mail.log" || !g.DatedFirst.Equal(dated.First) {
		t.Errorf("guess %+v", g)
	}
}

// TestYearlessStamps: a classic syslog stamp names no year. Without --year
// it takes its file's modification year — the year before when the file's
// first such stamp would fall more than two days after that time (a log
// running from December into January, copied in January) — and the file's
// year is a guess only when such a stamp dates an event, not when a relay's
// header sits before a device's own dated time.
func TestYearlessStamps(t *testing.T) {
	postfix := func(stamp, id string) string {
		return stamp + " mx postfix/smtpd[100]: " + id + ": client=unknown[10.1.2.3]\n" +
			stamp + " mx postfix/qmgr[101]: " + id + ": from=<a@mairie.fr>, size=1200, nrcpt=1 (queue active)\n" +
			stamp + " mx postfix/smtp[102]: " + id + ": to=<b@example.org>, relay=mx.example.org[93.184.216.34]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)\n"
	}
	forti := func(header, date string) string {
		return header + ` fw01 ` + date + `logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.1.1.1 srcport=50000 dstip=93.184.216.34 dstport=443 proto=6 action="close" sentbyte=1000 rcvdbyte=2000` + "\n"
	}
	netscreen := `Mar 14 23:41:05 10.0.0.1 ssg5: NetScreen device_id=ssg5  [Root]system-notification-00257(traffic): start_time="2025-03-14 23:31:02" duration=603 policy_id=2 service=https proto=6 src zone=Trust dst zone=Untrust action=Permit sent=97877576 rcvd=1087528 src=172.16.14.21 dst=144.76.136.153 src_port=60002 dst_port=443 session_id=1234 reason=Close - TCP FIN (2025-03-14 23:41:03)` + "\n"
	watchguard := `Mar 14 23:41:02 FW-MAIRIE 801234567890 (2025-03-14T23:41:00) firewall: msg_id="3000-0151" Allow 1-Trusted 0-External tcp 172.16.14.21 144.76.136.153 60002 443 duration="600" sent_bytes="97877576" rcvd_bytes="1087528" (Outgoing-00)` + "\n"
	cef := func(ext string) string {
		return "Mar 14 23:41:02 collector CEF:0|Vendor|Gateway|1.0|100|connection closed|3|src=10.1.1.1 dst=93.184.216.34 " + ext + "\n"
	}
	leef := "Mar 14 23:41:02 collector LEEF:1.0|Vendor|Gateway|1.0|100|src=10.1.1.1\tdst=93.184.216.34\tdevTime=1741995662000\n"
	proxysg := string(mustRead(t, "testdata/proxysg_syslog.log"))
	var requests []string // the same without its directives
	for _, l := range strings.SplitAfter(proxysg, "\n") {
		if _, directive := w3cDirective(strings.TrimSpace(l)); !directive {
			requests = append(requests, l)
		}
	}
	mtime := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	for _, c := range []struct {
		name, text          string
		mtime               time.Time
		year                int // --year
		wantYear            int
		wantGuess           bool
		wantFirst, wantLast string
	}{
		{"december into january, copied in january", postfix("Dec 30 10:00:01", "4AB1") + postfix("Jan  2 10:00:01", "5AB1"), mtime("2026-01-10T12:00:00Z"), 0,
			2025, true, "2025-12-30T10:00:01Z", "2026-01-02T10:00:01Z"},
		{"the same with --year", postfix("Dec 30 10:00:01", "4AB1") + postfix("Jan  2 10:00:01", "5AB1"), mtime("2026-01-10T12:00:00Z"), 2025,
			2025, false, "2025-12-30T10:00:01Z", "2026-01-02T10:00:01Z"},
		{"a first stamp within two days of the copy", postfix("Mar 15 10:00:00", "4AB1"), mtime("2025-03-14T00:00:00Z"), 0,
			2025, true, "2025-03-15T10:00:00Z", "2025-03-15T10:00:00Z"},
		{"a first stamp beyond", postfix("Mar 16 10:00:00", "4AB1"), mtime("2025-03-14T00:00:00Z"), 0,
			2024, true, "2024-03-16T10:00:00Z", "2024-03-16T10:00:00Z"},
		{"a log copied months later", postfix("Mar 16 10:00:00", "4AB1"), mtime("2025-11-02T00:00:00Z"), 0,
			2025, true, "2025-03-16T10:00:00Z", "2025-03-16T10:00:00Z"},
		{"fortigate dated by its date and time behind a relay's header", forti("Mar 14 23:41:02", `date=2025-03-14 time=23:41:00 `), mtime("2025-03-20T00:00:00Z"), 0,
			2025, false, "2025-03-14T23:41:00Z", "2025-03-14T23:41:00Z"},
		{"fortigate dated by the relay's header alone", forti("Mar 14 23:41:02", ""), mtime("2025-03-20T00:00:00Z"), 0,
			2025, true, "2025-03-14T23:41:02Z", "2025-03-14T23:41:02Z"},
		{"netscreen dated by the device", netscreen, mtime("2025-03-20T00:00:00Z"), 0,
			2025, false, "2025-03-14T23:41:03Z", "2025-03-14T23:41:03Z"},
		{"watchguard dated by the Firebox", watchguard, mtime("2025-03-20T00:00:00Z"), 0,
			2025, false, "2025-03-14T23:41:00Z", "2025-03-14T23:41:00Z"},
		{"cef dated by rt", cef("rt=1741995662000"), mtime("2025-03-20T00:00:00Z"), 0,
			2025, false, "2025-03-14T23:41:02Z", "2025-03-14T23:41:02Z"},
		{"cef dated by the relay", cef("act=close"), mtime("2025-03-20T00:00:00Z"), 0,
			2025, true, "2025-03-14T23:41:02Z", "2025-03-14T23:41:02Z"},
		{"leef dated by devTime", leef, mtime("2025-03-20T00:00:00Z"), 0,
			2025, false, "2025-03-14T23:41:02Z", "2025-03-14T23:41:02Z"},
		{"proxysg relayed, dated by its requests", proxysg, mtime("2025-03-20T00:00:00Z"), 0, 2025, false, "", ""},
		{"proxysg relayed without its directives", strings.Join(requests, ""), mtime("2025-03-20T00:00:00Z"), 0, 2025, false, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "some.log")
			if err := os.WriteFile(p, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, c.mtime, c.mtime); err != nil {
				t.Fatal(err)
			}
			_, st := parseFile(t, p, &Options{TZ: time.UTC, Year: c.year})
			if st.Parsed == 0 {
				t.Fatalf("%s: parsed %d, raw %d (%q)", st.Format, st.Parsed, st.Raw, st.Warnings)
			}
			first, last := st.First.Format(time.RFC3339), st.Last.Format(time.RFC3339)
			if c.wantFirst == "" {
				first, last = "", ""
			}
			if st.Year != c.wantYear || st.YearGuessed != c.wantGuess || first != c.wantFirst || last != c.wantLast {
				t.Errorf("%s: year %d (%s), guessed %v, %s … %s; want %d, %v, %s … %s", st.Format, st.Year, st.YearSource, st.YearGuessed, first, last,
					c.wantYear, c.wantGuess, c.wantFirst, c.wantLast)
			}
		})
	}
}
