package parsers

import "strings"

// What Windows tools write in place of an event's own values: its type as
// a word, no log name, a bare GUID.

// winTypeWords are the event types Windows tools write as words —
// Snare's, Event Viewer's and wevtutil's in English and French,
// Get-EventLog's EntryType — as Windows' keywords and level.
var winTypeWords = map[string][2]string{
	"success audit": {"0x8020000000000000", "0"}, "failure audit": {"0x8010000000000000", "0"},
	"audit success": {"0x8020000000000000", "0"}, "audit failure": {"0x8010000000000000", "0"},
	"successaudit": {"0x8020000000000000", "0"}, "failureaudit": {"0x8010000000000000", "0"},
	"succès de l'audit": {"0x8020000000000000", "0"}, "échec de l'audit": {"0x8010000000000000", "0"},
	"information": {"", "4"}, "warning": {"", "3"}, "error": {"", "2"}, "critical": {"", "1"}, "verbose": {"", "5"},
	"avertissement": {"", "3"}, "erreur": {"", "2"}, "critique": {"", "1"}, "commentaires": {"", "5"},
}

// winEntryTypes are Get-EventLog's EntryType, by name and by number.
var winEntryTypes = map[string]string{
	"1": "error", "2": "warning", "4": "information", "8": "successaudit", "16": "failureaudit",
}

// winTypeWord reads a level or keyword Windows tools write as a word,
// English or French, as Windows' keywords and level.
func winTypeWord(s string) ([2]string, bool) {
	w := strings.ToLower(strings.TrimSpace(strings.ReplaceAll(s, "’", "'")))
	if t, ok := winEntryTypes[w]; ok {
		w = t
	}
	t, ok := winTypeWords[w]
	return t, ok
}

// setTypeWord sets the keywords and level a type word stands for, where
// the record has none yet.
func (w *winRecord) setTypeWord(word string) {
	t, ok := winTypeWord(word)
	if !ok {
		return
	}
	if w.Keywords == "" {
		w.Keywords = t[0]
	}
	if w.Level == "" {
		w.Level = t[1]
	}
}

// channelOfProvider names the log of the providers the ECS mapping reads,
// for exports that do not (Get-EventLog, Event Viewer).
func channelOfProvider(provider, id string) string {
	switch strings.ToLower(provider) {
	case "microsoft-windows-security-auditing":
		return "Security"
	case "microsoft-windows-eventlog":
		return map[string]string{"1102": "Security", "104": "System"}[id]
	case "service control manager":
		return "System"
	case "microsoft-windows-sysmon":
		return "Microsoft-Windows-Sysmon/Operational"
	case "microsoft-windows-powershell":
		return "Microsoft-Windows-PowerShell/Operational"
	case "microsoft-windows-terminalservices-localsessionmanager":
		return "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"
	case "microsoft-windows-terminalservices-remoteconnectionmanager":
		return "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational"
	case "microsoft-windows-bits-client":
		return "Microsoft-Windows-Bits-Client/Operational"
	}
	return ""
}

// braced writes a GUID as Windows' XML does ({…}); PowerShell writes it bare.
func braced(g string) string {
	if g = strings.Trim(strings.TrimSpace(g), "{}"); g == "" {
		return ""
	}
	return "{" + g + "}"
}
