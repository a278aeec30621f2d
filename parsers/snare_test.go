package parsers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Messages as Windows renders them (English and French servers).
const (
	msg4624   = "An account was successfully logged on.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tS-1-5-18\r\n\tAccount Name:\t\tFS01$\r\n\tAccount Domain:\t\tAGGLO\r\n\tLogon ID:\t\t0x3E7\r\n\r\nLogon Information:\r\n\tLogon Type:\t\t10\r\n\tRestricted Admin Mode:\t-\r\n\tVirtual Account:\t\tNo\r\n\tElevated Token:\t\tYes\r\n\r\nImpersonation Level:\t\tImpersonation\r\n\r\nNew Logon:\r\n\tSecurity ID:\t\tS-1-5-21-1004336348-1177238915-682003330-1107\r\n\tAccount Name:\t\tj.martin\r\n\tAccount Domain:\t\tAGGLO\r\n\tLogon ID:\t\t0x8C41F2\r\n\tLinked Logon ID:\t\t0x0\r\n\tNetwork Account Name:\t-\r\n\tNetwork Account Domain:\t-\r\n\tLogon GUID:\t\t{00000000-0000-0000-0000-000000000000}\r\n\r\nProcess Information:\r\n\tProcess ID:\t\t0x1f4\r\n\tProcess Name:\t\tC:\\Windows\\System32\\svchost.exe\r\n\r\nNetwork Information:\r\n\tWorkstation Name:\tPC-REMOTE\r\n\tSource Network Address:\t10.212.134.200\r\n\tSource Port:\t\t0\r\n\r\nDetailed Authentication Information:\r\n\tLogon Process:\t\tUser32 \r\n\tAuthentication Package:\tNegotiate\r\n\tTransited Services:\t-\r\n\tPackage Name (NTLM only):\t-\r\n\tKey Length:\t\t0\r\n\r\nThis event is generated when a logon session is created. It is generated on the computer that was accessed."
	msg4625fr = "Un compte n'a pas réussi à se connecter.\r\n\r\nSujet :\r\n\tID de sécurité :\t\tS-1-0-0\r\n\tNom du compte :\t\t-\r\n\tDomaine du compte :\t\t-\r\n\tID d'ouverture de session :\t\t0x0\r\n\r\nType d'ouverture de session :\t\t\t3\r\n\r\nCompte pour lequel l'ouverture de session a échoué :\r\n\tID de sécurité :\t\tS-1-0-0\r\n\tNom du compte :\t\tadministrateur\r\n\tDomaine du compte :\t\tAGGLO\r\n\r\nInformations sur l'échec :\r\n\tRaison de l'échec :\t\tNom d'utilisateur inconnu ou mot de passe incorrect.\r\n\tÉtat :\t\t\t0xC000006D\r\n\tSous-état :\t\t0xC000006A\r\n\r\nInformations sur le processus :\r\n\tID du processus de l'appelant :\t0x0\r\n\tNom du processus de l'appelant :\t-\r\n\r\nInformations sur le réseau :\r\n\tNom de la station de travail :\tKALI\r\n\tAdresse du réseau source :\t185.220.101.4\r\n\tPort source :\t\t51234"
	msg5145   = "A network share object was checked to see whether client can be granted desired access.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tS-1-5-21-1004336348-1177238915-682003330-1107\r\n\tAccount Name:\t\tj.martin\r\n\tAccount Domain:\t\tAGGLO\r\n\tLogon ID:\t\t0x8C41F2\r\n\r\nNetwork Information:\r\n\tObject Type:\t\tFile\r\n\tSource Address:\t\t10.10.1.50\r\n\tSource Port:\t\t51022\r\n\r\nShare Information:\r\n\tShare Name:\t\t\\\\*\\Finances\r\n\tShare Path:\t\t\\??\\D:\\Partages\\Finances\r\n\tRelative Target Name:\tPaie 2024\\salaires mars.xlsx\r\n\r\nAccess Request Information:\r\n\tAccess Mask:\t\t0x1\r\n\tAccesses:\t\tReadData (or ListDirectory)"
)

// flatten does what Snare does to a message: line breaks and tabs become spaces.
func flatten(s string) string { return strings.NewReplacer("\r", " ", "\n", " ", "\t", " ").Replace(s) }

// collapse does what Eventlog to Syslog does to a message: every run of
// blank space becomes one space.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestMessageEventData(t *testing.T) {
	for _, tc := range []struct {
		name, msg string
		want      map[string]string
	}{
		{"4624", msg4624, map[string]string{"SubjectUserName": "FS01$", "SubjectDomainName": "AGGLO", "SubjectLogonId": "0x3E7",
			"LogonType": "10", "TargetUserName": "j.martin", "TargetDomainName": "AGGLO", "TargetLogonId": "0x8C41F2",
			"TargetUserSid": "S-1-5-21-1004336348-1177238915-682003330-1107", "ProcessId": "0x1f4",
			"ProcessName": `C:\Windows\System32\svchost.exe`, "WorkstationName": "PC-REMOTE", "IpAddress": "10.212.134.200",
			"IpPort": "0", "LogonProcessName": "User32", "AuthenticationPackageName": "Negotiate"}},
		{"4625 fr", msg4625fr, map[string]string{"SubjectUserName": "-", "LogonType": "3", "TargetUserName": "administrateur",
			"TargetDomainName": "AGGLO", "FailureReason": "Nom d'utilisateur inconnu ou mot de passe incorrect.",
			"WorkstationName": "KALI", "IpAddress": "185.220.101.4", "IpPort": "51234"}},
		{"4688", "A new process has been created.\r\n\r\nCreator Subject:\r\n\tSecurity ID:\t\tS-1-5-21-1-2-3-1107\r\n\tAccount Name:\t\tj.martin\r\n\tAccount Domain:\t\tAGGLO\r\n\tLogon ID:\t\t0x8C41F2\r\n\r\nTarget Subject:\r\n\tSecurity ID:\t\tS-1-0-0\r\n\tAccount Name:\t\t-\r\n\tAccount Domain:\t\t-\r\n\tLogon ID:\t\t0x0\r\n\r\nProcess Information:\r\n\tNew Process ID:\t\t0x1a2c\r\n\tNew Process Name:\tC:\\Tools\\rclone.exe\r\n\tToken Elevation Type:\tTokenElevationTypeDefault (1)\r\n\tMandatory Label:\t\tS-1-16-12288\r\n\tCreator Process ID:\t0x1964\r\n\tCreator Process Name:\tC:\\Windows\\System32\\cmd.exe\r\n\tProcess Command Line:\trclone copy D:\\Partages mega:x",
			map[string]string{"SubjectUserName": "j.martin", "SubjectLogonId": "0x8C41F2", "TargetUserName": "-", "NewProcessId": "0x1a2c",
				"NewProcessName": `C:\Tools\rclone.exe`, "ProcessId": "0x1964", "ParentProcessName": `C:\Windows\System32\cmd.exe`,
				"CommandLine": `rclone copy D:\Partages mega:x`}},
		{"4769", "A Kerberos service ticket was requested.\r\n\r\nAccount Information:\r\n\tAccount Name:\t\tj.martin@AGGLO.LOCAL\r\n\tAccount Domain:\t\tAGGLO.LOCAL\r\n\tLogon GUID:\t\t{0}\r\n\r\nService Information:\r\n\tService Name:\t\tFS01$\r\n\tService ID:\t\tS-1-5-21-1-2-3-1000\r\n\r\nNetwork Information:\r\n\tClient Address:\t\t::ffff:10.10.1.50\r\n\tClient Port:\t\t50123\r\n\r\nAdditional Information:\r\n\tTicket Options:\t\t0x40810000\r\n\tTicket Encryption Type:\t0x12\r\n\tFailure Code:\t\t0x0",
			map[string]string{"TargetUserName": "j.martin@AGGLO.LOCAL", "TargetDomainName": "AGGLO.LOCAL", "ServiceName": "FS01$",
				"IpAddress": "::ffff:10.10.1.50", "IpPort": "50123", "Status": "0x0"}},
		{"7045", "A service was installed in the system.\r\n\r\nService Name:  updsvc\r\nService File Name:  C:\\ProgramData\\upd.exe -k run\r\nService Type:  user mode service\r\nService Start Type:  demand start\r\nService Account:  LocalSystem",
			map[string]string{"ServiceName": "updsvc", "ImagePath": `C:\ProgramData\upd.exe -k run`, "ServiceType": "user mode service",
				"StartType": "demand start", "AccountName": "LocalSystem"}},
		{"7045 fr", "Un service a été installé dans le système.\r\n\r\nNom du service :  updsvc\r\nNom du fichier de service :  C:\\ProgramData\\upd.exe\r\nType de service :  service en mode utilisateur\r\nType de démarrage du service :  démarrage à la demande\r\nCompte de service :  LocalSystem",
			map[string]string{"ServiceName": "updsvc", "ImagePath": `C:\ProgramData\upd.exe`, "ServiceType": "service en mode utilisateur",
				"StartType": "démarrage à la demande", "AccountName": "LocalSystem"}},
		{"5145", msg5145, map[string]string{"SubjectUserName": "j.martin", "ObjectType": "File", "IpAddress": "10.10.1.50",
			"IpPort": "51022", "ShareName": `\\*\Finances`, "ShareLocalPath": `\??\D:\Partages\Finances`,
			"RelativeTargetName": `Paie 2024\salaires mars.xlsx`, "AccessMask": "0x1", "AccessList": "ReadData (or ListDirectory)"}},
	} {
		for _, form := range []string{"rendered", "flattened", "collapsed"} {
			msg := tc.msg
			switch form {
			case "flattened":
				msg = flatten(msg)
			case "collapsed":
				msg = collapse(msg)
			}
			got := map[string]string{}
			for _, p := range messageEventData(msg) {
				got[p.k] = p.v
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s %s: %s = %q, want %q", tc.name, form, k, got[k], v)
				}
			}
			if _, ok := got["ProcessName"]; tc.name == "4625 fr" && ok {
				t.Errorf("%s %s: the caller's process name taken as ProcessName", tc.name, form)
			}
		}
	}
}

// TestMessageEventDataFor: a logoff's message names the account that
// logged off "Subject", its EventData "Target".
func TestMessageEventDataFor(t *testing.T) {
	msg := "An account was logged off.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tS-1-5-21-1-2-3-1107\r\n\tAccount Name:\t\tj.martin\r\n\tAccount Domain:\t\tAGGLO\r\n\tLogon ID:\t\t0x8C41F2\r\n\r\nLogon Type:\t\t\t3"
	got := map[string]string{}
	for _, p := range messageEventDataFor("Microsoft-Windows-Security-Auditing", "4634", msg) {
		got[p.k] = p.v
	}
	if got["TargetUserName"] != "j.martin" || got["TargetLogonId"] != "0x8C41F2" || got["LogonType"] != "3" || got["SubjectUserName"] != "" {
		t.Errorf("4634: %v", got)
	}
	if d := messageEventDataFor("Microsoft-Windows-Security-Auditing", "4624", msg); d[1].k != "SubjectUserName" {
		t.Errorf("4624: %v", d)
	}
}

func TestSnare(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	lines := []string{
		"<13>Mar 14 23:05:12 FS01.agglo.local MSWinEventLog\t1\tSecurity\t2174\tFri Mar 14 23:05:11 2025\t4624\tMicrosoft-Windows-Security-Auditing\tAGGLO\\FS01$\tN/A\tSuccess Audit\tFS01.agglo.local\tLogon\t\t" + flatten(msg4624) + "\t881234",
		"Mar 14 23:06:41 FS01 MSWinEventLog#0111#011Security#0112175#011Fri Mar 14 23:06:40 2025#0114625#011Microsoft-Windows-Security-Auditing#011N/A#011N/A#011Failure Audit#011FS01.agglo.local#011Ouvrir la session#011#011" + flatten(msg4625fr) + "#011881240",
		"FS01.agglo.local\tMSWinEventLog\t0\tSecurity\t2176\tFri Mar 14 23:40:02 2025\t5145\tMicrosoft-Windows-Security-Auditing\tN/A\tN/A\tSuccess Audit\tFS01.agglo.local\tDetailed File Share\t" + flatten(msg5145) + "\t\t881300",
		"<14>Mar 14 23:41:00 FS01 MSWinEventLog\t0\tSystem\t2177\tFri Mar 14 23:41:00 2025\t7036\tService Control Manager\tN/A\tN/A\tInformation\tFS01.agglo.local\tNone\t\tThe Windows Update service entered the running state.\t5521",
		"<14>Mar 14 23:42:00 FS01 MSWinEventLog\t0\tSystem\t2178\t14/03/2025 23:42\t7036\tService Control Manager\tN/A\tN/A\tInformation\tFS01.agglo.local\tNone\t\tx\t5522",
	}
	p := filepath.Join(t.TempDir(), "snare.log")
	os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	evs, st := parseFile(t, p, &Options{TZ: paris})
	if st.Format != "snare" || st.Parsed != 4 || st.Raw != 1 {
		t.Fatalf("stats %+v", st)
	}
	if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "read in Europe/Paris") {
		t.Errorf("warnings %q", st.Warnings)
	}
	want(t, "4624", evs[0], "2025-03-14T22:05:11Z", map[string]any{
		"event.dataset": "system.security", "event.code": "4624", "event.outcome": "success", "user.name": "j.martin",
		"user.domain": "AGGLO", "source.ip": "10.212.134.200", "winlog.logon.type": "RemoteInteractive", "host.name": "FS01.agglo.local",
		"winlog.record_id": int64(881234), "winlog.user.name": "FS01$", "winlog.user.domain": "AGGLO", "winlog.task": "Logon",
		"snare.counter": "2174", "event.timezone": "Europe/Paris", "evidence.mapping": "EventData read back from the rendered message",
	})
	want(t, "4625 fr, #011", evs[1], "2025-03-14T22:06:40Z", map[string]any{
		"event.code": "4625", "event.outcome": "failure", "user.name": "administrateur", "source.ip": "185.220.101.4",
		"winlog.user.name": nil, "winlog.record_id": int64(881240),
	})
	want(t, "5145, no syslog header", evs[2], "2025-03-14T22:40:02Z", map[string]any{
		"event.code": "5145", "user.name": "j.martin", "source.ip": "10.10.1.50", "winlog.record_id": int64(881300),
		"file.path": `D:\Partages\Finances\Paie 2024\salaires mars.xlsx`, "winlog.share_name": `\\*\Finances`,
		"message": flatten(msg5145),
	})
	want(t, "7036", evs[3], "2025-03-14T22:41:00Z", map[string]any{
		"event.dataset": "system.system", "event.code": "7036", "log.level": "information", "evidence.mapping": nil,
		"message": "The Windows Update service entered the running state.",
	})
	if evs[4].Str(event.FieldKind) != event.KindRaw || !strings.Contains(evs[4].Str(event.FieldError), `snare: time "14/03/2025 23:42"`) {
		t.Errorf("bad time: %v", evs[4].Fields)
	}
}

// TestSnareWFP: the Windows Filtering Platform's connections (5156, 5157)
// forwarded as text, in English and in French, give the addresses, ports,
// direction and program their EventData would.
func TestSnareWFP(t *testing.T) {
	en := "The Windows Filtering Platform has permitted a connection.\r\n\r\nApplication Information:\r\n\tProcess ID:\t\t4812\r\n\tApplication Name:\t\\device\\harddiskvolume2\\perflogs\\svchost64.exe\r\n\r\n" +
		"Network Information:\r\n\tDirection:\t\tOutbound\r\n\tSource Address:\t\t10.10.1.5\r\n\tSource Port:\t\t60003\r\n\tDestination Address:\t66.203.125.15\r\n\tDestination Port:\t\t443\r\n\tProtocol:\t\t6\r\n\r\n" +
		"Filter Information:\r\n\tFilter Run-Time ID:\t0\r\n\tLayer Name:\t\tConnect\r\n\tLayer Run-Time ID:\t48"
	fr := "La plateforme de filtrage Windows a bloqué une connexion.\r\n\r\nInformations sur l’application :\r\n\tID du processus :\t\t4\r\n\tNom de l’application :\tSystem\r\n\r\n" +
		"Informations réseau :\r\n\tDirection :\t\tEntrant\r\n\tAdresse source :\t\t10.10.1.5\r\n\tPort source :\t\t445\r\n\tAdresse de destination :\t203.0.113.7\r\n\tPort de destination :\t\t51000\r\n\tProtocole :\t\t6\r\n\r\n" +
		"Informations sur le filtre :\r\n\tID d’exécution du filtre :\t0\r\n\tNom de la couche :\t\tAcceptation de la réception\r\n\tID d’exécution de la couche :\t44"
	lines := []string{
		"<13>Mar 14 23:05:12 FS01 MSWinEventLog\t1\tSecurity\t2174\tFri Mar 14 23:05:11 2025\t5156\tMicrosoft-Windows-Security-Auditing\tN/A\tN/A\tSuccess Audit\tFS01.agglo.local\tFiltering Platform Connection\t\t" + flatten(en) + "\t881234",
		"<13>Mar 14 23:05:13 FS01 MSWinEventLog\t1\tSecurity\t2175\tFri Mar 14 23:05:12 2025\t5157\tMicrosoft-Windows-Security-Auditing\tN/A\tN/A\tFailure Audit\tFS01.agglo.local\tConnexion de la plateforme de filtrage\t\t" + flatten(fr) + "\t881235",
	}
	p := filepath.Join(t.TempDir(), "snare.log")
	os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	evs, st := parseFile(t, p, &Options{TZ: time.UTC})
	if st.Format != "snare" || st.Parsed != 2 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "5156", evs[0], "2025-03-14T23:05:11Z", map[string]any{
		"event.action": "network-connection-allowed", "network.direction": "egress", "source.ip": "10.10.1.5", "source.port": int64(60003),
		"destination.ip": "66.203.125.15", "destination.port": int64(443), "network.transport": "tcp", "process.pid": int64(4812),
		"process.name": "svchost64.exe",
	})
	want(t, "5157", evs[1], "2025-03-14T23:05:12Z", map[string]any{
		"event.action": "network-connection-blocked", "network.direction": "ingress", "source.ip": "10.10.1.5", "source.port": int64(445),
		"destination.ip": "203.0.113.7", "destination.port": int64(51000), "process.pid": int64(4),
	})
}
