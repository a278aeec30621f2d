package reports

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fgLine is a FortiGate line of 2025-03-14 (UTC) at hm:s.
func fgLine(hms, rest string) string {
	return `<189>date=2025-03-14 time=` + hms + ` devname="FGT-MAIRIE" devid="FG100F0000000001" tz="+0000" ` + rest + "\n"
}

const (
	fgTunnelUp   = `logid="0101039947" type="event" subtype="vpn" level="information" vd="root" logdesc="SSL VPN tunnel up" action="tunnel-up" tunneltype="ssl-tunnel" remip=185.220.101.4 user="j.martin" group="VPN" reason="login successfully" msg="SSL tunnel established" tunnelip=10.212.134.200 status="success"`
	fgTunnelDown = `logid="0101039948" type="event" subtype="vpn" level="information" vd="root" logdesc="SSL VPN tunnel down" action="tunnel-down" tunneltype="ssl-tunnel" remip=185.220.101.4 user="j.martin" group="VPN" reason="N/A" msg="SSL tunnel shutdown" tunnelip=10.212.134.200 status="success"`
)

func fgSession(src, dst string, dport, sid int, action string, dur int, sent, rcvd int64, extra string) string {
	return strings.Join([]string{`logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root"`,
		"srcip=" + src, `srcport=50100 srcintf="ssl.root" dstip=` + dst, "dstport=" + itoa(int64(dport)), `dstintf="port2" sessionid=` + itoa(int64(sid)),
		`proto=6 action="` + action + `" policyid=40 service="tcp/` + itoa(int64(dport)) + `" duration=` + itoa(int64(dur)),
		"sentbyte=" + itoa(sent), "rcvdbyte=" + itoa(rcvd), extra}, " ")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestFilesCopiedThroughAVPNTunnelAreSummed(t *testing.T) {
	dir := t.TempDir()
	log := fgLine("22:41:05", fgTunnelUp) +
		// An interim record of the SMB session: its running totals are not counted again.
		fgLine("23:05:00", fgSession("10.212.134.200", "192.168.10.5", 445, 9001, "accept", 1200, 40_000, 700_000_000, "sentdelta=40000 rcvddelta=700000000")) +
		fgLine("23:30:00", fgSession("10.212.134.200", "192.168.10.5", 445, 9001, "close", 2700, 90_000, 1_500_000_000, "")) +
		fgLine("23:40:00", fgSession("10.212.134.200", "192.168.10.5", 445, 9002, "close", 60, 10_000, 250_000_000, "")) +
		// Its remote desktop: listed, not a file copy.
		fgLine("23:45:00", fgSession("10.212.134.200", "192.168.10.7", 3389, 9003, "close", 3600, 20_000_000, 400_000_000, "")) +
		fgLine("23:59:00", fgTunnelDown) +
		// The same address after the tunnel went down: no account's.
		fgLine("23:59:30", fgSession("10.212.134.200", "192.168.10.5", 445, 9004, "close", 10, 1, 999, ""))
	if err := os.WriteFile(filepath.Join(dir, "fortigate.log"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"fr", "en"} {
		r := analyze(t, lang, dir)
		if len(r.VPNTransfers) != 2 {
			t.Fatalf("%s: %d tunnel transfers, want 2: %+v", lang, len(r.VPNTransfers), r.VPNTransfers)
		}
		smb, rdp := r.VPNTransfers[0], r.VPNTransfers[1]
		if smb.Account != "j.martin" || smb.RemoteIP != "185.220.101.4" || smb.TunnelIP != "10.212.134.200" || smb.ServerIP != "192.168.10.5" || smb.Port != 445 ||
			!smb.FileService || smb.BytesToClient != 1_750_000_000 || smb.BytesFromClient != 100_000 || smb.Sessions != 2 {
			t.Errorf("%s: SMB through the tunnel: %+v", lang, smb)
		}
		if want := time.Date(2025, 3, 14, 22, 45, 0, 0, time.UTC); !smb.First.Equal(want) || !smb.Last.Equal(time.Date(2025, 3, 14, 23, 40, 0, 0, time.UTC)) {
			t.Errorf("%s: SMB from %s to %s, want from %s (the session's start) to 23:40", lang, smb.First, smb.Last, want)
		}
		if rdp.Port != 3389 || rdp.FileService || rdp.BytesToClient != 400_000_000 || rdp.Account != "j.martin" {
			t.Errorf("%s: remote desktop through the tunnel: %+v", lang, rdp)
		}
		var why string
		for _, s := range r.Verdict.Reasons {
			if strings.Contains(s, "VPN") {
				why = s
			}
		}
		want := map[string][]string{
			"fr": {"1,8 Go ont été copiés", "1 compte(s) (SMB)", "par SMB pour j.martin", "depuis 185.220.101.4"},
			"en": {"1.8 GB were copied", "1 account(s) (SMB)", "by SMB for j.martin", "from 185.220.101.4"},
		}[lang]
		for _, w := range want {
			if !strings.Contains(why, w) {
				t.Errorf("%s: the verdict's reason %q does not say %q", lang, why, w)
			}
		}
		if r.Verdict.DataTaken != NoEvidence || r.Verdict.Confidence != 0.4 || !strings.Contains(r.Verdict.Summary, map[string]string{"fr": "1,8 Go de fichiers ont été copiés", "en": "1.8 GB of files were copied"}[lang]) {
			t.Errorf("%s: verdict %s (%.1f): %q", lang, r.Verdict.DataTaken, r.Verdict.Confidence, r.Verdict.Summary)
		}
		if r.Verdict.BytesOut != 0 || len(r.Exfiltration) != 0 {
			t.Errorf("%s: copies to a VPN client went into the ledger: %d bytes, %+v", lang, r.Verdict.BytesOut, r.Exfiltration)
		}
	}
}

func TestTunnelWithoutFileCopiesSaysNothing(t *testing.T) {
	dir := t.TempDir()
	log := fgLine("22:41:05", fgTunnelUp) +
		fgLine("23:45:00", fgSession("10.212.134.200", "192.168.10.7", 3389, 9003, "close", 3600, 20_000_000, 400_000_000, "")) +
		// A session from an address no tunnel held.
		fgLine("23:46:00", fgSession("10.212.134.201", "192.168.10.5", 445, 9005, "close", 30, 5, 123_456_789, "")) +
		fgLine("23:59:00", fgTunnelDown)
	if err := os.WriteFile(filepath.Join(dir, "fortigate.log"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	r := analyze(t, "en", dir)
	if len(r.VPNTransfers) != 1 || r.VPNTransfers[0].Port != 3389 {
		t.Fatalf("tunnel transfers: %+v", r.VPNTransfers)
	}
	for _, s := range r.Verdict.Reasons {
		if strings.Contains(s, "VPN tunnels") {
			t.Errorf("a reason speaks of file copies through a tunnel that copied none: %q", s)
		}
	}
	if strings.Contains(r.Verdict.Summary, "VPN") {
		t.Errorf("the summary speaks of tunnel copies there were not: %q", r.Verdict.Summary)
	}
}

// A concentrator of its own (Ivanti Connect Secure) names the tunnel; another
// vendor's firewall (Juniper SRX) logs its sessions.
func TestTunnelCopiesAcrossVendors(t *testing.T) {
	dir := t.TempDir()
	vpn := `Mar 14 22:41:05 vpn01 PulseSecure: 2025-03-14 22:41:05 - ive - [185.220.101.4] j.martin(Users)[Staff] - AUT24414: Agent login succeeded for j.martin/Users from 185.220.101.4.
Mar 14 22:41:06 vpn01 PulseSecure: 2025-03-14 22:41:06 - ive - [185.220.101.4] j.martin(Users)[Staff] - NWC23464: VPN Tunneling: Session started for user with IPv4 address 10.200.0.5, hostname KALI
Mar 15 01:02:03 vpn01 PulseSecure: 2025-03-15 01:02:03 - ive - [185.220.101.4] j.martin(Users)[Staff] - NWC23465: VPN Tunneling: Session ended for user with IPv4 address 10.200.0.5
`
	srx := `<14>1 2025-03-14T23:41:02.120Z SRX-MAIRIE RT_FLOW - RT_FLOW_SESSION_CLOSE [junos@2636.1.1.1.2.129 reason="TCP FIN" source-address="10.200.0.5" source-port="51544" destination-address="192.168.10.5" destination-port="445" connection-tag="0" service-name="junos-smb" nat-source-address="10.200.0.5" nat-source-port="51544" nat-destination-address="192.168.10.5" nat-destination-port="445" nat-connection-tag="0" src-nat-rule-type="N/A" src-nat-rule-name="N/A" dst-nat-rule-type="N/A" dst-nat-rule-name="N/A" protocol-id="6" policy-name="vpn-to-servers" source-zone-name="vpn" destination-zone-name="servers" session-id-32="40311" packets-from-client="8123" bytes-from-client="524288" packets-from-server="403112" bytes-from-server="3221225472" elapsed-time="1834" application="SMB" nested-application="UNKNOWN" username="N/A" roles="N/A" packet-incoming-interface="st0.1" encrypted="No"]
`
	for name, body := range map[string]string{"vpn.log": vpn, "srx.log": srx} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := analyze(t, "en", dir)
	if len(r.VPNTransfers) != 1 {
		t.Fatalf("tunnel transfers: %+v", r.VPNTransfers)
	}
	x := r.VPNTransfers[0]
	if x.Account != "j.martin" || x.RemoteIP != "185.220.101.4" || x.ServerIP != "192.168.10.5" || x.Port != 445 || !x.FileService ||
		x.BytesToClient != 3221225472 || x.BytesFromClient != 524288 || x.Sessions != 1 {
		t.Errorf("%+v", x)
	}
	if start := time.Date(2025, 3, 14, 23, 10, 28, 120_000_000, time.UTC); !x.First.Equal(start) {
		t.Errorf("first %s, want the session's start %s (closed at 23:41:02.120 after 1,834 s)", x.First, start)
	}
}

// A few files opened from home: said in the reasons, not enough to qualify
// the verdict (under the large-transfer volume, 100 MB by default).
func TestSmallTunnelCopiesAreSaidNotWeighed(t *testing.T) {
	dir := t.TempDir()
	log := fgLine("08:01:00", fgTunnelUp) +
		fgLine("09:00:00", fgSession("10.212.134.200", "192.168.10.5", 445, 9101, "close", 600, 30_000, 5_000_000, "")) +
		fgLine("12:00:00", fgTunnelDown)
	if err := os.WriteFile(filepath.Join(dir, "fortigate.log"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	r := analyze(t, "en", dir)
	said := false
	for _, s := range r.Verdict.Reasons {
		said = said || strings.Contains(s, "Through VPN tunnels, 5.0 MB were copied")
	}
	if !said || r.Verdict.DataTaken != NoEvidence || strings.Contains(r.Verdict.Summary, "VPN") {
		t.Errorf("verdict %s (%.1f) %q, reasons %q", r.Verdict.DataTaken, r.Verdict.Confidence, r.Verdict.Summary, r.Verdict.Reasons)
	}
}

// An intruder who guessed a VPN password copies the file server's shares to
// the machine at the tunnel's far end: that is data taken, in the ledger,
// to the tunnel's far-end address — while a colleague's tunnel the same
// night, which nothing ties to the intrusion, stays in the reasons.
func TestTunnelCopiesOfTheIntrusionAreInTheLedger(t *testing.T) {
	dir := t.TempDir()
	var log strings.Builder
	for i := 0; i < 12; i++ {
		log.WriteString(fgLine("22:2"+strconv.Itoa(i/6)+":"+strconv.Itoa(10+i*7%50), `logid="0101039426" type="event" subtype="vpn" level="alert" vd="root" logdesc="SSL VPN login fail" action="ssl-login-fail" tunneltype="ssl-tunnel" remip=185.220.101.4 user="admin" group="N/A" reason="sslvpn_login_permission_denied" msg="SSL user failed to logged in" status="failure"`))
	}
	colleague := strings.NewReplacer("j.martin", "a.durand", "185.220.101.4", "90.12.34.56", "10.212.134.200", "10.212.134.20")
	log.WriteString(fgLine("22:30:00", colleague.Replace(fgTunnelUp)))
	log.WriteString(fgLine("22:41:05", fgTunnelUp))
	log.WriteString(fgLine("23:30:00", fgSession("10.212.134.200", "192.168.10.5", 445, 9001, "close", 2700, 90_000, 1_500_000_000, "")))
	log.WriteString(fgLine("23:40:00", fgSession("10.212.134.200", "192.168.10.6", 445, 9002, "close", 60, 10_000, 250_000_000, "")))
	log.WriteString(fgLine("23:41:00", fgSession("10.212.134.20", "192.168.10.5", 445, 9003, "close", 600, 10_000, 300_000_000, "")))
	log.WriteString(fgLine("23:50:00", colleague.Replace(fgTunnelDown)))
	log.WriteString(fgLine("23:59:00", fgTunnelDown))
	if err := os.WriteFile(filepath.Join(dir, "fortigate.log"), []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r := analyze(t, "en", dir)
	if len(r.Exfiltration) != 1 {
		t.Fatalf("ledger: %+v", r.Exfiltration)
	}
	e := r.Exfiltration[0]
	if e.Destination.IP != "185.220.101.4" || e.Bytes != 1_750_000_000 || e.Events != 2 || len(e.Users) != 1 || e.Users[0] != "j.martin" ||
		len(e.Sources) != 2 || e.Sources[0].IP != "192.168.10.5" || e.Sources[1].IP != "192.168.10.6" ||
		!e.FirstSeen.Equal(time.Date(2025, 3, 14, 22, 45, 0, 0, time.UTC)) || !e.LastSeen.Equal(time.Date(2025, 3, 14, 23, 40, 0, 0, time.UTC)) {
		t.Errorf("ledger entry: %+v", e)
	}
	if r.Verdict.DataTaken != Likely || r.Verdict.BytesOut != 1_750_000_000 {
		t.Errorf("verdict %s, %d bytes out, want likely, 1,750,000,000 (%q)", r.Verdict.DataTaken, r.Verdict.BytesOut, r.Verdict.Reasons)
	}
	var colleagues, ledgered int
	for _, x := range r.VPNTransfers {
		switch {
		case x.Account == "a.durand" && !x.InLedger && x.BytesToClient == 300_000_000:
			colleagues++
		case x.Account == "j.martin" && x.InLedger:
			ledgered++
		default:
			t.Errorf("tunnel transfer %+v", x)
		}
	}
	if colleagues != 1 || ledgered != 2 {
		t.Errorf("tunnel transfers: %+v", r.VPNTransfers)
	}
	said := false
	for _, s := range r.Verdict.Reasons {
		said = said || strings.Contains(s, "Through VPN tunnels, 300.0 MB were copied") && strings.Contains(s, "for a.durand from 90.12.34.56")
	}
	if !said {
		t.Errorf("the colleague's copies are not in the reasons: %q", r.Verdict.Reasons)
	}
	if !strings.Contains(e.Anomaly, `address named by "VPN brute force from one address"`) {
		t.Errorf("anomaly %q", e.Anomaly)
	}
	if fr := analyze(t, "fr", dir); len(fr.Exfiltration) != 1 || !strings.Contains(fr.Exfiltration[0].Anomaly, "adresse nommée par « Force brute VPN depuis une adresse »") {
		t.Errorf("fr: %+v", fr.Exfiltration)
	}
}

// The same theft behind a Palo Alto firewall: GlobalProtect's log names
// the tunnel, PAN-OS' session end logs count what the server sent.
func TestTunnelCopiesThroughGlobalProtect(t *testing.T) {
	dir := t.TempDir()
	gp := func(hms, id, stage, user, private, status string) string {
		return `<14>Mar 14 ` + hms + ` PA-AGGLO 1,2025/03/14 ` + hms + `,012801012345,GLOBALPROTECT,0,2817,2025/03/14 ` + hms + `,vsys1,` + id + `,` + stage + `,LDAP,SSL,agglo\` + user +
			`,NL,KALI,185.220.101.4,0.0.0.0,` + private + `,0.0.0.0,,,5.2.3,Windows,"",1,,,"",` + status + `,,0,user-logon,0,GP-GW,1,0x0` + "\n"
	}
	end := func(hms, start string, sid, dur int, sent, rcvd int64) string {
		return `<14>Mar 14 ` + hms + ` PA-AGGLO 1,2025/03/14 ` + hms + `,012801012345,TRAFFIC,end,2561,2025/03/14 ` + hms + `,10.212.134.200,192.168.10.5,0.0.0.0,0.0.0.0,vpn-to-files,agglo\j.martin,,ms-ds-smb,vsys1,vpn,servers,tunnel.1,ethernet1/3,default,2025/03/14 ` + hms + `,` + itoa(int64(sid)) +
			`,1,50100,445,0,0,0x41c,tcp,allow,` + itoa(sent+rcvd) + `,` + itoa(sent) + `,` + itoa(rcvd) + `,1000,2025/03/14 ` + start + `,` + itoa(int64(dur)) + `,any,0,1,0x0,10.0.0.0-10.255.255.255,10.0.0.0-10.255.255.255,0,500,500,tcp-fin` + "\n"
	}
	var log strings.Builder
	for i := 0; i < 12; i++ {
		log.WriteString(gp("22:3"+strconv.Itoa(i/6)+":"+strconv.Itoa(10+i*7%50), "gateway-auth", "login", "admin", "0.0.0.0", "failure"))
	}
	log.WriteString(gp("22:41:05", "gateway-connected", "connected", "j.martin", "10.212.134.200", "success"))
	log.WriteString(end("23:30:00", "22:45:00", 9001, 2700, 90_000, 1_500_000_000))
	log.WriteString(end("23:40:00", "23:39:00", 9002, 60, 10_000, 250_000_000))
	log.WriteString(gp("23:59:00", "gateway-logout", "logout", "j.martin", "10.212.134.200", "success"))
	if err := os.WriteFile(filepath.Join(dir, "panos.log"), []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r := analyze(t, "en", dir)
	if len(r.Exfiltration) != 1 {
		t.Fatalf("ledger %+v; tunnels %+v; reasons %q", r.Exfiltration, r.VPNTransfers, r.Verdict.Reasons)
	}
	e := r.Exfiltration[0]
	if e.Destination.IP != "185.220.101.4" || e.Bytes != 1_750_000_000 || e.Events != 2 || len(e.Users) != 1 || e.Users[0] != "j.martin" ||
		len(e.Sources) != 1 || e.Sources[0].IP != "192.168.10.5" || r.Verdict.DataTaken != Likely {
		t.Errorf("verdict %s, entry %+v", r.Verdict.DataTaken, e)
	}
}

// comwareFlow is an H3C Comware session record from a tunnel's address:
// event "(6)" while the session is still open (the bytes since its
// previous record), "(1)" when it ends.
func comwareFlow(at, begin, end, event string, init, reply int64) string {
	return "<190>Mar 14 " + at + " 2025 FW-CORE %%10SESSION/6/SESSION_IPV4_FLOW: Protocol(1001)=TCP;Application(1002)=smb;SrcIPAddr(1003)=10.212.134.200;SrcPort(1004)=50200;" +
		"DstIPAddr(1007)=192.168.10.5;DstPort(1008)=445;InitPktCount(1044)=100;InitByteCount(1046)=" + itoa(init) + ";RplyPktCount(1045)=100;RplyByteCount(1047)=" + itoa(reply) +
		";BeginTime_e(1013)=" + begin + ";EndTime_e(1014)=" + end + ";Event(1048)=" + event + ";\n"
}

// TestTunnelSessionLoggedWhileOpenCountsOnce: a firewall that logs an open
// session every few minutes, each record with the bytes since the last
// (Comware), counts its bytes in full and the session once.
func TestTunnelSessionLoggedWhileOpenCountsOnce(t *testing.T) {
	dir := t.TempDir()
	fg := fgLine("22:41:05", fgTunnelUp) + fgLine("23:59:00", fgTunnelDown)
	cw := comwareFlow("22:55:00", "03142025225000", "03142025225500", "(6)Active data flow timeout", 20_000, 700_000_000) +
		comwareFlow("23:00:00", "03142025225000", "03142025230000", "(6)Active data flow timeout", 20_000, 800_000_000) +
		comwareFlow("23:05:00", "03142025225000", "03142025230500", "(1)Normal over", 10_000, 250_000_000)
	for name, text := range map[string]string{"fortigate.log": fg, "comware.log": cw} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := analyze(t, "en", dir)
	if len(r.VPNTransfers) != 1 {
		t.Fatalf("%d tunnel transfers, want 1: %+v", len(r.VPNTransfers), r.VPNTransfers)
	}
	if smb := r.VPNTransfers[0]; smb.Account != "j.martin" || smb.Port != 445 || smb.BytesToClient != 1_750_000_000 || smb.BytesFromClient != 50_000 || smb.Sessions != 1 {
		t.Errorf("SMB through the tunnel: %+v", smb)
	}
}
