package parsers

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// A ProxySG logging over syslog sends its requests without the W3C header
// lines, so its log names no #Fields:. Its built-in access log formats are
// documented field lists; a request whose values have one of those shapes —
// dates, addresses, numbers, the proxy's action and filter words, each at its
// place — is read by that list. The shape is checked on every line: a line of
// a custom format is refused (kept raw with the reason) rather than read into
// the wrong names, and a format that adds fields after a built-in one is read
// for the built-in part, its extra values kept only in event.original.

type valueKind uint8

const (
	vDate     valueKind = iota + 1 // 2024-03-22
	vClock                         // 16:16:01
	vUint                          // time-taken, byte counts
	vIP                            // an address
	vIPOrNone                      // an address or "-"
	vStatus                        // an HTTP status, or 0 for a tunnel
	vAction                        // TCP_NC_MISS, TUNNELED, TCP_DENIED…
	vMethod                        // GET, CONNECT, unknown…
	vFilter                        // OBSERVED, PROXIED, DENIED or "-"
	vPort                          // a port or "-"
)

// sgFormat is one of ProxySG's built-in access log formats.
type sgFormat struct {
	name   string
	fields []string          // as the appliance's #Fields: would write them
	named  int               // how many leading fields hold in every version of the format
	shape  map[int]valueKind // what must be where
}

// sgFormats are ProxySG's formats as Broadcom documents them: main (SGOS's
// default) and bcreportermain_v1, the one Symantec Reporter asks for, in its
// current form (Broadcom knowledge article TECH244752) and SGOS 6's shorter
// one. Elastic's ProxySG integration reads the same lists; some versions of
// bcreportermain_v1 add fields after x-virus-id, so only its first 29 are
// relied on unless a line has exactly the documented 36.
var sgFormats = []*sgFormat{
	{
		name: "main",
		fields: strings.Fields(`date time time-taken c-ip sc-status s-action sc-bytes cs-bytes cs-method cs-uri-scheme
			cs-host cs-uri-port cs-uri-path cs-uri-query cs-username cs-auth-group s-supplier-name rs(Content-Type)
			cs(Referer) cs(User-Agent) sc-filter-result cs-categories x-virus-id s-ip`),
		named: 24,
		shape: map[int]valueKind{0: vDate, 1: vClock, 2: vUint, 3: vIP, 4: vStatus, 5: vAction, 6: vUint, 7: vUint,
			8: vMethod, 11: vPort, 20: vFilter, 23: vIPOrNone},
	},
	{
		name: "bcreportermain_v1",
		fields: strings.Fields(`date time time-taken c-ip cs-username cs-auth-group s-supplier-name s-supplier-ip
			s-supplier-country s-supplier-failures x-exception-id sc-filter-result cs-categories cs(Referer) sc-status
			s-action cs-method rs(Content-Type) cs-uri-scheme cs-host cs-uri-port cs-uri-path cs-uri-query
			cs-uri-extension cs(User-Agent) s-ip sc-bytes cs-bytes x-virus-id x-bluecoat-application-name
			x-bluecoat-application-operation x-bluecoat-application-groups cs-threat-risk x-bluecoat-transaction-uuid
			x-icap-reqmod-header(X-ICAP-Metadata) x-icap-respmod-header(X-ICAP-Metadata)`),
		named: 29,
		shape: map[int]valueKind{0: vDate, 1: vClock, 2: vUint, 3: vIP, 7: vIPOrNone, 11: vFilter, 14: vStatus,
			15: vAction, 16: vMethod, 20: vPort, 25: vIPOrNone, 26: vUint, 27: vUint},
	},
	{
		// SGOS 6's bcreportermain_v1, before the supplier fields.
		name: "bcreportermain_v1",
		fields: strings.Fields(`date time time-taken c-ip cs-username cs-auth-group x-exception-id sc-filter-result
			cs-categories cs(Referer) sc-status s-action cs-method rs(Content-Type) cs-uri-scheme cs-host cs-uri-port
			cs-uri-path cs-uri-query cs-uri-extension cs(User-Agent) s-ip sc-bytes cs-bytes x-virus-id
			x-bluecoat-application-name x-bluecoat-application-operation`),
		named: 27,
		shape: map[int]valueKind{0: vDate, 1: vClock, 2: vUint, 3: vIP, 7: vFilter, 10: vStatus, 11: vAction,
			12: vMethod, 16: vPort, 21: vIPOrNone, 22: vUint, 23: vUint},
	},
}

// fits tells whether a request's values have this format's shape.
func (f *sgFormat) fits(vals []string) bool {
	if len(vals) < f.named {
		return false
	}
	for i, k := range f.shape {
		if !k.holds(vals[i]) {
			return false
		}
	}
	return true
}

// width is how many of a request's values the format names.
func (f *sgFormat) width(n int) int {
	if n == len(f.fields) {
		return n
	}
	return min(n, f.named)
}

func (k valueKind) holds(v string) bool {
	switch k {
	case vDate:
		_, err := time.Parse("2006-01-02", v)
		return err == nil
	case vClock:
		_, err := time.Parse("15:04:05", v)
		return err == nil
	case vUint:
		return v != "" && strings.Trim(v, "0123456789") == ""
	case vIP:
		_, err := netip.ParseAddr(v)
		return err == nil
	case vIPOrNone:
		return v == "-" || vIP.holds(v)
	case vStatus:
		return v == "0" || len(v) == 3 && vUint.holds(v) && v[0] >= '1' && v[0] <= '5'
	case vAction:
		return v != "" && strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789") == "" && v[0] >= 'A' && v[0] <= 'Z'
	case vMethod:
		return v != "" && strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-") == ""
	case vFilter:
		return v == "-" || v == "OBSERVED" || v == "PROXIED" || v == "DENIED"
	case vPort:
		return v == "-" || vUint.holds(v) && len(v) <= 5
	}
	return false
}

// sgFormatOf returns the built-in format a line's values fit, if any.
func sgFormatOf(vals []string) *sgFormat {
	for _, f := range sgFormats {
		if f.fits(vals) {
			return f
		}
	}
	return nil
}

// sgRequest finds a ProxySG request in a line without directives: the line
// itself, or what a syslog relay carried. body is the request's text.
func sgRequest(l string, clock syslogClock) (body string, relayed bool, f *sgFormat) {
	if !startsWithDate(l) {
		h, err := clock.peek(l) // the request's own date dates it
		if err != nil {
			return "", false, nil
		}
		l, relayed = syslogBody(h), true
		if !startsWithDate(l) {
			return "", false, nil
		}
	}
	vals, err := splitELFF(l, nil)
	if err != nil {
		return "", false, nil
	}
	return l, relayed, sgFormatOf(vals)
}

// startsWithDate is a cheap first test: ELFF requests begin "YYYY-MM-DD ".
func startsWithDate(l string) bool {
	return len(l) > 11 && l[4] == '-' && l[7] == '-' && l[10] == ' ' && vDate.holds(l[:10])
}

// matchLine recognises a ProxySG request without directives, plain or
// relayed, so a relay's file mixing it with other devices' lines reads it.
func (W3CProxy) matchLine(l string) bool {
	_, _, f := sgRequest(l, syslogClock{Loc: time.UTC})
	return f != nil
}

// guess takes the built-in format of the first request of a log without
// directives; every later line must fit it too.
func (d *w3cProxyDecoder) guess(s string) (string, error) {
	body, relayed, f := sgRequest(s, d.clock)
	if f == nil {
		return "", fmt.Errorf("w3c-proxy: a request before any #Fields: directive, and its values fit none of ProxySG's built-in formats (main, bcreportermain_v1)")
	}
	if relayed {
		d.relayed = relayShape(s)
	}
	d.builtin = f
	d.names = f.fields
	d.fields = make([]string, len(f.fields))
	for i, n := range f.fields {
		d.fields[i] = strings.ToLower(n)
	}
	d.product = proxyProduct{"Symantec", "ProxySG"}
	if d.warn != nil {
		d.warn(fmt.Sprintf("no #Fields: directive: the requests are read by ProxySG's built-in %q access log format (%d fields), whose shape each line is checked against", f.name, len(f.fields)))
	}
	return body, nil
}
