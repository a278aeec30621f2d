package parsers

import (
	"slices"
	"strings"
	"testing"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestMerakiSaysNoVolume: every Meraki event says its log counts no bytes
// (the report then does not take it for a session log), and the text parts
// — a URL request, an event's message, a relay's header — are read.
func TestMerakiSaysNoVolume(t *testing.T) {
	evs, st := parseFile(t, "testdata/formats/meraki.log", &Options{})
	if st.Format != "meraki" || st.Raw != 0 || len(evs) != 11 {
		t.Fatalf("format %s, %d events, %d raw %v", st.Format, len(evs), st.Raw, st.RawReasons)
	}
	for _, ev := range evs {
		if !slices.Contains(ev.Strings("tags"), "packet_log_no_session_volume") {
			t.Errorf("line %s: no volume tag", ev.Str("evidence.line"))
		}
	}
	byAction := map[string]int{}
	for i, ev := range evs {
		byAction[ev.Str("event.action")] = i
	}
	if u := evs[byAction["http-request"]]; u.Str("url.domain") != "upload.example.net" || u.Str("http.request.method") != "POST" || u.Str("cisco_meraki.agent") != "Mozilla/5.0" {
		t.Errorf("urls: %v", u.Fields)
	}
	if e := evs[byAction["events"]]; !strings.HasPrefix(e.Str("message"), "type=vpn_connectivity_change") {
		t.Errorf("events: message %q", e.Str("message"))
	}
	if s := evs[byAction["security_event"]]; s.Str("cisco_meraki.event_subtype") != "ids_alerted" || s.Str("message") != "ET POLICY possible data upload" {
		t.Errorf("security_event: %v", s.Fields)
	}
	if last := evs[len(evs)-1]; last.Str("observer.name") != "MX68-MAIRIE" || last.Str("cisco_meraki.event_type") != "vpn_firewall" {
		t.Errorf("behind a relay's header: %v", last.Fields)
	}
}

// TestMerakiFreeText: where the free text starts — the first marker, at
// the end of a line or with no pairs before it.
func TestMerakiFreeText(t *testing.T) {
	for line, want := range map[string][2]string{
		"<134>1 1741990521.1 MX flows src=10.0.0.1 dst=192.0.2.1 protocol=tcp sport=1 dport=2 pattern:":               {"flow-started", ""},
		"<134>1 1741990521.1 MX flows pattern: deny all":                                                              {"flow-denied", "deny all"},
		"<134>1 1741990521.1 MX urls src=10.0.0.1:5 dst=192.0.2.1:80 request: GET http://a.example/x?message: y":      {"http-request", ""},
		"<134>1 1741990521.1 MX security_event ids_alerted src=10.0.0.1:5 message: pattern: looks like a marker here": {"security_event", "pattern: looks like a marker here"},
	} {
		var got []string
		err := merakiDecoder{}.Line(1, []byte(line), func(ev *event.Event, _ string) {
			got = append(got, ev.Str("event.action"), firstNonEmpty(ev.Str("rule.name"), ev.Str("message")))
		})
		if err != nil || len(got) != 2 || got[0] != want[0] || want[1] != "" && got[1] != want[1] {
			t.Errorf("%s: %v (%v), want %v", line, got, err, want)
		}
	}
}
