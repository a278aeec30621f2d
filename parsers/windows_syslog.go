package parsers

import (
	"strconv"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// Windows events a forwarder sent as plain syslog text — NXLog's
// to_syslog_bsd / to_syslog_ietf, event-to-syslog agents — name the
// event's source as the program and carry only the message Windows
// rendered, without its event ID: "DC01 Microsoft-Windows-Security-
// Auditing[604]: An account was successfully logged on. Subject: …". The
// ID is read back from the message's first sentence, which Windows writes
// the same for every event of an ID, and the EventData from the rest
// (messageEventDataFor), as for Snare.

// winSentence is an event ID and the log it is written to.
type winSentence struct{ id, channel string }

// winFirstSentences are the first sentences of the security-relevant
// events' messages, by source: English, and French where a French server's
// wording was seen (Event Viewer's exports, Get-WinEvent's and collectors'
// copies of real events: 7045 is written both "dans le" and "sur le
// système").
var winFirstSentences = map[string]map[string]winSentence{
	"Microsoft-Windows-Security-Auditing": withCurlyApostrophes(map[string]winSentence{
		"An account was successfully logged on.":                                                  {"4624", "Security"},
		"L'ouverture de session d'un compte s'est correctement déroulée.":                         {"4624", "Security"},
		"An account failed to log on.":                                                            {"4625", "Security"},
		"Un compte n'a pas réussi à se connecter.":                                                {"4625", "Security"},
		"An account was logged off.":                                                              {"4634", "Security"},
		"Fermeture de session d'un compte.":                                                       {"4634", "Security"},
		"User initiated logoff:":                                                                  {"4647", "Security"},
		"A logon was attempted using explicit credentials.":                                       {"4648", "Security"},
		"Special privileges assigned to new logon.":                                               {"4672", "Security"},
		"Privilèges spéciaux attribués à la nouvelle ouverture de session.":                       {"4672", "Security"},
		"A new process has been created.":                                                         {"4688", "Security"},
		"Un nouveau processus a été créé.":                                                        {"4688", "Security"},
		"An attempt was made to access an object.":                                                {"4663", "Security"},
		"A network share object was accessed.":                                                    {"5140", "Security"},
		"A network share object was checked to see whether client can be granted desired access.": {"5145", "Security"},
		"The Windows Filtering Platform has permitted a connection.":                              {"5156", "Security"},
		"The Windows Filtering Platform has blocked a connection.":                                {"5157", "Security"},
		"A user account was created.":                                                             {"4720", "Security"},
		"A member was added to a security-enabled global group.":                                  {"4728", "Security"},
		"A member was added to a security-enabled local group.":                                   {"4732", "Security"},
		"A member was added to a security-enabled universal group.":                               {"4756", "Security"},
		"A service was installed in the system.":                                                  {"4697", "Security"},
		"A scheduled task was created.":                                                           {"4698", "Security"},
		"A Kerberos authentication ticket (TGT) was requested.":                                   {"4768", "Security"},
		"A Kerberos service ticket was requested.":                                                {"4769", "Security"},
		"Kerberos pre-authentication failed.":                                                     {"4771", "Security"},
		"The computer attempted to validate the credentials for an account.":                      {"4776", "Security"},
		"A session was reconnected to a Window Station.":                                          {"4778", "Security"},
		"A session was disconnected from a Window Station.":                                       {"4779", "Security"},
	}),
	"Microsoft-Windows-Eventlog": {
		"The audit log was cleared.": {"1102", "Security"},
	},
	"Service Control Manager": {
		"A service was installed in the system.":     {"7045", "System"},
		"Un service a été installé dans le système.": {"7045", "System"},
		"Un service a été installé sur le système.":  {"7045", "System"},
	},
	// Sysmon writes its messages in English only.
	"Microsoft-Windows-Sysmon": {
		"Process Create:":              {"1", sysmonChannel},
		"Network connection detected:": {"3", sysmonChannel},
		"File created:":                {"11", sysmonChannel},
		"Dns query:":                   {"22", sysmonChannel},
	},
}

const sysmonChannel = "Microsoft-Windows-Sysmon/Operational"

// sentenceOf gives the event a message's first sentence names, and its
// source, among a source's events (any source's when source is "": a
// sentence names one event only, but 7045's and 4697's, the same, are told
// apart by the source alone: such a sentence is no answer without it).
func sentenceOf(source, msg string) (w winSentence, provider string, ok bool) {
	for src, sentences := range winFirstSentences {
		if source != "" && src != source {
			continue
		}
		for s, found := range sentences {
			if strings.HasPrefix(msg, s) {
				if ok && source == "" && found != w {
					return winSentence{}, "", false // two events' sentence
				}
				w, provider, ok = found, src, true
			}
		}
	}
	return w, provider, ok
}

// winAuditFailures are the security events Windows writes as audit
// failures; the others of winFirstSentences are audit successes (the
// keyword a forwarder's text leaves out).
var winAuditFailures = map[string]bool{"4625": true, "4771": true, "5157": true}

// windowsFromSyslog reads a syslog line a forwarder made of a Windows
// event; ok is false when the program is no Windows source it knows or the
// message begins with no sentence of its events.
func windowsFromSyslog(h syslogHeader) (ev *event.Event, ok bool) {
	if ev, ok := wincollectFromSyslog(h); ok {
		return ev, true
	}
	if ev, ok := evtsysEvent(h); ok {
		return ev, true
	}
	source, msg := h.Program, h.Msg
	if source == "" {
		// A source named with spaces is no classic header's program:
		// "Service Control Manager[604]: …".
		for name := range winFirstSentences {
			if rest, found := strings.CutPrefix(msg, name); found && strings.Contains(name, " ") {
				if i := strings.Index(rest, ": "); i >= 0 && (i == 0 || rest[0] == '[') {
					source, msg = name, rest[i+2:]
				}
			}
		}
	}
	if winFirstSentences[source] == nil {
		return nil, false
	}
	msg = strings.TrimSpace(rsyslogControls.Replace(msg))
	found, _, ok := sentenceOf(source, msg)
	if !ok {
		return nil, false
	}
	w := &winRecord{Provider: source, Channel: found.channel, Computer: h.Host, EventID: found.id, Time: h.Time,
		EventData: messageEventDataFor(source, found.id, msg)}
	switch {
	case found.channel != "Security", found.id == "4776": // 4776 is either
	case winAuditFailures[found.id]:
		w.setTypeWord("Failure Audit")
	default:
		w.setTypeWord("Success Audit")
	}
	ev = w.toEvent()
	ev.Fields["message"] = msg
	ev.Fields["evidence.mapping"] = "event ID read from the message's first sentence, EventData from the rest"
	return ev, true
}

// Eventlog to Syslog (evtsys, the Purdue and RIT agent) writes each event
// as "SOURCE: ID: [AUDIT_SUCCESS |AUDIT_FAILURE ]message" after the
// header's host, or after its own tag ("TAG: SOURCE: ID: …"): the provider
// without its "Microsoft-Windows-" prefix and with its spaces made
// underscores ("Security-Auditing", "Service_Control_Manager"), the event
// ID, and the rendered message with every run of blank space made one
// space. Only the providers the ECS mapping reads are taken (a program
// logging "name: 1234: …" is no Windows event), by their full names.

// evtsysEvent reads an evtsys line; ok is false for any other.
func evtsysEvent(h syslogHeader) (*event.Event, bool) {
	if h.PID != "" {
		return nil, false
	}
	source, id, body, ok := evtsysSplit(h.Program, h.Msg)
	if !ok {
		tag, rest, found := strings.Cut(h.Msg, ": ")
		if !found || strings.ContainsAny(tag, " []") {
			return nil, false
		}
		if source, id, body, ok = evtsysSplit(tag, rest); !ok {
			return nil, false
		}
	}
	provider, channel := evtsysProvider(source, id)
	if channel == "" {
		return nil, false
	}
	body = strings.TrimSpace(rsyslogControls.Replace(body))
	w := &winRecord{Provider: provider, Channel: channel, Computer: h.Host, EventID: id, Time: h.Time}
	for _, a := range [...]string{"AUDIT_SUCCESS", "AUDIT_FAILURE"} {
		if rest, found := strings.CutPrefix(body, a+" "); found || body == a {
			w.setTypeWord(strings.ReplaceAll(a, "_", " "))
			body = rest
		}
	}
	w.EventData = messageEventDataFor(provider, id, body)
	ev := w.toEvent()
	ev.Set("message", body)
	ev.Fields["evidence.mapping"] = "Eventlog to Syslog's source and event ID; EventData read back from the message"
	return ev, true
}

// evtsysSplit reads "ID: message" after a source: an event ID is 1 to 5
// digits, at most 65535.
func evtsysSplit(source, msg string) (string, string, string, bool) {
	n := 0
	for n < len(msg) && n < 6 && msg[n] >= '0' && msg[n] <= '9' {
		n++
	}
	if source == "" || n == 0 || n > 5 || !strings.HasPrefix(msg[n:], ": ") {
		return "", "", "", false
	}
	v, err := strconv.Atoi(msg[:n])
	if err != nil || v > 65535 {
		return "", "", "", false
	}
	return source, strconv.Itoa(v), msg[n+2:], true
}

// evtsysProvider gives back the provider evtsys shortened, and its log:
// "" when the mapping reads no event of that provider and ID.
func evtsysProvider(source, id string) (provider, channel string) {
	for _, p := range []string{"Microsoft-Windows-" + source, strings.ReplaceAll(source, "_", " "), source} {
		if c := channelOfProvider(p, id); c != "" {
			return p, c
		}
	}
	return "", ""
}

// rsyslogControls undoes rsyslog's escaping of the control characters a
// rendered message holds (EscapeControlCharactersOnReceive: "#011" for a
// tab, "#015#012" for a line break).
var rsyslogControls = strings.NewReplacer("#011", "\t", "#012", "\n", "#015", "\r")
