package parsers

import (
	"slices"
	"strings"
	"testing"
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
