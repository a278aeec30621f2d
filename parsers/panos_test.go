package parsers

import (
	"testing"
	"time"
)

// TestPanOSSessionEnd: a session's start log holds its bytes so far and a
// deny log those of a refused session: they keep them as PAN-OS' fields,
// and only the end log carries source.bytes, so the sum is the session's.
func TestPanOSSessionEnd(t *testing.T) {
	lines := `<14>Mar 14 23:32:38 PA-AGGLO 1,2025/03/14 23:32:38,012801012345,TRAFFIC,start,2561,2025/03/14 23:32:38,10.10.1.20,31.216.145.5,203.0.113.10,31.216.145.5,allow-web,agglo\j.martin,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,default,2025/03/14 23:32:38,4812,1,60100,443,60100,443,0x41c,tcp,allow,1466,583,883,9,2025/03/14 23:32:37,0,any,0,7204134051344758259,0x0,10.0.0.0-10.255.255.255,New Zealand,0,5,4,n/a
<14>Mar 14 23:50:40 PA-AGGLO 1,2025/03/14 23:50:40,012801012345,TRAFFIC,end,2561,2025/03/14 23:50:40,10.10.1.20,31.216.145.5,203.0.113.10,31.216.145.5,allow-web,agglo\j.martin,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,default,2025/03/14 23:50:40,4812,1,60100,443,60100,443,0x41c,tcp,allow,230929700,228392011,2537689,164951,2025/03/14 23:32:37,1083,any,0,7204134051344758260,0x0,10.0.0.0-10.255.255.255,New Zealand,0,163138,1813,tcp-fin
<14>Mar 14 23:51:00 PA-AGGLO 1,2025/03/14 23:51:00,012801012345,TRAFFIC,deny,2561,2025/03/14 23:51:00,10.10.1.21,45.67.89.10,0.0.0.0,0.0.0.0,deny-all,,,ssl,vsys1,trust,untrust,ethernet1/2,,default,2025/03/14 23:51:00,4813,1,60200,443,0,0,0x0,tcp,deny,74,74,0,1,2025/03/14 23:51:00,0,any,0,7204134051344758261,0x0,10.0.0.0-10.255.255.255,Netherlands,0,1,0,policy-deny
`
	st, evs := parseText(t, "panos.log", lines)
	if st.Format != "panos" || st.Parsed != 3 {
		t.Fatalf("stats %+v", st)
	}
	sum := sumSourceBytes(evs)
	if sum != 228392011 {
		t.Errorf("sum of source.bytes %d, want 228392011 (the end log's)", sum)
	}
	want(t, "start", evs[0], "", map[string]any{"source.bytes": nil, "network.bytes": nil, "panw.panos.bytes_sent": int64(583),
		"panw.panos.bytes_received": int64(883), "tags": []string{"panos_not_session_end"}})
	want(t, "end", evs[1], "", map[string]any{"source.bytes": int64(228392011), "destination.bytes": int64(2537689), "network.bytes": int64(230929700)})
	want(t, "deny", evs[2], "", map[string]any{"source.bytes": nil, "panw.panos.bytes_sent": int64(74), "event.action": "deny"})
}

// TestPanOSDatedByItsColumns: behind a classic syslog header, which names
// no year, the log's own generated time (with its year) dates the event,
// and the file's year is no guess; a header naming its zone dates it.
func TestPanOSDatedByItsColumns(t *testing.T) {
	body := `1,2024/03/12 03:14:07,013201001234,TRAFFIC,end,2561,2024/03/12 03:14:06,10.1.2.30,185.199.110.153,203.0.113.5,185.199.110.153,allow-out,,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,Forward,2024/03/12 03:14:07,123456,1,50432,443,50432,443,0x400019,tcp,allow,5369757696,5368709120,1048576,4700000,2024/03/12 02:14:06,3600,any,0,7012345678,0x0,10.0.0.0-10.255.255.255,United States,0,3800000,900000,tcp-fin`
	for _, c := range []struct {
		name, header, want string
		guessed            bool
	}{
		{"classic header", "Mar 12 03:14:09 fw-mairie ", "2024-03-12T03:14:06Z", false},
		{"classic header with priority", "<14>Mar 12 03:14:09 fw-mairie ", "2024-03-12T03:14:06Z", false},
		{"RFC 5424 header", "<14>1 2024-03-12T04:14:09+01:00 fw-mairie - - - - ", "2024-03-12T03:14:09Z", false},
		{"no header", "", "2024-03-12T03:14:06Z", false},
	} {
		st, evs := parseText(t, "panos.log", c.header+body+"\n")
		if st.Format != "panos" || st.Parsed != 1 || len(evs) != 1 {
			t.Fatalf("%s: stats %+v", c.name, st)
		}
		if got := evs[0].Timestamp.Format(time.RFC3339); got != c.want {
			t.Errorf("%s: dated %s, want %s", c.name, got, c.want)
		}
		if st.YearGuessed != c.guessed {
			t.Errorf("%s: year guessed %v, want %v", c.name, st.YearGuessed, c.guessed)
		}
		if n, _ := evs[0].Int("source.bytes"); n != 5368709120 {
			t.Errorf("%s: source.bytes %d", c.name, n)
		}
	}
}

// TestPanOSGlobalProtect: PAN-OS' own GlobalProtect log names the user, the
// client's public address and the address its tunnel was given (columns as
// documented for PAN-OS 9.1 and later; the lines as published examples
// write them).
func TestPanOSGlobalProtect(t *testing.T) {
	lines := `<14>Mar 14 22:41:05 PA-AGGLO 1,2025/03/14 22:41:05,012801012345,GLOBALPROTECT,0,2817,2025/03/14 22:41:05,vsys1,gateway-auth,login,LDAP,,agglo\admin,NL,KALI,185.220.101.4,0.0.0.0,0.0.0.0,0.0.0.0,,,,,"",1,,Authentication failed: Invalid username or password,"",failure,,0,,0,GP-GW,741298330018552320,0x8000000000000000
<14>Mar 14 22:42:10 PA-AGGLO 1,2025/03/14 22:42:10,012801012345,GLOBALPROTECT,0,2817,2025/03/14 22:42:10,vsys1,gateway-connected,connected,LDAP,SSL,agglo\j.martin,NL,KALI,185.220.101.4,0.0.0.0,10.212.134.200,0.0.0.0,58d51966-4fc0-4009-93d9-a4fe2da630dd,,5.2.3,Windows,"Microsoft Windows 11 Enterprise , 64-bit",1,,,"",success,,0,user-logon,0,GP-GW,741298330018552321,0x8000000000000000
<14>Mar 15 01:02:03 PA-AGGLO 1,2025/03/15 01:02:03,012801012345,GLOBALPROTECT,0,2817,2025/03/15 01:02:03,vsys1,gateway-logout,logout,LDAP,SSL,agglo\j.martin,NL,KALI,185.220.101.4,0.0.0.0,10.212.134.200,0.0.0.0,58d51966-4fc0-4009-93d9-a4fe2da630dd,,5.2.3,Windows,"Microsoft Windows 11 Enterprise , 64-bit",1,client logout,,"",success,,8153,user-logon,0,GP-GW,741298330018552322,0x8000000000000000
`
	st, evs := parseText(t, "panos.log", lines)
	if st.Format != "panos" || st.Parsed != 3 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "refused", evs[0], "", map[string]any{"event.action": "gateway-auth", "event.outcome": "failure", "user.name": "admin", "user.domain": "agglo",
		"source.ip": "185.220.101.4", "panw.panos.assigned_ip": nil, "event.category": []string{"authentication", "network"}})
	want(t, "connected", evs[1], "", map[string]any{"event.action": "gateway-connected", "event.outcome": "success", "user.name": "j.martin",
		"source.ip": "185.220.101.4", "panw.panos.assigned_ip": "10.212.134.200", "panw.panos.machine_name": "KALI", "panw.panos.tunnel_type": "SSL", "panw.panos.stage": "connected"})
	want(t, "logout", evs[2], "", map[string]any{"event.action": "gateway-logout", "panw.panos.assigned_ip": "10.212.134.200", "user.name": "j.martin"})
	if got := evs[1].Timestamp; !got.Equal(time.Date(2025, 3, 14, 22, 42, 10, 0, time.UTC)) {
		t.Errorf("time %s", got)
	}
}
