package parsers

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// The tests of relayed logs rewrite a sample's lines as a relay or a
// collector would have written them, read both, and compare the events.

// syslogSample is a sample's lines with their syslog headers (read in
// 2025, UTC); ok is false when a line has none, or is a daemon's or a log
// server's own file ("imap-login: Info: …", "… INFO [thread] …",
// "2025-03-14 23:45:50 Member2 Allow …"), which no relay forwards.
func syslogSample(t *testing.T, path string) (lines []string, headers []syslogHeader, ok bool) {
	t.Helper()
	clock := syslogClock{Year: 2025, Loc: time.UTC}
	for _, l := range strings.Split(strings.TrimRight(readText(t, path), "\n"), "\n") {
		h, err := clock.peek(l)
		if err != nil || h.Host == "" || strings.HasSuffix(h.Host, ":") || logLevelWords[h.Host] || isISODate(l) && h.Program == "" {
			return nil, nil, false
		}
		lines, headers = append(lines, l), append(headers, h)
	}
	return lines, headers, true
}

var logLevelWords = map[string]bool{"DEBUG": true, "INFO": true, "WARN": true, "ERROR": true}

// readText is a file's content.
func readText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// parseRewritten reads text written to a file of that name.
func parseRewritten(t *testing.T, name, text string) ([]*event.Event, *FileStats) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return parseFile(t, p, &Options{TZ: time.UTC, Year: 2025})
}

// sameEvents reports whether the rewritten file's events are the sample's,
// field for field but for those naming the line as written (and those in
// drop), and at the same times.
func sameEvents(t *testing.T, label string, own []*event.Event, st *FileStats, got []*event.Event, st2 *FileStats, drop ...string) bool {
	t.Helper()
	if st2.Raw != st.Raw || st2.Parsed != st.Parsed || len(got) != len(own) {
		t.Errorf("%s: %q %d parsed %d raw %v; the sample: %q %d %d %v", label, st2.Format, st2.Parsed, st2.Raw, st2.RawReasons, st.Format, st.Parsed, st.Raw, st.RawReasons)
		return false
	}
	for i := range own {
		a, b := comparableRelayed(own[i]), comparableRelayed(got[i])
		for _, k := range drop {
			delete(a, k)
			delete(b, k)
		}
		if !own[i].Timestamp.Equal(got[i].Timestamp) || !reflect.DeepEqual(a, b) {
			t.Errorf("%s, event %d:\nsample    %s %v\nrewritten %s %v", label, i, own[i].Timestamp, a, got[i].Timestamp, b)
			return false
		}
	}
	return true
}

// comparableRelayed is an event's fields without those naming the line as
// written (its text, the file, the syslog priority only a relay gave, the
// zone a classic stamp was read in).
func comparableRelayed(ev *event.Event) map[string]any {
	m := map[string]any{}
	for k, v := range ev.Fields {
		switch {
		case k == event.FieldOriginal, k == event.FieldSHA256, k == event.FieldFile, k == event.FieldID, strings.HasPrefix(k, "log.syslog."),
			k == "event.timezone":
		default:
			m[k] = v
		}
	}
	return m
}
