package reports

import "github.com/exfiltrace/exfiltrace/event"

// analyzerReads are the event fields the Analyzer reads beside its rules
// (ledgers, links, coverage, folders): Build decodes only these and the
// rules' own from the event store — a firewall session's dozens of vendor
// fields are read past, which was a fifth of a report's time and half its
// memory. TestAnalyzerReadsListed fails when code here reads a field this
// list lacks.
var analyzerReads = []string{
	event.FieldDataset, event.FieldFile, event.FieldLine, event.FieldRecord, event.FieldSHA256,
	"observer.type", "observer.serial_number", "observer.ip", "observer.name", "tags",
	"event.action", "event.code", "event.outcome", "event.category", "event.type", "event.start", "event.end",
	"source.ip", "source.port", "source.domain", "source.bytes", "destination.bytes",
	"destination.ip", "destination.port", "destination.domain", "url.domain", "url.scheme", "http.request.method", "http.response.status_code",
	"network.bytes", "network.direction",
	"user.name", "host.name", "file.path",
	"client.ip", "client.domain", "client.mac", "dhcp.lease.end",
	"fortinet.firewall.sentbyte", "fortinet.firewall.sessionid", "fortinet.firewall.assigned_ip", "cisco.vpn.assigned_ip", "pulse.assigned_ip", "panw.panos.assigned_ip",
	"winlog.channel", "winlog.provider_name", "winlog.logon.id", "winlog.session_id", "winlog.event_data.LogonType", "event.timezone",
	"email.size", "email.from.address", "email.to.address", "email.direction",
}

// analyzerSuffixes end the names of fields named after their dataset
// (postfix.queue_id, exim.relay_ip) that the mail ledger reads.
var analyzerSuffixes = []string{".queue_id", ".relay_ip"}
