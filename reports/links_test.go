package reports

import (
	"net/netip"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
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
