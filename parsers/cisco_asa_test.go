package parsers

import (
	"strings"
	"testing"
	"time"
)

// TestASAUserNeeds: what each user expression needs before it is tried
// holds for every message it matches — else a user would be skipped, or
// found by a later, looser expression.
func TestASAUserNeeds(t *testing.T) {
	matches := [][]string{
		{"user 'jdupont' logged", "USERNAME \"a b\"", "Username 'x'", "uſer 'x'"},
		{"for user jdupont", "FOR USER \"x\"", "For User 'y'", "for uſer z"},
		{"user = jdupont", "USERNAME: x", "User=y", "uſername=z"},
		{"Group GP-VPN User jdupont IP 1.2.3.4 ", "Group <g> User x IP "},
		{"10.1.1.1/443(LOCAL\\jdupont)", "5(A\\B\\c)"},
		{"Uname: jdupont", "Uname:x"},
		{"user <jdupont>", "USERNAME<x>", "uſer <z>"},
		{"User jdupont executed", "User x logged", "User y authenticated"},
	}
	if len(matches) != len(asaUsers) {
		t.Fatalf("%d example sets for %d expressions", len(matches), len(asaUsers))
	}
	for i, ms := range matches {
		for _, m := range ms {
			u := asaUsers[i]
			if !u.re.MatchString(m) {
				t.Fatalf("expression %d does not match its example %q", i, m)
			}
			if !u.need(m, strings.ToLower(m)) {
				t.Errorf("expression %d matches %q but its need says it cannot", i, m)
			}
		}
	}
	// A Teardown without a user is tried by none of them.
	msg := "Teardown TCP connection 1 for outside:1.2.3.4/443 to inside:10.0.0.1/5000 duration 0:00:01 bytes 10 TCP FINs"
	for i, u := range asaUsers {
		if u.need(msg, strings.ToLower(msg)) {
			t.Errorf("expression %d tried on a Teardown without a user", i)
		}
	}
}

// TestFTDConnectionEvents: Firepower's connection events as FTD 6.x and
// the Management Center write them (SrcIP/DstIP, %FTD- or %NGIPS-): the
// end event (430003) carries the connection's bytes and is dated by its
// first packet plus its duration, both UTC with their year; the beginning
// (430002) keeps its first packets' bytes out of source.bytes.
func TestFTDConnectionEvents(t *testing.T) {
	lines := "<185>Mar 12 03:14:07 ftd01 %FTD-6-430003: EventPriority: Low, DeviceUUID: 1c0a, InstanceID: 1, FirstPacketSecond: 2024-03-12T02:14:07Z, ConnectionID: 1234, AccessControlRuleAction: Allow, SrcIP: 10.1.2.30, DstIP: 185.199.110.153, SrcPort: 50432, DstPort: 443, Protocol: tcp, IngressInterface: inside, EgressInterface: outside, ACPolicy: pol, AccessControlRuleName: allow-out, Prefilter Policy: pre, User: No Authentication Required, ConnectionDuration: 3600, InitiatorPackets: 3800000, ResponderPackets: 900000, InitiatorBytes: 5368709120, ResponderBytes: 1048576, NAPPolicy: Balanced\n" +
		"<185>Mar 12 03:20:00 fmc01 %NGIPS-1-430002: EventPriority: Low, DeviceUUID: 1c0a, InstanceID: 2, FirstPacketSecond: 2024-03-12T03:19:59Z, ConnectionID: 5, AccessControlRuleAction: Allow, SrcIP: 10.1.2.31, DstIP: 185.199.110.154, SrcPort: 50433, DstPort: 443, Protocol: tcp, AccessControlRuleName: allow-out, User: CORP\\j.martin, ApplicationProtocol: HTTPS, InitiatorPackets: 1, ResponderPackets: 0, InitiatorBytes: 74, ResponderBytes: 0\n"
	st, evs := parseText(t, "ftd.log", lines)
	if st.Format != "cisco-asa" || st.Parsed != 2 || st.Raw != 0 || len(evs) != 2 {
		t.Fatalf("stats %+v", st)
	}
	if st.YearGuessed {
		t.Error("the events' own UTC stamps name their year: the file's year is no guess")
	}
	want(t, "end", evs[0], "2024-03-12T03:14:07Z", map[string]any{"event.dataset": "cisco.ftd", "event.code": "430003",
		"source.ip": "10.1.2.30", "source.port": int64(50432), "destination.ip": "185.199.110.153", "destination.port": int64(443),
		"source.bytes": int64(5368709120), "destination.bytes": int64(1048576), "event.start": "2024-03-12T02:14:07Z",
		"event.end": "2024-03-12T03:14:07Z", "event.action": "allow", "rule.name": "allow-out", "user.name": nil,
		"event.category": []string{"network"}, "event.type": []string{"connection", "end"}})
	want(t, "beginning", evs[1], "2024-03-12T03:19:59Z", map[string]any{"event.dataset": "cisco.ftd", "event.code": "430002",
		"source.ip": "10.1.2.31", "destination.ip": "185.199.110.154", "source.bytes": nil, "destination.bytes": nil,
		"cisco.ftd.initiatorbytes": "74", "user.name": `CORP\j.martin`, "network.application": "HTTPS",
		"event.type": []string{"connection", "start"}})
}

// TestASAOwnStampBehindRelay: the ASA's logging timestamp names its year;
// behind a relay's header or in a collector's file, which could not read
// it as a syslog stamp, it still dates the line and names the device.
func TestASAOwnStampBehindRelay(t *testing.T) {
	bare := "Sep 27 2025 00:35:10: %ASA-6-302015: Built outbound UDP connection 2 for outside:9.9.9.9/53 (9.9.9.9/53) to inside:192.168.71.10/59952 (203.0.113.17/39418)\n" +
		"<166>Sep 27 2025 00:35:11 asa01: %ASA-6-302016: Teardown UDP connection 2 for outside:9.9.9.9/53 to inside:192.168.71.10/59952 duration 0:00:01 bytes 438\n"
	_, own := parseText(t, "asa.log", bare)
	for _, wrap := range []func(string) string{
		func(l string) string { return "Oct 20 12:00:00 relay01 " + l },
		func(l string) string { return "<13>1 2025-10-20T12:00:00Z relay01 - - - - " + l },
		func(l string) string { return "2025-10-20 12:00:00\tLocal4.Info\t10.0.0.1\t" + l },
	} {
		var b strings.Builder
		for _, l := range strings.SplitAfter(bare, "\n") {
			if l != "" {
				b.WriteString(wrap(l))
			}
		}
		st, got := parseText(t, "relay.log", b.String())
		if st.Raw != 0 || len(got) != len(own) {
			t.Fatalf("%q: %+v", b.String(), st)
		}
		for i := range own {
			if !got[i].Timestamp.Equal(own[i].Timestamp) || got[i].Str("observer.name") != own[i].Str("observer.name") || got[i].Str("source.ip") != own[i].Str("source.ip") {
				t.Errorf("%q: %s %q, want %s %q", wrap("…"), got[i].Timestamp, got[i].Str("observer.name"), own[i].Timestamp, own[i].Str("observer.name"))
			}
		}
	}
	if own[0].Timestamp.Format(time.RFC3339) != "2025-09-27T00:35:10Z" || own[1].Str("observer.name") != "asa01" {
		t.Errorf("own lines: %s %q", own[0].Timestamp, own[1].Str("observer.name"))
	}
}
