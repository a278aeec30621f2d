package parsers

import (
	"strings"
	"testing"
)

// TestZoneAssumed: a file says when some of its times named no zone and
// were read in --tz (FileStats.ZoneAssumed, which the report turns into a
// reason): a classic or zoneless syslog stamp that dates an event, a
// device's own time without its offset, a forwarder's local time — not an
// epoch, an offset or a zone the line gives, nor a relay's header before a
// device's own zoned time.
func TestZoneAssumed(t *testing.T) {
	const kv = ` logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.1.1.1 srcport=50000 dstip=93.184.216.34 dstport=443 proto=6 action="close" sentbyte=1000 rcvdbyte=2000`
	cef := "Mar 14 23:41:02 collector CEF:0|Vendor|Gateway|1.0|100|connection closed|3|src=10.1.1.1 dst=93.184.216.34 "
	panos := "1,2025/03/14 23:50:40,012801012345,TRAFFIC,end,2561,2025/03/14 23:50:40,10.10.1.20,31.216.145.5,203.0.113.10,31.216.145.5,allow-web,,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,default,2025/03/14 23:50:40,4812,1,60100,443,60100,443,0x41c,tcp,allow,230929700,228392011,2537689,164951,2025/03/14 23:32:37,1083,any,0,7204134051344758260,0x0,10.0.0.0-10.255.255.255,New Zealand,0,163138,1813,tcp-fin"
	for _, c := range []struct {
		name, format, text string
		want               bool
	}{
		{"fortigate eventtime", "fortigate", `date=2025-03-14 time=23:50:40 eventtime=1741992640000000000` + kv, false},
		{"fortigate date, time and tz", "fortigate", `date=2025-03-14 time=23:50:40 tz="+0100"` + kv, false},
		{"fortigate date and time alone", "fortigate", `date=2025-03-14 time=23:50:40` + kv, true},
		{"fortigate behind a classic relay header", "fortigate", `Mar 14 23:50:41 fw01 date=2025-03-14 time=23:50:40 tz="+0100"` + kv, false},
		{"sonicwall in UTC", "sonicwall", `<134>id=firewall sn=0040100A2B3C time="2025-03-14 23:10:02 UTC" fw=203.0.113.10 pri=6 c=1024 m=537 msg="Connection Closed" n=1 src=10.10.1.20:60122:X0 dst=31.216.145.5:443:X1 proto=tcp/https sent=1 rcvd=2`, false},
		{"sonicwall local", "sonicwall", `<134>id=firewall sn=0040100A2B3C time="2025-03-14 23:10:02" fw=203.0.113.10 pri=6 c=1024 m=537 msg="Connection Closed" n=1 src=10.10.1.20:60122:X0 dst=31.216.145.5:443:X1 proto=tcp/https sent=1 rcvd=2`, true},
		{"stormshield with tz", "stormshield", `id=firewall time="2025-03-14 23:04:01" fw="SN" tz=+0100 startime="2025-03-14 23:00:01" pri=5 ipproto=tcp src=10.10.1.20 srcport=60200 dst=31.216.145.5 dstport=443 sent=1 rcvd=2 duration=240.00 action=pass logtype="connection"`, false},
		{"stormshield without", "stormshield", `id=firewall time="2025-03-14 23:04:01" fw="SN" startime="2025-03-14 23:00:01" pri=5 ipproto=tcp src=10.10.1.20 srcport=60200 dst=31.216.145.5 dstport=443 sent=1 rcvd=2 duration=240.00 action=pass logtype="connection"`, true},
		{"sophos xg with its zone", "sophos-xg", `device="SFW" date=2025-03-14 time=23:41:02 timezone="CET" device_name="XG230" log_id=010101600001 log_type="Firewall" log_component="Firewall Rule" log_subtype="Allowed" src_ip=10.1.1.1 dst_ip=93.184.216.34 bytes_sent=1 bytes_received=2`, false},
		{"sophos xg with its offset behind a classic header", "sophos-xg", `Mar 14 23:12:09 xg device_name="SFW" timestamp="2025-03-14T23:12:09+0100" log_id="010101600001" log_type="Firewall" log_component="Firewall Rule" log_subtype="Allowed" src_ip="10.1.1.1" dst_ip="93.184.216.34"`, false},
		{"cisco asa behind a classic header", "cisco-asa", `Mar 14 23:05:01 asa01 %ASA-6-302013: Built outbound TCP connection 4812 for outside:31.216.145.5/443 (31.216.145.5/443) to inside:10.10.1.20/60100 (203.0.113.10/60100)`, true},
		{"postfix with an offset", "postfix", `2025-03-14T23:43:32.000000+01:00 mail01 postfix/smtpd[4100]: connect from unknown[10.212.134.200]`, false},
		{"postfix classic", "postfix", `Mar 14 23:43:32 mail01 postfix/smtpd[4100]: connect from unknown[10.212.134.200]`, true},
		{"pan-os behind an IETF header", "panos", "<14>1 2025-03-14T23:50:40+01:00 PA-AGGLO - - - - " + panos, false},
		{"pan-os behind a classic header", "panos", "<14>Mar 14 23:50:40 PA-AGGLO " + panos, true},
		{"cef dated by rt", "cef", cef + "rt=1741995662000", false},
		{"cef dated by the relay", "cef", cef + "act=close", true},
		{"juniper srx, structured with an offset", "juniper-srx", `<14>1 2025-03-14T23:41:02.120+01:00 SRX-MAIRIE RT_FLOW - RT_FLOW_SESSION_CLOSE [junos@2636.1.1.1.2.129 reason="TCP FIN" source-address="10.20.1.15" source-port="51544" destination-address="185.220.101.4" destination-port="443" protocol-id="6" bytes-from-client="1073741824" bytes-from-server="21474836" elapsed-time="1834"]`, false},
		{"juniper srx, structured without", "juniper-srx", `<14>1 2025-03-14T23:41:02.120 SRX-MAIRIE RT_FLOW - RT_FLOW_SESSION_CLOSE [junos@2636.1.1.1.2.129 reason="TCP FIN" source-address="10.20.1.15" source-port="51544" destination-address="185.220.101.4" destination-port="443" protocol-id="6" bytes-from-client="1073741824" bytes-from-server="21474836" elapsed-time="1834"]`, true},
		{"check point with an offset", "checkpoint", `1 2025-03-14T23:41:02Z gw-mairie CheckPoint 1234 - [action:"Accept"; src:"10.1.1.1"; dst:"93.184.216.34"; service:"443"; proto:"6"]`, false},
		{"check point without", "checkpoint", `1 2025-03-14T23:41:02 gw-mairie CheckPoint 1234 - [action:"Accept"; src:"10.1.1.1"; dst:"93.184.216.34"; service:"443"; proto:"6"]`, true},
		{"check point in epoch seconds", "checkpoint", `gw-mairie CheckPoint 1234 - [time:"1741992062"; action:"Accept"; src:"10.1.1.1"; dst:"93.184.216.34"; service:"443"; proto:"6"]`, false},
		{"windows dhcp", "windows-dhcp", "ID,Date,Time,Description,IP Address,Host Name,MAC Address,User Name, TransactionID, QResult,Probationtime, CorrelationID,Dhcid,VendorClass(Hex),VendorClass(ASCII),UserClass(Hex),UserClass(ASCII),RelayAgentInformation,DnsRegError.\n10,03/14/25,08:02:41,Assign,10.20.1.57,PC-URBA-03.mairie.local,A4BB6D1F0C22,,2887461234,0,,,,,,,,,0", true},
		{"ms dns debug", "ms-dns-debug", "14/03/2025 23:05:01 0E3C PACKET  000001D7A1B2C3D0 UDP Rcv 10.20.1.15      a1b2   Q [0001   D   NOERROR] A      (3)g00(4)mega(2)nz(0)", true},
		{"zimbra", "zimbra", "2025-03-14 23:06:40,017 INFO  [Pop3SSLServer-877] [name=j.martin@mairie.fr;ip=10.20.0.25;oip=203.0.113.7;] pop - RETR 1 size=8812345", true},
		{"dovecot's own log", "dovecot", "2025-03-14 23:06:40 imap(j.martin)<4711><abc>: Info: Logged out in=120 out=8812345", true},
		{"dovecot's own log in tai64n", "dovecot", "@4000000067d4b5f01c9c3800 imap(j.martin)<4711><abc>: Info: Logged out in=120 out=8812345", false},
		{"dhcpd leases in UTC", "dhcp-leases", "lease 10.20.1.57 {\n  starts 5 2025/03/14 07:02:41;\n  ends 5 2025/03/14 19:02:41;\n  hardware ethernet a4:bb:6d:1f:0c:22;\n  client-hostname \"PC-URBA-03\";\n}", false},
		{"dhcpd leases in local time", "dhcp-leases", "db-time-format local;\nlease 10.20.1.57 {\n  starts 5 2025/03/14 07:02:41;\n  ends 5 2025/03/14 19:02:41;\n  hardware ethernet a4:bb:6d:1f:0c:22;\n  client-hostname \"PC-URBA-03\";\n}", true},
		{"windows firewall", "windows-firewall", "#Version: 1.5\n#Software: Microsoft Windows Firewall\n#Time Format: Local\n#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path\n2025-03-14 23:00:01 ALLOW TCP 10.10.1.20 31.216.145.5 60100 443 0 - - - - - - - SEND", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, _ := parseText(t, "some.log", c.text+"\n")
			if st.Format != c.format || st.Parsed == 0 || st.Raw != 0 {
				t.Fatalf("read as %s: parsed %d, raw %d %v", st.Format, st.Parsed, st.Raw, st.RawReasons)
			}
			if st.ZoneAssumed != c.want {
				t.Errorf("zone assumed %v, want %v (%s)", st.ZoneAssumed, c.want, strings.Join(st.Warnings, "; "))
			}
		})
	}
}
