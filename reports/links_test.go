package reports

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/parsers"
)

// TestLoginsFromAnAddressNameItsUsers: a successful login of any service
// (here IMAP, SSH) from an inside address ties its account to the address;
// failures and outside addresses do not.
func TestLoginsFromAnAddressNameItsUsers(t *testing.T) {
	internal := func(ip string) bool {
		a, err := netip.ParseAddr(ip)
		return err == nil && a.IsPrivate()
	}
	l := newLinker(internal, "en", nil)
	at := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	login := func(ds, user, ip, outcome string) {
		ev := event.New()
		ev.Timestamp = at
		ev.Fields[event.FieldDataset] = ds
		ev.Fields["event.category"] = []string{"authentication"}
		ev.Set("event.outcome", outcome)
		ev.Set("user.name", user)
		ev.Set("source.ip", ip)
		ev.Set(event.FieldFile, "/evidence/"+ds+".log")
		ev.Fields[event.FieldLine] = int64(7)
		l.observe(ev, sourceKind(ev))
	}
	login("dovecot", "a.durand", "10.20.1.57", "success")
	login("syslog", "root", "10.20.1.57", "failure")
	login("zimbra.mailbox", "j.martin", "203.0.113.7", "success")
	got := l.accountsFor("10.20.1.57", "", at.Add(time.Hour), at.Add(2*time.Hour))
	if len(got) != 1 || got[0].Account != "a.durand" || got[0].Source != "/evidence/dovecot.log line 7" {
		t.Fatalf("accounts for 10.20.1.57: %+v", got)
	}
	if got := l.accountsFor("203.0.113.7", "", at, at.Add(time.Hour)); len(got) != 0 {
		t.Errorf("an outside address was tied to %+v", got)
	}
}

// TestVPNConcentratorTunnelsNameTheirAccounts: a Connect Secure log's tunnel
// (Standard or WELF syslog) ties the address it handed out to the account
// from its start to its end, IPv4 or IPv6; a login alone, or the address
// after the tunnel ended, ties nothing.
func TestVPNConcentratorTunnelsNameTheirAccounts(t *testing.T) {
	dir := t.TempDir()
	log := `Mar 14 22:41:05 vpn01 PulseSecure: 2025-03-14 22:41:05 - ive - [185.220.101.4] j.martin(Users)[Staff] - AUT24414: Agent login succeeded for j.martin/Users from 185.220.101.4.
Mar 14 22:41:06 vpn01 PulseSecure: 2025-03-14 22:41:06 - ive - [185.220.101.4] j.martin(Users)[Staff] - NWC23464: VPN Tunneling: Session started for user with IPv4 address 10.200.0.5, hostname KALI
Mar 14 22:50:01 vpn01 PulseSecure: id=firewall time="2025-03-14 22:50:01" pri=6 fw=10.0.0.2 vpn=ive user=p.durand realm="Users" roles="Staff" src=92.184.1.2 msg="NWC23464: VPN Tunneling: Session started for user with IPv6 address fd00:200::15, hostname LAPTOP-PD"
Mar 15 01:02:03 vpn01 PulseSecure: 2025-03-15 01:02:03 - ive - [185.220.101.4] j.martin(Users)[Staff] - NWC23465: VPN Tunneling: Session ended for user with IPv4 address 10.200.0.5
Mar 15 01:05:00 vpn01 PulseSecure: 2025-03-15 01:05:00 - ive - [81.1.2.3] a.durand(Users)[Staff] - AUT24414: Agent login succeeded for a.durand/Users from 81.1.2.3.
`
	if err := os.WriteFile(filepath.Join(dir, "vpn.log"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	events, _, stats := loadDir(t, dir, parsers.Options{TZ: time.UTC})
	if stats[0].Format != "pulse-secure" || stats[0].Parsed != 5 {
		t.Fatalf("%+v", stats[0])
	}
	internal := func(ip string) bool {
		a, err := netip.ParseAddr(ip)
		return err == nil && a.IsPrivate()
	}
	l := newLinker(internal, "en", nil)
	for _, ev := range events {
		l.observe(ev, sourceKind(ev))
	}
	at := func(h, m int) time.Time { return time.Date(2025, 3, 14, h, m, 0, 0, time.UTC) }
	for _, c := range []struct {
		ip     string
		t1, t2 time.Time
		want   string
	}{
		{"10.200.0.5", at(23, 0), at(23, 30), "j.martin"},
		{"fd00:200::15", at(23, 0), at(23, 30), "p.durand"},
		{"10.200.0.5", at(26, 0), at(26, 30), ""}, // after the tunnel ended
		{"81.1.2.3", at(26, 0), at(26, 30), ""},   // a login's own address
	} {
		got := l.accountsFor(c.ip, "", c.t1, c.t2)
		if c.want == "" && len(got) != 0 || c.want != "" && (len(got) != 1 || got[0].Account != c.want) {
			t.Errorf("%s %s–%s: %+v, want %q", c.ip, c.t1, c.t2, got, c.want)
		}
	}
}
