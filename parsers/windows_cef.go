package parsers

import (
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Windows events in CEF, as ArcSight's Windows connectors write them
// (CEF:0|Microsoft|Microsoft Windows||Microsoft-Windows-Security-Auditing:4776|…|
// externalId=4776 cat=Security rt=… shost=… dhost=… duser=… cs3=…
// cs3Label=EventSource …): the event's ID, provider, log and computer, and
// EventData under CEF's names — the account acted on in duser and dntdom,
// the acting one in suser and sntdom, the client's address and name in src
// and shost — or in custom fields named by their labels ("LogonType",
// "Reason or Error Code"). They are read as the Windows event they are, so
// that the rules and the report see a 4624 and not a network record.

// isWindowsCEF reports a CEF header of Microsoft's Windows event logs.
func isWindowsCEF(hdr []string) bool {
	return strings.EqualFold(strings.TrimSpace(hdr[1]), "Microsoft") && strings.Contains(strings.ToLower(hdr[2]), "windows") &&
		!strings.Contains(strings.ToLower(hdr[2]), "defender")
}

// cefWindowsID gives the event ID (externalId, or the signature's number
// after the provider) and the provider the signature names.
func cefWindowsID(signature string, kv map[string]string) (id uint64, provider string, ok bool) {
	provider, num, found := strings.Cut(signature, ":")
	if !found {
		provider, num = "", signature
	}
	for _, v := range []string{kv["externalId"], num} {
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil {
			return n, strings.TrimSpace(provider), true
		}
	}
	return 0, "", false
}

// cefLabelNames name the EventData a custom field holds, by its label
// (lowered, without spaces), beside the labels of Windows' messages.
var cefLabelNames = map[string]string{
	"logontype": "LogonType", "reasonorerrorcode": "Status", "errorcode": "Status", "status": "Status",
	"commandline": "CommandLine", "processcommandline": "CommandLine", "sharename": "ShareName",
	"relativetargetname": "RelativeTargetName", "servicename": "ServiceName", "servicefilename": "ImagePath",
	"imagepath": "ImagePath", "authenticationpackage": "AuthenticationPackageName", "logonprocess": "LogonProcessName",
	"objectname": "ObjectName", "newprocessname": "NewProcessName", "processname": "ProcessName",
}

// cefCustomLabels gives each labelled custom field's value by its label.
func cefCustomLabels(kv map[string]string) map[string]string {
	out := map[string]string{}
	for k, label := range kv {
		field, ok := strings.CutSuffix(k, "Label")
		if !ok || kv[field] == "" {
			continue
		}
		out[strings.ToLower(strings.ReplaceAll(strings.TrimSpace(label), " ", ""))] = kv[field]
	}
	return out
}

// windowsFromCEF reads a Windows event's CEF record; ok is false when it
// names no event ID.
func windowsFromCEF(hdr []string, ext map[string]string, t time.Time, host string) (*event.Event, bool) {
	n, provider, ok := cefWindowsID(hdr[4], ext)
	if !ok {
		return nil, false
	}
	labels := cefCustomLabels(ext)
	if p := firstNonEmpty(labels["eventsource"], labels["source"]); p != "" {
		provider = p
	}
	w := &winRecord{Provider: provider, EventID: strconv.FormatUint(n&0xffff, 10), Time: t,
		Computer: firstNonEmpty(ext["dhost"], ext["dvchost"], host)}
	if n>>16 != 0 {
		w.Qualifiers = strconv.FormatUint(n>>16, 10)
	}
	// ArcSight's cat is the log for Windows events ("Security"); a path
	// of categories ("/Security/Logon") is none.
	if c := strings.TrimSpace(ext["cat"]); c != "" && !strings.HasPrefix(c, "/") {
		w.Channel = c
	}
	if w.Channel == "" {
		w.Channel = channelOfProvider(w.Provider, w.EventID)
	}
	add := func(name, v string) {
		if v = strings.TrimSpace(v); v != "" && name != "" {
			w.EventData = append(w.EventData, kv{name, v})
		}
	}
	add("SubjectUserName", ext["suser"])
	add("SubjectDomainName", ext["sntdom"])
	add("SubjectUserSid", ext["suid"])
	add("TargetUserName", ext["duser"])
	add("TargetDomainName", ext["dntdom"])
	add("TargetSid", ext["duid"])
	add("IpAddress", ext["src"])
	add("IpPort", ext["spt"])
	// 4776 names the client's computer Workstation, the logons WorkstationName.
	add(map[bool]string{true: "Workstation", false: "WorkstationName"}[w.EventID == "4776"], ext["shost"])
	add("ProcessName", ext["sproc"])
	for label, v := range labels {
		name := cefLabelNames[label]
		if name == "" {
			continue
		}
		dup := false
		for _, d := range w.EventData {
			dup = dup || d.k == name
		}
		if !dup {
			add(name, v)
		}
	}
	switch strings.ToLower(strings.TrimSpace(ext["outcome"])) {
	case "success":
		w.setTypeWord("Audit Success")
	case "failure":
		w.setTypeWord("Audit Failure")
	}
	ev := w.toEvent()
	ev.Set("message", hdr[5])
	ev.Fields["evidence.mapping"] = "a Windows event from its CEF record: EventData named from CEF's fields and labels"
	return ev, true
}
