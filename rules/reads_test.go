package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/samples/scenario"
)

// TestDecodeKeepsWhatRulesRead: hunting stored events decoded by
// Engine.Decode (only the fields the rules read) finds exactly what hunting
// the whole events finds: same rules, counts, times, hosts, users,
// destinations and evidence. Run on the sample incident with the built-in
// pack, and on SigmaHQ's regression logs with every SigmaHQ rule (keyword
// rules included), when the shared corpus is there.
func TestDecodeKeepsWhatRulesRead(t *testing.T) {
	pack, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("sample incident, built-in pack", func(t *testing.T) {
		var evs []*event.Event
		filepath.Walk("../samples/incident", func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() && filepath.Ext(p) != ".yaml" {
				evs = append(evs, parseFile(t, p, &parsers.Options{TZ: time.UTC, Year: 2025})...)
			}
			return nil
		})
		compareDecoded(t, pack, evs)
	})
	t.Run("built-in pack's own cases", func(t *testing.T) {
		var evs []*event.Event
		for _, r := range pack {
			if r.Tests == nil {
				continue
			}
			for _, tc := range append(r.Tests.Positive, r.Tests.Negative...) {
				more, err := tc.expand()
				if err != nil {
					t.Fatal(err)
				}
				evs = append(evs, more...)
			}
		}
		compareDecoded(t, pack, evs)
	})
	// Rules that name no field their log source is read from: the engine
	// must still read what places an event in its log source.
	t.Run("log sources alone", func(t *testing.T) {
		rs, err := ParseRules([]byte(`title: logon
logsource: {product: windows, service: security}
detection: {sel: {EventID: 4624}, condition: sel}
---
title: sysmon network
logsource: {product: windows, category: network_connection}
detection: {sel: {DestinationPort: 443}, condition: sel}
---
title: firewall deny
logsource: {category: firewall}
detection: {sel: {event.outcome: failure}, condition: sel}
---
title: any keyword
logsource: {product: windows, service: system}
detection: {keywords: [evil], condition: keywords}
`), "test")
		if err != nil {
			t.Fatal(err)
		}
		var evs []*event.Event
		at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		for i, f := range []map[string]any{
			{"winlog.channel": "Security", "winlog.event_id": "4624", "winlog.provider_name": "Microsoft-Windows-Security-Auditing"},
			{"winlog.channel": "Microsoft-Windows-Sysmon/Operational", "winlog.provider_name": "Microsoft-Windows-Sysmon", "winlog.event_id": "3", "destination.port": int64(443)},
			{"event.dataset": "fortinet.fortigate", "event.outcome": "failure"},
			{"observer.type": "firewall", "event.outcome": "failure"},
			{"winlog.channel": "System", "winlog.event_id": "7045", "service.name": "evil"},
			{"winlog.channel": "Application", "winlog.event_id": "1", "service.name": "evil"},
		} {
			ev := event.New()
			ev.Timestamp = at.Add(time.Duration(i) * time.Minute)
			ev.Fields = f
			ev.Set(event.FieldID, fmt.Sprint(i))
			evs = append(evs, ev)
		}
		compareDecoded(t, rs, evs)
	})
	t.Run("SigmaHQ regression logs, SigmaHQ rules and the pack", func(t *testing.T) {
		dir := corpus.Dir(t, "sigma")
		sigma, _, err := LoadDir(filepath.Join(dir, "rules"))
		if err != nil {
			t.Fatal(err)
		}
		var evs []*event.Event
		filepath.Walk(filepath.Join(dir, "regression_data"), func(p string, info os.FileInfo, err error) error {
			if err == nil && filepath.Ext(p) == ".evtx" {
				evs = append(evs, parseEVTX(t, p)...)
			}
			return nil
		})
		compareDecoded(t, append(append([]*Rule(nil), pack...), sigma...), evs)
	})
}

// compareDecoded runs one engine on the events and another on the events
// stored then read back by Decode; their findings must be equal.
func compareDecoded(t *testing.T, rs []*Rule, evs []*event.Event) {
	t.Helper()
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Timestamp.Before(evs[j].Timestamp) })
	whole, decoded, prepared := Compile(rs), Compile(rs), Compile(rs)
	for _, ev := range evs {
		whole.Process(ev)
		doc, err := ev.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		sel, err := decoded.Decode(doc)
		if err != nil {
			t.Fatal(err)
		}
		decoded.Process(sel)
		p, err := prepared.Prepare(doc)
		if err != nil {
			t.Fatal(err)
		}
		prepared.ProcessPrepared(p)
	}
	want, _ := json.Marshal(whole.Findings())
	if len(whole.Findings()) < 3 {
		t.Errorf("only %d findings: the comparison proves little", len(whole.Findings()))
	}
	if got, _ := json.Marshal(decoded.Findings()); string(got) != string(want) {
		t.Errorf("findings differ when decoding only what rules read:\n got %s\nwant %s", got, want)
	}
	if got, _ := json.Marshal(prepared.Findings()); string(got) != string(want) {
		t.Errorf("findings differ when rules are tested apart (Prepare) then applied:\n got %s\nwant %s", got, want)
	}
	t.Logf("%d events, %d findings, %d fields selected", len(evs), len(whole.Findings()), len(decoded.Selection().Only))
}

// parseFile parses one evidence file whole.
func parseFile(t *testing.T, path string, o *parsers.Options) []*event.Event {
	in, err := parsers.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var evs []*event.Event
	if _, err := parsers.Parse(in, o, func(ev *event.Event) { evs = append(evs, ev) }); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return evs
}

// BenchmarkHuntStored measures what hunt does per stored event on one
// core: decode (whole, or only what the rules read) and evaluate the pack.
func BenchmarkHuntStored(b *testing.B) {
	pack, err := Builtin()
	if err != nil {
		b.Fatal(err)
	}
	t := &testing.T{}
	evs := parseFile(t, "../samples/incident/firewall/fortigate.log", &parsers.Options{TZ: time.UTC, Year: 2025})
	var docs [][]byte
	for _, ev := range evs {
		doc, _ := ev.MarshalJSON()
		docs = append(docs, doc)
	}
	for _, mode := range []string{"whole", "selected"} {
		b.Run(mode, func(b *testing.B) {
			e := Compile(pack)
			decode := e.Decode
			if mode == "whole" {
				decode = event.DecodeJSON
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				ev, err := decode(docs[i%len(docs)])
				if err != nil {
					b.Fatal(err)
				}
				// Each pass over the file comes a month later, so that
				// correlation windows slide as they do in a real stream.
				ev.Timestamp = ev.Timestamp.AddDate(0, i/len(docs), 0)
				e.Process(ev)
			}
		})
	}
}

// TestRecycledPrepared: events handed back with Recycle and decoded into
// again give the findings of events decoded anew, byte for byte — the pack
// and a keyword rule (whose events are decoded twice, into the same event)
// over the samples and a generated incident of every storyline (their own
// zones, formats and missing sources), each in time order.
func TestRecycledPrepared(t *testing.T) {
	pack, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	kw, err := ParseRules([]byte(`title: a keyword anywhere
logsource: {product: windows}
detection:
  keywords: [rclone, vssadmin]
  condition: keywords
`), "inline")
	if err != nil {
		t.Fatal(err)
	}
	all := append(append([]*Rule(nil), pack...), kw...)
	check := func(t *testing.T, evs []*event.Event) (findings int) {
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].Timestamp.Before(evs[j].Timestamp) })
		var docs [][]byte
		for _, ev := range evs {
			doc, _ := ev.MarshalJSON()
			docs = append(docs, doc)
		}
		run := func(recycle bool) []byte {
			e := Compile(all)
			for _, doc := range docs {
				p, err := e.Prepare(doc)
				if err != nil {
					t.Fatal(err)
				}
				e.ProcessPrepared(p)
				if recycle {
					e.Recycle(p)
				}
			}
			b, _ := json.Marshal(e.Findings())
			return b
		}
		plain, recycled := run(false), run(true)
		if !bytes.Equal(plain, recycled) {
			t.Fatalf("recycled events give other findings:\n%s\nwant\n%s", recycled, plain)
		}
		return bytes.Count(plain, []byte(`"rule_file"`))
	}

	var evs []*event.Event
	for _, p := range []string{"firewall/fortigate.log", "mail/mail.log", "windows/FS01-Security.xml", "windows/FS01-System.xml"} {
		evs = append(evs, parseFile(t, "../samples/incident/"+p, &parsers.Options{TZ: time.UTC, Year: 2025})...)
	}
	if n := check(t, evs); n < 10 {
		t.Fatalf("%d findings on the samples: too few to compare", n)
	}
	total := 0
	for _, v := range scenario.Variants {
		t.Run(string(v), func(t *testing.T) {
			inc := scenario.Build(scenario.Draw(v, 2))
			dir := filepath.Join(t.TempDir(), "evidence")
			if err := inc.Write(dir, dir+".truth.json"); err != nil {
				t.Fatal(err)
			}
			files, _, err := parsers.Expand([]string{dir})
			if err != nil {
				t.Fatal(err)
			}
			o := &parsers.Options{TZ: time.FixedZone(inc.Truth.Offset(), inc.Truth.TZOffsetSeconds), Year: inc.Truth.Year}
			var evs []*event.Event
			for _, f := range files {
				evs = append(evs, parseFile(t, f, o)...)
			}
			total += check(t, evs)
		})
	}
	if total < len(scenario.Variants) {
		t.Errorf("%d findings over %d generated incidents: too few to compare", total, len(scenario.Variants))
	}
}
