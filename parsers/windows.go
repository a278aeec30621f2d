package parsers

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/parsers/evtx"
)

// winRecord is a Windows event as every Windows reader (EVTX, wevtutil XML,
// Winlogbeat JSON) sees it, before ECS mapping. Keeping one shape means the
// ECS mapping of security events is written once.
type winRecord struct {
	Provider, ProviderGUID, Channel, Computer, UserID, ActivityID string
	EventID, Qualifiers, Version, Level, Task, Opcode, Keywords   string
	RecordID, PID, TID                                            string
	Time                                                          time.Time
	EventData                                                     []kv // ordered, Name → value
	UserData                                                      []kv
}

type kv struct{ k, v string }

// winRecordFromNode reads the System/EventData/UserData of an <Event> tree.
func winRecordFromNode(root *evtx.Node) (*winRecord, error) {
	if root == nil || root.Name != "Event" {
		name := "<nil>"
		if root != nil {
			name = root.Name
		}
		return nil, fmt.Errorf("root element is %q, not Event", name)
	}
	w := &winRecord{}
	pyEvtx := false
	sys := root.Child("System")
	if sys == nil {
		return nil, fmt.Errorf("event has no System element")
	}
	for _, c := range sys.Children {
		switch c.Name {
		case "Provider":
			w.Provider, _ = c.Attr("Name")
			if w.Provider == "" {
				w.Provider, _ = c.Attr("EventSourceName")
			}
			w.ProviderGUID, _ = c.Attr("Guid")
		case "EventID":
			w.EventID = strings.TrimSpace(c.Text)
			w.Qualifiers, _ = c.Attr("Qualifiers")
		case "Version":
			w.Version = c.Text
		case "Level":
			w.Level = c.Text
		case "Task":
			w.Task = c.Text
		case "Opcode":
			w.Opcode = c.Text
		case "Keywords":
			w.Keywords = c.Text
		case "TimeCreated":
			st, _ := c.Attr("SystemTime")
			t, err := parseISO(st, time.UTC)
			if err != nil {
				return nil, fmt.Errorf("TimeCreated SystemTime %q: %v", st, err)
			}
			w.Time = t
			pyEvtx = pythonEvtxTime(st)
		case "EventRecordID":
			w.RecordID = c.Text
		case "Correlation":
			w.ActivityID, _ = c.Attr("ActivityID")
		case "Execution":
			w.PID, _ = c.Attr("ProcessID")
			w.TID, _ = c.Attr("ThreadID")
		case "Channel":
			w.Channel = c.Text
		case "Computer":
			w.Computer = c.Text
		case "Security":
			w.UserID, _ = c.Attr("UserID")
		}
	}
	if ed := root.Child("EventData"); ed != nil {
		w.EventData = make([]kv, 0, len(ed.Children))
		n := 0
		for _, d := range ed.Children {
			name, _ := d.Attr("Name")
			if parts, ok := pythonEvtxArray(d.Text); ok && pyEvtx && name == "" && d.Name == "Data" {
				for _, p := range parts {
					n++
					w.EventData = append(w.EventData, kv{"param" + strconv.Itoa(n), p})
				}
				continue
			}
			if name == "" {
				if d.Name == "Data" {
					n++
					name = "param" + strconv.Itoa(n)
				} else {
					name = d.Name
				}
			}
			w.EventData = append(w.EventData, kv{name, d.Text})
		}
	}
	if ud := root.Child("UserData"); ud != nil {
		for _, top := range ud.Children {
			flattenNode(top, "", &w.UserData)
		}
	}
	if pyEvtx {
		w.asWindowsRendered()
	}
	return w, nil
}

// winRecordFromFlat reads a record the EVTX reader decoded without a tree;
// it gives exactly what winRecordFromNode gives for the same record.
func winRecordFromFlat(f *evtx.Flat) (*winRecord, error) {
	sys := &f.Sys
	w := &winRecord{
		Provider: sys[evtx.SysProvider], ProviderGUID: sys[evtx.SysProviderGUID], Channel: sys[evtx.SysChannel],
		Computer: sys[evtx.SysComputer], UserID: sys[evtx.SysUserID], ActivityID: sys[evtx.SysActivityID],
		EventID: strings.TrimSpace(sys[evtx.SysEventID]), Qualifiers: sys[evtx.SysQualifiers], Version: sys[evtx.SysVersion],
		Level: sys[evtx.SysLevel], Task: sys[evtx.SysTask], Opcode: sys[evtx.SysOpcode], Keywords: sys[evtx.SysKeywords],
		RecordID: sys[evtx.SysRecordID], PID: sys[evtx.SysProcessID], TID: sys[evtx.SysThreadID],
	}
	if w.Provider == "" {
		w.Provider = sys[evtx.SysEventSourceName]
	}
	if st := sys[evtx.SysTimeCreated]; st != "" {
		t, err := parseISO(st, time.UTC)
		if err != nil {
			return nil, fmt.Errorf("TimeCreated SystemTime %q: %v", st, err)
		}
		w.Time = t
	}
	if len(f.EventData) > 0 {
		w.EventData = make([]kv, len(f.EventData))
		for i, d := range f.EventData {
			w.EventData[i] = kv{d.Name, d.Value}
		}
	}
	for _, d := range f.UserData {
		w.UserData = append(w.UserData, kv{d.Name, d.Value})
	}
	return w, nil
}

func flattenNode(n *evtx.Node, prefix string, out *[]kv) {
	for _, c := range n.Children {
		key := prefix + c.Name
		if len(c.Children) > 0 {
			flattenNode(c, key+".", out)
			continue
		}
		*out = append(*out, kv{key, c.Text})
	}
}

func (w *winRecord) get(name string) string {
	for _, p := range w.EventData {
		if p.k == name {
			return p.v
		}
	}
	for _, p := range w.UserData {
		if p.k == name {
			return p.v
		}
	}
	return ""
}

var logonTypes = map[string]string{"0": "System", "2": "Interactive", "3": "Network", "4": "Batch", "5": "Service",
	"7": "Unlock", "8": "NetworkCleartext", "9": "NewCredentials", "10": "RemoteInteractive", "11": "CachedInteractive",
	"12": "CachedRemoteInteractive", "13": "CachedUnlock"}

var levelNames = map[string]string{"0": "information", "1": "critical", "2": "error", "3": "warning", "4": "information", "5": "verbose"}

// datasetForChannel follows the dataset names of Elastic's Windows integrations.
func datasetForChannel(ch string) string {
	switch strings.ToLower(ch) {
	case "security":
		return "system.security"
	case "system":
		return "system.system"
	case "application":
		return "system.application"
	case "microsoft-windows-sysmon/operational":
		return "windows.sysmon_operational"
	case "microsoft-windows-powershell/operational":
		return "windows.powershell_operational"
	case "windows powershell":
		return "windows.powershell"
	}
	var sb strings.Builder
	for _, r := range strings.ToLower(ch) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	return "windows." + sb.String()
}

// toEvent maps a Windows record to ECS. Every EventData/UserData field is kept
// under winlog.event_data / winlog.user_data whatever the event id.
func (w *winRecord) toEvent() *event.Event {
	ev := event.New()
	ev.Timestamp = w.Time
	ev.Fields[event.FieldDataset] = datasetForChannel(w.Channel)
	ev.Set("event.code", w.EventID)
	ev.Set("event.provider", w.Provider)
	ev.Set("winlog.provider_name", w.Provider)
	ev.Set("winlog.provider_guid", w.ProviderGUID)
	ev.Set("winlog.channel", w.Channel)
	ev.Set("winlog.computer_name", w.Computer)
	ev.Set("host.name", w.Computer)
	ev.Set("winlog.event_id", w.EventID)
	ev.Set("winlog.version", w.Version)
	ev.Set("winlog.task", w.Task)
	ev.Set("winlog.opcode", w.Opcode)
	ev.Set("winlog.keywords", w.Keywords)
	ev.Set("winlog.activity_id", w.ActivityID)
	ev.Set("winlog.user.identifier", w.UserID)
	ev.Set("log.level", levelNames[w.Level])
	if w.Qualifiers != "" {
		ev.Set("winlog.qualifiers", w.Qualifiers)
	}
	ev.SetIntString("winlog.record_id", w.RecordID)
	ev.SetIntString("winlog.process.pid", w.PID)
	ev.SetIntString("winlog.process.thread.id", w.TID)
	for _, p := range w.EventData {
		if p.v != "" {
			ev.Fields[winKey("winlog.event_data.", p.k)] = p.v
		}
	}
	for _, p := range w.UserData {
		if p.v != "" {
			ev.Fields[winKey("winlog.user_data.", p.k)] = p.v
		}
	}
	w.mapECS(ev)
	if _, ok := ev.Fields["message"]; !ok {
		ev.Fields["message"] = w.summary()
	}
	return ev
}

// winKeys interns "winlog.event_data.<Name>" keys, per prefix: the same few
// hundred names recur in every event, and building each key anew is an
// allocation.
var winKeys = map[string]*sync.Map{"winlog.event_data.": {}, "winlog.user_data.": {}}

func winKey(prefix, name string) string {
	m := winKeys[prefix]
	if v, ok := m.Load(name); ok {
		return v.(string)
	}
	v := prefix + name
	m.Store(strings.Clone(name), v)
	return v
}

func (w *winRecord) summary() string {
	var sb strings.Builder
	size, n := len(w.Provider)+1+len(w.EventID), 0
	for _, list := range [][]kv{w.EventData, w.UserData} {
		for _, p := range list {
			if p.v == "" || p.v == "-" || n == 12 {
				continue
			}
			size += 2 + len(p.k) + len(p.v)
			if len(p.v) > 200 {
				size += 200 + len("…") - len(p.v)
			}
			n++
		}
	}
	sb.Grow(size) // one allocation: the summary is made for every event without a message
	sb.WriteString(w.Provider)
	sb.WriteByte(' ')
	sb.WriteString(w.EventID)
	n = 0
	for _, list := range [][]kv{w.EventData, w.UserData} {
		for _, p := range list {
			if p.v == "" || p.v == "-" || n == 12 {
				continue
			}
			sb.WriteByte(' ')
			sb.WriteString(p.k)
			sb.WriteByte('=')
			if len(p.v) > 200 {
				sb.WriteString(p.v[:200])
				sb.WriteString("…")
			} else {
				sb.WriteString(p.v)
			}
			n++
		}
	}
	return sb.String()
}

func setProcess(ev *event.Event, prefix, exe string) {
	if exe == "" || exe == "-" {
		return
	}
	ev.Set(prefix+".executable", exe)
	ev.Set(prefix+".name", path.Base(strings.ReplaceAll(exe, `\`, "/")))
}

func setUserDomainForm(ev *event.Event, v string) {
	// Sysmon's User is DOMAIN\user.
	if i := strings.IndexByte(v, '\\'); i > 0 {
		ev.Set("user.domain", v[:i])
		ev.Set("user.name", v[i+1:])
		return
	}
	ev.Set("user.name", v)
}

// setWinlogUser records the account a forwarder or export names beside
// the event ("DOMAIN\user"): Windows' own user of the event, not the
// account the event is about, which the mapping reads from EventData.
func setWinlogUser(ev *event.Event, u string) {
	u = strings.TrimSpace(u)
	if u == "" || u == "N/A" {
		return
	}
	if dom, name, ok := strings.Cut(u, `\`); ok {
		ev.Set("winlog.user.domain", dom)
		ev.Set("winlog.user.name", name)
		return
	}
	ev.Set("winlog.user.name", u)
}

func (w *winRecord) mapECS(ev *event.Event) {
	g := w.get
	cat := func(c ...string) { ev.Fields["event.category"] = c }
	typ := func(t ...string) { ev.Fields["event.type"] = t }
	prov := strings.ToLower(w.Provider)
	switch {
	case prov == "microsoft-windows-security-auditing" || (prov == "microsoft-windows-eventlog" && w.EventID == "1102"):
		w.mapSecurity(ev, cat, typ)
	case prov == "microsoft-windows-sysmon":
		w.mapSysmon(ev, cat, typ)
	case prov == "microsoft-windows-eventlog" && w.EventID == "104":
		cat("iam")
		typ("admin", "change")
		ev.Set("event.action", "log-cleared")
		ev.Set("user.name", g("SubjectUserName"))
		ev.Set("user.domain", g("SubjectDomainName"))
		ev.Set("winlog.cleared_channel", g("Channel"))
	case prov == "service control manager" && w.EventID == "7045":
		cat("configuration", "process")
		typ("creation")
		ev.Set("event.action", "service-installed")
		ev.Set("service.name", g("ServiceName"))
		ev.Set("service.type", g("ServiceType"))
		ev.Set("winlog.service.image_path", g("ImagePath"))
		ev.Set("user.name", g("AccountName"))
	case prov == "microsoft-windows-powershell" && w.EventID == "4104":
		cat("process")
		typ("info")
		ev.Set("event.action", "execute-remote-command")
		if w.EventID == "4104" {
			ev.Set("event.action", "script-block-logging")
		}
		ev.Set("powershell.file.script_block_text", g("ScriptBlockText"))
		ev.Set("powershell.file.script_block_id", g("ScriptBlockId"))
		ev.Set("file.path", g("Path"))
	case prov == "microsoft-windows-terminalservices-localsessionmanager" && (w.EventID == "21" || w.EventID == "24" || w.EventID == "25"):
		cat("authentication", "session")
		typ(map[string]string{"21": "start", "24": "end", "25": "start"}[w.EventID])
		ev.Set("event.action", map[string]string{"21": "rdp-session-logon", "24": "rdp-session-disconnected", "25": "rdp-session-reconnected"}[w.EventID])
		setUserDomainForm(ev, g("User"))
		setIP(ev, "source.ip", g("Address"))
		ev.Set("winlog.session_id", g("SessionID"))
	case prov == "microsoft-windows-bits-client" && (w.EventID == "59" || w.EventID == "60"):
		cat("network")
		typ("connection")
		ev.Set("event.action", map[string]string{"59": "bits-transfer-started", "60": "bits-transfer-stopped"}[w.EventID])
		ev.Set("url.original", g("url"))
		ev.Set("file.name", g("name"))
		if n, err := event.ParseInt(g("bytesTransferred")); err == nil && n >= 0 {
			ev.SetInt("bits.bytes_transferred", n)
		}
		if n, err := event.ParseInt(g("bytesTotal")); err == nil && n >= 0 && g("bytesTotal") != "18446744073709551615" {
			ev.SetInt("bits.bytes_total", n)
		}
	case prov == "microsoft-windows-smbserver" && (g("ShareName") != "" || g("ClientAddress") != "" || g("ClientName") != ""):
		w.mapSMBServer(ev, cat, typ)
	case prov == "microsoft-windows-terminalservices-remoteconnectionmanager" && w.EventID == "1149":
		cat("authentication")
		typ("start")
		ev.Set("event.action", "rdp-authentication-succeeded")
		ev.Set("event.outcome", "success")
		ev.Set("user.name", g("Param1"))
		ev.Set("user.domain", g("Param2"))
		setIP(ev, "source.ip", g("Param3"))
	}
}

func (w *winRecord) mapSecurity(ev *event.Event, cat func(...string), typ func(...string)) {
	g := w.get
	subject := func() {
		ev.Set("user.name", g("SubjectUserName"))
		ev.Set("user.domain", g("SubjectDomainName"))
		ev.Set("user.id", g("SubjectUserSid"))
	}
	target := func() {
		ev.Set("user.name", g("TargetUserName"))
		ev.Set("user.domain", g("TargetDomainName"))
		ev.Set("user.id", g("TargetUserSid"))
	}
	logon := func() {
		if lt := g("LogonType"); lt != "" {
			ev.Set("winlog.logon.type", logonTypes[lt])
			ev.SetIntString("winlog.event_data.LogonType", lt)
		}
		ev.Set("winlog.logon.id", firstNonEmpty(g("TargetLogonId"), g("SubjectLogonId")))
		setIP(ev, "source.ip", g("IpAddress"))
		setPort(ev, "source.port", g("IpPort"))
		ev.Set("source.domain", g("WorkstationName"))
		setProcess(ev, "process", g("ProcessName"))
		ev.SetIntString("process.pid", g("ProcessId"))
	}
	switch w.EventID {
	case "4624":
		cat("authentication")
		typ("start")
		ev.Set("event.action", "logged-in")
		ev.Set("event.outcome", "success")
		target()
		logon()
	case "4625":
		cat("authentication")
		typ("start")
		ev.Set("event.action", "logon-failed")
		ev.Set("event.outcome", "failure")
		target()
		logon()
		ev.Set("event.reason", firstNonEmpty(g("FailureReason"), g("Status")))
	case "4634", "4647":
		cat("authentication")
		typ("end")
		ev.Set("event.action", "logged-out")
		ev.Set("event.outcome", "success")
		target()
		logon()
	case "4648":
		cat("authentication")
		typ("start")
		ev.Set("event.action", "logged-in-explicit")
		ev.Set("event.outcome", "success")
		subject()
		ev.Set("user.target.name", g("TargetUserName"))
		ev.Set("user.target.domain", g("TargetDomainName"))
		ev.Set("destination.domain", g("TargetServerName"))
		logon()
	case "4672":
		cat("iam")
		typ("admin")
		ev.Set("event.action", "logged-in-special")
		ev.Set("event.outcome", "success")
		subject()
		ev.Set("winlog.logon.id", g("SubjectLogonId"))
	case "4688":
		cat("process")
		typ("start")
		ev.Set("event.action", "created-process")
		ev.Set("event.outcome", "success")
		subject()
		if t := g("TargetUserName"); t != "" && t != "-" {
			ev.Set("user.name", t)
			ev.Set("user.domain", g("TargetDomainName"))
		}
		setProcess(ev, "process", g("NewProcessName"))
		ev.SetIntString("process.pid", g("NewProcessId"))
		ev.Set("process.command_line", g("CommandLine"))
		setProcess(ev, "process.parent", g("ParentProcessName"))
		ev.SetIntString("process.parent.pid", g("ProcessId"))
	case "4656", "4663":
		cat("file")
		typ("access")
		if w.EventID == "4656" {
			ev.Set("event.action", "object-handle-requested")
		} else {
			ev.Set("event.action", "object-accessed")
		}
		subject()
		ev.Set("file.path", g("ObjectName"))
		ev.Set("winlog.object_type", g("ObjectType"))
		setProcess(ev, "process", g("ProcessName"))
		ev.SetIntString("process.pid", g("ProcessId"))
		ev.Set("event.outcome", outcomeFromKeywords(w.Keywords))
		if t := fileAccessTypes(g("AccessMask"), g("AccessList")); t != nil {
			ev.Fields["event.type"] = t
		}
	case "5140", "5145":
		cat("network", "file")
		typ("access")
		if w.EventID == "5140" {
			ev.Set("event.action", "network-share-object-accessed")
		} else {
			ev.Set("event.action", "network-share-object-access-checked")
		}
		subject()
		setIP(ev, "source.ip", g("IpAddress"))
		setPort(ev, "source.port", g("IpPort"))
		share := strings.TrimPrefix(g("ShareLocalPath"), `\??\`)
		if rel := g("RelativeTargetName"); rel != "" {
			ev.Set("file.path", strings.TrimRight(share, `\`)+`\`+rel)
		} else {
			ev.Set("file.path", share)
		}
		ev.Set("winlog.share_name", g("ShareName"))
		ev.Set("event.outcome", outcomeFromKeywords(w.Keywords))
		if t := fileAccessTypes(g("AccessMask"), g("AccessList")); t != nil {
			ev.Fields["event.type"] = t
		}
	case "4768", "4769", "4770", "4771":
		// Kerberos on a domain controller: the client address of every ticket,
		// which ties an account (or a computer account, NAME$) to an address.
		cat("authentication")
		typ("start")
		ev.Set("event.action", kerberosActions[w.EventID])
		setKerberosUser(ev, g("TargetUserName"), g("TargetDomainName"))
		ev.Set("user.id", g("TargetSid"))
		setIP(ev, "source.ip", g("IpAddress"))
		setPort(ev, "source.port", g("IpPort"))
		ev.Set("service.name", g("ServiceName"))
		if st := strings.ToLower(g("Status")); st == "0x0" || st == "0" {
			ev.Set("event.outcome", "success")
		} else if st != "" {
			ev.Set("event.outcome", "failure")
			ev.Set("event.reason", g("Status"))
		}
	case "4776":
		cat("authentication")
		typ("start")
		ev.Set("event.action", "credential-validated")
		ev.Set("user.name", g("TargetUserName"))
		ev.Set("source.domain", g("Workstation"))
		if st := strings.ToLower(g("Status")); st == "0x0" || st == "0" {
			ev.Set("event.outcome", "success")
		} else if st != "" {
			ev.Set("event.outcome", "failure")
		}
	case "4778", "4779":
		// A remote desktop session reconnected or disconnected: who, from where.
		cat("authentication", "session")
		if w.EventID == "4778" {
			typ("start")
			ev.Set("event.action", "session-reconnected")
		} else {
			typ("end")
			ev.Set("event.action", "session-disconnected")
		}
		ev.Set("user.name", g("AccountName"))
		ev.Set("user.domain", g("AccountDomain"))
		ev.Set("winlog.logon.id", g("LogonID"))
		setIP(ev, "source.ip", g("ClientAddress"))
		ev.Set("source.domain", g("ClientName"))
	case "5156", "5157":
		// Windows Filtering Platform: the host's own address and the program behind a connection.
		cat("network")
		typ("connection")
		if w.EventID == "5156" {
			ev.Set("event.action", "network-connection-allowed")
			ev.Set("event.outcome", "success")
		} else {
			ev.Set("event.action", "network-connection-blocked")
			ev.Set("event.outcome", "failure")
		}
		setIP(ev, "source.ip", g("SourceAddress"))
		setPort(ev, "source.port", g("SourcePort"))
		setIP(ev, "destination.ip", g("DestAddress"))
		setPort(ev, "destination.port", g("DestPort"))
		ev.Set("network.iana_number", g("Protocol"))
		ev.Set("network.transport", ianaProto(g("Protocol")))
		setProcess(ev, "process", winDevicePath(g("Application")))
		ev.SetIntString("process.pid", g("ProcessID"))
		// The code, or its rendering in English or French (a message read back).
		switch d := strings.ToLower(g("Direction")); {
		case d == "%%14593" || d == "outbound" || strings.HasPrefix(d, "sortant"):
			ev.Set("network.direction", "egress")
		case d == "%%14592" || d == "inbound" || strings.HasPrefix(d, "entrant"):
			ev.Set("network.direction", "ingress")
		}
	case "1102":
		cat("iam")
		typ("admin", "change")
		ev.Set("event.action", "audit-log-cleared")
		ev.Set("user.name", g("SubjectUserName"))
		ev.Set("user.domain", g("SubjectDomainName"))
	case "4697":
		cat("iam", "configuration")
		typ("admin", "creation")
		ev.Set("event.action", "service-installed")
		subject()
		ev.Set("service.name", g("ServiceName"))
		ev.Set("service.type", g("ServiceType"))
		ev.Set("winlog.service.image_path", g("ServiceFileName"))
	case "4720":
		cat("iam")
		typ("user", "creation")
		ev.Set("event.action", "added-user-account")
		subject()
		ev.Set("user.target.name", g("TargetUserName"))
		ev.Set("user.target.domain", g("TargetDomainName"))
	case "4732", "4728", "4756":
		cat("iam")
		typ("group", "change")
		ev.Set("event.action", "added-member-to-group")
		subject()
		ev.Set("group.name", g("TargetUserName"))
		ev.Set("group.domain", g("TargetDomainName"))
		ev.Set("user.target.name", g("MemberName"))
		ev.Set("user.target.id", g("MemberSid"))
	default:
		if g("SubjectUserName") != "" {
			subject()
		}
	}
}

var kerberosActions = map[string]string{
	"4768": "kerberos-authentication-ticket-requested",
	"4769": "kerberos-service-ticket-requested",
	"4770": "kerberos-service-ticket-renewed",
	"4771": "kerberos-preauth-failed",
}

// setKerberosUser reads Kerberos' user@REALM form as well as a bare name.
func setKerberosUser(ev *event.Event, name, domain string) {
	if u, realm, ok := strings.Cut(name, "@"); ok && u != "" {
		ev.Set("user.name", u)
		ev.Set("user.domain", firstNonEmpty(domain, realm))
		return
	}
	ev.Set("user.name", name)
	ev.Set("user.domain", domain)
}

// winDevicePath turns WFP's \device\harddiskvolume2\... into a drive-less
// path the way Windows shows it; other paths are kept.
func winDevicePath(p string) string {
	l := strings.ToLower(p)
	if strings.HasPrefix(l, `\device\harddiskvolume`) {
		if i := strings.IndexByte(p[len(`\device\harddiskvolume`):], '\\'); i >= 0 {
			return p[len(`\device\harddiskvolume`)+i:]
		}
	}
	return p
}

// File access rights (MS-DTYP ACCESS_MASK for files) and the %%codes
// auditing writes for them in AccessList.
const (
	accessReadData   = 0x1
	accessWriteData  = 0x2
	accessAppendData = 0x4
	accessDelete     = 0x10000
)

// fileAccessTypes says what an object access did, in ECS event.type terms:
// access (read), change (write or append), deletion. Ransomware encrypting a
// share writes; a thief copying it only reads.
func fileAccessTypes(mask, list string) []string {
	var m int64
	if n, err := event.ParseInt(strings.TrimSpace(mask)); err == nil {
		m = n
	} else {
		for code, bit := range map[string]int64{"%%4416": accessReadData, "%%4417": accessWriteData, "%%4418": accessAppendData, "%%1537": accessDelete} {
			if strings.Contains(list, code) {
				m |= bit
			}
		}
	}
	var t []string
	if m&accessReadData != 0 {
		t = append(t, "access")
	}
	if m&(accessWriteData|accessAppendData) != 0 {
		t = append(t, "change")
	}
	if m&accessDelete != 0 {
		t = append(t, "deletion")
	}
	return t
}

func outcomeFromKeywords(k string) string {
	n, err := event.ParseInt(k)
	if err != nil {
		return ""
	}
	switch {
	case n&0x0020000000000000 != 0:
		return "success"
	case n&0x0010000000000000 != 0:
		return "failure"
	}
	return ""
}

func (w *winRecord) mapSysmon(ev *event.Event, cat func(...string), typ func(...string)) {
	g := w.get
	if u := g("User"); u != "" {
		setUserDomainForm(ev, u)
	}
	setProcess(ev, "process", g("Image"))
	ev.SetIntString("process.pid", g("ProcessId"))
	ev.Set("process.entity_id", g("ProcessGuid"))
	switch w.EventID {
	case "1":
		cat("process")
		typ("start")
		ev.Set("event.action", "process-created")
		ev.Set("process.command_line", g("CommandLine"))
		ev.Set("process.working_directory", g("CurrentDirectory"))
		ev.Set("process.pe.original_file_name", g("OriginalFileName"))
		ev.Set("process.hash.sysmon", g("Hashes"))
		setProcess(ev, "process.parent", g("ParentImage"))
		ev.SetIntString("process.parent.pid", g("ParentProcessId"))
		ev.Set("process.parent.command_line", g("ParentCommandLine"))
	case "3":
		cat("network")
		typ("connection", "start")
		ev.Set("event.action", "network-connection")
		ev.Set("network.transport", strings.ToLower(g("Protocol")))
		setIP(ev, "source.ip", g("SourceIp"))
		setPort(ev, "source.port", g("SourcePort"))
		ev.Set("source.domain", g("SourceHostname"))
		setIP(ev, "destination.ip", g("DestinationIp"))
		setPort(ev, "destination.port", g("DestinationPort"))
		ev.Set("destination.domain", g("DestinationHostname"))
		if strings.EqualFold(g("Initiated"), "true") {
			ev.Set("network.direction", "egress")
		} else if g("Initiated") != "" {
			ev.Set("network.direction", "ingress")
		}
	case "11":
		cat("file")
		typ("creation")
		ev.Set("event.action", "file-created")
		ev.Set("file.path", g("TargetFilename"))
		ev.Set("file.name", path.Base(strings.ReplaceAll(g("TargetFilename"), `\`, "/")))
	case "22":
		cat("network")
		typ("info")
		ev.Set("event.action", "dns-query")
		ev.Set("dns.question.name", g("QueryName"))
	default:
		ev.Set("event.action", "sysmon-"+w.EventID)
	}
}

// smbServerActions names the SMB server events that say who reached which
// share from where (Security, Operational, Audit and Connectivity channels).
var smbServerActions = map[string]string{
	"551":  "smb-session-authentication-failed",
	"1006": "smb-share-access-denied",
	"1007": "smb-share-anonymous-access-denied",
	"1009": "smb-session-anonymous-access-denied",
	"3000": "smb1-access",
	"4000": "smb-share-connected",
}

func (w *winRecord) mapSMBServer(ev *event.Event, cat func(...string), typ func(...string)) {
	g := w.get
	cat("network", "file")
	typ("access", "connection")
	if a, ok := smbServerActions[w.EventID]; ok {
		ev.Set("event.action", a)
	} else {
		ev.Set("event.action", "smbserver-"+w.EventID)
	}
	switch w.EventID {
	case "551", "1006", "1007", "1009":
		ev.Set("event.outcome", "failure")
	case "4000":
		ev.Set("event.outcome", "success")
	}
	if ip, port, ok := sockaddrFromHex(g("ClientAddress")); ok {
		setIP(ev, "source.ip", ip)
		if port != 0 {
			ev.SetInt("source.port", int64(port))
		}
	}
	// ClientName is the name or the \\address the client used.
	if cn := strings.TrimPrefix(g("ClientName"), `\\`); cn != "" {
		if net.ParseIP(cn) != nil {
			if _, ok := ev.Fields["source.ip"]; !ok {
				setIP(ev, "source.ip", cn)
			}
		} else {
			ev.Set("source.domain", cn)
		}
	}
	if u := g("UserName"); u != "" {
		setUserDomainForm(ev, u)
	}
	ev.Set("winlog.share_name", g("ShareName"))
	ev.Set("file.path", strings.TrimPrefix(g("SharePath"), `\??\`))
}

// sockaddrFromHex decodes the SOCKADDR the SMB server logs as hex binary:
// family (little-endian), port (network order), then the IPv4 address, or
// flow info and the IPv6 address.
func sockaddrFromHex(h string) (string, uint16, bool) {
	b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(h, "0x"), "0X"))
	if err != nil || len(b) < 8 {
		return "", 0, false
	}
	family := binary.LittleEndian.Uint16(b)
	port := binary.BigEndian.Uint16(b[2:])
	switch {
	case family == 2:
		return net.IP(b[4:8]).String(), port, true
	case family == 23 && len(b) >= 24:
		ip := net.IP(b[8:24])
		if v4 := ip.To4(); v4 != nil {
			return v4.String(), port, true
		}
		return ip.String(), port, true
	}
	return "", 0, false
}
