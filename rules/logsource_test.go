package rules

import (
	"slices"
	"testing"
)

// TestEventLogsources: an event's channel, in whatever case, places it in
// every service that reads that channel, and its provider and event ID in
// the categories.
func TestEventLogsources(t *testing.T) {
	cases := []struct {
		fields map[string]any
		want   []string
	}{
		{map[string]any{"winlog.channel": "Security", "winlog.provider_name": "Microsoft-Windows-Security-Auditing", "winlog.event_id": "4688"},
			[]string{"windows", "windows/security", "windows/process_creation"}},
		{map[string]any{"winlog.channel": "SECURITY", "winlog.event_id": "4624"}, []string{"windows", "windows/security"}},
		{map[string]any{"winlog.channel": "Microsoft-Windows-Sysmon/Operational", "winlog.provider_name": "Microsoft-Windows-Sysmon", "winlog.event_id": "13"},
			[]string{"windows", "windows/sysmon", "windows/registry_set", "windows/registry_event"}},
		{map[string]any{"winlog.channel": "Microsoft-ServiceBus-Client"}, []string{"windows", "windows/microsoft-servicebus-client", "windows/servicebus-client"}},
		{map[string]any{"winlog.channel": "Windows PowerShell", "winlog.provider_name": "PowerShell", "winlog.event_id": "400"},
			[]string{"windows", "windows/powershell-classic", "windows/ps_classic_start"}},
		{map[string]any{"winlog.channel": "Ѕecurity"}, []string{"windows"}}, // a Cyrillic Ѕ: no service
		{map[string]any{"winlog.channel": "Some/Unknown Channel"}, []string{"windows"}},
		{map[string]any{"event.dataset": "fortinet.fortigate"}, []string{"firewall", "network"}},
		{map[string]any{"event.dataset": "postfix"}, []string{"mail"}},
		{map[string]any{"event.dataset": "w3c_proxy.access"}, []string{"proxy", "firewall", "network"}},
		{map[string]any{"event.dataset": "sophos.utm", "observer.type": "proxy"}, []string{"proxy", "firewall", "network"}},
		{map[string]any{"event.dataset": "sophos.utm", "observer.type": "firewall"}, []string{"firewall", "network"}},
		{map[string]any{"event.dataset": "iis.access"}, []string{"webserver"}},
		{map[string]any{"event.dataset": "clf"}, []string{"webserver", "firewall", "network"}},
		{map[string]any{"event.dataset": "other"}, nil},
	}
	for _, c := range cases {
		if got := eventLogsources(ev(c.fields), nil); !slices.Equal(got, c.want) {
			t.Errorf("%v: %q, want %q", c.fields, got, c.want)
		}
	}
}
