package scenario

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Options are every choice an incident is generated from. Draw picks them
// from a seed; a test or the sample generator can also set them.
type Options struct {
	Variant Variant
	Seed    uint64
	Org     *Org
	Start   time.Time // first day of the logs, local midnight
	Days    int
	// IncidentDay is the day (from 0) whose evening the intrusion starts.
	IncidentDay int
	TZOffset    int // seconds east of UTC, the devices' zone
	// FortiGate: eventtime present or only date+time+tz; interim records
	// every Interim for sessions longer than that (0: none).
	EventTime bool
	Interim   time.Duration
	// FirewallFrom starts the firewall log later than the others;
	// FirewallUntil cuts it (after the theft, before the cover-up).
	FirewallFrom, FirewallUntil time.Time
	WindowsFrom                 time.Time
	Backups                     []Backup
	CloudUsers                  int  // colleagues using the cloud service daily
	ClassicSyslog               bool // Postfix with "Mar 14 23:05:01" stamps (no zone, no year)
	// FortiMail: the mail gateway is a FortiMail, whose history log (a
	// record per recipient, no account) stands instead of Postfix's;
	// ClassicSyslog then picks its space-separated form behind a relay's
	// header rather than its CSV form.
	FortiMail bool
	// CiscoESA: the mail gateway is a Cisco Secure Email Gateway, whose
	// mail_logs (a message's lines by MID, its connection's SMTP AUTH
	// account) stand instead of Postfix's: its own files, or with
	// ClassicSyslog its syslog push (year-less stamps).
	CiscoESA       bool
	WinXMLRoot     bool // wevtutil output with an <Events> root
	Winlogbeat     bool // Windows events as Winlogbeat JSON instead of XML
	NXLog          bool // Windows events as NXLog CE forwards them: JSON, local time to the second, no zone
	WinExport      bool // Windows events as Get-WinEvent | Export-Csv writes them: local time in a culture's pattern, message only
	WinList        bool // with WinExport: as Get-WinEvent | Format-List * > file prints them instead (UTF-16, a block per event)
	WinCollect     bool // with NXLog: as QRadar's WinCollect agent sends them to a syslog server instead (the message on one line)
	EvtxECmd       bool // Windows events as EvtxECmd's CSV (KAPE's EventLogs module): UTC, each record's Payload
	Plaso          bool // Windows events in a plaso super-timeline (psort's dynamic CSV): values without names
	EvtxexportText bool // Windows events as libevtx's evtxexport prints them: values without names, no log name
	EmptyExport    bool // an empty wevtutil export beside the others
	// WFP: the file server's Security log also holds the Windows Filtering
	// Platform's permitted connections (5156) for what it sends out. Never
	// drawn (a seed's incident stays as it was); a caller sets it.
	WFP     bool
	Missing string
	// Intrusion choices.
	Victim   int // index in Org.Staff of the account used
	Tool     int
	Staging  int
	Dest     int
	MailToo  bool
	ExfilGB  float64
	Sessions int
	// cutFirewall ends the firewall log a few minutes after the last
	// transfer, before the cover-up.
	cutFirewall bool
}

// Backup is a legitimate recurring transfer to an offsite provider.
type Backup struct {
	Provider  Site
	From      Host
	Hour      int // local hour it starts
	EveryDays int // 1 nightly, 7 weekly, 2 every other night
	Offset    int // first day (from 0) it runs
	GB        float64
	Streams   int
}

// Site is an outside address and its name.
type Site struct{ IP, Host string }

// Host is an inside machine.
type Host struct{ Name, IP string }

// Person is a member of staff and the workstation assigned to them.
type Person struct {
	User string
	WS   Host
}

// Org is the authority: its names and its addressing.
type Org struct {
	Label      string // Mairie de …
	NetBIOS    string // AD domain, AGGLO
	DNS        string // agglo.local
	MailDomain string
	FWName     string
	FWSerial   string
	FS, DC     Host
	BackupSrv  Host
	Mail       Host
	Exchange   Host
	VPNPool    string // prefix, "10.212.134."
	Staff      []Person
	Admin      Person
	Partners   []string
	Shares     []Share
}

// Share is a folder of the file server and what it holds.
type Share struct {
	Name, Path string
	Sensitive  bool
	Dirs       []string
}

var towns = []struct{ label, netbios, dns, mail string }{
	{"Communauté d'agglomération du Val-d'Orge", "AGGLO", "agglo.local", "agglo-exemple.fr"},
	{"Mairie de Saint-Aubin-sur-Loire", "STAUBIN", "mairie.lan", "saint-aubin-exemple.fr"},
	{"Communauté de communes des Deux Vallées", "CC2V", "cc2v.local", "cc2v-exemple.fr"},
	{"Ville de Montrevel", "MONTREVEL", "ad.montrevel.fr", "montrevel-exemple.fr"},
	{"Syndicat intercommunal des eaux du Lézon", "SIEL", "siel.intra", "siel-exemple.fr"},
	{"Mairie de Kerlouan-Plage", "KERLOUAN", "kerlouan.local", "kerlouan-exemple.bzh"},
}

var firstNames = []string{"a", "b", "c", "d", "e", "f", "g", "h", "j", "l", "m", "n", "p", "s", "v"}
var lastNames = []string{"martin", "bernard", "durand", "petit", "robert", "richard", "moreau", "simon", "laurent", "michel",
	"lefebvre", "leroy", "roux", "david", "bertrand", "morel", "fournier", "girard", "bonnet", "dupont", "lambert", "fontaine",
	"rousseau", "vincent", "muller", "lefevre", "faure", "andre", "mercier", "blanc", "guerin", "boyer", "garnier", "chevalier"}

// Exfiltration destinations: a cloud storage node, a VPS without name, a paste site.
var exfilDests = []Site{
	{"31.216.145.5", "gfs270n102.userstorage.mega.co.nz"},
	{"193.32.162.77", ""},
	{"144.76.136.153", "temp.sh"},
	{"89.44.9.243", ""},
	{"66.220.31.130", "dl-upload.pcloud.com"},
}

var providers = []Site{
	{"51.91.120.15", "backup.offsite-provider.fr"},
	{"185.183.104.30", "vault.sauvegarde-cloud.fr"},
	{"91.121.44.201", "s3.fr-par.backup-host.eu"},
	{"62.210.82.11", "repo.archivage-collectivites.fr"},
}

// The cloud service staff use (and the insider abuses).
var cloudService = []Site{
	{"162.125.66.15", "content.dropboxapi.com"},
	{"162.125.66.18", "content.dropboxapi.com"},
	{"162.125.21.3", "uc.dropboxusercontent.com"},
}

var zones = []int{3600, 7200, 0, 3600, -5 * 3600, 3600, 19800, 7200}

// WindowsForms are the forms an incident's Windows logs can be written in.
var WindowsForms = []string{"winlogbeat", "nxlog", "export-csv", "evtxexport", "evtxecmd", "plaso", "xml"}

// "format-list" is a form too: Get-WinEvent's other way to a file, drawn
// as half of "export-csv" (listFormOf), so that every seed kept its form;
// so is "wincollect", another agent forwarding to a syslog server, drawn as
// half of "nxlog".

// SetWindowsForm writes the Windows logs in one of WindowsForms, and in no
// other.
func (o *Options) SetWindowsForm(form string) {
	o.Winlogbeat, o.NXLog, o.WinExport = form == "winlogbeat", form == "nxlog", form == "export-csv" || form == "format-list"
	o.WinList = form == "format-list"
	o.NXLog = o.NXLog || form == "wincollect"
	o.WinCollect = form == "wincollect"
	o.EvtxexportText, o.EvtxECmd, o.Plaso = form == "evtxexport", form == "evtxecmd", form == "plaso"
}

// listFormOf says whether a seed's Get-WinEvent export is Format-List's
// rather than Export-Csv's: a draw of its own, outside Draw's sequence.
func listFormOf(seed uint64) bool { return rand.New(rand.NewPCG(seed, 0xf1)).IntN(2) == 0 }

// fortiMailOf says whether a seed's mail gateway is a FortiMail (a
// quarter of seeds): a draw of its own, outside Draw's sequence.
func fortiMailOf(seed uint64) bool { return rand.New(rand.NewPCG(seed, 0xf2)).IntN(4) == 0 }

// ciscoESAOf says whether a seed's mail gateway, when not a FortiMail, is
// a Cisco Secure Email Gateway (a quarter of the others): a draw of its
// own, outside Draw's sequence.
func ciscoESAOf(seed uint64) bool { return rand.New(rand.NewPCG(seed, 0xf3)).IntN(4) == 0 }

// Draw picks every option of an incident from its seed.
func Draw(v Variant, seed uint64) Options {
	r := rand.New(rand.NewPCG(seed, uint64(len(v))*7919+hashString(string(v))))
	o := Options{Variant: v, Seed: seed}
	o.Org = drawOrg(r)
	o.TZOffset = zones[r.IntN(len(zones))]
	loc := time.FixedZone("", o.TZOffset)
	o.Days = 5 + r.IntN(8)
	if v == SlowTheft {
		o.Days = max(o.Days, 8)
	}
	year := 2024 + r.IntN(2)
	day := time.Date(year, time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, loc)
	o.Start = day
	o.IncidentDay = o.Days - 1 - r.IntN(3)
	if v == SlowTheft {
		o.IncidentDay = o.Days - 5 + r.IntN(2)
	}
	o.IncidentDay = max(o.IncidentDay, 3)
	o.EventTime = r.IntN(3) > 0
	if r.IntN(2) == 0 {
		o.Interim = time.Duration(2+r.IntN(9)) * time.Minute
	}
	o.WindowsFrom = o.Start
	o.FirewallFrom = o.Start
	switch r.IntN(4) {
	case 0: // the firewall log starts a day or two after the Windows logs
		o.FirewallFrom = o.Start.Add(time.Duration(24+r.IntN(24)) * time.Hour)
	case 1: // the Windows logs start later (a log that rolled over)
		o.WindowsFrom = o.Start.Add(time.Duration(24+r.IntN(30)) * time.Hour)
	}
	o.ClassicSyslog = r.IntN(2) == 0
	o.FortiMail = fortiMailOf(seed)
	o.CiscoESA = !o.FortiMail && ciscoESAOf(seed)
	o.WinXMLRoot = r.IntN(2) == 0
	// One draw for the Windows form, so adding a form left the other
	// choices of every seed as they were.
	o.SetWindowsForm(WindowsForms[r.IntN(len(WindowsForms))])
	if o.WinExport && listFormOf(seed) {
		o.SetWindowsForm("format-list")
	}
	if o.NXLog && listFormOf(seed) {
		o.SetWindowsForm("wincollect")
	}
	o.EmptyExport = r.IntN(4) == 0
	o.Backups = drawBackups(r, o)
	o.CloudUsers = 0
	if v == InsiderCloud || r.IntN(2) == 0 {
		o.CloudUsers = 6 + r.IntN(14)
	}
	o.Victim = r.IntN(len(o.Org.Staff))
	o.Tool = r.IntN(len(tools))
	o.Staging = r.IntN(len(stagings))
	o.Dest = r.IntN(len(exfilDests))
	o.MailToo = v == VPNTheft && r.IntN(3) == 0
	o.ExfilGB = 0.8 + r.Float64()*6
	o.Sessions = 6 + r.IntN(20)
	if v == InsiderCloud {
		o.ExfilGB = 1.5 + r.Float64()*3.5
	}
	if v == SlowTheft {
		o.ExfilGB = 0.4 + r.Float64()*1.2 // per night
	}
	// A source left out, as evidence often arrives incomplete.
	switch x := r.IntN(10); {
	case x == 0:
		o.Missing = "windows"
	case x == 1:
		o.Missing = "firewall"
	case x == 2 && v != MailTheft:
		o.Missing = "mail"
	}
	// The firewall log ends between the theft and the cover-up.
	if (v == VPNTheft || v == RansomNoTheft) && o.Missing == "" && r.IntN(4) == 0 {
		o.FirewallUntil = time.Time{} // set by the story once the times are known
		o.cutFirewall = true
	}
	return o
}

func hashString(s string) uint64 {
	var h uint64 = 1469598103934665603
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func drawOrg(r *rand.Rand) *Org {
	t := towns[r.IntN(len(towns))]
	o := &Org{Label: t.label, NetBIOS: t.netbios, DNS: t.dns, MailDomain: t.mail}
	o.FWName = fmt.Sprintf("FGT-%s-%02d", t.netbios, 1+r.IntN(3))
	o.FWSerial = fmt.Sprintf("FG%dFTK2%07d", []int{60, 100, 200}[r.IntN(3)], r.IntN(9999999))
	var srv, ws string
	switch r.IntN(3) {
	case 0:
		srv, ws = fmt.Sprintf("10.%d.1.", 1+r.IntN(200)), fmt.Sprintf("10.%d.20.", 1+r.IntN(200))
	case 1:
		srv, ws = fmt.Sprintf("192.168.%d.", 1+r.IntN(100)), fmt.Sprintf("192.168.%d.", 101+r.IntN(100))
	default:
		srv, ws = fmt.Sprintf("172.16.%d.", r.IntN(16)), fmt.Sprintf("172.17.%d.", r.IntN(16))
	}
	o.VPNPool = "10.212.134."
	if r.IntN(3) == 0 {
		o.VPNPool = fmt.Sprintf("10.%d.%d.", 200+r.IntN(50), r.IntN(250))
	}
	dns := func(n string) string { return n + "." + t.dns }
	o.FS = Host{dns([]string{"FS01", "SRV-FICHIERS", "NAS01", "FILER"}[r.IntN(4)]), srv + fmt.Sprint(20+r.IntN(10))}
	o.DC = Host{dns([]string{"DC01", "SRV-AD", "AD01"}[r.IntN(3)]), srv + fmt.Sprint(10+r.IntN(5))}
	o.BackupSrv = Host{dns([]string{"BACKUP01", "SRV-SAUV", "VEEAM01"}[r.IntN(3)]), srv + fmt.Sprint(30+r.IntN(10))}
	o.Mail = Host{"mail01", srv + fmt.Sprint(40+r.IntN(5))}
	o.Exchange = Host{dns("exch01"), srv + fmt.Sprint(45+r.IntN(5))}
	n := 12 + r.IntN(20)
	seen := map[string]bool{}
	for len(o.Staff) < n {
		u := firstNames[r.IntN(len(firstNames))] + "." + lastNames[r.IntN(len(lastNames))]
		if seen[u] {
			continue
		}
		seen[u] = true
		k := len(o.Staff)
		o.Staff = append(o.Staff, Person{User: u, WS: Host{fmt.Sprintf("PC-%s-%03d", t.netbios, k+1), ws + fmt.Sprint(11+k)}})
	}
	o.Admin = Person{User: "admin." + lastNames[r.IntN(len(lastNames))], WS: Host{fmt.Sprintf("PC-%s-DSI", t.netbios), ws + "200"}}
	o.Partners = []string{"mairie@ville-voisine.fr", "contact@sdis-exemple.fr", "compta@tresor-public.fr", "devis@btp-atlantique.fr",
		"urbanisme@ddtm-exemple.gouv.fr", "secretariat@prefecture-exemple.gouv.fr"}
	o.Shares = []Share{
		{"RH", `D:\Partages\RH`, true, []string{`Paie\2024`, `Dossiers-agents`, `Recrutement`}},
		{"EtatCivil", `D:\Partages\EtatCivil`, true, []string{`Naissances`, `Mariages`, `Deces`}},
		{"CCAS", `D:\Partages\CCAS`, true, []string{`Aides`, `Dossiers-sociaux`}},
		{"Commun", `D:\Partages\Commun`, false, []string{`Dossiers\2025`, `Notes`}},
		{"Urbanisme", `D:\Partages\Urbanisme`, false, []string{`Permis`, `PLU`}},
	}
	return o
}

func drawBackups(r *rand.Rand, o Options) []Backup {
	org := o.Org
	// Schedules run from before the logs; a weekly one is placed so that its
	// first run the firewall log can show falls in the log's first day
	// ("starting on the first day of the logs").
	first := int(o.FirewallFrom.Sub(o.Start) / (24 * time.Hour))
	weekly := o.Days >= first+9
	p1, p2 := providers[r.IntN(len(providers))], providers[r.IntN(len(providers))]
	for p2 == p1 {
		p2 = providers[r.IntN(len(providers))]
	}
	nightly := func(p Site, every, offset int) Backup {
		return Backup{Provider: p, From: org.BackupSrv, Hour: []int{19, 20, 21, 22, 23, 0, 1, 2, 3}[r.IntN(9)], EveryDays: every, Offset: offset,
			GB: 5 + r.Float64()*50, Streams: 1 + r.IntN(6)}
	}
	switch x := r.IntN(10); {
	case x < 2:
		return nil
	case x < 6:
		return []Backup{nightly(p1, 1, 0)}
	case x < 8 && weekly:
		return []Backup{nightly(p1, 1, 0), nightly(p2, 7, first)}
	case x < 9 && weekly:
		return []Backup{nightly(p1, 7, first)}
	case o.Days >= first+6:
		return []Backup{nightly(p1, 2, first), nightly(p2, 2, first+1)}
	}
	return []Backup{nightly(p1, 1, 0)}
}

// expectedVerdict is what a correct analysis answers, given what the
// evidence holds.
func expectedVerdict(o Options) (string, []string) {
	switch o.Variant {
	case ControlVariant:
		if o.Missing == "firewall" {
			return "insufficient_data", nil
		}
		return "no_evidence", nil
	case RansomNoTheft:
		if o.Missing == "firewall" {
			return "insufficient_data", nil
		}
		return "no_evidence", []string{"possible"}
	case MailTheft:
		if o.Missing == "windows" {
			return "likely", nil
		}
		return "confirmed", nil
	case VPNPull:
		// Copies through the tunnel: the firewall's sessions measure them
		// and its VPN log ties the tunnel to the brute force; the file
		// server's share reads corroborate them.
		switch o.Missing {
		case "firewall":
			return "insufficient_data", nil
		case "windows":
			return "likely", nil
		}
		return "confirmed", nil
	}
	// Network thefts: the intruder's or the insider's upload.
	switch o.Missing {
	case "firewall":
		if o.MailToo {
			return "confirmed", nil
		}
		return "insufficient_data", nil
	case "windows":
		return "likely", nil
	}
	return "confirmed", nil
}

func (o Options) describe() string {
	var parts []string
	parts = append(parts, fmt.Sprintf("%s, %d days from %s, intrusion day %d, UTC%+.1f", o.Org.Label, o.Days, o.Start.Format("2006-01-02"), o.IncidentDay, float64(o.TZOffset)/3600))
	if o.Interim > 0 {
		parts = append(parts, fmt.Sprintf("FortiGate interim records every %s", o.Interim))
	}
	if !o.EventTime {
		parts = append(parts, "FortiGate without eventtime")
	}
	for _, b := range o.Backups {
		parts = append(parts, fmt.Sprintf("backup every %d day(s) at %02d:00 to %s (%.0f GB)", b.EveryDays, b.Hour, b.Provider.Host, b.GB))
	}
	if o.CloudUsers > 0 {
		parts = append(parts, fmt.Sprintf("%d colleagues use the cloud service", o.CloudUsers))
	}
	switch {
	case o.FortiMail && o.ClassicSyslog:
		parts = append(parts, "mail through a FortiMail (history log, space-separated behind a relay's header)")
	case o.FortiMail:
		parts = append(parts, "mail through a FortiMail (history log, syslog's CSV form)")
	case o.CiscoESA && o.ClassicSyslog:
		parts = append(parts, "mail through a Cisco Secure Email Gateway (mail_logs by syslog)")
	case o.CiscoESA:
		parts = append(parts, "mail through a Cisco Secure Email Gateway (its mail_logs files)")
	case o.ClassicSyslog:
		parts = append(parts, "Postfix with classic syslog stamps")
	}
	if o.Winlogbeat {
		parts = append(parts, "Windows as Winlogbeat JSON")
	}
	if o.NXLog && !o.WinCollect {
		parts = append(parts, "Windows as NXLog JSON in local time")
	}
	if o.WinCollect {
		parts = append(parts, "Windows as QRadar WinCollect payloads on a syslog server")
	}
	if o.EvtxexportText {
		parts = append(parts, "Windows as evtxexport text")
	}
	if o.EvtxECmd {
		parts = append(parts, "Windows as EvtxECmd CSV")
	}
	if o.Plaso {
		parts = append(parts, "Windows in a plaso timeline")
	}
	if o.WinExport {
		how := map[bool]string{true: "Get-WinEvent | Format-List *", false: "Get-WinEvent CSV"}[o.WinList]
		parts = append(parts, "Windows as "+how+map[bool]string{true: " (French culture)", false: " (US culture)"}[o.WinXMLRoot])
	}
	if !o.FirewallFrom.Equal(o.Start) {
		parts = append(parts, "firewall log starts "+o.FirewallFrom.Sub(o.Start).String()+" late")
	}
	if !o.WindowsFrom.Equal(o.Start) {
		parts = append(parts, "Windows logs start "+o.WindowsFrom.Sub(o.Start).String()+" late")
	}
	if o.cutFirewall {
		parts = append(parts, "firewall log ends before the cover-up")
	}
	if o.WFP {
		parts = append(parts, "the file server logs its outbound connections (5156)")
	}
	if o.Missing != "" {
		parts = append(parts, "no "+o.Missing+" logs")
	}
	return strings.Join(parts, "; ")
}
