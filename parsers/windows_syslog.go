package parsers

import (
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
// wording was seen (Event Viewer's exports).
var winFirstSentences = map[string]map[string]winSentence{
	"Microsoft-Windows-Security-Auditing": withCurlyApostrophes(map[string]winSentence{
		"An account was successfully logged on.":                                                  {"4624", "Security"},
		"L'ouverture de session d'un compte s'est correctement déroulée.":                         {"4624", "Security"},
		"An account failed to log on.":                                                            {"4625", "Security"},
		"Un compte n'a pas réussi à se connecter.":                                                {"4625", "Security"},
		"An account was logged off.":                                                              {"4634", "Security"},
		"User initiated logoff:":                                                                  {"4647", "Security"},
		"A logon was attempted using explicit credentials.":                                       {"4648", "Security"},
		"Special privileges assigned to new logon.":                                               {"4672", "Security"},
		"A new process has been created.":                                                         {"4688", "Security"},
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
	},
}

// winAuditFailures are the security events Windows writes as audit
// failures; the others of winFirstSentences are audit successes (the
// keyword a forwarder's text leaves out).
var winAuditFailures = map[string]bool{"4625": true, "4771": true, "5157": true}

// windowsFromSyslog reads a syslog line a forwarder made of a Windows
// event; ok is false when the program is no Windows source it knows or the
// message begins with no sentence of its events.
func windowsFromSyslog(h syslogHeader) (ev *event.Event, ok bool) {
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
	sentences := winFirstSentences[source]
	if sentences == nil {
		return nil, false
	}
	msg = strings.TrimSpace(rsyslogControls.Replace(msg))
	var found winSentence
	for s, w := range sentences {
		if strings.HasPrefix(msg, s) {
			found, ok = w, true
			break
		}
	}
	if !ok {
		return nil, false
	}
	w := &winRecord{Provider: source, Channel: found.channel, Computer: h.Host, EventID: found.id, Time: h.Time,
		EventData: messageEventDataFor(found.id, msg)}
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

// rsyslogControls undoes rsyslog's escaping of the control characters a
// rendered message holds (EscapeControlCharactersOnReceive: "#011" for a
// tab, "#015#012" for a line break).
var rsyslogControls = strings.NewReplacer("#011", "\t", "#012", "\n", "#015", "\r")
