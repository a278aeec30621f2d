package parsers

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// setIP stores an address in canonical form; anything that is not an IP is
// kept under the field name with ".raw" appended, never dropped.
func setIP(ev *event.Event, field, v string) {
	v = strings.TrimSpace(v)
	if v == "" || v == "-" || v == "N/A" {
		return
	}
	v = strings.Trim(v, "[]")
	if a, err := netip.ParseAddr(v); err == nil {
		ev.Fields[field] = a.Unmap().String()
		return
	}
	ev.Fields[field+"_raw"] = v
}

func setPort(ev *event.Event, field, v string) {
	if v == "" || v == "-" {
		return
	}
	if n, err := strconv.ParseUint(v, 10, 16); err == nil {
		ev.SetInt(field, int64(n))
	}
}

// isPrivateIP reports RFC 1918, loopback, link-local and ULA addresses.
func isPrivateIP(v string) bool {
	a, err := netip.ParseAddr(v)
	if err != nil {
		return false
	}
	return a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast()
}

// setOutboundDirection marks a session from an internal address to an
// external one, for formats that do not say the direction themselves.
func setOutboundDirection(ev *event.Event) {
	src, dst := ev.Str("source.ip"), ev.Str("destination.ip")
	if isPrivateIP(src) && dst != "" && !isPrivateIP(dst) {
		ev.Set("network.direction", "outbound")
	}
}

// setMAC writes a MAC address in ECS form (upper case, dash-separated).
func setMAC(ev *event.Event, field, v string) {
	if v != "" {
		ev.Set(field, strings.ToUpper(strings.ReplaceAll(v, ":", "-")))
	}
}
