package parsers

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Windows events forwarded as text (Snare, and whatever copies Event
// Viewer's rendering) carry no EventData names: only the message Windows
// rendered from them, "Account Name:\t\tj.martin" under section headers
// ("New Logon:"), in the server's language. messageEventData reads back the
// fields the ECS mapping uses from the security events' messages, in
// English and French; a label it does not know is left in the message.

// messageSections are the headers that say whose account the next
// "Account Name:" is; the other headers only end the previous value.
var messageSections = withCurlyApostrophes(map[string]string{
	"subject": "Subject", "sujet": "Subject",
	"new logon": "Target", "nouvelle ouverture de session": "Target",
	"account for which logon failed": "Target", "compte pour lequel l'ouverture de session a échoué": "Target",
	"account whose credentials were used": "Target", "compte dont les informations d'identification ont été utilisées": "Target",
	"logon information": "", "informations d'ouverture de session": "",
	"network information": "", "informations sur le réseau": "",
	"share information": "", "informations sur le partage": "",
	"object": "", "objet": "",
	"process information": "", "informations sur le processus": "",
	"failure information": "", "informations sur l'échec": "",
	"detailed authentication information": "", "informations détaillées sur l'authentification": "",
	"access request information": "", "informations sur la demande d'accès": "",
	"target server": "", "serveur cible": "",
	"creator subject": "Subject", "target subject": "Target", "account information": "Target",
	"service information": "", "additional information": "", "certificate information": "",
	"application information": "", "filter information": "", "informations sur l'application": "",
	"informations réseau": "", "informations sur le filtre": "",
	"sujet du créateur": "Subject", "sujet cible": "Target", "informations sur le compte": "Target",
	"informations sur le service": "", "informations complémentaires": "", "informations sur le certificat": "",
})

// messageLabels give a label's EventData name; "@" stands for the
// section's account (SubjectUserName, TargetUserName…).
var messageLabels = withCurlyApostrophes(map[string]string{
	"security id": "@UserSid", "id de sécurité": "@UserSid",
	"account name": "@UserName", "nom du compte": "@UserName",
	"account domain": "@DomainName", "domaine du compte": "@DomainName",
	"logon id": "@LogonId", "id d'ouverture de session": "@LogonId",
	"logon type": "LogonType", "type d'ouverture de session": "LogonType",
	"workstation name": "WorkstationName", "nom de la station de travail": "WorkstationName",
	"source network address": "IpAddress", "adresse du réseau source": "IpAddress",
	"source port": "IpPort", "port source": "IpPort",
	"network address": "IpAddress", "adresse réseau": "IpAddress", "port": "IpPort",
	"source address": "IpAddress", "adresse source": "IpAddress",
	"share name": "ShareName", "nom du partage": "ShareName",
	"share path": "ShareLocalPath", "chemin d'accès du partage": "ShareLocalPath",
	"relative target name": "RelativeTargetName", "nom de la cible relative": "RelativeTargetName",
	"object name": "ObjectName", "nom de l'objet": "ObjectName",
	"object type": "ObjectType", "type d'objet": "ObjectType",
	"process name": "ProcessName", "nom du processus": "ProcessName",
	"new process name": "NewProcessName", "nom du nouveau processus": "NewProcessName",
	"process command line": "CommandLine", "ligne de commande du processus": "CommandLine",
	"process id": "ProcessId", "id du processus": "ProcessId",
	"new process id": "NewProcessId", "id du nouveau processus": "NewProcessId",
	"failure reason": "FailureReason", "raison de l'échec": "FailureReason",
	"status": "Status", "sub status": "SubStatus",
	"logon process": "LogonProcessName", "processus d'ouverture de session": "LogonProcessName",
	"authentication package": "AuthenticationPackageName", "package d'authentification": "AuthenticationPackageName",
	"accesses": "AccessList", "access mask": "AccessMask", "masque d'accès": "AccessMask",
	"target server name": "TargetServerName", "nom du serveur cible": "TargetServerName",
	"service name": "ServiceName", "nom du service": "ServiceName",
	"domain name": "@DomainName", "creator process id": "ProcessId", "creator process name": "ParentProcessName",
	"client address": "IpAddress", "client port": "IpPort", "user id": "TargetSid", "supplied realm name": "TargetDomainName",
	"result code": "Status", "failure code": "Status",
	"service file name": "ImagePath", "service type": "ServiceType", "service start type": "StartType", "service account": "AccountName",
	"id du processus créateur": "ProcessId", "nom du processus créateur": "ParentProcessName",
	"adresse du client": "IpAddress", "port du client": "IpPort", "code de résultat": "Status", "code d'échec": "Status",
	"nom du fichier de service": "ImagePath", "type de service": "ServiceType", "type de démarrage du service": "StartType",
	"compte de service": "AccountName",
	// The Windows Filtering Platform's connections (5156, 5157): their
	// source address and port are named apart (messageEventDataFor).
	"application name": "Application", "nom de l'application": "Application",
	"direction": "Direction", "destination address": "DestAddress", "adresse de destination": "DestAddress",
	"destination port": "DestPort", "port de destination": "DestPort", "protocol": "Protocol", "protocole": "Protocol",
})

// withCurlyApostrophes adds each French label with the typographic
// apostrophe (d’ouverture) beside the straight one: Windows' own
// translations and the tools that copy them write either.
func withCurlyApostrophes[V any](m map[string]V) map[string]V {
	curly := map[string]V{}
	for k, v := range m {
		if strings.Contains(k, "'") {
			curly[strings.ReplaceAll(k, "'", "’")] = v
		}
	}
	for k, v := range curly {
		m[k] = v
	}
	return m
}

// messageTokens are the headers and labels by their first letter, longest
// first: "Source Network Address" is tried before "Network Address", and a
// word is compared only with the tokens that can start it.
var messageTokens = func() (by [256][]string) {
	var t []string
	for k := range messageSections {
		t = append(t, k)
	}
	for k := range messageLabels {
		t = append(t, k)
	}
	sort.Slice(t, func(i, j int) bool { return len(t[i]) > len(t[j]) || len(t[i]) == len(t[j]) && t[i] < t[j] })
	for _, k := range t {
		c := k[0]
		by[c] = append(by[c], k)
		if c >= 'a' && c <= 'z' {
			by[c-'a'+'A'] = append(by[c-'a'+'A'], k)
		}
	}
	return by
}()

// messageEventDataFor reads the EventData of event id's message. A
// logoff's message puts the account that logged off under "Subject:",
// which its EventData name Target.
func messageEventDataFor(id, msg string) []kv {
	d := messageEventData(msg)
	if id == "5156" || id == "5157" {
		for i, p := range d {
			switch p.k {
			case "IpAddress":
				d[i].k = "SourceAddress"
			case "IpPort":
				d[i].k = "SourcePort"
			case "ProcessId":
				d[i].k = "ProcessID"
			}
		}
	}
	if id == "4634" || id == "4647" {
		for i, p := range d {
			if r, ok := strings.CutPrefix(p.k, "Subject"); ok {
				d[i].k = "Target" + r
			}
		}
	}
	return d
}

// messageEventData reads the EventData of a rendered message. A value ends
// where the rendering's line ended: a line break or tab, or — where a
// forwarder turned those into spaces — two spaces.
func messageEventData(msg string) []kv {
	var out []kv
	seen := map[string]bool{}
	role := ""
	for i := 0; i < len(msg); {
		if i > 0 && !isMsgSpace(msg[i-1]) {
			i++
			continue
		}
		tok, end := matchToken(msg, i)
		if tok == "" {
			i++
			continue
		}
		if r, ok := messageSections[tok]; ok {
			role = r
			i = end
			continue
		}
		v, next := messageValue(msg, end)
		i = next
		name := messageLabels[tok]
		if strings.HasPrefix(name, "@") {
			if role == "" {
				continue
			}
			name = role + name[1:]
		}
		if v != "" && !seen[name] {
			seen[name] = true
			out = append(out, kv{name, v})
		}
	}
	return out
}

func isMsgSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// matchToken finds a header or label at i followed by its colon (French
// puts a space, often a no-break one, before it); end is past the colon.
func matchToken(msg string, i int) (string, int) {
	for _, t := range messageTokens[msg[i]] {
		if len(msg)-i < len(t) || !strings.EqualFold(msg[i:i+len(t)], t) {
			continue
		}
		j := i + len(t)
		for j < len(msg) {
			if msg[j] == ' ' {
				j++
			} else if r, n := utf8.DecodeRuneInString(msg[j:]); r == '\u00a0' || r == '\u202f' {
				j += n
			} else {
				break
			}
		}
		if j < len(msg) && msg[j] == ':' {
			return t, j + 1
		}
	}
	return "", 0
}

// messageValue reads the value after a label's colon up to its end.
func messageValue(msg string, i int) (string, int) {
	for i < len(msg) && (msg[i] == ' ' || msg[i] == '\t') {
		i++
	}
	j := i
	for j < len(msg) {
		c := msg[j]
		if c == '\n' || c == '\r' || c == '\t' || c == ' ' && j+1 < len(msg) && msg[j+1] == ' ' {
			break
		}
		j++
	}
	return strings.TrimSpace(msg[i:j]), j
}
