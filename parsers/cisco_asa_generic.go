package parsers

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// Cisco's message catalogue words addresses the same way across hundreds of
// message ids: "from iface:addr/port to iface:addr/port", "src … dst …",
// "SRC a DEST b", "faddr/gaddr/laddr", "(mapped/port)" after an address;
// users as "user 'x'", "User = x", "Uname: x", "for user \"x\"". asaGeneric
// reads these for any message the specific cases did not fully read: it
// only fills fields still empty.

var (
	// An endpoint: optional interface, an IPv4 address or an IPv6 address
	// (which then needs a word boundary before it), optional /port.
	asaAnyEnd = regexp.MustCompile(`(?:([A-Za-z][\w.-]*):)?(\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?:/(\d+|[a-z]+)\b)?`)
	// asaUsers are tried in order; each with what a message must hold for it
	// to match (most messages hold none: the expressions, unanchored and
	// case-folded, are costly to try on every Built and Teardown).
	asaUsers = []struct {
		re   *regexp.Regexp
		need func(msg, lower string) bool
	}{
		{regexp.MustCompile(`(?i)\buser(?:name)? ['"]([^'"]+)['"]`), foldedUser},
		{regexp.MustCompile(`(?i)\bfor user ['"]?([^\s'",:]+)`), func(msg, lower string) bool {
			return strings.Contains(lower, "for user") || strings.ContainsRune(msg, 'ſ')
		}},
		{regexp.MustCompile(`(?i)\buser(?:name)?\s*[=:]\s*([^\s,:)]+)`), foldedUser},
		{regexp.MustCompile(`\bGroup \S+ User (\S+) IP `), func(msg, _ string) bool { return strings.Contains(msg, " User ") }},
		// The identity firewall's "addr(DOMAIN\user)" after an address.
		{regexp.MustCompile(`\d\((?:[^()\s\\]+\\)+([^()\s\\]+)\)`), func(msg, _ string) bool { return strings.Contains(msg, "\\") }},
		{regexp.MustCompile(`\bUname:\s*(\S+)`), func(msg, _ string) bool { return strings.Contains(msg, "Uname:") }},
		{regexp.MustCompile(`(?i)\buser(?:name)?\s*<([^>]+)>`), func(msg, lower string) bool {
			return strings.Contains(msg, "<") && foldedUser(msg, lower)
		}},
		{regexp.MustCompile(`\bUser (\S+) (?:executed|locked|logged|authenticated)`), func(msg, _ string) bool { return strings.Contains(msg, "User ") }},
	}
	asaURL       = regexp.MustCompile(`\b(?:https?|ftp)://\S+`)
	asaBytesWord = regexp.MustCompile(`\b(?:forwarded )?bytes (\d+)\b`)
)

// foldedUser reports whether msg may hold "user" in any case: Go's (?i)
// also folds 's' with 'ſ' (U+017F), which strings.ToLower leaves alone.
func foldedUser(msg, lower string) bool {
	return strings.Contains(lower, "user") || strings.ContainsRune(msg, 'ſ')
}

// asaSourceWords and asaDestWords are the words that say which side an
// address is on.
var asaSourceWords = map[string]bool{"from": true, "src": true, "source": true, "faddr": true, "for": true, "ip": true,
	"remote-peer": true, "peer": true, "host": true, "between": true, "laddr": false}
var asaDestWords = map[string]bool{"to": true, "dst": true, "dest": true, "destination": true, "gaddr": true, "server": true}

// asaNotEndpoints are words before an address that is no endpoint of the
// traffic (a tunnel group named by its peer's address).
var asaNotEndpoints = map[string]bool{"group": true, "tunnel-group": true, "username": true, "user": true}

func asaGeneric(ev *event.Event, msg string) {
	haveSrc := ev.Str("source.ip") != "" || ev.Str("source.domain") != ""
	haveDst := ev.Str("destination.ip") != "" || ev.Str("destination.domain") != ""
	vpn := strings.HasPrefix(ev.Str("event.action"), "vpn-")
	if (!haveSrc || !haveDst) && !vpn {
		// (A VPN session's other address is the one it was assigned, not a peer.)
		asaEndpoints(ev, msg, haveSrc, haveDst)
	}
	lm := strings.ToLower(msg)
	if ev.Str("user.name") == "" && (strings.Contains(lm, "user") || strings.Contains(msg, "Uname") || strings.Contains(msg, "\\")) {
		for _, u := range asaUsers {
			if !u.need(msg, lm) {
				continue
			}
			if m := u.re.FindStringSubmatch(msg); m != nil {
				u := strings.TrimSpace(m[1])
				if u != "" && u != "*****" && !strings.EqualFold(u, "none") {
					setUserDomainForm(ev, u)
				}
				break
			}
		}
	}
	if ev.Str("url.original") == "" && strings.Contains(msg, "://") {
		if u := asaURL.FindString(msg); u != "" {
			ev.Set("url.original", strings.TrimRight(u, ".,;"))
			ev.Set("url.domain", urlHost(u))
		}
	}
	if _, ok := ev.Int("network.bytes"); !ok && strings.Contains(msg, "bytes ") {
		if m := asaBytesWord.FindStringSubmatch(msg); m != nil {
			if n, err := strconv.ParseInt(m[1], 10, 64); err == nil {
				ev.SetInt("network.bytes", n) // both directions, as in a teardown
			}
		}
	}
	if ev.Str("network.transport") == "" {
		for _, w := range strings.Fields(msg) {
			switch p := strings.ToLower(strings.Trim(w, ",:;")); p {
			case "tcp", "udp", "icmp", "gre", "esp", "sctp":
				ev.Set("network.transport", p)
			}
			if ev.Str("network.transport") != "" {
				break
			}
		}
	}
	auth := ev.Str("user.name") != "" && (strings.Contains(lm, "login") || strings.Contains(lm, "authentication") || strings.Contains(lm, "logged"))
	if auth && !slices.Contains(ev.Strings("event.category"), "authentication") {
		ev.Fields["event.category"] = []string{"authentication"}
	}
	if ev.Str("event.outcome") == "" {
		for _, w := range []string{"deny ", "denied", "drop", "discard", "rejected", "refused", "shunned"} {
			if strings.Contains(lm, w) {
				ev.Set("event.outcome", "failure")
				if slices.Contains(ev.Strings("event.category"), "network") && ev.Str("source.ip") != "" {
					ev.Fields["event.type"] = []string{"connection", "denied"}
				}
				break
			}
		}
		for _, w := range []string{"failed", "failure", "incorrect", "locked out"} {
			if ev.Str("event.outcome") == "" && strings.Contains(lm, w) {
				ev.Set("event.outcome", "failure")
			}
		}
		if ev.Str("event.outcome") == "" && (strings.Contains(lm, "permitted") || strings.Contains(lm, "successful")) {
			ev.Set("event.outcome", "success")
		}
	}

}

// asaEndpoints assigns the addresses of a message to source and
// destination by the word before each; an address no word places fills
// source, then destination, in order. An address in parentheses right after
// another is that endpoint's mapped (NAT) address.
func asaEndpoints(ev *event.Event, msg string, haveSrc, haveDst bool) {
	var locs [][]int
	if strings.Contains(msg, "::") || strings.Count(msg, ":") > 8 {
		locs = asaAnyEnd.FindAllStringSubmatchIndex(msg, -1) // IPv6 addresses: the regular expression
	} else {
		locs = ipv4Ends(msg)
	}
	var pending [][]string // unplaced endpoints: iface, ip, port
	lastSide := ""
	for _, l := range locs {
		ip := msg[l[4]:l[5]]
		if strings.Count(ip, ":") > 0 && !strings.Contains(ip, "::") && strings.Count(ip, ":") < 7 {
			continue // a time (13:44:00) or MAC fragment, not IPv6
		}
		iface, port := "", ""
		if l[2] >= 0 {
			iface = msg[l[2]:l[3]]
		}
		if l[6] >= 0 {
			port = msg[l[6]:l[7]]
		}
		before := strings.TrimRight(msg[:l[0]], " =:<")
		if strings.HasSuffix(before, "(") {
			// "(mapped/port)": the NAT address of the endpoint just read.
			if lastSide != "" && ev.Str(lastSide+".nat.ip") == "" {
				if v := ev.Str(lastSide + ".ip"); v != ip {
					setIP(ev, lastSide+".nat.ip", ip)
					setPort(ev, lastSide+".nat.port", port)
				}
			}
			continue
		}
		word := before
		if i := strings.LastIndexAny(before, " ,("); i >= 0 {
			word = before[i+1:]
		}
		word = strings.ToLower(word)
		side := ""
		if asaNotEndpoints[word] {
			continue
		}
		switch {
		case asaSourceWords[word]:
			side = "source"
		case asaDestWords[word]:
			side = "destination"
		case word == "laddr":
			// ICMP "from laddr X … to Y": the local address is the source.
			side = "source"
		}
		if side == "" {
			pending = append(pending, []string{iface, ip, port})
			continue
		}
		if side == "source" && (haveSrc || ev.Str("source.ip") != "") || side == "destination" && (haveDst || ev.Str("destination.ip") != "") {
			lastSide = ""
			continue // the first address of each side wins ("Original IP payload: …" repeats them)
		}
		asaSetEnd(ev, side, iface, ip, port)
		lastSide = side
	}
	for _, p := range pending {
		switch {
		case !haveSrc && ev.Str("source.ip") == "":
			asaSetEnd(ev, "source", p[0], p[1], p[2])
		case !haveDst && ev.Str("destination.ip") == "":
			asaSetEnd(ev, "destination", p[0], p[1], p[2])
		}
	}
}

func asaSetEnd(ev *event.Event, side, iface, ip, port string) {
	setIP(ev, side+".ip", ip)
	if _, err := strconv.Atoi(port); err == nil && port != "0" {
		setPort(ev, side+".port", port)
	} else if port != "" && port != "0" {
		ev.Set(side+".service", port) // "outside:192.168.2.14/ssh"
	}
	if iface != "" && !strings.EqualFold(iface, "http") && !strings.EqualFold(iface, "https") {
		ev.Set("observer."+map[string]string{"source": "ingress", "destination": "egress"}[side]+".zone", iface)
	}
}

// ipv4Ends finds "[iface:]a.b.c.d[/port]" in msg, as asaAnyEnd's submatch
// indexes (whole, iface, address, port), by hand: the regular expression
// was most of the decoder's time.
func ipv4Ends(msg string) [][]int {
	var out [][]int
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c < '0' || c > '9' || i > 0 && (isWordByte(msg[i-1]) || msg[i-1] == '.') {
			continue
		}
		j, dots := i, 0
		for j < len(msg) {
			k := j
			for k < len(msg) && k-j < 4 && msg[k] >= '0' && msg[k] <= '9' {
				k++
			}
			if k == j || k-j > 3 {
				break
			}
			j = k
			if dots == 3 || j >= len(msg) || msg[j] != '.' || j+1 >= len(msg) || msg[j+1] < '0' || msg[j+1] > '9' {
				break
			}
			dots++
			j++
		}
		if dots != 3 || j < len(msg) && (isWordByte(msg[j]) || msg[j] == '.' && j+1 < len(msg) && msg[j+1] >= '0' && msg[j+1] <= '9') {
			i = j
			continue
		}
		loc := []int{i, j, -1, -1, i, j, -1, -1}
		// "iface:" right before the address.
		if i > 1 && msg[i-1] == ':' {
			k := i - 1
			for k > 0 && (isWordByte(msg[k-1]) || msg[k-1] == '-' || msg[k-1] == '.') {
				k--
			}
			if k < i-1 && (msg[k] < '0' || msg[k] > '9') {
				loc[0], loc[2], loc[3] = k, k, i-1
			}
		}
		// "/port" or "/service" after it.
		if j < len(msg) && msg[j] == '/' {
			k := j + 1
			for k < len(msg) && isWordByte(msg[k]) {
				k++
			}
			p := msg[j+1 : k]
			if k > j+1 && (isDigits(p) || isLowerWord(p)) {
				loc[1], loc[6], loc[7] = k, j+1, k
			}
		}
		out = append(out, loc)
		i = loc[1]
	}
	return out
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func isLowerWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return s != ""
}
