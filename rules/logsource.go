package rules

import (
	"net/netip"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/exfiltrace/exfiltrace/event"
)

// view adapts an event to Sigma: field names as Sigma's Windows rules write
// them (Image, CommandLine, EventID, Provider_Name…) resolve to the event
// model, and lowercase forms are computed once per event.
//
// The engine reuses one view from event to event: making its maps for every
// event was a third of the rules' time.
type view struct {
	ev     *event.Event
	lc     map[string]string
	all    []string
	allLow []string // all, lowered
	// joined is all lowered, between NULs, once joinedDone (allJoined);
	// "" when it cannot be searched.
	joined     string
	joinedDone bool
	sources    []string // the Sigma logsources this event belongs to
	// one holds the one-value lists values hands out for the event, so
	// that matching a string field allocates nothing.
	one []string
	// data caches the EventData and UserData field names of a Sigma name.
	data            map[string]*[2]string
	lastIn, lastOut string // the last value lowered, and its lowered form
	// evRef is what a finding keeps of the event (refOf), made once for
	// every rule and correlation it matches.
	evRef *evRef
	// lastAddr is the last value read as an address (addr), and the address.
	lastAddr   string
	addrParsed netip.Addr
	addrOK     bool
	// noKeyword: the event's stored document holds no keyword of a rule
	// (rawGate), and it was decoded in part: every keyword list fails.
	noKeyword bool
}

// point points the view at the next event, placed in sources (those of
// eventLogsources): the view keeps the list until the next event.
func (v *view) point(ev *event.Event, sources []string) {
	v.ev, v.noKeyword = ev, false
	if len(v.lc) > 0 {
		clear(v.lc)
	}
	v.all, v.allLow = nil, nil // handed out to matchers: never reused
	v.joined, v.joinedDone = "", false
	v.one = v.one[:0]
	v.sources = sources
	v.lastIn, v.lastOut = "", ""
	v.evRef = nil
	v.lastAddr, v.addrParsed, v.addrOK = "", netip.Addr{}, false
}

// release lets go of the event, for a view kept in a pool.
func (v *view) release() {
	v.ev, v.all, v.allLow = nil, nil, nil
	v.joined, v.joinedDone = "", false
	v.lastIn, v.lastOut, v.evRef = "", "", nil
	v.lastAddr, v.addrParsed, v.addrOK = "", netip.Addr{}, false
	clear(v.lc)
	clear(v.one)
	v.one = v.one[:0]
}

func (v *view) lower(s string) string {
	// A field tested against a list of patterns asks for the same value
	// once per pattern.
	if s == v.lastIn {
		return v.lastOut
	}
	l := s
	if !loweredASCII(s) { // addresses, names already lowered: no map to consult
		l = v.lowerCached(s)
	}
	v.lastIn, v.lastOut = s, l
	return l
}

// ref is what a finding keeps of the event.
func (v *view) ref() *evRef {
	if v.evRef == nil {
		v.evRef = refOf(v.ev)
	}
	return v.evRef
}

// addr reads s as an address (IPv4 in IPv6 unmapped): a field tested
// against a list of networks asks for the same value once per network.
func (v *view) addr(s string) (netip.Addr, bool) {
	if s != v.lastAddr { // "" is not an address, as the zero view says
		a, err := netip.ParseAddr(s)
		v.lastAddr, v.addrParsed, v.addrOK = s, a.Unmap(), err == nil
	}
	return v.addrParsed, v.addrOK
}

func (v *view) lowerCached(s string) string {
	if v.lc == nil {
		v.lc = make(map[string]string, 16)
	}
	if l, ok := v.lc[s]; ok {
		return l
	}
	l := strings.ToLower(s)
	v.lc[s] = l
	return l
}

// loweredASCII says whether s is ASCII without a capital letter: what
// strings.ToLower returns unchanged.
func loweredASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return true
}

// sigmaFields maps Sigma's System-level names and the generic names of its
// taxonomy to the event model; other names are looked up in EventData.
var sigmaFields = map[string][]string{
	"EventID":             {"winlog.event_id"},
	"Provider_Name":       {"winlog.provider_name"},
	"Channel":             {"winlog.channel"},
	"Computer":            {"winlog.computer_name"},
	"ComputerName":        {"winlog.computer_name"},
	"Image":               {"winlog.event_data.Image", "process.executable"},
	"ParentImage":         {"winlog.event_data.ParentImage", "process.parent.executable"},
	"CommandLine":         {"winlog.event_data.CommandLine", "process.command_line"},
	"ParentCommandLine":   {"winlog.event_data.ParentCommandLine", "process.parent.command_line"},
	"OriginalFileName":    {"winlog.event_data.OriginalFileName", "process.pe.original_file_name"},
	"TargetFilename":      {"winlog.event_data.TargetFilename", "file.path"},
	"DestinationIp":       {"winlog.event_data.DestinationIp", "destination.ip"},
	"DestinationPort":     {"winlog.event_data.DestinationPort", "destination.port"},
	"DestinationHostname": {"winlog.event_data.DestinationHostname", "destination.domain"},
	"SourceIp":            {"winlog.event_data.SourceIp", "source.ip"},
	"SourcePort":          {"winlog.event_data.SourcePort", "source.port"},
	"QueryName":           {"winlog.event_data.QueryName", "dns.question.name"},
	"ScriptBlockText":     {"winlog.event_data.ScriptBlockText", "powershell.file.script_block_text"},
	// Sigma's proxy taxonomy (category: proxy), as the proxy readers store it.
	"c-uri":           {"url.original"},
	"c-uri-extension": {"url.extension"},
	"c-uri-query":     {"url.query"},
	"c-uri-stem":      {"url.path"},
	"c-useragent":     {"user_agent.original"},
	"cs-host":         {"url.domain", "destination.domain"},
	"r-dns":           {"destination.domain", "url.domain"},
	"cs-method":       {"http.request.method"},
	"cs-referrer":     {"http.request.referrer"},
	"cs-version":      {"http.version"},
	"sc-status":       {"http.response.status_code"},
	"cs-bytes":        {"http.request.bytes"},
	"sc-bytes":        {"http.response.bytes"},
	"src_ip":          {"source.ip"},
	"dst_ip":          {"destination.ip"},
	"cs-uri":          {"url.original"},
	// Sigma's webserver taxonomy (category: webserver) beside the proxy's.
	"cs-uri-query":  {"url.query"},
	"cs-uri-stem":   {"url.path"},
	"cs-user-agent": {"user_agent.original"},
	"cs-referer":    {"http.request.referrer"},
}

// values returns a field's values as strings. The list is valid until the
// view moves to the next event.
func (v *view) values(field string) []string {
	if strings.Contains(field, ".") {
		return v.strings(field)
	}
	if alts, ok := sigmaFields[field]; ok {
		for _, f := range alts {
			if vals := v.strings(f); len(vals) > 0 {
				return vals
			}
		}
		return nil
	}
	data := v.data[field]
	if data == nil {
		if v.data == nil {
			v.data = map[string]*[2]string{}
		}
		data = &[2]string{"winlog.event_data." + field, "winlog.user_data." + field}
		v.data[field] = data
	}
	if vals := v.strings(data[0]); len(vals) > 0 {
		return vals
	}
	if vals := v.strings(data[1]); len(vals) > 0 {
		return vals
	}
	// Sysmon 4688 equivalents of Sysmon names.
	switch field {
	case "User":
		if u := v.ev.Str("user.name"); u != "" {
			if d := v.ev.Str("user.domain"); d != "" {
				return []string{d + `\` + u}
			}
			return []string{u}
		}
	case "ProcessId":
		return v.strings("process.pid")
	case "ParentProcessId":
		return v.strings("process.parent.pid")
	}
	return v.strings(field)
}

// strings is Event.Strings without allocating a list for one value.
func (v *view) strings(k string) []string {
	var s string
	switch x := v.ev.Fields[k].(type) {
	case nil:
		return nil
	case []string:
		return x
	case string:
		s = x
	default:
		s = v.ev.Str(k)
	}
	if s == "" {
		return nil
	}
	v.one = append(v.one, s)
	n := len(v.one)
	return v.one[n-1 : n : n]
}

// allLowered is allValues, lowered.
func (v *view) allLowered() []string {
	if v.allLow == nil {
		for _, s := range v.allValues() {
			v.allLow = append(v.allLow, v.lower(s))
		}
	}
	return v.allLow
}

// allJoined is allValues lowered and joined, each value between NULs, for
// keyword searches (keywordM.joined); ok is false when there is no value, or
// a value holds a NUL and would fake a boundary.
func (v *view) allJoined() (joined string, ok bool) {
	if !v.joinedDone {
		v.joinedDone = true
		vals := v.allValues()
		n := 1
		for _, s := range vals {
			if strings.IndexByte(s, 0) >= 0 {
				return "", false
			}
			n += len(s) + 1
		}
		if len(vals) == 0 {
			return "", false
		}
		var b strings.Builder
		b.Grow(n)
		b.WriteByte(0)
		for _, s := range vals {
			b.WriteString(s)
			b.WriteByte(0)
		}
		// Lowering maps rune by rune, so the joined values lowered are the
		// values lowered, joined.
		v.joined = strings.ToLower(b.String())
	}
	// Never "" when searchable: it holds at least two NULs.
	return v.joined, v.joined != ""
}

// allValues lists every string value of the event, for keyword searches.
func (v *view) allValues() []string {
	if v.all == nil {
		// In any order: a keyword matches whichever value holds it.
		for k := range v.ev.Fields {
			if k == event.FieldOriginal || k == event.FieldID || k == event.FieldSHA256 || k == event.FieldFile {
				continue
			}
			v.all = append(v.all, v.ev.Strings(k)...)
		}
	}
	return v.all
}

// sysmonCategory maps Sysmon event ids to Sigma logsource categories.
var sysmonCategory = map[string][]string{
	"1": {"process_creation"}, "2": {"file_change"}, "3": {"network_connection"}, "4": {"sysmon_status"},
	"5": {"process_termination"}, "6": {"driver_load"}, "7": {"image_load"}, "8": {"create_remote_thread"},
	"9": {"raw_access_thread"}, "10": {"process_access"}, "11": {"file_event"},
	"12": {"registry_add", "registry_delete", "registry_event"}, "13": {"registry_set", "registry_event"},
	"14": {"registry_rename", "registry_event"}, "15": {"create_stream_hash"}, "16": {"sysmon_status"},
	"17": {"pipe_created"}, "18": {"pipe_created"}, "19": {"wmi_event"}, "20": {"wmi_event"}, "21": {"wmi_event"},
	"22": {"dns_query"}, "23": {"file_delete"}, "24": {"clipboard_capture"}, "25": {"process_tampering"},
	"26": {"file_delete_detected", "file_delete"}, "27": {"file_block_executable"}, "28": {"file_block_shredding"},
	"29": {"file_executable_detected"}, "255": {"sysmon_error"},
}

// serviceChannels maps Sigma Windows services to event log channels (from
// Sigma's Windows logsource documentation).
var serviceChannels = map[string]string{
	"security": "security", "system": "system", "application": "application",
	"sysmon":                               "microsoft-windows-sysmon/operational",
	"powershell":                           "microsoft-windows-powershell/operational",
	"powershell-classic":                   "windows powershell",
	"taskscheduler":                        "microsoft-windows-taskscheduler/operational",
	"wmi":                                  "microsoft-windows-wmi-activity/operational",
	"dns-server":                           "dns server",
	"driver-framework":                     "microsoft-windows-driverframeworks-usermode/operational",
	"ntlm":                                 "microsoft-windows-ntlm/operational",
	"windefend":                            "microsoft-windows-windows defender/operational",
	"bits-client":                          "microsoft-windows-bits-client/operational",
	"codeintegrity-operational":            "microsoft-windows-codeintegrity/operational",
	"firewall-as":                          "microsoft-windows-windows firewall with advanced security/firewall",
	"msexchange-management":                "msexchange management",
	"applocker":                            "microsoft-windows-applocker/exe and dll",
	"dns-client":                           "microsoft-windows-dns client events/operational",
	"terminalservices-localsessionmanager": "microsoft-windows-terminalservices-localsessionmanager/operational",
	"smbclient-security":                   "microsoft-windows-smbclient/security",
	"smbserver-connectivity":               "microsoft-windows-smbserver/connectivity",
	"openssh":                              "openssh/operational",
	"appxdeployment-server":                "microsoft-windows-appxdeploymentserver/operational",
	"capi2":                                "microsoft-windows-capi2/operational",
	"ldap":                                 "microsoft-windows-ldap-client/debug",
	"lsa-server":                           "microsoft-windows-lsa/operational",
	"security-mitigations":                 "microsoft-windows-security-mitigations/kernel mode",
	"shell-core":                           "microsoft-windows-shell-core/operational",
	"iis-configuration":                    "microsoft-iis-configuration/operational",
	"appmodel-runtime":                     "microsoft-windows-appmodel-runtime/admin",
	"appxpackaging-om":                     "microsoft-windows-appxpackagingom/microsoft-windows-appxpackaging/operational",
	"diagnosis-scripted":                   "microsoft-windows-diagnosis-scripted/operational",
	"certificateservicesclient-lifecycle-system": "microsoft-windows-certificateservicesclient-lifecycle-system/operational",
	"microsoft-servicebus-client":                "microsoft-servicebus-client",
	"servicebus-client":                          "microsoft-servicebus-client",
	"terminalservices-remoteconnectionmanager":   "microsoft-windows-terminalservices-remoteconnectionmanager/operational",
	"rdp-corets": "microsoft-windows-remotedesktopservices-rdpcorets/operational",
}

// eventLogsources lists the "product/category" and "product/service" keys an
// event belongs to, e.g. "windows/process_creation", "windows/security".
func eventLogsources(ev *event.Event, out []string) []string {
	if ch := ev.Str("winlog.channel"); ch != "" {
		out = addSource(out, "windows")
		for _, k := range sourcesOfChannel(ch) {
			out = addSource(out, k)
		}
		prov := ev.Str("winlog.provider_name")
		id := ev.Str("winlog.event_id")
		switch {
		case prov == "Microsoft-Windows-Sysmon":
			for _, k := range sysmonSources[id] {
				out = addSource(out, k)
			}
		case prov == "Microsoft-Windows-Security-Auditing" && id == "4688":
			out = addSource(out, "windows/process_creation")
		case prov == "Microsoft-Windows-Security-Auditing" && id == "4663":
			out = addSource(out, "windows/file_access")
		case prov == "Microsoft-Windows-PowerShell" && id == "4104":
			out = addSource(out, "windows/ps_script")
		case prov == "Microsoft-Windows-PowerShell" && id == "4103":
			out = addSource(out, "windows/ps_module")
		case prov == "PowerShell" && id == "400":
			out = addSource(out, "windows/ps_classic_start")
		case prov == "PowerShell" && id == "600":
			out = addSource(out, "windows/ps_classic_provider_start")
		}
		return out
	}
	switch ds := ev.Str(event.FieldDataset); {
	case ds == "squid", ds == "w3c_proxy.access", ev.Str("observer.type") == "proxy":
		// A web proxy's requests: Sigma's proxy rules, and the pack's
		// network rules (a host name, a URL) as on a firewall's sessions.
		out = addSource(out, "proxy")
		out = addSource(out, "firewall")
		out = addSource(out, "network")
	case ds == "iis.access":
		out = addSource(out, "webserver")
	case ds == "clf":
		// Web servers' and VPN portals' access logs, Squid's too in CLF.
		out = addSource(out, "webserver")
		out = addSource(out, "firewall")
		out = addSource(out, "network")
	case strings.HasPrefix(ds, "fortinet."), ds == "stormshield", strings.HasPrefix(ds, "sonicwall."), ds == "firewall", strings.HasPrefix(ds, "cisco."),
		ds == "panw.panos", ds == "netfilter", ds == "pf", strings.HasPrefix(ds, "zeek."), strings.HasPrefix(ds, "suricata."),
		ds == "cef", ds == "leef", ds == "checkpoint":
		out = addSource(out, "firewall")
		out = addSource(out, "network")
	case ev.Str("observer.type") == "firewall", ev.Str("observer.type") == "vpn":
		// A VPN concentrator of its own (Ivanti Connect Secure) logs the
		// logins and tunnels a firewall's VPN would: the same rules.
		out = addSource(out, "firewall")
		out = addSource(out, "network")
	case ds == "postfix", ds == "exim", ds == "sendmail", strings.HasPrefix(ds, "microsoft.exchange"), ds == "fortinet_fortimail.log", ds == "cisco_secure_email_gateway.log", ds == "o365.audit", ds == "dovecot",
		strings.HasPrefix(ds, "zimbra."), ds == "cyrus.imap":
		out = addSource(out, "mail")
	}
	return out
}

// channelSources and sysmonSources are serviceChannels and sysmonCategory
// as logsource keys, looked up per event: ranging over the services and
// joining strings cost 6 % of a SigmaHQ hunt.
var channelSources, sysmonSources = func() (byChannel, bySysmon map[string][]string) {
	byChannel, bySysmon = map[string][]string{}, map[string][]string{}
	for svc, c := range serviceChannels {
		byChannel[c] = append(byChannel[c], "windows/"+svc)
	}
	for _, keys := range byChannel {
		slices.Sort(keys)
	}
	for id, cats := range sysmonCategory {
		for _, c := range cats {
			bySysmon[id] = append(bySysmon[id], "windows/"+c)
		}
	}
	return byChannel, bySysmon
}()

// sourcesOfChannel is the services' keys of an event log channel, named in
// any case; lowered in a buffer, as the channel of every event is.
func sourcesOfChannel(ch string) []string {
	var buf [128]byte
	if len(ch) > len(buf) {
		return channelSources[strings.ToLower(ch)]
	}
	for i := 0; i < len(ch); i++ {
		c := ch[i]
		if c >= utf8.RuneSelf {
			return channelSources[strings.ToLower(ch)]
		}
		buf[i] = lowerASCII[c]
	}
	return channelSources[string(buf[:len(ch)])]
}

// addSource adds a logsource key once: a rule must not run twice on one event.
func addSource(out []string, k string) []string {
	if slices.Contains(out, k) {
		return out
	}
	return append(out, k)
}

// logsourceKey is the key a rule's logsource must find in an event's set;
// "" means the rule applies to every event.
func logsourceKey(ls Logsource) (string, error) {
	p, c, s := strings.ToLower(ls.Product), strings.ToLower(ls.Category), strings.ToLower(ls.Service)
	switch {
	case p == "windows" && c != "":
		return "windows/" + c, nil
	case p == "windows" && s != "":
		if _, ok := serviceChannels[s]; !ok {
			return "", errUnsupported{"logsource service " + s + " (no channel mapping)"}
		}
		return "windows/" + s, nil
	case p == "windows":
		return "windows", nil
	case p == "" && c == "firewall":
		return "firewall", nil
	case p == "" && c == "" && s == "":
		return "", nil
	case p != "":
		return p + "/" + c + s, nil
	}
	return c + s, nil
}
