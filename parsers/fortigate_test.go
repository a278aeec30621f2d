package parsers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestFortiFieldOf: every key the decoder reads finds its number, and no
// other key finds one (a vendor key read as one of ours would move a value
// into an ECS field).
func TestFortiFieldOf(t *testing.T) {
	for f, name := range fortiFieldNames {
		if name != "" && fortiFieldOf(name) != fortiField(f) {
			t.Errorf("%q: field %d, want %d", name, fortiFieldOf(name), f)
		}
	}
	for _, k := range []string{"", "vd", "sessionid", "srcintfrole", "Date", "dat", "datex", "srcip ", "sentbytes",
		"rcvdbyt", "poluuid", "crscore", "lanin", "wanout", "appcat", "x", "\xff", "durations", "dstip6"} {
		if f := fortiFieldOf(k); f != 0 {
			t.Errorf("%q read as %q", k, fortiFieldNames[f])
		}
	}
}

func TestZoneOf(t *testing.T) {
	const notZone = 1 << 30
	for _, c := range []struct {
		in  string
		off int // seconds east; notZone: not a zone
	}{
		{"+0100", 3600}, {"-0500", -18000}, {"+01:00", 3600}, {"-05:30", -19800}, {"+05", 18000}, {"-3", -10800},
		{"UTC", 0}, {"gmt", 0}, {"Z", 0}, {"CEST", 7200}, {"UTC+1", 3600}, {"GMT-05:30", -19800}, {"UTC+05:45", 20700},
		{"", notZone}, {"+", notZone}, {"+2500", notZone}, {"+01:75", notZone}, {"+100", notZone}, {"IST", notZone}, {"local", notZone}, {"UTC+x", notZone},
	} {
		z, ok := zoneOf(c.in)
		if c.off == notZone {
			if ok {
				t.Errorf("%q read as zone %v", c.in, z)
			}
			continue
		}
		if !ok {
			t.Errorf("%q: not read", c.in)
			continue
		}
		if _, off := time.Date(2025, 1, 15, 12, 0, 0, 0, z).Zone(); off != c.off {
			t.Errorf("%q: offset %d, want %d", c.in, off, c.off)
		}
	}
	if z, ok := zoneOf("Europe/Paris"); !ok || z.String() != "Europe/Paris" {
		t.Errorf("Europe/Paris: %v %v", z, ok)
	}
}

// TestFortiTimeZones: a FortiGate's tz field, in the forms its versions and
// exports write, places the local date and time; without one (or one
// unread) the time is read in the zone given and said zoneless.
func TestFortiTimeZones(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, c := range []struct {
		tz, want string
		zoned    bool
	}{
		{`"+0100"`, "2025-07-01T09:00:00Z", true},
		{`"+01:00"`, "2025-07-01T09:00:00Z", true},
		{`"UTC"`, "2025-07-01T10:00:00Z", true},
		{`"Europe/Paris"`, "2025-07-01T08:00:00Z", true},
		{`"-0500"`, "2025-07-01T15:00:00Z", true},
		{"", "2025-07-01T08:00:00Z", false},
		{`"local"`, "2025-07-01T08:00:00Z", false},
	} {
		var l fortiLine
		l.add("date", "2025-07-01")
		l.add("time", "10:00:00")
		if c.tz != "" {
			l.add("tz", strings.Trim(c.tz, `"`))
		}
		ts, zoned, err := fortiTime(&l, paris)
		if err != nil || ts.Format(time.RFC3339) != c.want || zoned != c.zoned {
			t.Errorf("tz=%s: %s zoned %v (%v), want %s zoned %v", c.tz, ts.Format(time.RFC3339), zoned, err, c.want, c.zoned)
		}
	}
}

func BenchmarkZoneOfNamed(b *testing.B) {
	for range b.N {
		if _, ok := zoneOf("Europe/Paris"); !ok {
			b.Fatal("not read")
		}
	}
}

// TestFortiGateDialUpIPsecAccount: a dial-up IPsec record writes the
// peer's address in user= and the account in eapuser= (FortiOS 7.6, as
// Elastic's FortiGate integration tests show it) or xauthuser=: the
// account is user.name, its phase 1 is a login, and assignip is the
// address it gets inside.
func TestFortiGateDialUpIPsecAccount(t *testing.T) {
	lines := []string{
		`2026-04-03T15:38:01.091181+00:00 192.168.2.1 date=2026-04-03 time=17:38:00 devname="FGVMEVVDEADBEEF00" devid="FGVMEVVDEADBEEF00" eventtime=1775230679586703973 tz="+0200" logid="0101037120" type="event" subtype="vpn" level="notice" vd="root" logdesc="Negotiate IPsec phase 1" msg="negotiate IPsec phase 1" action="negotiate" remip=172.20.114.249 locip=172.20.121.252 remport=500 locport=500 outintf="port2" srccountry="Reserved" cookies="b6ee0f8883f1be95/18c2d92b40df34ac" user="172.20.114.249" group="N/A" useralt="N/A" eapuser="test01" eapauthgroup="rad_vpn" assignip=N/A vpntunnel="employee" status="success" result="XAUTH authentication successful" peer_notif="N/A" fctuid="N/A" advpnsc=0`,
		`2026-04-03T15:46:13.292056+00:00 192.168.2.1 date=2026-04-03 time=17:46:12 devname="FGVMEVVDEADBEEF00" devid="FGVMEVVDEADBEEF00" eventtime=1775231172523151273 tz="+0200" logid="0101037121" type="event" subtype="vpn" level="error" vd="root" logdesc="Negotiate IPsec phase 1" msg="negotiate IPsec phase 1" action="negotiate" remip=172.20.114.249 locip=172.20.121.252 remport=500 locport=500 outintf="port2" srccountry="Reserved" cookies="99208a9c4a4b32ed/4ab33f030772bd45" user="172.20.114.249" group="N/A" useralt="N/A" eapuser="test01" eapauthgroup="N/A" assignip=N/A vpntunnel="employee" status="failure" result="N/A" peer_notif="NOT-APPLICABLE" fctuid="N/A" advpnsc=0`,
		`2026-04-03T15:58:47.603329+00:00 192.168.2.1 date=2026-04-03 time=17:58:46 devname="FGVMEVVDEADBEEF00" devid="FGVMEVVDEADBEEF00" eventtime=1775231926133859373 tz="+0200" logid="0101037141" type="event" subtype="vpn" level="notice" vd="root" logdesc="IPsec tunnel statistics" msg="IPsec tunnel statistics" action="tunnel-stats" remip=172.20.114.249 locip=172.20.121.252 remport=500 locport=500 outintf="port2" srccountry="Reserved" cookies="be9f434013fec9e9/8226b5ba2e6df1e5" user="172.20.114.249" group="N/A" useralt="N/A" eapuser="test01" eapauthgroup="rad_vpn" assignip=192.168.3.100 vpntunnel="employee_0" tunnelip=192.168.3.100 tunnelid=4290830038 tunneltype="ipsec" duration=385 sentbyte=97846 rcvdbyte=34319 nextstat=600 fctuid="F52A0ECC90884C37BC7579FD8EAC85AC" advpnsc=0`,
		`date=2025-03-14 time=23:05:01 devname="FGT-MAIRIE" devid="FG100FTK00000001" tz="+0100" logid="0101037129" type="event" subtype="vpn" level="error" vd="root" logdesc="Progress IPsec phase 1" msg="progress IPsec phase 1" action="negotiate" remip=185.220.101.47 locip=203.0.113.10 remport=500 locport=500 outintf="wan1" cookies="1/2" user="N/A" group="N/A" xauthuser="j.martin" xauthgroup="VPN-Agents" assignip=N/A vpntunnel="nomades" status="negotiate_error" init="remote" mode="aggressive" dir="inbound" stage=1 role="responder" result="ERROR"`,
		`date=2025-03-14 time=23:05:01 devname="FGT-MAIRIE" devid="FG100FTK00000001" tz="+0100" logid="0101039426" type="event" subtype="vpn" level="alert" vd="root" logdesc="SSL VPN login fail" action="ssl-login-fail" tunneltype="ssl-web" remip=185.220.101.47 user="j.martin" group="N/A" reason="sslvpn_login_unknown_user" msg="SSL user failed to logged in"`,
	}
	st, evs := parseText(t, "fortigate.log", strings.Join(lines, "\n")+"\n")
	if st.Parsed != int64(len(lines)) {
		t.Fatalf("%d parsed, %d raw %v", st.Parsed, st.Raw, st.RawReasons)
	}
	want := []struct{ user, auth, outcome, assigned string }{
		{"test01", "authentication", "success", ""},
		{"test01", "authentication", "failure", ""},
		{"test01", "", "", "192.168.3.100"},
		{"j.martin", "authentication", "failure", ""},
		{"j.martin", "authentication", "failure", ""},
	}
	for i, ev := range evs {
		auth := ""
		for _, c := range ev.Strings("event.category") {
			if c == "authentication" {
				auth = c
			}
		}
		got := struct{ user, auth, outcome, assigned string }{ev.Str("user.name"), auth, ev.Str("event.outcome"), ev.Str("fortinet.firewall.assigned_ip")}
		if got != want[i] {
			t.Errorf("line %d: %+v, want %+v", i+1, got, want[i])
		}
		if i < 3 && ev.Str("source.ip") != "172.20.114.249" {
			t.Errorf("line %d: source %q", i+1, ev.Str("source.ip"))
		}
	}
}

// TestFortiGateKeepsWhatIsRead: with Options.Keep, the vendor fields the
// caller does not read are left out of the event, the ones it reads and
// every ECS field are as without it.
func TestFortiGateKeepsWhatIsRead(t *testing.T) {
	line := []byte(`date=2025-03-01 time=01:00:02 devname="FGT-MAIRIE" devid="FG100FTK20012345" eventtime=1740787202902663953 tz="+0100" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.10.25.51 srcport=63594 srcintf="port1" srcintfrole="lan" dstip=60.51.164.185 dstport=443 dstintf="wan1" dstintfrole="wan" sessionid=1000000 proto=6 action="close" policyid=12 policytype="policy" service="HTTPS" trandisp="snat" transip=203.0.113.10 transport=22961 duration=280 sentbyte=33031 rcvdbyte=2859898 sentpkt=94 rcvdpkt=1810`)
	read := func(keep *event.Selection) *event.Event {
		var got *event.Event
		if err := (FortiGate{}).NewDecoder(&Options{TZ: time.UTC, Keep: keep}).Line(1, line, func(ev *event.Event, _ string) { got = ev }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	all := read(nil)
	some := read(&event.Selection{Only: map[string]bool{"fortinet.firewall.sessionid": true, "source.bytes": true}})
	if all.Str("fortinet.firewall.vd") != "root" || all.Str("fortinet.firewall.trandisp") != "snat" {
		t.Fatalf("without a selection, vendor fields missing: %v", all.Fields)
	}
	if _, ok := some.Fields["fortinet.firewall.vd"]; ok {
		t.Errorf("an unread vendor field set: %v", some.Fields)
	}
	for k, v := range all.Fields {
		if strings.HasPrefix(k, "fortinet.firewall.") && k != "fortinet.firewall.sessionid" {
			continue
		}
		if fmt.Sprint(some.Fields[k]) != fmt.Sprint(v) {
			t.Errorf("%s: %v with a selection, %v without", k, some.Fields[k], v)
		}
	}
}
