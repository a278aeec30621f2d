package reports

import (
	"fmt"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// lease is one DHCP lease: an address held by one host from start until
// its release, expiry or the address's next lease to another host.
type lease struct {
	host, mac  string
	start, end time.Time // zero start: held since before the log; zero end: still held
	ref        string
}

const maxLeasesPerAddress = 256

func (ls *lease) covers(t1, t2 time.Time) bool {
	return (ls.start.IsZero() || !ls.start.After(t2)) && (ls.end.IsZero() || !ls.end.Before(t1))
}

func (ls *lease) describe(lang string) string {
	s := fmt.Sprintf(tr(lang, "bail DHCP : adresse attribuée à %s", "DHCP lease: address given to %s"), ls.host)
	if ls.mac != "" {
		s += " (" + ls.mac + ")"
	}
	if !ls.start.IsZero() {
		s += tr(lang, " le ", " at ") + fmtT(ls.start)
	}
	if !ls.end.IsZero() {
		s += tr(lang, ", jusqu'au ", ", until ") + fmtT(ls.end)
	}
	return s
}

// dhcpStarts and dhcpEnds are the lease events (Windows DHCP, ISC dhcpd,
// dnsmasq) that give an address to a host and that take it back.
var dhcpStarts = map[string]bool{"dhcp-assign": true, "dhcp-renew": true, "bootp-assign": true, "dhcpack": true, "dhcp-lease": true,
	"dhcpv6-request": true, "dhcpv6-renew": true, "dhcpv6-rebind": true, "dhcpv6-confirm": true}
var dhcpEnds = map[string]bool{"dhcp-release": true, "dhcp-deleted": true, "dhcp-expired": true, "dhcp-expired-deleted": true,
	"dhcprelease": true, "dhcpv6-release": true, "dhcpv6-deleted": true, "dhcpv6-expired": true, "dhcp-lease-expiry": true}

// observeDHCP records lease events, in time order.
func (l *linker) observeDHCP(ev *event.Event) {
	ip, host, mac := ev.Str("client.ip"), ev.Str("client.domain"), ev.Str("client.mac")
	action := ev.Str("event.action")
	if ip == "" {
		return
	}
	list := l.leases[ip]
	var last *lease
	if n := len(list); n > 0 {
		last = list[n-1]
	}
	switch {
	case dhcpStarts[action]:
		if host == "" {
			return // a lease to no name ties the address to nothing readable
		}
		if last != nil && last.end.IsZero() && strings.EqualFold(last.host, host) {
			return // a renewal of the lease in force
		}
		if last != nil && last.end.IsZero() {
			last.end = ev.Timestamp // the address moved to another host
		}
		if len(list) >= maxLeasesPerAddress {
			return
		}
		ls := &lease{host: host, mac: mac, start: ev.Timestamp, ref: evRef(ev)}
		if e := ev.Str("dhcp.lease.end"); e != "" {
			if t, err := time.Parse(time.RFC3339, e); err == nil {
				ls.end = t
			}
		}
		l.leases[ip] = append(list, ls)
	case action == "dhcp-lease-expiry" && host != "":
		// dnsmasq's lease file keeps only the expiry: held until then.
		l.leases[ip] = append(list, &lease{host: host, mac: mac, end: ev.Timestamp, ref: evRef(ev)})
	case dhcpEnds[action]:
		if last != nil && last.end.IsZero() && (host == "" || strings.EqualFold(last.host, host) || mac != "" && mac == last.mac) {
			last.end = ev.Timestamp
		}
	}
}
