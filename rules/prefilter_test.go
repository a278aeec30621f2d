package rules

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/parsers"
)

// compileSecurityRule compiles a rule of the Windows Security log from its
// detection's YAML.
func compileSecurityRule(t *testing.T, title, detection string) *compiled {
	t.Helper()
	var det map[string]any
	if err := yaml.Unmarshal([]byte(detection), &det); err != nil {
		t.Fatalf("%s: %v", title, err)
	}
	comp, err := compileRule(&Rule{Title: title, Logsource: Logsource{Product: "windows", Service: "security"}, Detection: det}, DefaultConfig())
	if err != nil {
		t.Fatalf("%s: %v", title, err)
	}
	return comp
}

func TestRequiredIDs(t *testing.T) {
	cases := []struct{ name, detection, want string }{
		{"one ID", "sel: {EventID: 4624, LogonType: 10}\ncondition: sel", "4624"},
		{"a list of IDs", "sel: {EventID: [4624, 4625]}\ncondition: sel", "4624 4625"},
		{"AND intersects", "a: {EventID: [4624, 4625]}\nb: {EventID: [4625, 4634]}\ncondition: a and b", "4625"},
		{"AND with a part that needs none", "a: {EventID: 5145}\nb: {ShareName|contains: C$}\ncondition: a and b", "5145"},
		{"NOT needs none, the AND still does", "a: {EventID: 4688}\nf: {EventID: 4689}\ncondition: a and not f", "4688"},
		{"OR unites", "a: {EventID: 1102}\nb: {EventID: 104}\ncondition: a or b", "104 1102"},
		{"1 of unites", "sel_a: {EventID: 7045}\nsel_b: {EventID: 4697}\ncondition: 1 of sel_*", "4697 7045"},
		{"a list of maps unites", "sel:\n  - EventID: 4720\n  - EventID: 4722\ncondition: sel", "4720 4722"},
		{"OR with a part that needs none", "a: {EventID: 1102}\nb: {CommandLine|contains: wevtutil}\ncondition: a or b", "any"},
		{"NOT alone", "f: {EventID: 4624}\ncondition: not f", "any"},
		{"a modifier", "sel: {EventID|startswith: 46}\ncondition: sel", "any"},
		{"a wildcard", "sel: {EventID: '46*'}\ncondition: sel", "any"},
		{"a letter", "sel: {EventID: 'x4624'}\ncondition: sel", "any"},
		{"null", "sel: {EventID: null}\ncondition: sel", "any"},
		{"exists", "sel: {EventID|exists: true}\ncondition: sel", "any"},
		{"keywords", "keywords: [mimikatz]\ncondition: keywords", "any"},
		{"another field", "sel: {EventCode: 4624}\ncondition: sel", "any"},
	}
	for _, c := range cases {
		comp := compileSecurityRule(t, c.name, c.detection)
		got := "any"
		if comp.ids != nil {
			var ids []string
			for id := range comp.ids {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			got = strings.Join(ids, " ")
		}
		if got != c.want {
			t.Errorf("%s: requires %q, want %q", c.name, got, c.want)
		}
	}
}

// TestPrefilterKeepsEveryMatch: with all of SigmaHQ's rules and the pack,
// every event matches exactly the rules it matches when every rule of its
// log sources is tested and keywords are searched value by value, while far
// fewer rules are tested. The events: the corpus's EVTX files and SigmaHQ's
// regression files, and, in other envelopes and without EventIDs, the
// samples' Windows XML, firewall and mail logs and the corpus's firewall
// lines.
func TestPrefilterKeepsEveryMatch(t *testing.T) {
	sigma := corpus.Dir(t, "sigma")
	rules, _, err := LoadDir(filepath.Join(sigma, "rules"))
	if err != nil {
		t.Fatal(err)
	}
	pack, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	rules = append(rules, pack...)
	e := Compile(rules)
	var files []string
	for dir, ext := range map[string]string{
		corpus.Dir(t, "evtx"): ".evtx", filepath.Join(sigma, "regression_data"): ".evtx",
		filepath.Join(corpus.Root(t), "samples", "incident"): ".xml .log", corpus.Dir(t, "firewall"): ".log",
	} {
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() && slices.Contains(strings.Fields(ext), filepath.Ext(p)) {
				files = append(files, p)
			}
			return nil
		})
	}
	sort.Strings(files)
	events, matches, tested, applicable := 0, 0, 0, 0
	v := new(view)
	for _, f := range files {
		o := &parsers.Options{TZ: time.UTC, Year: 2025}
		if strings.HasSuffix(f, ".evtx") {
			o.Format = "evtx"
		}
		for _, ev := range parseFile(t, f, o) {
			events++
			got := e.PrepareEvent(ev).matched
			v.point(ev, eventLogsources(ev, nil))
			// Keywords tested value by value, not in the joined values.
			v.joinedDone = true
			var want []*compiled
			every := append([]*compiled(nil), e.any.all...)
			for _, k := range v.sources {
				if l := e.byKey[k]; l != nil {
					every = append(every, l.all...)
				}
			}
			for _, c := range every {
				if c.m.match(v) {
					want = append(want, c)
				}
			}
			e.applicable(v, func(*compiled) { tested++ })
			applicable += len(every)
			if len(got) != len(want) {
				t.Fatalf("%s record %v: %d rules match with the prefilter, %d without", f, ev.Fields["winlog.record_id"], len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s record %v: rule %d is %q with the prefilter, %q without", f, ev.Fields["winlog.record_id"], i, got[i].rule.Title, want[i].rule.Title)
				}
			}
			matches += len(got)
		}
	}
	t.Logf("%d events from %d files, %d matches; rules tested %d, without the prefilter %d", events, len(files), matches, tested, applicable)
	if events < 10000 || matches < 100 {
		t.Fatalf("too little evidence for the comparison: %d events, %d matches", events, matches)
	}
	if tested*2 > applicable {
		t.Errorf("the prefilter tests %d rules where every rule of the log sources is %d", tested, applicable)
	}
}

// TestKeywordsJoined: keyword lists searched in the joined values answer as
// value by value, exact, prefix, suffix and contains alike, and a value
// holding a NUL does not fake a boundary.
func TestKeywordsJoined(t *testing.T) {
	vals := func(kv ...string) map[string]any {
		f := map[string]any{"winlog.channel": "Security", "winlog.event_id": "4688"}
		for i := 0; i+1 < len(kv); i += 2 {
			f["winlog.event_data."+kv[i]] = kv[i+1]
		}
		return f
	}
	cases := []struct {
		name, detection string
		fields          map[string]any
		want            bool
	}{
		{"contains", "keywords: [VSSadmin]\ncondition: keywords", vals("CommandLine", `C:\vssadmin.exe delete`), true},
		{"contains, absent", "keywords: [vssadmin]\ncondition: keywords", vals("CommandLine", "notepad"), false},
		{"contains does not span two values", "keywords: ['exe note']\ncondition: keywords", vals("A", "x.exe", "B", "notepad"), false},
		{"prefix", "sel: {'|startswith': ['c:\\windows']}\ncondition: sel", vals("Image", `C:\Windows\x.exe`), true},
		{"prefix in the middle", "sel: {'|startswith': [windows]}\ncondition: sel", vals("Image", `C:\Windows\x.exe`), false},
		{"suffix", "sel: {'|endswith': ['.EXE']}\ncondition: sel", vals("Image", `C:\Windows\x.exe`), true},
		{"suffix in the middle", "sel: {'|endswith': ['windows']}\ncondition: sel", vals("Image", `C:\Windows\x.exe`), false},
		{"all", "sel: {'|all': [x.exe, notepad]}\ncondition: sel", vals("A", "X.exe", "B", "notepad"), true},
		{"all, each contained", "sel: {'|all': [x.exe, note]}\ncondition: sel", vals("A", "ax.exe", "B", "notepad"), true},
		{"all, one missing", "sel: {'|all': [x.exe, pad]}\ncondition: sel", vals("A", "ax.exe", "B", "notes"), false},
		{"prefix, all, is not contains", "sel: {'|startswith|all': [x.exe]}\ncondition: sel", vals("A", "ax.exe"), false},
		{"prefix after a NUL inside a value", "sel: {'|startswith|all': [cd]}\ncondition: sel", vals("A", "ab\x00cd"), false},
		{"contains across a NUL inside a value", "keywords: [bc]\ncondition: keywords", vals("A", "ab\x00cd"), false},
		{"contains, NUL in the value and a match", "keywords: [cd]\ncondition: keywords", vals("A", "ab\x00cd"), true},
	}
	for _, c := range cases {
		comp := compileSecurityRule(t, c.name, c.detection)
		for _, joined := range []bool{true, false} {
			v := new(view)
			e := ev(c.fields)
			v.point(e, eventLogsources(e, nil))
			v.joinedDone = !joined
			if got := comp.m.match(v); got != c.want {
				t.Errorf("%s (joined %v): matched %v", c.name, joined, got)
			}
		}
	}
}
