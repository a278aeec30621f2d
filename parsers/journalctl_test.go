package parsers

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestJournalctlExports: a mail server's log kept only in the systemd
// journal and exported with journalctl, in each of its text outputs
// (short, short-precise, short-iso, short-iso-precise, short-full,
// short-unix), with journalctl's own lines among the log's — the range it
// read, boot markers old and new, "-- No entries --", -x's catalog — gives
// the events the log written by rsyslog gives: nothing raw, the times
// equal to what each output keeps of them, winter and summer; journalctl's
// lines are said in the file's warnings.
func TestJournalctlExports(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	raw, err := os.ReadFile("testdata/postfix.log")
	if err != nil {
		t.Fatal(err)
	}
	type line struct {
		at   time.Time
		rest string
	}
	var base []line
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		stamp, rest, _ := strings.Cut(l, " ")
		at, err := time.Parse(time.RFC3339Nano, stamp)
		if err != nil {
			continue // the file's lines from other servers, without a year
		}
		base = append(base, line{at, rest})
	}
	forms := []struct {
		name    string
		stamp   func(time.Time) string
		precise bool
	}{
		{"short", func(t time.Time) string { return t.In(paris).Format("Jan _2 15:04:05") }, false},
		{"short-precise", func(t time.Time) string { return t.In(paris).Format("Jan _2 15:04:05.000000") }, true},
		{"short-iso", func(t time.Time) string { return t.In(paris).Format("2006-01-02T15:04:05-0700") }, false},
		{"short-iso-precise", func(t time.Time) string { return t.In(paris).Format("2006-01-02T15:04:05.000000-07:00") }, true},
		{"short-full", func(t time.Time) string { return t.In(paris).Format("Mon 2006-01-02 15:04:05 MST") }, false},
		{"short-unix", func(t time.Time) string { return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000) }, true},
	}
	for _, shift := range []int{0, 150} { // March (CET), August (CEST)
		render := func(stamp func(time.Time) string, marks bool) string {
			var b strings.Builder
			if marks {
				b.WriteString("-- Logs begin at Mon 2025-03-10 00:00:01 CET, end at Sat 2025-09-15 10:00:00 CEST. --\n")
			}
			for i, l := range base {
				fmt.Fprintf(&b, "%s %s\n", stamp(l.at.AddDate(0, 0, shift)), l.rest)
				if marks && i == 2 {
					b.WriteString("-- Reboot --\n-- Subject: A start job for unit postfix.service has finished successfully\n-- Defined-By: systemd\n--\n-- Boot 3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c --\n")
				}
			}
			if marks {
				b.WriteString("-- No entries --\n")
			}
			return b.String()
		}
		dir := t.TempDir()
		ref := filepath.Join(dir, "ref.log")
		os.WriteFile(ref, []byte(render(func(t time.Time) string { return t.Format(time.RFC3339Nano) }, false)), 0o644)
		want, wst := parseFile(t, ref, &Options{TZ: paris, Year: 2025})
		if wst.Raw != 0 || len(want) == 0 {
			t.Fatalf("reference: %+v", wst)
		}
		for _, f := range forms {
			p := filepath.Join(dir, f.name+".log")
			os.WriteFile(p, []byte(render(f.stamp, true)), 0o644)
			got, st := parseFile(t, p, &Options{TZ: paris, Year: 2025})
			name := fmt.Sprintf("%s +%dd", f.name, shift)
			if st.Format != wst.Format || st.Raw != 0 || len(got) != len(want) {
				t.Fatalf("%s: %s, %d raw %v, %d events, want %s and %d", name, st.Format, st.Raw, st.RawReasons, len(got), wst.Format, len(want))
			}
			if w := strings.Join(st.Warnings, "\n"); !strings.Contains(w, "journalctl's own lines") || !strings.Contains(w, "Logs begin at") || !strings.Contains(w, "2 boot marker(s)") {
				t.Errorf("%s: warnings %q", name, st.Warnings)
			}
			for i := range got {
				wt := want[i].Timestamp
				if !f.precise {
					wt = wt.Truncate(time.Second)
				}
				if !got[i].Timestamp.Equal(wt) {
					t.Errorf("%s: event %d at %v, want %v", name, i, got[i].Timestamp, wt)
				}
				if a, b := journalComparable(want[i].Fields), journalComparable(got[i].Fields); !reflect.DeepEqual(a, b) {
					t.Errorf("%s: event %d\n got %v\nwant %v", name, i, b, a)
				}
			}
		}
	}
}

// TestJournalctlShortExport: in a short export, journalctl's lines are as
// many as the log's; the format is still told from the log's lines.
func TestJournalctlShortExport(t *testing.T) {
	text := "-- Journal begins at Mon 2025-03-10 00:00:01 CET, ends at Sat 2025-03-15 10:00:00 CET. --\n" +
		"Mar 14 23:05:12 mail01 postfix/qmgr[1238]: 4Tv1Zq0Y2Kz9bcd: from=<j.martin@agglo.fr>, size=48211234, nrcpt=1 (queue active)\n" +
		"-- Boot 3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c --\n" +
		"Mar 14 23:05:13 mail01 postfix/smtp[1240]: 4Tv1Zq0Y2Kz9bcd: to=<x@proton.me>, relay=mail.protonmail.ch[185.70.42.37]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"
	st, evs := parseText(t, "mail.log", text)
	if st.Format != "postfix" || st.Raw != 0 || len(evs) != 1 || evs[0].Fields["email.size"] != int64(48211234) {
		t.Fatalf("%+v %v", st, evs)
	}
}

// journalComparable leaves out what says how the line was written and
// times a stamp without its fractions changes; the line numbers journalctl's
// own lines shift.
func journalComparable(f map[string]any) map[string]any {
	m := map[string]any{}
	for k, v := range f {
		switch {
		case k == "event.original", k == "event.id", k == "event.timezone", k == "event.start", k == "event.end", k == "event.duration", k == "postfix.lines",
			strings.HasPrefix(k, "evidence."), strings.HasPrefix(k, "log."):
		default:
			m[k] = v
		}
	}
	return m
}
