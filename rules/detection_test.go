package rules

import (
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/exfiltrace/exfiltrace/event"
)

func ev(fields map[string]any) *event.Event {
	e := event.New()
	e.Timestamp = time.Date(2025, 3, 14, 22, 0, 0, 0, time.UTC)
	for k, v := range fields {
		e.Fields[k] = v
	}
	return e
}

// TestModifiers: each Sigma feature against an event that must and one that must not match.
func TestModifiers(t *testing.T) {
	win := func(data map[string]any) *event.Event {
		f := map[string]any{"winlog.channel": "Security", "winlog.provider_name": "Microsoft-Windows-Security-Auditing", "winlog.event_id": "4688"}
		for k, v := range data {
			f["winlog.event_data."+k] = v
		}
		return ev(f)
	}
	cases := []struct {
		name, detection string
		yes, no         *event.Event
	}{
		{"exact is case-insensitive", "sel: {NewProcessName: 'C:\\Windows\\System32\\VSSADMIN.exe'}\ncondition: sel",
			win(map[string]any{"NewProcessName": `c:\windows\system32\vssadmin.exe`}), win(map[string]any{"NewProcessName": `c:\windows\system32\vssadmin.exe.bak`})},
		{"contains|all", "sel: {CommandLine|contains|all: [delete, shadows]}\ncondition: sel",
			win(map[string]any{"CommandLine": "vssadmin Delete Shadows /all"}), win(map[string]any{"CommandLine": "vssadmin delete catalog"})},
		{"windash", "sel: {CommandLine|contains|windash: ' -p'}\ncondition: sel",
			win(map[string]any{"CommandLine": "7z.exe a /pSecret x.7z"}), win(map[string]any{"CommandLine": "7z.exe a x.7z"})},
		{"wildcards", "sel: {CommandLine: '*rclone* copy ?:\\\\*'}\ncondition: sel",
			win(map[string]any{"CommandLine": `C:\x\rclone.exe copy D:\data mega:`}), win(map[string]any{"CommandLine": `rclone.exe sync D:\data`})},
		{"escaped wildcard", "sel: {CommandLine|endswith: 'a\\*'}\ncondition: sel",
			win(map[string]any{"CommandLine": "dir a*"}), win(map[string]any{"CommandLine": "dir ab"})},
		{"re", "sel: {CommandLine|re: '-p\\S{6,}'}\ncondition: sel",
			win(map[string]any{"CommandLine": "7z a -pAgglo2025! x"}), win(map[string]any{"CommandLine": "7z a -pab x"})},
		{"cidr", "sel: {IpAddress|cidr: 10.212.0.0/16}\ncondition: sel",
			win(map[string]any{"IpAddress": "10.212.134.200"}), win(map[string]any{"IpAddress": "10.10.1.20"})},
		{"base64offset", "sel: {CommandLine|base64offset|contains: 'Invoke-Mimikatz'}\ncondition: sel",
			win(map[string]any{"CommandLine": "powershell -enc " + "SW52b2tlLU1pbWlrYXR6"}), win(map[string]any{"CommandLine": "powershell -enc AAAA"})},
		{"exists", "sel: {CommandLine|exists: true}\ncondition: sel",
			win(map[string]any{"CommandLine": "x"}), win(map[string]any{"Other": "x"})},
		{"gt", "sel: {KeyLength|gt: 56}\ncondition: sel",
			win(map[string]any{"KeyLength": "128"}), win(map[string]any{"KeyLength": "0"})},
		{"fieldref", "sel: {SubjectUserName|fieldref: TargetUserName}\ncondition: sel",
			win(map[string]any{"SubjectUserName": "Bob", "TargetUserName": "bob"}), win(map[string]any{"SubjectUserName": "bob", "TargetUserName": "alice"})},
		{"null", "sel: {CommandLine: 'x'}\nfilter: {ParentProcessName: null}\ncondition: sel and not filter",
			win(map[string]any{"CommandLine": "x", "ParentProcessName": "p"}), win(map[string]any{"CommandLine": "x"})},
		{"1 of / all of / parentheses", "sel_a: {CommandLine|contains: a}\nsel_b: {CommandLine|contains: b}\nfilter_x: {CommandLine|contains: x}\ncondition: (1 of sel_* and not 1 of filter_*) or all of them",
			win(map[string]any{"CommandLine": "b"}), win(map[string]any{"CommandLine": "bx"})},
		{"list of maps is OR", "sel:\n  - CommandLine: one\n  - CommandLine: two\ncondition: sel",
			win(map[string]any{"CommandLine": "two"}), win(map[string]any{"CommandLine": "three"})},
		{"keywords", "keywords: [mimikatz]\ncondition: keywords",
			win(map[string]any{"CommandLine": "run MIMIKATZ now"}), win(map[string]any{"CommandLine": "notepad"})},
		{"EventID as number", "sel: {EventID: 4688}\ncondition: sel",
			win(nil), ev(map[string]any{"winlog.channel": "Security", "winlog.event_id": "4624"})},
	}
	for _, c := range cases {
		var det map[string]any
		if err := yaml.Unmarshal([]byte(c.detection), &det); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		r := &Rule{Title: c.name, Logsource: Logsource{Product: "windows", Service: "security"}, Detection: det}
		for i, e := range []*event.Event{c.yes, c.no} {
			eng := Compile([]*Rule{r})
			if len(eng.Skipped) > 0 {
				t.Fatalf("%s: skipped: %s", c.name, eng.Skipped[0].Reason)
			}
			eng.Process(e)
			if got := len(eng.Findings()) > 0; got != (i == 0) {
				t.Errorf("%s: event %d matched=%v", c.name, i, got)
			}
		}
	}
}

func TestUnsupportedIsSkippedWithReason(t *testing.T) {
	rs, err := ParseRules([]byte(`title: uses expand
logsource: {product: windows, service: security}
detection:
  sel: {TargetUserName|expand: '%admins%'}
  condition: sel
---
title: v1 aggregation
logsource: {product: windows, service: security}
detection:
  sel: {EventID: 4625}
  condition: sel | count() by IpAddress > 10
`), "inline")
	if err != nil {
		t.Fatal(err)
	}
	e := Compile(rs)
	if len(e.Skipped) != 2 || len(e.Loaded) != 0 {
		t.Fatalf("skipped %v loaded %d", e.Skipped, len(e.Loaded))
	}
	for _, s := range e.Skipped {
		if s.Reason == "" {
			t.Errorf("%s skipped without reason", s.Title)
		}
	}
}

// TestCorrelations: event_count, value_count, value_sum and temporal over a window, per group.
func TestCorrelations(t *testing.T) {
	rs, err := ParseRules([]byte(`title: vpn login failed
name: vpn_fail
logsource: {category: firewall}
detection:
  sel: {event.action: ssl-login-fail}
  condition: sel
---
title: vpn login ok
name: vpn_ok
logsource: {category: firewall}
detection:
  sel: {event.action: tunnel-up}
  condition: sel
---
title: brute force
correlation: {type: event_count, rules: [vpn_fail], group-by: [source.ip], timespan: 10m, condition: {gte: 5}}
---
title: spraying
correlation: {type: value_count, rules: [vpn_fail], group-by: [source.ip], timespan: 10m, condition: {field: user.name, gte: 3}}
---
title: brute force then success
correlation: {type: temporal_ordered, rules: [vpn_fail, vpn_ok], group-by: [source.ip], timespan: 1h}
---
title: outbound
name: out
logsource: {category: firewall}
detection:
  sel: {network.direction: outbound}
  condition: sel
---
title: big upload
correlation: {type: value_sum, rules: [out], group-by: [source.ip, destination.ip], timespan: 1h, condition: {field: source.bytes, gte: 1000000000}}
`), "inline")
	if err != nil {
		t.Fatal(err)
	}
	e := Compile(rs)
	if len(e.Skipped) > 0 {
		t.Fatalf("skipped: %v", e.Skipped)
	}
	base := time.Date(2025, 3, 14, 21, 41, 0, 0, time.UTC)
	add := func(d time.Duration, f map[string]any) {
		x := ev(f)
		x.Fields["event.dataset"] = "fortinet.firewall"
		x.Timestamp = base.Add(d)
		e.Process(x)
	}
	users := []string{"admin", "compta", "j.martin", "admin", "compta"}
	for i := 0; i < 5; i++ {
		add(time.Duration(i)*time.Minute, map[string]any{"event.action": "ssl-login-fail", "source.ip": "185.220.101.47", "user.name": users[i]})
	}
	add(2*time.Minute, map[string]any{"event.action": "ssl-login-fail", "source.ip": "90.1.1.1", "user.name": "p.simon"})
	add(14*time.Minute, map[string]any{"event.action": "tunnel-up", "source.ip": "185.220.101.47", "user.name": "j.martin"})
	for i := 0; i < 3; i++ { // 3 × 400 MB to one destination within the hour: 1.2 GB
		add(time.Duration(20+i*10)*time.Minute, map[string]any{"network.direction": "outbound", "source.ip": "10.10.1.20", "destination.ip": "31.216.145.5", "source.bytes": int64(400_000_000)})
	}
	add(25*time.Minute, map[string]any{"network.direction": "outbound", "source.ip": "10.10.1.20", "destination.ip": "8.8.8.8", "source.bytes": int64(900_000_000)})
	got := map[string]*Finding{}
	for _, f := range e.Findings() {
		got[f.Title] = f
	}
	for title, want := range map[string]int{"brute force": 1, "spraying": 1, "brute force then success": 1, "big upload": 1} {
		if f := got[title]; f == nil || f.Count != want {
			t.Errorf("%s: %+v", title, f)
		}
	}
	if f := got["big upload"]; f != nil && (len(f.Dests) != 1 || f.Dests[0] != "31.216.145.5") {
		t.Errorf("big upload destinations %v", f.Dests)
	}
	for _, base := range []string{"vpn login failed", "vpn login ok", "outbound"} {
		if got[base] != nil {
			t.Errorf("base rule %q of a correlation reported on its own", base)
		}
	}
}
