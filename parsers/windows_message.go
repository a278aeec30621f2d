package parsers

import (
	"sort"
	"strings"
	"unicode"
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
	// Account creation (4720) and group changes (4728, 4732, 4756, 4799):
	// the account made, the member added, the group.
	"new account": "Target", "nouveau compte": "Target", "attributes": "", "attributs": "",
	"member": "Member", "membre": "Member", "group": "Group", "groupe": "Group",
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
	"group name": "TargetUserName", "nom du groupe": "TargetUserName", "group domain": "TargetDomainName", "domaine du groupe": "TargetDomainName",
	// 4776, a domain controller validating an account's credentials (NTLM).
	"logon account": "TargetUserName", "source workstation": "Workstation", "error code": "Status",
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
	"caller process id": "", "caller process name": "",
	"état": "Status", "sous-état": "SubStatus",
	// Labels the mapping does not read: known so that, in a message
	// collapsed onto one line, they end the value before them.
	"impersonation level": "", "restricted admin mode": "", "remote credential guard": "", "virtual account": "",
	"elevated token": "", "linked logon id": "", "network account name": "", "network account domain": "",
	"logon guid": "", "transited services": "", "package name (ntlm only)": "", "key length": "",
	"token elevation type": "", "mandatory label": "", "access check results": "", "handle id": "",
	"resource attributes": "", "privileges": "", "ticket options": "", "ticket encryption type": "",
	"pre-authentication type": "", "service id": "", "filter run-time id": "", "layer name": "",
	"layer run-time id": "", "remote user id": "", "remote machine id": "", "access reasons": "",
	"niveau d'emprunt d'identité": "", "mode d'administration restreint": "", "compte virtuel": "",
	"jeton élevé": "", "id de session liée": "", "nom du compte réseau": "", "domaine du compte réseau": "",
	"guid d'ouverture de session": "", "services en transit": "", "nom du package (ntlm uniquement)": "",
	"longueur de la clé": "", "type d'élévation du jeton": "", "étiquette obligatoire": "", "privilèges": "",
	"id du processus de l'appelant": "", "nom du processus de l'appelant": "",
})

// messageTrailers begin the explanation Windows writes after an event's
// fields; in a message collapsed onto one line they end the last value.
var messageTrailers = withCurlyApostrophes(map[string]bool{
	"this event is generated": true, "token elevation type indicates": true, "cet événement est généré": true,
	"le type d'élévation du jeton indique": true,
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

// messageEventDataFor reads the EventData of a message of provider's event
// id. A logoff's message puts the account that logged off under
// "Subject:", which its EventData name Target. Sysmon's messages name each
// value by its EventData name.
func messageEventDataFor(provider, id, msg string) []kv {
	if strings.EqualFold(provider, "Microsoft-Windows-Sysmon") {
		return sysmonMessageData(msg)
	}
	if strings.EqualFold(provider, "Microsoft-Windows-PowerShell") && id == "4104" {
		return scriptBlockMessageData(msg)
	}
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

// scriptBlockMessageData reads a PowerShell script block's message
// ("Creating Scriptblock text (1 of 1):", the script, "ScriptBlock ID:
// …", "Path: …"): the script is free text, so it runs to the last
// "ScriptBlock ID:" — whatever labels it holds itself —, on separate lines
// or, in a message collapsed onto one line, to the last one in it.
func scriptBlockMessageData(msg string) []kv {
	rest, ok := strings.CutPrefix(strings.TrimLeft(msg, " \t\r\n"), "Creating Scriptblock text (")
	if !ok {
		return nil
	}
	counts, rest, ok := strings.Cut(rest, "):")
	num, total, ok2 := strings.Cut(counts, " of ")
	if !ok || !ok2 {
		return nil
	}
	out := []kv{{"MessageNumber", strings.TrimSpace(num)}, {"MessageTotal", strings.TrimSpace(total)}}
	i := strings.LastIndex(rest, "ScriptBlock ID:")
	if i < 0 {
		return append(out, kv{"ScriptBlockText", strings.Trim(rest, " \t\r\n")})
	}
	out = append(out, kv{"ScriptBlockText", strings.Trim(rest[:i], " \t\r\n")})
	tail := rest[i+len("ScriptBlock ID:"):]
	idv, path, _ := strings.Cut(tail, "Path:")
	out = append(out, kv{"ScriptBlockId", strings.TrimSpace(idv)})
	if p := strings.TrimSpace(path); p != "" {
		out = append(out, kv{"Path", p})
	}
	return out
}

// messageEventData reads the EventData of a rendered message. A value ends
// where the rendering's line ended: a line break or tab, or — where a
// forwarder turned those into spaces — two spaces. A message collapsed
// onto one line, every run of blank space made one space (Eventlog to
// Syslog does so), has no such marks: there a value ends where the next
// label or the explanation after the fields begins.
func messageEventData(msg string) []kv {
	collapsed := !strings.ContainsAny(msg, "\t\n\r") && !strings.Contains(msg, "  ")
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
		name := messageLabels[tok]
		var v string
		if collapsed {
			v, i = collapsedValue(msg, end, name == "CommandLine")
		} else {
			v, i = messageValue(msg, end)
		}
		if strings.HasPrefix(name, "@") {
			if name = roleName(role, name); name == "" {
				continue
			}
		}
		if name != "" && v != "" && !seen[name] {
			seen[name] = true
			out = append(out, kv{name, v})
		}
	}
	return out
}

// roleName names a section's account label ("@UserName") as EventData
// does: SubjectUserName, TargetUserName; a member is MemberName and
// MemberSid, a group TargetSid (its name and domain have labels of their
// own); "" for a label the section's EventData has no name for.
func roleName(role, label string) string {
	switch role {
	case "":
		return ""
	case "Member":
		return map[string]string{"@UserSid": "MemberSid", "@UserName": "MemberName"}[label]
	case "Group":
		return map[string]string{"@UserSid": "TargetSid"}[label]
	}
	return role + label[1:]
}

// collapsedValue reads a value of a collapsed message: up to the next
// header or label, known or of a label's form ("Sous-état :"), or the
// explanation after the fields. A command line (free text, where "Result:"
// may stand) ends only at a known one.
func collapsedValue(msg string, i int, free bool) (string, int) {
	for i < len(msg) && msg[i] == ' ' {
		i++
	}
	stops := func(k int) bool {
		if tok, _ := matchToken(msg, k); tok != "" {
			return true
		}
		return trailerAt(msg, k) || !free && labelFormAt(msg, k)
	}
	if i < len(msg) && stops(i) {
		return "", i
	}
	j := i
	for ; j < len(msg); j++ {
		if msg[j] == ' ' && j+1 < len(msg) && stops(j+1) {
			break
		}
	}
	return strings.TrimSpace(msg[i:j]), j
}

// trailerAt says whether the explanation Windows writes after the fields
// begins at k.
func trailerAt(msg string, k int) bool {
	for t := range messageTrailers {
		if len(msg)-k >= len(t) && strings.EqualFold(msg[k:k+len(t)], t) {
			return true
		}
	}
	return false
}

// labelFormAt says whether a label not known stands at k: up to seven
// words, the first capitalised ("Impersonation", "Sous-état"), then a
// colon (French puts a space before it) and a space or the end. A value
// before a known label ("AGGLO Logon ID:") is no label: the known one
// begins inside it.
func labelFormAt(msg string, k int) bool {
	r, n := utf8.DecodeRuneInString(msg[k:])
	if r2, _ := utf8.DecodeRuneInString(msg[k+n:]); !unicode.IsUpper(r) || !unicode.IsLower(r2) {
		return false
	}
	words := 1
	for j := k; j < len(msg) && j-k <= 48; {
		r, n := utf8.DecodeRuneInString(msg[j:])
		switch {
		case r == ':':
			return j+1 == len(msg) || msg[j+1] == ' '
		case r == ' ':
			if words++; words > 7 {
				return false
			}
			if j+1 == len(msg) {
				return false
			}
			if tok, _ := matchToken(msg, j+1); tok != "" {
				return false
			}
		case r == '\u00a0' || r == '\u202f':
		case !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("-'’()_", r):
			return false
		}
		j += n
	}
	return false
}

// sysmonMessageData reads a Sysmon message ("Network connection
// detected:\r\nRuleName: -\r\nUtcTime: …\r\nImage: C:\…"): each value
// after its EventData name, one word in capitals ("DestinationIp"), up to
// the line's end or, in a message collapsed onto one line, the next name.
// The first line ("Process Create:") is no value.
func sysmonMessageData(msg string) []kv {
	var out []kv
	seen := map[string]bool{}
	name, start := "", -1
	put := func(end int) {
		if v := strings.TrimSpace(msg[start:end]); name != "" && v != "" && !seen[name] {
			seen[name] = true
			out = append(out, kv{name, v})
		}
	}
	for i := 0; i < len(msg); i++ {
		if msg[i] == '\n' || msg[i] == '\r' {
			if start >= 0 {
				put(i)
			}
			name, start = "", -1
			continue
		}
		if i > 0 && !isMsgSpace(msg[i-1]) {
			continue
		}
		j := i
		for j < len(msg) && (msg[j] >= 'A' && msg[j] <= 'Z' || msg[j] >= 'a' && msg[j] <= 'z' || msg[j] >= '0' && msg[j] <= '9' && j > i) {
			j++
		}
		if j == i || msg[i] < 'A' || msg[i] > 'Z' || j >= len(msg) || msg[j] != ':' || j+1 < len(msg) && !isMsgSpace(msg[j+1]) {
			continue
		}
		if start >= 0 {
			put(i)
		}
		name, start = msg[i:j], j+1
		i = j
	}
	if start >= 0 {
		put(len(msg))
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
