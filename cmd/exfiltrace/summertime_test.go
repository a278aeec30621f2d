package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAnalyzeSummerTime: a Cisco ASA writing Paris local time without its
// zone over ten days across the change to summer time, Windows' logons in
// UTC. With no flag, analyze reads the firewall in Europe/Paris — not at
// one fixed offset, which leaves half the days an hour off — and dates the
// upload of the days after the change in UTC exactly.
func TestAnalyzeSummerTime(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var asa, win strings.Builder
	stamp := func(at time.Time) string { return at.In(paris).Format("Jan 02 2006 15:04:05") + ": " }
	first := time.Date(2026, 3, 24, 7, 30, 0, 0, time.UTC)
	id := 0
	for i, d := range []int{0, 1, 2, 3, 6, 7, 8, 9} {
		at := first.Add(time.Duration(d) * 24 * time.Hour)
		ip := fmt.Sprintf("10.212.134.%d", 10+i)
		fmt.Fprintf(&asa, "%s%%ASA-4-722051: Group <VPN-AGENTS> User <agent%d> IP <198.51.100.7> IPv4 Address <%s> IPv6 address <::> assigned to session\n", stamp(at), i, ip)
		fmt.Fprintf(&win, `{"@timestamp":"%s","winlog":{"channel":"Security","computer_name":"SRV-FICHIERS.mairie.local","event_id":"4624","provider_name":"Microsoft-Windows-Security-Auditing","record_id":%d,"event_data":{"TargetUserName":"agent%d","TargetDomainName":"MAIRIE","LogonType":"10","IpAddress":"%s","IpPort":"0"}}}`+"\n",
			at.Add(40*time.Second).Format(time.RFC3339Nano), 1000+i, i, ip)
	}
	// An upload after the change: 10:00 in Paris, 08:00 UTC.
	up := time.Date(2026, 3, 31, 8, 0, 0, 0, time.UTC)
	id++
	fmt.Fprintf(&asa, "%s%%ASA-6-302013: Built outbound TCP connection %d for outside:31.216.145.5/443 (31.216.145.5/443) to inside:10.10.1.20/60100 (203.0.113.10/60100)\n", stamp(up), id)
	fmt.Fprintf(&asa, "%s%%ASA-6-302014: Teardown TCP connection %d for outside:31.216.145.5/443 to inside:10.10.1.20/60100 duration 0:20:00 bytes 7340032000 TCP FINs from inside\n", stamp(up.Add(20*time.Minute)), id)
	r := analyzeClocks(t, dir, map[string]string{"firewall/asa.log": asa.String(), "windows/security.json": win.String()})
	if len(r.Clocks) != 1 || r.Clocks[0].ReadAt != "Europe/Paris" || r.Clocks[0].Agreeing != 8 {
		t.Fatalf("clock checks %+v, want the zoneless logs read in Europe/Paris, 8 moments agreeing", r.Clocks)
	}
	found := false
	for _, s := range r.Verdict.Reasons {
		found = found || strings.Contains(s, "were read in the zone Europe/Paris") && strings.Contains(s, "UTC+01:00 and UTC+02:00")
	}
	if !found {
		t.Errorf("reasons %q do not say the zone", r.Verdict.Reasons)
	}
	// The upload's end, read in Paris' summer time: 08:20 UTC.
	end := up.Add(20 * time.Minute)
	dated := false
	for _, e := range r.Timeline {
		dated = dated || e.Time.Equal(end) || e.Time.Equal(up)
	}
	if !dated {
		t.Errorf("no timeline entry at %s or %s: %+v", up, end, r.Timeline)
	}
}

// TestAnalyzeSummerTimeOfWindows: the firewall (FortiGate) dates its
// records exactly; Windows comes through NXLog in Paris local time
// without its zone, across the change to summer time. With no flag,
// analyze reads Windows in Europe/Paris: every logon then meets its
// tunnel, and the report says the zone was Windows'.
func TestAnalyzeSummerTimeOfWindows(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var fgt, nx strings.Builder
	first := time.Date(2026, 3, 24, 7, 30, 0, 0, time.UTC)
	for i, d := range []int{0, 1, 2, 3, 6, 7, 8, 9} {
		at := first.Add(time.Duration(d) * 24 * time.Hour)
		ip, user := fmt.Sprintf("10.212.134.%d", 10+i), fmt.Sprintf("agent%d", i)
		l := at.In(paris)
		fmt.Fprintf(&fgt, `date=%s time=%s devname="FGT-MAIRIE" devid="FG100F" eventtime=%d tz="%s" logid="0101039947" type="event" subtype="vpn" level="information" vd="root" logdesc="SSL VPN tunnel up" action="tunnel-up" tunneltype="ssl-tunnel" remip=198.51.100.7 user="%s" group="VPN" reason="login successfully" msg="SSL tunnel established" tunnelip=%s status="success"`+"\n",
			l.Format("2006-01-02"), l.Format("15:04:05"), at.UnixNano(), l.Format("-0700"), user, ip)
		w := at.Add(40 * time.Second).In(paris)
		fmt.Fprintf(&nx, `{"EventTime":"%s","Hostname":"SRV-FICHIERS.mairie.local","EventType":"AUDIT_SUCCESS","EventID":4624,"SourceName":"Microsoft-Windows-Security-Auditing","RecordNumber":%d,"Channel":"Security","TargetUserName":"%s","TargetDomainName":"MAIRIE","LogonType":"10","IpAddress":"%s","IpPort":"0"}`+"\n",
			w.Format("2006-01-02 15:04:05"), 2000+i, user, ip)
	}
	r := analyzeClocks(t, dir, map[string]string{"firewall/fortigate.log": fgt.String(), "windows/security-nxlog.json": nx.String()})
	if len(r.Clocks) != 1 || r.Clocks[0].ReadAt != "Europe/Paris" || r.Clocks[0].Agreeing != 8 {
		t.Fatalf("clock checks %+v, want the zoneless logs read in Europe/Paris, 8 moments agreeing", r.Clocks)
	}
	found := false
	for _, s := range r.Verdict.Reasons {
		found = found || strings.Contains(s, "(the Windows logs' among them) were read in the zone Europe/Paris")
	}
	if !found {
		t.Errorf("reasons %q do not say Windows' zone", r.Verdict.Reasons)
	}
}

// clockReport is what the summer-time tests read of a JSON report.
type clockReport struct {
	Verdict struct {
		Reasons []string `json:"reasons"`
	} `json:"verdict"`
	Clocks []struct {
		ReadAt   string `json:"zoneless_read_at"`
		Agreeing int    `json:"agreeing"`
	} `json:"clock_checks"`
	Timeline []struct {
		Time time.Time `json:"time"`
	} `json:"timeline"`
}

// analyzeClocks writes files (path under dir → content) and runs analyze
// on dir with no option but the JSON report in English.
func analyzeClocks(t *testing.T, dir string, files map[string]string) (r clockReport) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := run(t, "analyze", dir, "--quiet", "--format", "json", "--lang", "en")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return r
}
