package parsers

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the .golden.json files of testdata/formats")

// goldenFields are what an investigation relies on: who, where, how much,
// what happened. Every other field is free to change.
var goldenFields = []string{"event.dataset", "event.code", "event.action", "event.outcome", "event.type", "event.category",
	"source.ip", "source.port", "source.nat.ip", "destination.ip", "destination.port", "destination.nat.ip", "network.transport",
	"source.bytes", "destination.bytes", "network.bytes", "event.start", "event.duration", "user.name", "user.domain",
	"client.ip", "client.domain", "client.mac", "dhcp.lease.end", "url.original", "process.command_line", "tags", "network.direction",
	"user.email", "email.size", "event.reason", "network.protocol",
	"observer.name",
	"file.path", "file.name", "file.extension", "dns.question.name", "dns.question.type", "dns.type", "dns.response_code"}

// wantFormat is the format each golden file must be detected as.
var wantFormat = map[string]string{
	"juniper-srx.log": "juniper-srx", "sophos.log": "sophos-xg", "netscreen.log": "netscreen", "watchguard.log": "watchguard", "zyxel.log": "zyxel",
	"mikrotik.log": "mikrotik", "meraki.log": "meraki", "proxmox-firewall.log": "proxmox-firewall", "pfirewall.log": "windows-firewall",
	"netfilter-edgeos-unifi.log": "netfilter", "cisco-asa-catalogue.log": "cisco-asa", "DhcpSrvLog-Ven.log": "windows-dhcp",
	"DhcpV6SrvLog-Ven.log": "windows-dhcp", "DhcpSrvLog-Ven-fr.log": "windows-dhcp", "DhcpV6SrvLog-Ven-fr.log": "windows-dhcp", "dhcpd.log": "dhcpd", "dhcpd.leases": "dhcp-leases", "dnsmasq.leases": "dhcp-leases",
	"syslog-auth.log": "syslog", "dovecot.log": "dovecot", "huawei.log": "huawei", "zimbra-audit.log": "zimbra", "cyrus.log": "cyrus-imap", "entra-signins.csv": "entra-signins",
	"entra-signins.json": "entra-signins", "m365-sharepoint.json": "m365-audit",
	"msdns-debug.log": "ms-dns-debug", "msdns-debug-us.log": "ms-dns-debug", "pulse-secure.log": "pulse-secure", "evtxecmd.csv": "evtxecmd", "plaso.csv": "plaso",
	"wincollect.log": "wincollect", "fortimail.log": "fortimail", "cisco-esa.log": "cisco-esa",
}

// TestFormatGoldens parses every file of testdata/formats: detected as its
// format, every line parsed, and the investigation's fields equal to the
// golden file's.
func TestFormatGoldens(t *testing.T) {
	files, _ := filepath.Glob("testdata/formats/*")
	n := 0
	for _, p := range files {
		if strings.HasSuffix(p, ".golden.json") || strings.HasSuffix(p, ".md") {
			continue
		}
		n++
		name := filepath.Base(p)
		paris, _ := time.LoadLocation("Europe/Paris")
		evs, st := parseFile(t, p, &Options{TZ: paris, Year: 2025})
		if st.Format != wantFormat[name] {
			t.Errorf("%s: detected %s, want %s", name, st.Format, wantFormat[name])
		}
		if st.Raw != 0 || st.Lost != 0 {
			t.Errorf("%s: %d raw %v, %d lost %v", name, st.Raw, st.RawReasons, st.Lost, st.LostReasons)
		}
		var got []map[string]any
		for _, ev := range evs {
			m := map[string]any{"@timestamp": ev.Timestamp.UTC().Format(time.RFC3339Nano)}
			for _, k := range goldenFields {
				if v, ok := ev.Fields[k]; ok {
					m[k] = v
				}
			}
			got = append(got, m)
		}
		sort.SliceStable(got, func(i, j int) bool { return got[i]["@timestamp"].(string) < got[j]["@timestamp"].(string) })
		b, _ := json.MarshalIndent(got, "", " ")
		golden := p + ".golden.json"
		if *update {
			os.WriteFile(golden, append(b, '\n'), 0o644)
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%s: %v (run with -update to create it)", name, err)
		}
		var w, g any
		json.Unmarshal(want, &w)
		json.Unmarshal(b, &g)
		if !reflect.DeepEqual(w, g) {
			t.Errorf("%s: fields differ from %s:\n%s", name, golden, b)
		}
	}
	if n != len(wantFormat) {
		t.Errorf("%d golden inputs, %d expected formats", n, len(wantFormat))
	}
}
