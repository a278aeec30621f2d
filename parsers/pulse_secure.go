package parsers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// PulseSecure reads the event and user-access logs of Ivanti Connect
// Secure (formerly Pulse Connect Secure, and Juniper's SSL VPN before it:
// "IVE") as its syslog sends them: in its Standard format, "2025-03-14
// 23:05:12 - ive - [185.220.101.4] j.martin(Users)[Staff] - AUT24414: Agent
// login succeeded for j.martin/Users from 185.220.101.4." (node, the
// client's address, account(realm)[roles], message, its ID first in recent
// versions), or in WELF ("id=firewall time=… fw=… vpn=ive user=… realm=…
// roles=… src=… msg=\"…\""). The time is the appliance's local time without
// a zone, read in --tz. The VPN's logins, refusals and logouts are
// authentication events; a tunnel's start gives the address the account
// was handed inside the network (pulse.assigned_ip), which ties the
// firewall's sessions from that address to the account.
type PulseSecure struct{}

func (PulseSecure) Name() string { return "pulse-secure" }
func (PulseSecure) Description() string {
	return "Ivanti (Pulse) Connect Secure VPN event and user-access logs, Standard or WELF syslog format"
}

func (PulseSecure) Detect(head []byte) bool { return mostLines(head, PulseSecure{}.matchLine) }

func (PulseSecure) matchLine(l string) bool {
	if strings.Contains(l, "id=firewall") {
		return strings.Contains(l, " vpn=") && strings.Contains(l, " realm=")
	}
	return pulseStandard.MatchString(l)
}

func (PulseSecure) NewDecoder(o *Options) LineDecoder {
	return &pulseDecoder{zone: newZoneless(o), kv: map[string]string{}}
}

type pulseDecoder struct {
	zone zoneless
	kv   map[string]string // reused per WELF line
}

func (*pulseDecoder) Flush(Emit) {}

var (
	// time - node - [client] account(realm)[roles] - message; the account
	// may follow its virtual system ("Default Network::j.martin").
	pulseStandard = regexp.MustCompile(`(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) - (\S+) - \[([^\]]*)\] (.*?)\(([^()]*)\)\[([^\]]*)\] - (.*)$`)
	pulseCode     = regexp.MustCompile(`^([A-Z]{3}\d{5}):\s*`)
	pulseTunnel   = regexp.MustCompile(`VPN Tunneling: Session (started|ended) for user with (?:IPv4 address|IPv6 address|IP) ([0-9A-Fa-f.:]*[0-9A-Fa-f])(?:,? hostname (\S+))?`)
	pulseClosed   = regexp.MustCompile(`Closed connection to (\S+) port (\d+) after (\d+) seconds?, with (\d+) bytes read(?: \(in \d+ chunks?\))? and (\d+) bytes written`)
)

func (d *pulseDecoder) Line(no int64, line []byte, emit Emit) error {
	s := strings.TrimRight(string(line), "\r\n")
	var stamp, node, client, account, realm, roles, msg string
	if i := strings.Index(s, "id=firewall"); i >= 0 {
		kv := d.kv
		clear(kv)
		splitKV(s[i:], func(k, v string) { kv[k] = v })
		stamp, node, client, account, realm, roles, msg = kv["time"], kv["vpn"], kv["src"], kv["user"], kv["realm"], kv["roles"], kv["msg"]
		if stamp == "" || kv["realm"] == "" && kv["user"] == "" && msg == "" {
			return fmt.Errorf("pulse-secure: a WELF record without time=, user=, realm= or msg=")
		}
	} else {
		m := pulseStandard.FindStringSubmatch(s)
		if m == nil {
			return fmt.Errorf("pulse-secure: not \"time - node - [address] account(realm)[roles] - message\"")
		}
		stamp, node, client, account, realm, roles, msg = m[1], m[2], m[3], m[4], m[5], m[6], m[7]
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", stamp, d.zone.tz)
	if err != nil {
		return fmt.Errorf("pulse-secure: time %q: %v", stamp, err)
	}
	ev := event.New()
	ev.Timestamp = t.UTC()
	d.zone.mark(ev, "Connect Secure writes its local time without a zone", "the appliance's")
	ev.Fields[event.FieldDataset] = "pulse_secure"
	ev.Fields[event.FieldOriginal] = s
	ev.Fields[event.FieldLine] = no
	ev.Fields["observer.type"] = "vpn"
	ev.Set("observer.vendor", "Ivanti")
	ev.Set("observer.product", "Connect Secure")
	ev.Set("observer.name", node)
	if ivs, user, ok := strings.Cut(account, "::"); ok {
		ev.Set("pulse.ivs", ivs)
		account = user
	}
	if account != "System" {
		ev.Set("user.name", account)
	}
	ev.Set("user.domain", realm)
	for _, r := range strings.Split(roles, ",") {
		ev.Add("user.roles", strings.TrimSpace(r))
	}
	setIP(ev, "source.ip", client)
	if c := pulseCode.FindStringSubmatch(msg); c != nil {
		ev.Set("event.code", c[1])
		msg = msg[len(c[0]):]
	}
	ev.Set("message", msg)
	pulseMessage(ev, msg)
	emit(ev, linePos(no))
	return nil
}

// pulseMessage reads what the messages that matter say: logins, refusals,
// logouts, a tunnel's address, a connection's bytes.
func pulseMessage(ev *event.Event, msg string) {
	low := strings.ToLower(msg)
	auth := func(action, outcome string) {
		ev.Fields["event.category"] = []string{"authentication"}
		ev.Set("event.action", action)
		ev.Set("event.outcome", outcome)
	}
	switch {
	case strings.Contains(low, "login succeeded for"):
		auth("vpn-login", "success")
		ev.Fields["event.type"] = []string{"start"}
	case strings.Contains(low, "login failed"), strings.Contains(low, "authentication failed"), strings.Contains(low, "realm restrictions failed"):
		auth("vpn-login", "failure")
	case strings.HasPrefix(low, "logout from"), strings.Contains(low, "session timed out"), strings.Contains(low, "max session timeout"),
		strings.Contains(low, "logged out from"):
		auth("logout", "success")
		ev.Fields["event.type"] = []string{"end"}
	}
	if m := pulseTunnel.FindStringSubmatch(msg); m != nil {
		ev.Fields["event.category"] = []string{"network", "session"}
		ev.Set("pulse.assigned_ip", m[2])
		ev.Set("pulse.client_hostname", m[3])
		if m[1] == "started" {
			ev.Set("event.action", "tunnel-up")
		} else {
			ev.Set("event.action", "tunnel-down")
		}
	}
	if m := pulseClosed.FindStringSubmatch(msg); m != nil {
		// What the appliance read from the client and wrote to it over the
		// connection: kept under pulse.*, not counted in the firewall's
		// ledger (the tunnel's traffic inside the network is not a transfer
		// out of it).
		ev.Set("pulse.connection", m[1])
		for k, v := range map[string]string{"pulse.bytes_read": m[4], "pulse.bytes_written": m[5]} {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				ev.SetInt(k, n)
			}
		}
		if n, err := strconv.ParseInt(m[3], 10, 64); err == nil {
			ev.SetInt("event.duration", n*int64(time.Second))
		}
	}
}
