package scenario

import (
	"fmt"
	"strings"
	"time"
)

// VPNModes are the VPN concentrators an incident's remote access can be
// logged by instead of the FortiGate's SSL VPN.
var VPNModes = []string{"connect-secure"}

const connectSecureFile = "vpn/connect-secure.log"

// AsVPN moves the incident's VPN records (refused logins, tunnels up and
// down) out of the firewall's log into a VPN concentrator's own log, as an
// Ivanti Connect Secure writes it by syslog in its Standard format: the
// firewall then logs only the tunnel's traffic, and the account behind a
// tunnel address is the concentrator's to tell. Call it before AsFirewall.
func (inc *Incident) AsVPN(mode string) error {
	if mode != "connect-secure" {
		return fmt.Errorf("unknown VPN mode %q (known: %s)", mode, strings.Join(VPNModes, ", "))
	}
	src, ok := inc.Files[fwFile]
	if !ok {
		return nil // the firewall is the missing source: its VPN records with it
	}
	loc := inc.Truth.Location()
	var keep, vpn strings.Builder
	session := 0
	for _, l := range strings.Split(strings.TrimSpace(string(src)), "\n") {
		r, err := parseFG(l, loc)
		if err != nil {
			return err
		}
		kv := r.kv
		if kv["type"] != "event" || kv["subtype"] != "vpn" {
			keep.WriteString(l + "\n")
			continue
		}
		t := r.t.Truncate(time.Second)
		line := func(roles, msg string) {
			fmt.Fprintf(&vpn, "%s vpn01 PulseSecure: %s - ive - [%s] %s(Users)[%s] - %s\n",
				t.In(loc).Format(time.Stamp), t.In(loc).Format("2006-01-02 15:04:05"), kv["remip"], kv["user"], roles, msg)
		}
		switch kv["action"] {
		case "ssl-login-fail":
			line("", "AUT23457: Login failed using auth server AD (Active Directory).  Reason: Failed")
		case "tunnel-up":
			session++
			line(kv["group"], fmt.Sprintf("AUT24414: Agent login succeeded for %s/Users from %s.", kv["user"], kv["remip"]))
			line(kv["group"], fmt.Sprintf("NWC23464: VPN Tunneling: Session started for user with IPv4 address %s, hostname PC-%d", kv["tunnelip"], session))
		case "tunnel-down":
			line(kv["group"], fmt.Sprintf("NWC23465: VPN Tunneling: Session ended for user with IPv4 address %s", kv["tunnelip"]))
			line(kv["group"], fmt.Sprintf("AUT22673: Logout from %s (session:%08x)", kv["remip"], session))
		default:
			keep.WriteString(l + "\n")
		}
	}
	inc.Files[fwFile] = []byte(keep.String())
	inc.Files[connectSecureFile] = []byte(vpn.String())
	inc.Truth.Notes += ", VPN by " + mode
	return nil
}
