package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// keywordRules are keyword lists as SigmaHQ writes them: plain, with
// characters JSON escapes, keywords|all, a wildcard, a number, a short
// piece, a cased one and one that is not ASCII.
const keywordRules = `title: mimikatz
logsource: {product: windows}
detection:
  keywords: ['sekurlsa::', '\mimilib.dll', 'Kiwi Legit Printer', '<3 eo.oe', 'kerberos::golden']
  filter: {EventID: 15}
  condition: keywords and not filter
---
title: all of them
logsource: {product: windows, service: security}
detection:
  keywords: {'|all': ['Remove-MailboxExportRequest', ' -Confirm "False"']}
  condition: keywords
---
title: wildcard, number, short, cased, accented
logsource: {product: windows, service: system}
detection:
  kw: ['evil*tool', '1000000000000000000000', 'C$', 'été']
  cased: {'|cased': ['CaseMatters']}
  condition: kw or cased
---
title: not keywords
logsource: {product: windows, service: application}
detection:
  sel: {EventID: 1000}
  kw: ['crash::dump']
  condition: sel and not kw
`

// gateEvent is a Windows event of channel with one value.
func gateEvent(channel, value string, extra map[string]any) *event.Event {
	ev := event.New()
	ev.Timestamp = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	ev.Set("winlog.channel", channel)
	ev.Set("winlog.event_id", "1000")
	ev.Set("winlog.provider_name", "Test")
	ev.Set("winlog.event_data.Value", value)
	ev.Set(event.FieldOriginal, "<Event>"+value+"</Event>")
	for k, v := range extra {
		ev.Fields[k] = v
	}
	return ev
}

// TestKeywordGate: a rule tested on a stored event through the gate
// (Prepare) matches exactly as on the whole event, and the gate lets an
// event be decoded in part only when no keyword can be in it.
func TestKeywordGate(t *testing.T) {
	rs, err := ParseRules([]byte(keywordRules), "test")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		channel, value string
		extra          map[string]any
		match          []string // titles
		whole          bool     // decoded whole: a keyword may be in it
	}{
		{"Security", "nothing to see", nil, nil, false},
		{"Security", "mimikatz # SEKURLSA::logonpasswords", nil, []string{"mimikatz"}, true},
		{"Security", `C:\Windows\Temp\MIMILIB.dll`, nil, []string{"mimikatz"}, true},
		{"Security", `C:\Windows\Temp\notmimilib.dll`, nil, nil, true},
		{"Security", "mimilib.dll alone, no backslash", nil, nil, true},
		{"Security", "I <3 eo.oe", nil, []string{"mimikatz"}, true},
		{"Security", "3 eo.oe without the heart", nil, nil, true},
		{"Security", "\u212aerberos::golden", nil, []string{"mimikatz"}, true},                 // Kelvin sign lowers to k
		{"Security", "kerberos::go\u0130den", nil, nil, true},                                  // İ lowers to i: not "golden"
		{"Security", "KIWI LEGIT PRINTER", map[string]any{"winlog.event_id": "15"}, nil, true}, // filtered
		{"Security", "Remove-MailboxExportRequest -Identity x", nil, nil, false},
		{"Security", `Remove-MailboxExportRequest -Identity x -Confirm "False"`, nil, []string{"all of them"}, true},
		{"Security", "remove-mailboxexportrequest", map[string]any{"winlog.event_data.Other": ` -confirm "false"`}, []string{"all of them"}, true},
		{"System", "an EVIL little tool", nil, []string{"wildcard, number, short, cased, accented"}, true},
		{"System", "share", map[string]any{"winlog.event_data.Size": 1e21}, []string{"wildcard, number, short, cased, accented"}, true},
		{"System", `\\host\c$`, nil, []string{"wildcard, number, short, cased, accented"}, true},
		{"System", "c only", nil, nil, true}, // the wildcard keyword: always decoded whole
		{"System", "L'ÉTÉ", nil, []string{"wildcard, number, short, cased, accented"}, true},
		{"System", "casematters", nil, nil, true},
		{"System", "CaseMatters", nil, []string{"wildcard, number, short, cased, accented"}, true},
		{"Application", "fine", nil, []string{"not keywords"}, false},
		{"Application", "CRASH::DUMP", nil, nil, true},
		{"Application", "crash:", map[string]any{"winlog.event_data.Other": ":dump"}, []string{"not keywords"}, false},
		// Keyword searches skip the original line, and so does the gate;
		// names are not searched either.
		{"Application", "fine", map[string]any{event.FieldOriginal: "crash::dump"}, []string{"not keywords"}, false},
		{"Application", "fine", map[string]any{"winlog.event_data.crash::dump": "x"}, []string{"not keywords"}, false},
		{"Application", "fine", map[string]any{"winlog.event_data.crash::dump": "crash::dump"}, nil, true},
		// A value in a list, a value ending the document, a value after a
		// name with escapes.
		{"Application", "fine", map[string]any{"email.to.address": []string{"a", "x crash::dump"}}, nil, true},
		{"Application", "fine", map[string]any{"zz.last": "crash::dump"}, nil, true},
		{"Application", "fine", map[string]any{"winlog.event_data.a\"b": "crash::dump"}, nil, true},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%d %s %q", i, c.channel, c.value), func(t *testing.T) {
			ev := gateEvent(c.channel, c.value, c.extra)
			doc, err := ev.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			e := Compile(rs)
			if len(e.Skipped) > 0 {
				t.Fatalf("skipped: %+v", e.Skipped)
			}
			full, err := event.DecodeJSONSelected(doc, event.ExceptOriginal())
			if err != nil {
				t.Fatal(err)
			}
			want := titles(e.PrepareEvent(full))
			if strings.Join(want, "|") != strings.Join(c.match, "|") {
				t.Fatalf("whole event matches %q, the case says %q", want, c.match)
			}
			p, err := e.Prepare(doc)
			if err != nil {
				t.Fatal(err)
			}
			if got := titles(p); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("through the gate: %q, whole: %q", got, want)
			}
			if _, whole, _ := e.decode(doc); whole != c.whole {
				t.Errorf("decoded whole: %v, want %v", whole, c.whole)
			}
		})
	}
}

func titles(p *Prepared) []string {
	var out []string
	for _, c := range p.matched {
		out = append(out, c.rule.Title)
	}
	return out
}

// FuzzKeywordGate: whatever the values and the keyword, the gate never
// changes a match.
func FuzzKeywordGate(f *testing.F) {
	for _, s := range [][3]string{
		{"mimikatz SEKURLSA::x", "sekurlsa::", "x"},
		{`C:\a\MimiLib.dll`, `\mimilib.dll`, "1e21"},
		{"a<b>c&d\"e", `<b>c&d"`, ""},
		{"\u212aey", "key", "\u0130"},
		{"\u2028line", "\u2028", "x\x00y"},
		{"12.5", "12.5", "-3"},
		{"tab\there", "b\th", "é"},
		{"NaN", "nan", "NaN"},
		{"Inf", "inf", "-Inf"},
	} {
		f.Add(s[0], s[1], s[2], false)
		f.Add(s[0], s[1], s[2], true)
	}
	f.Fuzz(func(t *testing.T, value, keyword, other string, all bool) {
		if keyword == "" || strings.ContainsAny(keyword, "\n\r") {
			return
		}
		mod := ""
		if all {
			mod = "|all"
		}
		rule := fmt.Sprintf("title: k\nlogsource: {product: windows}\ndetection:\n  keywords: {'%s': ['%s', 'other']}\n  condition: keywords\n", mod, strings.ReplaceAll(keyword, "'", "''"))
		if !all {
			rule = fmt.Sprintf("title: k\nlogsource: {product: windows}\ndetection:\n  keywords: ['%s']\n  condition: keywords\n", strings.ReplaceAll(keyword, "'", "''"))
		}
		rs, err := ParseRules([]byte(rule), "fuzz")
		if err != nil {
			return
		}
		e := Compile(rs)
		if len(e.Loaded) == 0 || len(e.Skipped) > 0 {
			return
		}
		ev := gateEvent("Security", value, map[string]any{"winlog.event_data.Other": other})
		// JSON has no NaN or infinity, so no decoded event holds one.
		if f, err := strconv.ParseFloat(other, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			ev.Fields["winlog.event_data.Number"] = f
		}
		doc, err := ev.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		full, err := event.DecodeJSONSelected(doc, event.ExceptOriginal())
		if err != nil {
			t.Fatal(err)
		}
		want := titles(e.PrepareEvent(full))
		p, err := e.Prepare(doc)
		if err != nil {
			t.Fatal(err)
		}
		if got := titles(p); len(got) != len(want) {
			t.Fatalf("value %q, keyword %q, other %q: through the gate %q, whole %q", value, keyword, other, got, want)
		}
	})
}

// TestStoreWritesRawSafeAsIs: the gate's premise, that the store's JSON
// writer copies every rawSafe character of a string value as it is.
func TestStoreWritesRawSafeAsIs(t *testing.T) {
	var safe []byte
	for c := 0; c < 256; c++ {
		if rawSafe(byte(c)) {
			safe = append(safe, byte(c))
		}
	}
	if len(safe) != 95-5 {
		t.Fatalf("%d characters count as written as they are, want the 90 printable ASCII but \" \\ < > &", len(safe))
	}
	ev := event.New()
	ev.Set("winlog.event_data.Value", string(safe))
	doc, err := ev.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), string(safe)) {
		t.Errorf("the writer changed a character the gate takes as written as it is: %s", doc)
	}
}

// TestMemberValues: the gate reads every value of a stored document but
// the original line, and all of the rest of a document not as the store
// writes it.
func TestMemberValues(t *testing.T) {
	for _, c := range []struct {
		doc  string
		want []string
	}{
		{`{}`, nil},
		{`{"a":"x","b":12,"c":["p","q\"]"],"d":true}`, []string{`"x"`, `12`, `["p","q\"]"]`, `true`}},
		{`{"a\"b":"x\\","event.original":"line \"q\"","z":"y"}`, []string{`"x\\"`, `"y"`}},
		{`{"a":"x,y}","b":"}"}`, []string{`"x,y}"`, `"}"`}},
		// Not as the store writes: the rest whole.
		{`["x"]`, []string{`["x"]`}},
		{`{"a" : "x"}`, []string{`"a" : "x"}`}},
		{`{"a":"unterminated`, []string{`"unterminated`}},
		{`{"a":"x"}trailing`, []string{`"x"`, `}trailing`}},
		{`{"a":"x" ,"b":"y"}`, []string{`"x" ,"b":"y"}`}},
		{`{"a":["x",}`, []string{`["x",}`}},
		{``, []string{``}},
	} {
		var got []string
		memberValues([]byte(c.doc), func(lo, hi int) bool {
			got = append(got, c.doc[lo:hi])
			return true
		})
		if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
			t.Errorf("%s: values %q, want %q", c.doc, got, c.want)
		}
	}
}
