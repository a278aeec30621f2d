package scenario

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Windows events as an administrator exports them when no one kept the
// .evtx files: Get-WinEvent | Export-Csv. Windows PowerShell 5.1 on a
// United States culture writes a "#TYPE" line, commas and "3/15/2024
// 2:13:07 PM"; a French culture with -UseCulture semicolons and "15/03/2024
// 14:13:07". Both write the local time without zone, newest event first
// (Get-WinEvent's order), EventData only inside the rendered message (the
// Properties column is a type name), here in English, as on a server
// installed in English.

// winExportColumns are Export-Csv's columns for an EventLogRecord.
var winExportColumns = []string{"Message", "Id", "Version", "Qualifiers", "Level", "Task", "Opcode", "Keywords", "RecordId", "ProviderName",
	"ProviderId", "LogName", "ProcessId", "ThreadId", "MachineName", "UserId", "TimeCreated", "ActivityId", "RelatedActivityId", "ContainerLog",
	"MatchedQueryIds", "Bookmark", "LevelDisplayName", "OpcodeDisplayName", "TaskDisplayName", "KeywordsDisplayNames", "Properties"}

// winMessages are the English messages Windows renders, {Name} standing
// for an EventData value.
var winMessages = map[int]string{
	5156: "The Windows Filtering Platform has permitted a connection.\r\n\r\nApplication Information:\r\n\tProcess ID:\t\t{ProcessID}\r\n\tApplication Name:\t{Application}\r\n\r\n" +
		"Network Information:\r\n\tDirection:\t\t{Direction}\r\n\tSource Address:\t\t{SourceAddress}\r\n\tSource Port:\t\t{SourcePort}\r\n\tDestination Address:\t{DestAddress}\r\n\tDestination Port:\t\t{DestPort}\r\n\tProtocol:\t\t{Protocol}\r\n\r\n" +
		"Filter Information:\r\n\tFilter Run-Time ID:\t{FilterRTID}\r\n\tLayer Name:\t\t{LayerName}\r\n\tLayer Run-Time ID:\t{LayerRTID}",
	4624: "An account was successfully logged on.\r\n\r\nSubject:\r\n\tSecurity ID:\t\t{SubjectUserSid}\r\n\tAccount Name:\t\t{SubjectUserName}\r\n\tAccount Domain:\t\t{SubjectDomainName}\r\n\tLogon ID:\t\t{SubjectLogonId}\r\n\r\n" +
		"Logon Information:\r\n\tLogon Type:\t\t{LogonType}\r\n\tRestricted Admin Mode:\t{RestrictedAdminMode}\r\n\tVirtual Account:\t\t{VirtualAccount}\r\n\tElevated Token:\t\t{ElevatedToken}\r\n\r\nImpersonation Level:\t\t{ImpersonationLevel}\r\n\r\n" +
		"New Logon:\r\n\tSecurity ID:\t\t{TargetUserSid}\r\n\tAccount Name:\t\t{TargetUserName}\r\n\tAccount Domain:\t\t{TargetDomainName}\r\n\tLogon ID:\t\t{TargetLogonId}\r\n\tLinked Logon ID:\t\t{TargetLinkedLogonId}\r\n\tNetwork Account Name:\t{TargetOutboundUserName}\r\n\tNetwork Account Domain:\t{TargetOutboundDomainName}\r\n\tLogon GUID:\t\t{LogonGuid}\r\n\r\n" +
		"Process Information:\r\n\tProcess ID:\t\t{ProcessId}\r\n\tProcess Name:\t\t{ProcessName}\r\n\r\nNetwork Information:\r\n\tWorkstation Name:\t{WorkstationName}\r\n\tSource Network Address:\t{IpAddress}\r\n\tSource Port:\t\t{IpPort}\r\n\r\n" +
		"Detailed Authentication Information:\r\n\tLogon Process:\t\t{LogonProcessName}\r\n\tAuthentication Package:\t{AuthenticationPackageName}\r\n\tTransited Services:\t{TransmittedServices}\r\n\tPackage Name (NTLM only):\t{LmPackageName}\r\n\tKey Length:\t\t{KeyLength}\r\n\r\n" +
		"This event is generated when a logon session is created. It is generated on the computer that was accessed.",
	4634: "An account was logged off.\r\n\r\nSubject:\r\n\tSecurity ID:\t\t{TargetUserSid}\r\n\tAccount Name:\t\t{TargetUserName}\r\n\tAccount Domain:\t\t{TargetDomainName}\r\n\tLogon ID:\t\t{TargetLogonId}\r\n\r\nLogon Type:\t\t\t{LogonType}\r\n\r\n" +
		"This event is generated when a logon session is destroyed. It may be positively correlated with a logon event using the Logon ID value. Logon IDs are only unique between reboots on the same computer.",
	4768: "A Kerberos authentication ticket (TGT) was requested.\r\n\r\nAccount Information:\r\n\tAccount Name:\t\t{TargetUserName}\r\n\tSupplied Realm Name:\t{TargetDomainName}\r\n\tUser ID:\t\t\t{TargetSid}\r\n\r\n" +
		"Service Information:\r\n\tService Name:\t\t{ServiceName}\r\n\tService ID:\t\t{ServiceSid}\r\n\r\nNetwork Information:\r\n\tClient Address:\t\t{IpAddress}\r\n\tClient Port:\t\t{IpPort}\r\n\r\n" +
		"Additional Information:\r\n\tTicket Options:\t\t{TicketOptions}\r\n\tResult Code:\t\t{Status}\r\n\tTicket Encryption Type:\t{TicketEncryptionType}\r\n\tPre-Authentication Type:\t{PreAuthType}",
	4769: "A Kerberos service ticket was requested.\r\n\r\nAccount Information:\r\n\tAccount Name:\t\t{TargetUserName}\r\n\tAccount Domain:\t\t{TargetDomainName}\r\n\tLogon GUID:\t\t{LogonGuid}\r\n\r\n" +
		"Service Information:\r\n\tService Name:\t\t{ServiceName}\r\n\tService ID:\t\t{ServiceSid}\r\n\r\nNetwork Information:\r\n\tClient Address:\t\t{IpAddress}\r\n\tClient Port:\t\t{IpPort}\r\n\r\n" +
		"Additional Information:\r\n\tTicket Options:\t\t{TicketOptions}\r\n\tTicket Encryption Type:\t{TicketEncryptionType}\r\n\tFailure Code:\t\t{Status}\r\n\tTransited Services:\t{TransmittedServices}",
	4688: "A new process has been created.\r\n\r\nCreator Subject:\r\n\tSecurity ID:\t\t{SubjectUserSid}\r\n\tAccount Name:\t\t{SubjectUserName}\r\n\tAccount Domain:\t\t{SubjectDomainName}\r\n\tLogon ID:\t\t{SubjectLogonId}\r\n\r\n" +
		"Target Subject:\r\n\tSecurity ID:\t\t{TargetUserSid}\r\n\tAccount Name:\t\t{TargetUserName}\r\n\tAccount Domain:\t\t{TargetDomainName}\r\n\tLogon ID:\t\t{TargetLogonId}\r\n\r\n" +
		"Process Information:\r\n\tNew Process ID:\t\t{NewProcessId}\r\n\tNew Process Name:\t{NewProcessName}\r\n\tToken Elevation Type:\t{TokenElevationType}\r\n\tMandatory Label:\t\t{MandatoryLabel}\r\n\tCreator Process ID:\t{ProcessId}\r\n\tCreator Process Name:\t{ParentProcessName}\r\n\tProcess Command Line:\t{CommandLine}\r\n\r\n" +
		"Token Elevation Type indicates the type of token that was assigned to the new process in accordance with User Account Control policy.",
	4663: "An attempt was made to access an object.\r\n\r\nSubject:\r\n\tSecurity ID:\t\t{SubjectUserSid}\r\n\tAccount Name:\t\t{SubjectUserName}\r\n\tAccount Domain:\t\t{SubjectDomainName}\r\n\tLogon ID:\t\t{SubjectLogonId}\r\n\r\n" +
		"Object:\r\n\tObject Server:\t\t{ObjectServer}\r\n\tObject Type:\t\t{ObjectType}\r\n\tObject Name:\t\t{ObjectName}\r\n\tHandle ID:\t\t{HandleId}\r\n\tResource Attributes:\t{ResourceAttributes}\r\n\r\n" +
		"Process Information:\r\n\tProcess ID:\t\t{ProcessId}\r\n\tProcess Name:\t\t{ProcessName}\r\n\r\nAccess Request Information:\r\n\tAccesses:\t\t{AccessList}\r\n\t\t\t\t\r\n\tAccess Mask:\t\t{AccessMask}",
	5145: "A network share object was checked to see whether client can be granted desired access.\r\n\r\nSubject:\r\n\tSecurity ID:\t\t{SubjectUserSid}\r\n\tAccount Name:\t\t{SubjectUserName}\r\n\tAccount Domain:\t\t{SubjectDomainName}\r\n\tLogon ID:\t\t{SubjectLogonId}\r\n\r\n" +
		"Network Information:\t\r\n\tObject Type:\t\t{ObjectType}\r\n\tSource Address:\t\t{IpAddress}\r\n\tSource Port:\t\t{IpPort}\r\n\t\r\nShare Information:\r\n\tShare Name:\t\t{ShareName}\r\n\tShare Path:\t\t{ShareLocalPath}\r\n\tRelative Target Name:\t{RelativeTargetName}\r\n\r\n" +
		"Access Request Information:\r\n\tAccess Mask:\t\t{AccessMask}\r\n\tAccesses:\t\t{AccessList}\r\n\r\nAccess Check Results:\r\n\t\t{AccessReason}",
	7045: "A service was installed in the system.\r\n\r\nService Name:  {ServiceName}\r\nService File Name:  {ImagePath}\r\nService Type:  {ServiceType}\r\nService Start Type:  {StartType}\r\nService Account:  {AccountName}",
	7036: "The {param1} service entered the {param2} state.",
	1102: "The audit log was cleared.\r\nSubject:\r\n\tSecurity ID:\t{SubjectUserSid}\r\n\tAccount Name:\t{SubjectUserName}\r\n\tDomain Name:\t{SubjectDomainName}\r\n\tLogon ID:\t{SubjectLogonId}",
}

// winInserts are the message strings Windows renders "%%n" inserts with.
var winInserts = map[string]string{
	"%%1833": "Impersonation", "%%1842": "Yes", "%%1843": "No", "%%1936": "TokenElevationTypeDefault (1)",
	"%%4416": "ReadData (or ListDirectory)", "%%4417": "WriteData (or AddFile)", "%%4418": "AppendData (or AddSubdirectory or CreatePipeInstance)",
	"%%4419": "ReadEA", "%%4423": "ReadAttributes", "%%1537": "DELETE", "%%1538": "READ_CONTROL", "%%1541": "SYNCHRONIZE",
	"%%14593": "Outbound", "%%14611": "Connect",
}

// renderWinMessage fills id's message; a list of accesses goes one per
// line as Windows aligns them.
func renderWinMessage(id int, data winData) string {
	msg := winMessages[id]
	for _, d := range data {
		v := d[1]
		if strings.Contains(v, "%%") {
			var words []string
			for _, code := range strings.Fields(v) {
				words = append(words, winInserts[code])
			}
			v = strings.Join(words, "\r\n\t\t\t\t")
		}
		msg = strings.ReplaceAll(msg, "{"+d[0]+"}", v)
	}
	for strings.Contains(msg, "{") {
		i := strings.IndexByte(msg, '{')
		j := strings.IndexByte(msg[i:], '}')
		if j < 0 || strings.ContainsAny(msg[i:i+j], " \t\r\n") {
			break
		}
		msg = msg[:i] + "-" + msg[i+j+1:] // a field the event does not carry
	}
	return msg
}

// winExportValues are one event's properties as Get-WinEvent gives them,
// in winExportColumns' order.
func (w *world) winExportValues(host Host, t time.Time, channel, provider, guid string, id, task int, keywords string, rec, pid int, data winData, userData string) []string {
	if userData != "" {
		m := userDataMap(userData)["LogFileCleared"].(map[string]any)
		for _, k := range []string{"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId"} {
			data = append(data, [2]string{k, m[k].(string)})
		}
	}
	kw, _ := strconv.ParseUint(strings.TrimPrefix(keywords, "0x"), 16, 64)
	local := t.In(w.loc)
	stamp := local.Format("1/2/2006 3:04:05 PM")
	if w.o.WinXMLRoot { // the draw that also chose wevtutil's root element: a French culture
		stamp = local.Format("02/01/2006 15:04:05")
	}
	level, levelName := "0", "Information"
	if id == 7045 || id == 104 || id == 7036 {
		level = "4"
	}
	qualifiers := ""
	if provider == "Service Control Manager" {
		qualifiers = "16384"
	}
	row := []string{renderWinMessage(id, data), fmt.Sprint(id), fmt.Sprint(map[int]int{4624: 2, 4688: 2}[id]), qualifiers, level, fmt.Sprint(task), "0",
		strconv.FormatInt(int64(kw), 10), fmt.Sprint(rec), provider, strings.Trim(guid, "{}"), channel, fmt.Sprint(pid), fmt.Sprint(pid + 64), host.Name, "", stamp,
		"", "", channel, "System.UInt32[]", "System.Diagnostics.Eventing.Reader.EventBookmark", levelName, "Info", "",
		"System.Collections.ObjectModel.ReadOnlyCollection`1[System.String]", "System.Collections.Generic.List`1[System.Diagnostics.Eventing.Reader.EventProperty]"}
	return row
}

// winExportRow writes one event as a row of Export-Csv.
func (w *world) winExportRow(v []string) string { return w.csvLine(v) }

// winListRecord writes one event as Format-List * prints it: a line per
// property, the names padded to the longest, a value's further lines
// indented to the values' column; a blank line after the record.
func winListRecord(v []string) string {
	width := 0
	for _, c := range winExportColumns {
		width = max(width, len(c))
	}
	var b strings.Builder
	for i, c := range winExportColumns {
		val := v[i]
		switch c {
		case "MatchedQueryIds":
			val = "{}"
		case "KeywordsDisplayNames":
			names := map[string]string{"-9214364837600034816": "Audit Success", "-9218868437227405312": "Audit Failure"}[v[7]]
			if names == "" {
				names = "Classic"
			}
			val = "{" + names + "}"
		case "Properties":
			val = "{System.Diagnostics.Eventing.Reader.EventProperty, System.Diagnostics.Eventing.Reader.EventProperty, System.Diagnostics.Eventing.Reader.EventProperty, System.Diagnostics.Eventing.Reader.EventProperty...}"
		}
		for j, l := range strings.Split(strings.ReplaceAll(val, "\r\n", "\n"), "\n") {
			if j == 0 {
				fmt.Fprintf(&b, "%-*s : %s\r\n", width, c, l)
			} else {
				b.WriteString(strings.Repeat(" ", width+3) + l + "\r\n")
			}
		}
	}
	return b.String()
}

// csvLine quotes every value as Export-Csv does, with the culture's
// separator.
func (w *world) csvLine(v []string) string {
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	sep := ","
	if w.o.WinXMLRoot {
		sep = ";"
	}
	return strings.Join(q, sep)
}

// winExportHeader starts an Export-Csv file.
func (w *world) winExportHeader() string {
	h := w.csvLine(winExportColumns)
	if w.o.WinXMLRoot {
		return h
	}
	return "#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n" + h
}

// evtxexportBlock writes one event as libevtx's evtxexport prints it by
// default: the record's written time in UTC, the 32-bit identifier, the
// EventData (or UserData) values numbered in their template order, no
// names, no log name; 64-bit hexadecimal values padded as it pads them.
func (w *world) evtxexportBlock(host Host, t time.Time, provider string, id int, data winData, userData string) string {
	if userData != "" {
		m := userDataMap(userData)["LogFileCleared"].(map[string]any)
		for _, k := range []string{"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId"} {
			data = append(data, [2]string{k, m[k].(string)})
		}
	}
	full, level := uint32(id), "Information (0)"
	if provider == "Service Control Manager" {
		full |= 0x4000 << 16
		level = "Information (4)"
	}
	var b strings.Builder
	// The event's number in the file is written when the file is (render).
	fmt.Fprintf(&b, "Event number\t\t\t: #\nWritten time\t\t\t: %s UTC\nEvent level\t\t\t: %s\nComputer name\t\t\t: %s\n",
		t.UTC().Format("Jan 02, 2006 15:04:05.000000000"), level, host.Name)
	fmt.Fprintf(&b, "Source name\t\t\t: %s\nEvent identifier\t\t: 0x%08x (%d)\nNumber of strings\t\t: %d\n", provider, full, id, len(data))
	for i, d := range data {
		v := d[1]
		if strings.HasSuffix(d[0], "LogonId") && strings.HasPrefix(v, "0x") {
			if n, err := strconv.ParseUint(v[2:], 16, 64); err == nil {
				v = fmt.Sprintf("0x%016x", n)
			}
		}
		fmt.Fprintf(&b, "String: %d\t\t\t: %s\n", i+1, v)
	}
	return b.String()
}

// evtxecmdFile is the one table EvtxECmd writes of every .evtx file of a
// triage (KAPE's EventLogs module).
const evtxecmdFile = "windows/EvtxECmd_Output.csv"

// evtxecmdColumns are EvtxECmd's CSV columns.
var evtxecmdColumns = []string{"RecordNumber", "EventRecordId", "TimeCreated", "EventId", "Level", "Provider", "Channel", "ProcessId",
	"ThreadId", "Computer", "ChunkNumber", "UserId", "MapDescription", "UserName", "RemoteHost", "PayloadData1", "PayloadData2",
	"PayloadData3", "PayloadData4", "PayloadData5", "PayloadData6", "ExecutableInfo", "HiddenRecord", "SourceFile", "Keywords",
	"ExtraDataOffset", "Payload"}

// evtxecmdRow writes one event as a row of EvtxECmd's CSV: UTC with seven
// decimals, the keywords by name, the EventData or UserData as the
// Payload's JSON (attributes "@Name", text "#text", in the XML's order).
func (w *world) evtxecmdRow(host Host, t time.Time, channel, provider string, id int, keywords string, rec, pid int, data winData, userData string) string {
	kw := map[string]string{"0x8020000000000000": "Audit success", "0x8010000000000000": "Audit failure"}[keywords]
	if kw == "" {
		kw = "Classic"
	}
	level := "LogAlways"
	if id == 7045 || id == 104 || id == 7036 {
		level = "Info"
	}
	jstr := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	var payload string
	if userData != "" {
		m := userDataMap(userData)["LogFileCleared"].(map[string]any)
		var f []string
		for _, k := range []string{"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId"} {
			f = append(f, jstr(k)+":"+jstr(m[k].(string)))
		}
		payload = `{"UserData":{"LogFileCleared":{"@xmlns":"http://manifests.microsoft.com/win/2004/08/windows/eventlog",` + strings.Join(f, ",") + `}}}`
	} else {
		var d []string
		for _, p := range data {
			d = append(d, `{"@Name":`+jstr(p[0])+`,"#text":`+jstr(p[1])+`}`)
		}
		payload = `{"EventData":{"Data":[` + strings.Join(d, ",") + `]}}`
	}
	row := []string{fmt.Sprint(rec), fmt.Sprint(rec), t.UTC().Format("2006-01-02 15:04:05.0000000"), fmt.Sprint(id), level, provider, channel,
		fmt.Sprint(pid), fmt.Sprint(pid + 64), host.Name, "0", "", "", "", "", "", "", "", "", "", "", "", "False",
		`C:\Windows\System32\winevt\Logs\` + strings.ReplaceAll(channel, "/", "%4") + ".evtx", kw, "0", payload}
	var b strings.Builder
	cw := csv.NewWriter(&b)
	cw.Write(row)
	cw.Flush()
	return strings.TrimRight(b.String(), "\n")
}

// plasoFile is a super-timeline psort wrote of a triage's event logs.
const plasoFile = "windows/timeline.csv"

// plasoRows writes one event as psort's dynamic CSV does: its winevtx
// message (the values without names, Python's quoting, libevtx's
// zero-padded logon ids), a row for its creation time and, for every
// third record, the same again for its written time.
func (w *world) plasoRows(host Host, t time.Time, channel, provider, guid string, id, rec int, data winData, userData string) []string {
	if userData != "" {
		m := userDataMap(userData)["LogFileCleared"].(map[string]any)
		for _, k := range []string{"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId"} {
			data = append(data, [2]string{k, m[k].(string)})
		}
	}
	full, level := uint32(id), 0
	if provider == "Service Control Manager" {
		full |= 0x4000 << 16
		level = 4
	}
	var strs []string
	for _, d := range data {
		v := d[1]
		if strings.HasSuffix(d[0], "LogonId") && strings.HasPrefix(v, "0x") {
			if n, err := strconv.ParseUint(v[2:], 16, 64); err == nil {
				v = fmt.Sprintf("0x%016x", n)
			}
		}
		strs = append(strs, "'"+strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(v)+"'")
	}
	msg := fmt.Sprintf("[%d / 0x%04x] Provider identifier: %s Source Name: %s Strings: [%s] Computer Name: %s Record Number: %d Event Level: %d",
		full, full, guid, provider, strings.Join(strs, ", "), host.Name, rec, level)
	file := `NTFS:\Windows\System32\winevt\Logs\` + strings.ReplaceAll(channel, "/", "%4") + ".evtx"
	row := func(desc string) string {
		var b strings.Builder
		cw := csv.NewWriter(&b)
		cw.Write([]string{t.UTC().Format("2006-01-02T15:04:05.000000+00:00"), desc, "EVT", "WinEVTX", msg, "winevtx", file, ""})
		cw.Flush()
		return strings.TrimRight(b.String(), "\n")
	}
	rows := []string{row("Creation Time")}
	if rec%3 == 0 {
		rows = append(rows, row("Content Modification Time"))
	}
	return rows
}

// wincollectLine writes one event as QRadar's WinCollect agent sends it to
// a syslog server: the agent's pairs separated by tabs, TimeGenerated in
// seconds, the rendered message last on one line, its white space runs
// joined into single spaces.
func (w *world) wincollectLine(host Host, t time.Time, channel, provider string, id, task int, keywords string, rec int, msg string) string {
	evType, kw := "4", ""
	switch keywords {
	case "0x8020000000000000":
		evType, kw = "8", "Audit Success"
	case "0x8010000000000000":
		evType, kw = "16", "Audit Failure"
	}
	if provider == "Service Control Manager" {
		id |= 16384 << 16 // the classic event's qualifiers, as the agent reads them
	}
	pairs := []string{"AgentDevice=WindowsLog", "AgentLogFile=" + channel, "PluginVersion=7.3.1.28", "Source=" + provider,
		"Computer=" + host.Name, "OriginatingComputer=" + host.IP, "User=", "Domain=", fmt.Sprintf("EventID=%d", id),
		fmt.Sprintf("EventIDCode=%d", id&0xffff), "EventType=" + evType, fmt.Sprintf("EventCategory=%d", task),
		fmt.Sprintf("RecordNumber=%d", rec), fmt.Sprintf("TimeGenerated=%d", t.Unix()), fmt.Sprintf("TimeWritten=%d", t.Unix()),
		"Level=Log Always", "Keywords=" + kw, "Task=", "Opcode=Info", "Message=" + strings.Join(strings.Fields(msg), " ")}
	return "<13>" + t.In(w.loc).Format(time.Stamp) + " " + host.IP + " " + strings.Join(pairs, "\t")
}
