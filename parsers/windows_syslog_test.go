package parsers

import (
	"reflect"
	"strings"
	"testing"
)

// TestWindowsOverSyslog: Windows events a forwarder sent as plain syslog
// text (NXLog's to_syslog_bsd: the source as program, the rendered message,
// no event ID) give the events their Snare records give — the ID read from
// the message's first sentence, the accounts, addresses and share from the
// rest — in English and French, line breaks kept or flattened.
func TestWindowsOverSyslog(t *testing.T) {
	for _, c := range []struct {
		name, provider, channel, id, msg string
	}{
		{"4624", "Microsoft-Windows-Security-Auditing", "Security", "4624", msg4624},
		{"4625 fr", "Microsoft-Windows-Security-Auditing", "Security", "4625", msg4625fr},
		{"4625 fr, curly apostrophe", "Microsoft-Windows-Security-Auditing", "Security", "4625", strings.ReplaceAll(msg4625fr, "n'a pas", "n’a pas")},
		{"5145", "Microsoft-Windows-Security-Auditing", "Security", "5145", msg5145},
		{"7045", "Service Control Manager", "System", "7045", "A service was installed in the system.\r\n\r\nService Name:  updsvc\r\nService File Name:  C:\\ProgramData\\upd.exe -k run\r\nService Type:  user mode service\r\nService Start Type:  demand start\r\nService Account:  LocalSystem"},
	} {
		snare := "Mar 14 23:05:12 FS01.agglo.local MSWinEventLog\t1\t" + c.channel + "\t2174\tFri Mar 14 23:05:12 2025\t" + c.id + "\t" + c.provider +
			"\tN/A\tN/A\tSuccess Audit\tFS01.agglo.local\tLogon\t\t" + flatten(c.msg) + "\t881234\n"
		_, want := parseText(t, "snare.log", snare)
		for _, form := range []string{"flattened", "line breaks as #015#012"} {
			msg := flatten(c.msg)
			if form != "flattened" {
				msg = strings.NewReplacer("\r", "#015", "\n", "#012", "\t", "#011").Replace(c.msg)
			}
			st, got := parseText(t, "windows.log", "<14>Mar 14 23:05:12 FS01.agglo.local "+c.provider+"[604]: "+msg+"\n")
			if st.Parsed != 1 || len(got) != 1 || len(want) != 1 {
				t.Fatalf("%s %s: %+v", c.name, form, st)
			}
			a, b := windowsComparable(want[0].Fields), windowsComparable(got[0].Fields)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s %s:\nSnare  %v\nsyslog %v", c.name, form, a, b)
			}
			if got[0].Str("event.code") != c.id || got[0].Str("winlog.channel") != c.channel {
				t.Errorf("%s %s: event %s in %s", c.name, form, got[0].Str("event.code"), got[0].Str("winlog.channel"))
			}
		}
	}
	// A source's other messages, and other programs, stay plain syslog.
	for _, l := range []string{
		"<14>Mar 14 23:05:12 FS01 Microsoft-Windows-Security-Auditing[604]: Something else happened.",
		"<14>Mar 14 23:05:12 FS01 sshd[604]: An account was successfully logged on.",
	} {
		_, evs := parseText(t, "windows.log", l+"\n")
		if len(evs) != 1 || evs[0].Str("event.dataset") != "syslog" || evs[0].Str("event.code") != "" {
			t.Errorf("%q: %v", l, evs[0].Fields)
		}
	}
}

// windowsComparable leaves out what says how the event travelled.
func windowsComparable(f map[string]any) map[string]any {
	m := map[string]any{}
	for k, v := range f {
		switch {
		case strings.HasPrefix(k, "snare."), strings.HasPrefix(k, "log.syslog."), strings.HasPrefix(k, "evidence."), k == "event.original",
			k == "message", k == "event.id", k == "log.file.path", k == "event.timezone", k == "winlog.record_id", k == "winlog.task",
			k == "event.kind" && v == "event", k == "log.level", k == "winlog.keywords", k == "event.outcome" && f["event.code"] == "7045":
		default:
			m[k] = v
		}
	}
	return m
}
