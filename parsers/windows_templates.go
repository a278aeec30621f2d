package parsers

import (
	"strconv"
	"strings"
)

// Some exports keep an event's EventData values without their names:
// ConvertTo-Json's Properties, Get-EventLog's ReplacementStrings. The
// values come in the order of the event's template, which Windows only
// ever extends at the end from one version to the next (4624 version 0
// stops at IpPort, version 1 adds ImpersonationLevel, version 2 the rest),
// so the newest template names the values of every version. These are the
// templates of the events the ECS mapping reads; TestEventDataTemplates
// checks each against the names in real .evtx files.
var wfpTemplate = []string{"ProcessID", "Application", "Direction", "SourceAddress", "SourcePort", "DestAddress", "DestPort",
	"Protocol", "FilterRTID", "LayerName", "LayerRTID", "RemoteUserID", "RemoteMachineID"}

var eventDataTemplates = map[string][]string{
	"microsoft-windows-security-auditing/4624": {"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "TargetUserSid",
		"TargetUserName", "TargetDomainName", "TargetLogonId", "LogonType", "LogonProcessName", "AuthenticationPackageName", "WorkstationName",
		"LogonGuid", "TransmittedServices", "LmPackageName", "KeyLength", "ProcessId", "ProcessName", "IpAddress", "IpPort",
		"ImpersonationLevel", "RestrictedAdminMode", "TargetOutboundUserName", "TargetOutboundDomainName", "VirtualAccount",
		"TargetLinkedLogonId", "ElevatedToken"},
	"microsoft-windows-security-auditing/4625": {"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "TargetUserSid",
		"TargetUserName", "TargetDomainName", "Status", "FailureReason", "SubStatus", "LogonType", "LogonProcessName",
		"AuthenticationPackageName", "WorkstationName", "TransmittedServices", "LmPackageName", "KeyLength", "ProcessId", "ProcessName",
		"IpAddress", "IpPort"},
	"microsoft-windows-security-auditing/4634": {"TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId", "LogonType"},
	"microsoft-windows-security-auditing/4647": {"TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId"},
	"microsoft-windows-security-auditing/4648": {"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "LogonGuid",
		"TargetUserName", "TargetDomainName", "TargetLogonGuid", "TargetServerName", "TargetInfo", "ProcessId", "ProcessName", "IpAddress", "IpPort"},
	"microsoft-windows-security-auditing/4672": {"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "PrivilegeList"},
	"microsoft-windows-security-auditing/4688": {"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "NewProcessId",
		"NewProcessName", "TokenElevationType", "ProcessId", "CommandLine", "TargetUserSid", "TargetUserName", "TargetDomainName",
		"TargetLogonId", "ParentProcessName", "MandatoryLabel"},
	"microsoft-windows-security-auditing/4656": {"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "ObjectServer",
		"ObjectType", "ObjectName", "HandleId", "TransactionId", "AccessList", "AccessReason", "AccessMask", "PrivilegeList",
		"RestrictedSidCount", "ProcessId", "ProcessName", "ResourceAttributes"},
	"microsoft-windows-security-auditing/4663": {"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "ObjectServer",
		"ObjectType", "ObjectName", "HandleId", "AccessList", "AccessMask", "ProcessId", "ProcessName", "ResourceAttributes"},
	"microsoft-windows-security-auditing/5140": {"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "ObjectType",
		"IpAddress", "IpPort", "ShareName", "ShareLocalPath", "AccessMask", "AccessList"},
	// The Windows Filtering Platform's permitted and blocked connections;
	// version 1 adds RemoteUserID and RemoteMachineID.
	"microsoft-windows-security-auditing/5156": wfpTemplate,
	"microsoft-windows-security-auditing/5157": wfpTemplate,
	"microsoft-windows-security-auditing/5145": {"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "ObjectType",
		"IpAddress", "IpPort", "ShareName", "ShareLocalPath", "RelativeTargetName", "AccessMask", "AccessList", "AccessReason"},
	"microsoft-windows-security-auditing/4768": {"TargetUserName", "TargetDomainName", "TargetSid", "ServiceName", "ServiceSid",
		"TicketOptions", "Status", "TicketEncryptionType", "PreAuthType", "IpAddress", "IpPort", "CertIssuerName", "CertSerialNumber",
		"CertThumbprint"},
	"microsoft-windows-security-auditing/4769": {"TargetUserName", "TargetDomainName", "ServiceName", "ServiceSid", "TicketOptions",
		"TicketEncryptionType", "IpAddress", "IpPort", "Status", "LogonGuid", "TransmittedServices"},
	"microsoft-windows-security-auditing/4776": {"PackageName", "TargetUserName", "Workstation", "Status"},
	"microsoft-windows-security-auditing/4720": {"TargetUserName", "TargetDomainName", "TargetSid", "SubjectUserSid", "SubjectUserName",
		"SubjectDomainName", "SubjectLogonId", "PrivilegeList", "SamAccountName", "DisplayName", "UserPrincipalName", "HomeDirectory",
		"HomePath", "ScriptPath", "ProfilePath", "UserWorkstations", "PasswordLastSet", "AccountExpires", "PrimaryGroupId",
		"AllowedToDelegateTo", "OldUacValue", "NewUacValue", "UserAccountControl", "UserParameters", "SidHistory", "LogonHours"},
	"microsoft-windows-security-auditing/4728": groupMemberTemplate,
	"microsoft-windows-security-auditing/4732": groupMemberTemplate,
	"microsoft-windows-security-auditing/4756": groupMemberTemplate,
	// UserData events: the values of their one element, in order.
	"microsoft-windows-eventlog/1102":   {"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId"},
	"microsoft-windows-eventlog/104":    {"SubjectUserName", "SubjectDomainName", "Channel", "BackupPath"},
	"service control manager/7045":      {"ServiceName", "ImagePath", "ServiceType", "StartType", "AccountName"},
	"microsoft-windows-powershell/4104": {"MessageNumber", "MessageTotal", "ScriptBlockText", "ScriptBlockId", "Path"},
}

var groupMemberTemplate = []string{"MemberName", "MemberSid", "TargetUserName", "TargetDomainName", "TargetSid", "SubjectUserSid",
	"SubjectUserName", "SubjectDomainName", "SubjectLogonId", "PrivilegeList"}

// templateEventData names values by the event's template, or gives nil
// when there is none or the values do not fit it.
func templateEventData(provider, id string, values []string) []kv {
	t := eventDataTemplates[strings.ToLower(provider)+"/"+id]
	// Fewer than half the template's values is not one of its versions
	// (an export that wrote an object's type name for the values).
	if t == nil || len(values) == 0 || len(values) > len(t) || 2*len(values) < len(t) {
		return nil
	}
	out := make([]kv, len(values))
	for i, v := range values {
		out[i] = kv{t[i], v}
	}
	return out
}

// paramEventData keeps values no template names as param1, param2…
func paramEventData(values []string) []kv {
	var out []kv
	for i, v := range values {
		out = append(out, kv{"param" + strconv.Itoa(i+1), v})
	}
	return out
}
