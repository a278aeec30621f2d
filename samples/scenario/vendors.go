package scenario

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Firewalls are the vendors an incident's firewall log can be rewritten
// as: the same sessions, denies and VPN logins, in each vendor's own words.
var Firewalls = []string{"fortigate", "juniper-srx", "sophos-xg", "netscreen", "watchguard", "cisco-asa", "zyxel", "stormshield", "panos", "sonicwall", "huawei"}

// fgRecord is what a FortiGate line of the generator says.
type fgRecord struct {
	t  time.Time
	kv map[string]string
}

// AsFirewall rewrites the incident's FortiGate log as another vendor's log
// and adjusts the truth to what that vendor's log can tell: times at the
// vendor's precision, and for Cisco ASA, whose teardowns count both
// directions together, each network channel's bytes as sent plus received.
// Vendors without VPN logs here lose the VPN lines (the brute force and the
// tunnel are then seen only through Windows logons); ASA and PAN-OS
// (GlobalProtect) write their own.
func (inc *Incident) AsFirewall(vendor string) error {
	if vendor == "fortigate" {
		return nil
	}
	src, ok := inc.Files[fwFile]
	if !ok {
		return nil // the firewall is the missing source
	}
	loc := inc.Truth.Location()
	type out struct {
		t    time.Time
		line string
	}
	var lines []out
	// sess is a session as the vendor dates it, with the generator's exact
	// end (to find the truth's sessions) and its bytes.
	type sess struct {
		start, end, exactEnd time.Time
		sent, rcvd, both     int64
	}
	closes := map[string][]sess{} // src|dst → sessions
	id := 0
	tunnelsLost := false // the VPN's tunnels were in the log and are not in the rewrite
	for _, l := range strings.Split(strings.TrimSpace(string(src)), "\n") {
		r, err := parseFG(l, loc)
		if err != nil {
			return err
		}
		id++
		kv := r.kv
		if kv["type"] == "traffic" && kv["action"] == "accept" && kv["sentdelta"] != "" && kv["proto"] != "17" {
			continue // interim records: only FortiGate writes them
		}
		if kv["type"] == "event" && vendor != "cisco-asa" && vendor != "panos" {
			tunnelsLost = tunnelsLost || kv["subtype"] == "vpn" && kv["tunnelip"] != ""
			continue
		}
		end := vendorTime(vendor, r.t)
		dur, _ := strconv.Atoi(kv["duration"])
		start := end.Add(-time.Duration(dur) * time.Second)
		if vendor == "sonicwall" {
			start = end // its Connection Closed is dated at the end, its duration not read
		}
		sent, _ := strconv.ParseInt(kv["sentbyte"], 10, 64)
		rcvd, _ := strconv.ParseInt(kv["rcvdbyte"], 10, 64)
		deny := kv["action"] == "deny"
		if kv["type"] == "traffic" && !deny {
			k := kv["srcip"] + "|" + kv["dstip"]
			closes[k] = append(closes[k], sess{start, end, r.t, sent, rcvd, sent + rcvd})
		}
		for _, o := range renderAs(vendor, kv, start, end, loc, id) {
			lines = append(lines, out{o.t, o.line})
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].t.Before(lines[j].t) })
	var sb strings.Builder
	for _, l := range lines {
		sb.WriteString(l.line)
		sb.WriteByte('\n')
	}
	delete(inc.Files, fwFile)
	inc.Files["firewall/"+vendor+".log"] = []byte(sb.String())
	// The truth as this vendor's log counts it.
	for i := range inc.Truth.Exfil {
		ch := &inc.Truth.Exfil[i]
		if ch.Channel == "email" {
			continue
		}
		if ch.Tunnel != "" && (vendor == "cisco-asa" || tunnelsLost) {
			continue // dropped below
		}
		_, elff := inc.Files[proxyFile]
		_, cef := inc.Files[proxyCEFFile]
		if proxied := elff || cef; proxied && len(closes[ch.SourceIP+"|"+ch.Destination]) == 0 && len(closes[proxyIP+"|"+ch.Destination]) > 0 {
			continue // the proxy's log measures it (AsProxy); the firewall sees only the proxy's sessions
		}
		// The channel's sessions are those of its pair that ended within it.
		var first, last time.Time
		var sent, both int64
		pair := ch.SourceIP + "|" + ch.Destination
		if ch.Tunnel != "" {
			pair = ch.Tunnel + "|" + ch.SourceIP // the far end's sessions to the server: what it received
		}
		for _, s := range closes[pair] {
			if s.exactEnd.Before(ch.First) || s.exactEnd.After(ch.Last) {
				continue
			}
			if ch.Tunnel != "" {
				s.sent = s.rcvd
			}
			if first.IsZero() || s.start.Before(first) {
				first = s.start
			}
			if s.end.After(last) {
				last = s.end
			}
			sent += s.sent
			both += s.both
		}
		if sent != ch.Bytes {
			return fmt.Errorf("as %s: channel %s: %d bytes in the log, %d in the truth", vendor, ch.Destination, sent, ch.Bytes)
		}
		ch.First, ch.Last = first, last
		if vendor == "cisco-asa" {
			ch.Bytes = both
		}
		// Only FortiGate names the destination's host: without it the
		// log cannot tell a cloud service from any other address.
		ch.Channel, ch.Domain = "network", ""
	}
	switch {
	case vendor == "cisco-asa":
		inc.Truth.dropTunnels("an ASA counts a connection's bytes both ways together: what went to a VPN tunnel is not measured")
	case tunnelsLost:
		inc.Truth.dropTunnels("the rewritten log has no VPN lines: no tunnel names the far end of the copies")
	}
	inc.Truth.Notes += ", firewall " + vendor
	return nil
}

// vendorTime is a time at the precision the vendor logs it.
func vendorTime(vendor string, t time.Time) time.Time {
	if vendor == "juniper-srx" {
		return t.Truncate(time.Millisecond)
	}
	return t.Truncate(time.Second)
}

func parseFG(l string, loc *time.Location) (fgRecord, error) {
	l = strings.TrimPrefix(l, "<189>")
	kv := map[string]string{}
	for len(l) > 0 {
		l = strings.TrimLeft(l, " ")
		eq := strings.IndexByte(l, '=')
		if eq < 0 {
			break
		}
		k := l[:eq]
		l = l[eq+1:]
		var v string
		if strings.HasPrefix(l, `"`) {
			end := strings.IndexByte(l[1:], '"')
			v, l = l[1:end+1], l[end+2:]
		} else {
			end := strings.IndexByte(l, ' ')
			if end < 0 {
				end = len(l)
			}
			v, l = l[:end], l[end:]
		}
		kv[k] = v
	}
	if et := kv["eventtime"]; et != "" {
		n, err := strconv.ParseInt(et, 10, 64)
		if err != nil {
			return fgRecord{}, err
		}
		return fgRecord{time.Unix(0, n).UTC(), kv}, nil
	}
	t, err := time.Parse("2006-01-02 15:04:05 -0700", kv["date"]+" "+kv["time"]+" "+kv["tz"])
	return fgRecord{t.UTC(), kv}, err
}

type vendorLine struct {
	t    time.Time
	line string
}

// renderAs writes one FortiGate record as the vendor would.
func renderAs(vendor string, kv map[string]string, start, end time.Time, loc *time.Location, id int) []vendorLine {
	src, dst, sport, dport := kv["srcip"], kv["dstip"], kv["srcport"], kv["dstport"]
	proto := map[string]string{"6": "tcp", "17": "udp", "1": "icmp"}[kv["proto"]]
	sent, rcvd, dur := kv["sentbyte"], kv["rcvdbyte"], kv["duration"]
	deny := kv["action"] == "deny"
	le := end.In(loc)
	nat := kv["transip"]
	if nat == "" {
		nat = src
	}
	natPort := kv["transport"]
	if natPort == "" {
		natPort = sport
	}
	switch vendor {
	case "juniper-srx":
		hdr := fmt.Sprintf("<14>1 %s SRX-MAIRIE RT_FLOW - ", le.Format("2006-01-02T15:04:05.000-07:00"))
		if deny {
			return []vendorLine{{end, hdr + fmt.Sprintf(`RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.129 source-address="%s" source-port="%s" destination-address="%s" destination-port="%s" connection-tag="0" service-name="None" protocol-id="%s" icmp-type="0" policy-name="default-deny" source-zone-name="untrust" destination-zone-name="junos-host" application="UNKNOWN" nested-application="UNKNOWN" username="N/A" roles="N/A" packet-incoming-interface="ge-0/0/0.0" encrypted="No" reason="Denied by policy" session-id-32="%d"]`,
				src, sport, dst, dport, kv["proto"], id)}}
		}
		return []vendorLine{{end, hdr + fmt.Sprintf(`RT_FLOW_SESSION_CLOSE [junos@2636.1.1.1.2.129 reason="TCP FIN" source-address="%s" source-port="%s" destination-address="%s" destination-port="%s" connection-tag="0" service-name="junos-%s" nat-source-address="%s" nat-source-port="%s" nat-destination-address="%s" nat-destination-port="%s" nat-connection-tag="0" src-nat-rule-type="source rule" src-nat-rule-name="snat" dst-nat-rule-type="N/A" dst-nat-rule-name="N/A" protocol-id="%s" policy-name="p%s" source-zone-name="trust" destination-zone-name="untrust" session-id-32="%d" packets-from-client="%s" bytes-from-client="%s" packets-from-server="%s" bytes-from-server="%s" elapsed-time="%s" application="UNKNOWN" nested-application="UNKNOWN" username="N/A" roles="N/A" packet-incoming-interface="ge-0/0/1.0" encrypted="No"]`,
			src, sport, dst, dport, strings.ToLower(kv["service"]), nat, natPort, dst, dport, kv["proto"], kv["policyid"], id, kv["sentpkt"], sent, kv["rcvdpkt"], rcvd, dur)}}
	case "sophos-xg":
		hdr := fmt.Sprintf(`%s xg device_name="SFW" timestamp="%s" device_model="XGS2100" device_serial_id="X2100ABC" `, le.Format("Jan _2 15:04:05"), le.Format("2006-01-02T15:04:05-0700"))
		if deny {
			return []vendorLine{{end, hdr + fmt.Sprintf(`log_id="010102600002" log_type="Firewall" log_component="Firewall Rule" log_subtype="Denied" log_version=1 severity="Information" fw_rule_id="0" src_ip="%s" dst_ip="%s" protocol="%s" src_port=%s dst_port=%s`,
				src, dst, strings.ToUpper(proto), sport, dport)}}
		}
		return []vendorLine{{end, hdr + fmt.Sprintf(`log_id="010101600001" log_type="Firewall" log_component="Firewall Rule" log_subtype="Allowed" log_version=1 severity="Information" duration=%s fw_rule_id="%s" src_ip="%s" dst_ip="%s" protocol="%s" src_port=%s dst_port=%s packets_sent=%s packets_received=%s bytes_sent=%s bytes_received=%s src_trans_ip="%s" con_event="Stop" con_id="%d"`,
			dur, kv["policyid"], src, dst, strings.ToUpper(proto), sport, dport, kv["sentpkt"], kv["rcvdpkt"], sent, rcvd, nat, id)}}
	case "netscreen":
		hdr := fmt.Sprintf("%s 10.0.0.1 ssg5: NetScreen device_id=ssg5  [Root]system-notification-00257(traffic): ", le.Format("2006-01-02T15:04:05.000000-07:00"))
		action := "Permit"
		if deny {
			action = "Deny"
		}
		return []vendorLine{{end, hdr + fmt.Sprintf(`start_time="%s" duration=%s policy_id=%s service=%s proto=%s src zone=Trust dst zone=Untrust action=%s sent=%s rcvd=%s src=%s dst=%s src_port=%s dst_port=%s src-xlated ip=%s port=%s dst-xlated ip=%s port=%s session_id=%d reason=Close - TCP FIN (%s)`,
			start.In(loc).Format("2006-01-02 15:04:05"), dur, kv["policyid"], strings.ToLower(kv["service"]), kv["proto"], action, sent, rcvd, src, dst, sport, dport, nat, natPort, dst, dport, id, le.Format("2006-01-02 15:04:05"))}}
	case "watchguard":
		hdr := fmt.Sprintf("%s FW-MAIRIE 801234567890 (%s) firewall: ", le.Format("Jan _2 15:04:05"), le.Format("2006-01-02T15:04:05"))
		if deny {
			return []vendorLine{{end, hdr + fmt.Sprintf(`msg_id="3000-0148" Deny 0-External Firebox 40 %s 20 240 %s %s %s %s offset 5 S 1 win 1024 (Unhandled External Packet-00)`, proto, src, dst, sport, dport)}}
		}
		return []vendorLine{{end, hdr + fmt.Sprintf(`msg_id="3000-0151" Allow 1-Trusted 0-External %s %s %s %s %s duration="%s" sent_bytes="%s" rcvd_bytes="%s" (Outgoing-00)`, proto, src, dst, sport, dport, dur, sent, rcvd)}}
	case "zyxel":
		// USG FLEX: the year after the time, values after cat= unquoted.
		hdr := fmt.Sprintf("<134>%s usgflex200 ", le.Format("Jan _2 15:04:05 2006"))
		if deny {
			return []vendorLine{{end, hdr + fmt.Sprintf(`src="%s:%s" dst="%s:%s" msg="Match default rule DROP" note="ACCESS BLOCK" user="" devID="bc9911223344" cat="Security Policy Control" action="Drop"`,
				src, sport, dst, dport)}}
		}
		return []vendorLine{{end, hdr + fmt.Sprintf(`src="%s:%s" dst="%s:%s" msg="Traffic Log" note="" user="" devID="bc9911223344" cat="Traffic Log" action="" sourceTranslatedAddress=%s sourceTranslatedPort=%s sent=%s rcvd=%s duration=%s dir=LAN1:WAN1 protoID=%s proto=%s`,
			src, sport, dst, dport, nat, natPort, sent, rcvd, dur, kv["proto"], strings.ToLower(kv["service"]))}}
	case "stormshield":
		// SNS: local times with the offset in tz=, dated by startime.
		hdr := fmt.Sprintf(`id=firewall time="%s" fw="SN-MAIRIE" tz=%s startime="%s" pri=5 confid=01 slotlevel=2 ruleid=%s srcif="Ethernet1" srcifname="in" ipproto=%s `,
			le.Format("2006-01-02 15:04:05"), le.Format("-0700"), start.In(loc).Format("2006-01-02 15:04:05"), kv["policyid"], proto)
		if deny {
			return []vendorLine{{end, hdr + fmt.Sprintf(`src=%s srcport=%s dst=%s dstport=%s action=block msg="Blocked by filter rule" logtype="filter"`, src, sport, dst, dport)}}
		}
		return []vendorLine{{end, hdr + fmt.Sprintf(`proto=%s src=%s srcport=%s dst=%s dstport=%s sent=%s rcvd=%s duration=%s.00 action=pass logtype="connection"`,
			strings.ToLower(kv["service"]), src, sport, dst, dport, sent, rcvd, dur)}}
	case "panos":
		// PAN-OS' CSV traffic log behind an IETF (RFC 5424) syslog header, which names the zone.
		f := func(t time.Time) string { return t.In(loc).Format("2006/01/02 15:04:05") }
		if kv["type"] == "event" {
			// The VPN as GlobalProtect logs it (PAN-OS 9.1+ columns).
			gpID, stage, status, private := "", "", "success", kv["tunnelip"]
			switch kv["action"] {
			case "ssl-login-fail":
				gpID, stage, status, private = "gateway-auth", "login", "failure", "0.0.0.0"
			case "tunnel-up":
				gpID, stage = "gateway-connected", "connected"
			case "tunnel-down":
				gpID, stage = "gateway-logout", "logout"
			default:
				return nil
			}
			return []vendorLine{{end, fmt.Sprintf(`<14>1 %s PA-MAIRIE - - - - 1,%s,012801012345,GLOBALPROTECT,0,2817,%s,vsys1,%s,%s,LDAP,SSL,%s,FR,PC-%d,%s,0.0.0.0,%s,0.0.0.0,,,6.2.4,Windows,"",1,,,"",%s,,0,user-logon,0,GP-GW,%d,0x0`,
				le.Format("2006-01-02T15:04:05-07:00"), f(end), f(end), gpID, stage, kv["user"], id, kv["remip"], private, status, id)}}
		}
		hdr := fmt.Sprintf("<14>1 %s PA-MAIRIE - - - - 1,%s,012801012345,TRAFFIC,", le.Format("2006-01-02T15:04:05-07:00"), f(end))
		if deny {
			return []vendorLine{{end, hdr + fmt.Sprintf("deny,2561,%s,%s,%s,0.0.0.0,0.0.0.0,interzone-default,,,not-applicable,vsys1,untrust,trust,ethernet1/1,,default,%s,0,1,%s,%s,0,0,0x0,%s,deny,60,60,0,1,%s,0,any,0,%d,0x0,France,10.0.0.0-10.255.255.255,0,1,0,policy-deny",
				f(end), src, dst, f(end), sport, dport, proto, f(end), id)}}
		}
		return []vendorLine{{end, hdr + fmt.Sprintf("end,2561,%s,%s,%s,%s,0.0.0.0,allow-web,,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,default,%s,%d,1,%s,%s,%s,0,0x41c,%s,allow,%d,%s,%s,%d,%s,%s,any,0,%d,0x0,10.0.0.0-10.255.255.255,France,0,%s,%s,tcp-fin",
			f(end), src, dst, nat, f(end), id, sport, dport, natPort, proto, atoi64(sent)+atoi64(rcvd), sent, rcvd, atoi64(kv["sentpkt"])+atoi64(kv["rcvdpkt"]), f(start), dur, id, kv["sentpkt"], kv["rcvdpkt"])}}
	case "sonicwall":
		// SonicOS: the appliance's local time without its zone.
		hdr := fmt.Sprintf(`<134>id=firewall sn=0017C5A1B2C3 time="%s" fw=198.51.100.7 pri=6 `, le.Format("2006-01-02 15:04:05"))
		if deny {
			return []vendorLine{{end, hdr + fmt.Sprintf(`c=32 m=36 msg="TCP packet dropped" n=%d src=%s:%s:X1 dst=%s:%s:X0 proto=%s/%s note="Enforced Firewall Rule" rule="Default Rule"`, id, src, sport, dst, dport, proto, dport)}}
		}
		return []vendorLine{{end, hdr + fmt.Sprintf(`c=1024 m=537 msg="Connection Closed" n=%d src=%s:%s:X0 dst=%s:%s:X1 proto=%s/%s sent=%s rcvd=%s spkt=%s rpkt=%s rule="5 (LAN->WAN)"`,
			id, src, sport, dst, dport, proto, dport, sent, rcvd, kv["sentpkt"], kv["rcvdpkt"])}}
	case "huawei":
		// USG: the header in the device's local time without its zone
		// (VRP's "timestamp local"), the session's start and end in epoch
		// seconds; denies are POLICY records with only the header's time.
		if deny {
			return []vendorLine{{end, fmt.Sprintf("<190>%s USG6650E-MAIRIE %%%%01POLICY/6/POLICYDENY(l):vsys=public, protocol=%s, source-ip=%s, source-port=%s, destination-ip=%s, destination-port=%s, time=%s, source-zone=untrust, destination-zone=local, rule-name=default.",
				le.Format("Jan _2 2006 15:04:05"), kv["proto"], src, sport, dst, dport, le.Format("2006/1/2 15:04:05"))}}
		}
		return []vendorLine{{end, fmt.Sprintf("<190>%s USG6650E-MAIRIE %%%%01SECLOG/6/SESSION_TEARDOWN(l):IPVer=4,Protocol=%s,SourceIP=%s,DestinationIP=%s,SourcePort=%s,DestinationPort=%s,SourceNatIP=%s,SourceNatPort=%s,BeginTime=%d,EndTime=%d,SendPkts=%s,SendBytes=%s,RcvPkts=%s,RcvBytes=%s,SourceVpnID=0,DestinationVpnID=0,SourceZone=trust,DestinationZone=untrust,PolicyName=p%s,CloseReason=tcp-fin.",
			le.Format("2006-01-02 15:04:05"), proto, src, dst, sport, dport, nat, natPort, start.Unix(), end.Unix(), kv["sentpkt"], sent, kv["rcvdpkt"], rcvd, kv["policyid"])}}
	case "cisco-asa":
		stamp := func(t time.Time) string { return t.In(loc).Format("Jan 02 2006 15:04:05") + ": " }
		if kv["type"] == "event" {
			switch kv["action"] {
			case "ssl-login-fail":
				return []vendorLine{{end, stamp(end) + fmt.Sprintf("%%ASA-6-113015: AAA user authentication Rejected : reason = Invalid password : local database : user = %s : user IP = %s", kv["user"], kv["remip"])}}
			case "tunnel-up":
				return []vendorLine{{end, stamp(end) + fmt.Sprintf("%%ASA-4-722051: Group <%s> User <%s> IP <%s> IPv4 Address <%s> IPv6 address <::> assigned to session", kv["group"], kv["user"], kv["remip"], kv["tunnelip"])}}
			case "tunnel-down":
				return []vendorLine{{end, stamp(end) + fmt.Sprintf("%%ASA-4-113019: Group = %s, Username = %s, IP = %s, Session disconnected. Session Type: SSL, Duration: 0h:00m:00s, Bytes xmt: 0, Bytes rcv: 0, Reason: User Requested", kv["group"], kv["user"], kv["remip"])}}
			}
			return nil
		}
		if deny {
			return []vendorLine{{end, stamp(end) + fmt.Sprintf("%%ASA-2-106001: Inbound TCP connection denied from %s/%s to %s/%s flags SYN  on interface outside", src, sport, dst, dport)}}
		}
		outIf, inIf := "outside", "inside"
		if isInside(dst) {
			outIf = "dmz"
		}
		p := strings.ToUpper(proto)
		mins := 0
		if d, err := strconv.Atoi(dur); err == nil {
			mins = d
		}
		built, teardown, reason := "302013", "302014", " TCP FINs from "+inIf
		if p == "UDP" {
			built, teardown, reason = "302015", "302016", ""
		}
		return []vendorLine{
			{start, stamp(start) + fmt.Sprintf("%%ASA-6-%s: Built outbound %s connection %d for %s:%s/%s (%s/%s) to %s:%s/%s (%s/%s)", built, p, id, outIf, dst, dport, dst, dport, inIf, src, sport, nat, natPort)},
			{end, stamp(end) + fmt.Sprintf("%%ASA-6-%s: Teardown %s connection %d for %s:%s/%s to %s:%s/%s duration %d:%02d:%02d bytes %d%s",
				teardown, p, id, outIf, dst, dport, inIf, src, sport, mins/3600, mins/60%60, mins%60, atoi64(sent)+atoi64(rcvd), reason)},
		}
	}
	return nil
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
