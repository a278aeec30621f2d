package parsers

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

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

// setFirewall marks an event from a network firewall: ECS observer fields,
// which also tell the report that the device logs sessions.
func setFirewall(ev *event.Event, vendor, product string) {
	ev.Fields["observer.type"] = "firewall"
	ev.Set("observer.vendor", vendor)
	ev.Set("observer.product", product)
}

// setSessionBytes stores a session's bytes per direction: sent is what the
// session's initiator (source) sent, rcvd what it received. Absent or
// non-numeric counters are not stored: an absent count is not zero.
func setSessionBytes(ev *event.Event, sent, rcvd string) {
	s, err1 := strconv.ParseInt(strings.TrimSpace(sent), 10, 64)
	r, err2 := strconv.ParseInt(strings.TrimSpace(rcvd), 10, 64)
	if err1 == nil {
		ev.SetInt("source.bytes", s)
	}
	if err2 == nil {
		ev.SetInt("destination.bytes", r)
	}
	if err1 == nil && err2 == nil {
		ev.SetInt("network.bytes", s+r)
	}
}

// setSessionPackets is setSessionBytes for packet counts.
func setSessionPackets(ev *event.Event, sent, rcvd string) {
	if n, err := strconv.ParseInt(strings.TrimSpace(sent), 10, 64); err == nil {
		ev.SetInt("source.packets", n)
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(rcvd), 10, 64); err == nil {
		ev.SetInt("destination.packets", n)
	}
}

// setSessionEnd records a session that ended at the event's time after secs
// seconds: its duration and start, which the report's timeline uses.
func setSessionEnd(ev *event.Event, secs string) {
	if d, ok := sessionDuration(ev, secs); ok {
		setSpan(ev, d)
	}
}

// sessionDuration records a session's duration of secs seconds, when ev
// is dated and secs a duration.
func sessionDuration(ev *event.Event, secs string) (time.Duration, bool) {
	n, ok := boundedFloat(secs, float64(math.MaxInt64)/float64(time.Second))
	if !ok || n < 0 || ev.Timestamp.IsZero() {
		return 0, false
	}
	d := time.Duration(n * float64(time.Second))
	ev.SetInt("event.duration", int64(d))
	return d, true
}

// setSessionStart records a session that began at the event's time and
// lasted secs seconds (Zeek, Stormshield: their time is the start): its
// duration and end, so the report's ledger dates the session's last byte
// at its end, as for the logs dated at the end.
func setSessionStart(ev *event.Event, secs string) {
	if d, ok := sessionDuration(ev, secs); ok {
		ev.Fields["event.start"] = ev.Timestamp.Format(time.RFC3339Nano)
		ev.Fields["event.end"] = ev.Timestamp.Add(d).Format(time.RFC3339Nano)
	}
}

// setSpan dates the start and end of something that ended at the event's
// time after d.
func setSpan(ev *event.Event, d time.Duration) {
	ev.Fields["event.start"] = ev.Timestamp.Add(-d).Format(time.RFC3339Nano)
	ev.Fields["event.end"] = ev.Timestamp.Format(time.RFC3339Nano)
}

// zoneAbbrevs are the zone abbreviations devices write that name one
// offset only (IST, CST… are ambiguous and are not here).
var zoneAbbrevs = map[string]int{"UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 3600, "BST": 3600, "CET": 3600, "CEST": 7200,
	"MET": 3600, "MEST": 7200, "EET": 7200, "EEST": 10800}

// zoneFromAbbrev returns the fixed zone for an unambiguous abbreviation.
func zoneFromAbbrev(a string) (*time.Location, bool) {
	off, ok := zoneAbbrevs[strings.ToUpper(strings.TrimSpace(a))]
	if !ok {
		return nil, false
	}
	return time.FixedZone(strings.ToUpper(a), off), true
}

// zoneOf reads a zone as devices write it beside a local time: an offset
// ("+0100", "+01:00", "-05", "UTC+1", "GMT-05:30"), an unambiguous
// abbreviation ("UTC", "CET") or an IANA name ("Europe/Paris").
func zoneOf(s string) (*time.Location, bool) {
	s = strings.TrimSpace(s)
	if z, ok := zoneFromAbbrev(s); ok {
		return z, true
	}
	if strings.Contains(s, "/") {
		return namedZone(s)
	}
	off := s
	if len(off) > 3 && (strings.EqualFold(off[:3], "UTC") || strings.EqualFold(off[:3], "GMT")) {
		off = off[3:]
	}
	if len(off) < 2 || off[0] != '+' && off[0] != '-' {
		return nil, false
	}
	h, m, colon := off[1:], "0", strings.Contains(off, ":")
	switch {
	case colon:
		h, m, _ = strings.Cut(off[1:], ":")
	case len(h) == 4:
		h, m = h[:2], h[2:]
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || len(h) > 2 || hh > 14 || mm > 59 || len(m) > 2 {
		return nil, false
	}
	sec := hh*3600 + mm*60
	if off[0] == '-' {
		sec = -sec
	}
	return time.FixedZone(fmtUTCOffset(time.Duration(sec)*time.Second), sec), true
}

// namedZones caches the IANA zones read: time.LoadLocation reads the zone
// database each time, and a log may name its zone on every line.
var namedZones = struct {
	sync.Mutex
	m map[string]*time.Location // nil: not a zone
}{m: map[string]*time.Location{}}

// maxNamedZones bounds the cache against a file of ever-new names.
const maxNamedZones = 256

func namedZone(name string) (*time.Location, bool) {
	namedZones.Lock()
	z, seen := namedZones.m[name]
	namedZones.Unlock()
	if seen {
		return z, z != nil
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		z = nil
	}
	namedZones.Lock()
	if len(namedZones.m) < maxNamedZones {
		namedZones.m[name] = z
	}
	namedZones.Unlock()
	return z, z != nil
}

// ipv4Pat matches a dotted IPv4 address in free text.
const ipv4Pat = `\d{1,3}(?:\.\d{1,3}){3}`

// boundedFloat reads a decimal number whose magnitude stays below limit.
// ParseFloat also reads "NaN", "Inf" and 1e300, which no log means as a
// count, a duration or a date, and which int64() would turn into an
// arbitrary value (a negative byte count, a date before 1970).
func boundedFloat(s string, limit float64) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) >= limit {
		return 0, false
	}
	return f, true
}

// isAddr reports s an IP address (a field that names a host by address,
// not by name or account).
func isAddr(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
