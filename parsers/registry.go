package parsers

// registry lists the formats in detection order: binary and strongly marked
// formats first, generic ones last. Adding a format is one file plus one line here.
var registry = []Format{
	EVTX{},
	WindowsXML{},
	Winlogbeat{},
	// Collector exports before the formats of the lines they carry.
	CSVExport{},
	JSONExport{},
	Zeek{},
	Suricata{},
	M365Audit{},
	Stormshield{},
	SonicWall{},
	CiscoASA{},
	CheckPoint{},
	CEF{},
	LEEF{},
	Squid{},
	CLF{},
	PanOS{},
	FortiGate{},
	SophosXG{},
	SophosUTM{},
	JuniperSRX{},
	NetScreen{},
	WatchGuard{},
	MikroTik{},
	ProxmoxFirewall{},
	WindowsFirewall{},
	WindowsDHCP{},
	DHCPLeases{},
	ISCDHCPd{},
	Postfix{},
	Dovecot{},
	Exim{},
	Sendmail{},
	PfFilterlog{},
	Netfilter{},
	ExchangeProtocol{},
	ExchangeTracking{},
	// Last: only when no single format holds most lines.
	Mixed{},
	// Any syslog line no format above claims: time, host, program, message.
	Syslog{},
}
