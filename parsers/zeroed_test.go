package parsers

import (
	"strings"
	"testing"
)

// TestZeroedRegion: a run of NUL bytes left by a crash (or an eraser)
// before a log's line does not cost that line its format: the message is
// joined whole, and the file says how many NULs were taken out, from where.
func TestZeroedRegion(t *testing.T) {
	nul := strings.Repeat("\x00", 3000)
	log := nul + "Mar 12 03:14:07 mail01 postfix/qmgr[1234]: 4Tv1Zq0Y2Kz9bcd: from=<compta@mairie-x.fr>, size=52428800, nrcpt=1 (queue active)\n" +
		"Mar 12 03:14:09 mail01 postfix/smtp[1240]: 4Tv1Zq0Y2Kz9bcd: to=<x@proton.me>, relay=mail.protonmail.ch[185.70.42.37]:25, delay=2.1, delays=0.1/0/0.5/1.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 123)\n" +
		nul + nul + "Mar 12 03:14:09 mail01 postfix/qmgr[1234]: 4Tv1Zq0Y2Kz9bcd: removed\n"
	st, evs := parseText(t, "mail.log", log)
	if st.Format != "postfix" || st.Raw != 0 || len(evs) != 1 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "message", evs[0], "", map[string]any{"email.to.address": []string{"x@proton.me"}, "email.size": int64(52428800),
		"destination.ip": "185.70.42.37", "postfix.lines": []string{"1", "2", "3"}})
	found := false
	for _, w := range st.Warnings {
		found = found || strings.HasPrefix(w, "9000 NUL byte(s) taken out of 2 line(s) before reading them (the first: line 1)")
	}
	if !found {
		t.Errorf("warnings %q", st.Warnings)
	}
}
