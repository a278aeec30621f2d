package parsers

import (
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// splitKV walks space-separated key=value pairs, where values may be
// double-quoted (with spaces and \" escapes inside). It reports false if the
// text is not key=value shaped at all.
func splitKV(s string, fn func(k, v string)) bool { return splitKVQuoted(s, false, fn) }

// splitKVQuoted is splitKV where, with single set, values may also be
// single-quoted (SonicWall's appName='…').
func splitKVQuoted(s string, single bool, fn func(k, v string)) bool {
	return splitKVSep(s, ' ', single, fn)
}

// splitKVSep is splitKVQuoted with pairs separated by sep: ' ', or ','
// for a device's "CSV" form of the same pairs (FortiOS' syslog format csv:
// date=2025-03-14,time=22:05:01,logid="0000000013",…). Spaces before a key
// are skipped either way; an unquoted value ends at sep.
func splitKVSep(s string, sep byte, single bool, fn func(k, v string)) bool {
	i, pairs := 0, 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == sep) {
			i++
		}
		if i >= len(s) {
			break
		}
		ks := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != sep {
			i++
		}
		if i >= len(s) || s[i] != '=' {
			// a bare word: skip it
			for i < len(s) && s[i] != ' ' && s[i] != sep {
				i++
			}
			continue
		}
		k := s[ks:i]
		i++ // '='
		var v string
		if i < len(s) && (s[i] == '"' || single && s[i] == '\'') {
			q := s[i]
			i++
			vs := i
			esc := false
			for i < len(s) && s[i] != q {
				if s[i] == '\\' && i+1 < len(s) {
					esc = true
					i++
				}
				i++
			}
			v = s[vs:i]
			if esc {
				v = unescapeQuoted(v)
			}
			if i < len(s) {
				i++ // closing quote
			}
		} else {
			vs := i
			for i < len(s) && s[i] != sep {
				i++
			}
			v = s[vs:i]
		}
		if k != "" {
			fn(k, v)
			pairs++
		}
	}
	return pairs > 0
}

// pairSeparator says how a line's key=value pairs are separated: by ','
// when its first pair ends with one (the CSV form), else by ' '.
func pairSeparator(s string) byte {
	i := strings.IndexByte(s, '=')
	if i < 0 {
		return ' '
	}
	i++
	if i < len(s) && s[i] == '"' {
		for i++; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' {
				i++
			}
		}
		i++ // closing quote
	} else {
		for i < len(s) && s[i] != ' ' && s[i] != ',' {
			i++
		}
	}
	if i < len(s) && s[i] == ',' {
		return ','
	}
	return ' '
}

func unescapeQuoted(v string) string {
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && (v[i+1] == '"' || v[i+1] == '\\') {
			i++
		}
		out = append(out, v[i])
	}
	return string(out)
}

// vendorNames builds "<prefix><key>" for a vendor's keys kept as they are
// (ECS keeps vendor detail under the vendor's name), once per key and
// file: a concatenation per key and line was a tenth of a decoder's time.
// It also says, once per key, whether the caller reads the field
// (Options.Keep): a report's scratch reading sets a firewall line's
// dozen unread vendor fields for nothing (5–10 % of an analysis).
type vendorNames struct {
	prefix string
	keep   *event.Selection
	names  map[string]vendorName
}

type vendorName struct {
	name string
	read bool
}

// maxVendorNames bounds the cache: a file of ever-new keys (damaged,
// hostile) costs a concatenation per key, not memory.
const maxVendorNames = 4096

func (n *vendorNames) name(k string) string { return n.lookup(k).name }

// wanted returns the field's name and whether the caller reads it.
func (n *vendorNames) wanted(k string) (string, bool) {
	v := n.lookup(k)
	return v.name, v.read
}

func (n *vendorNames) lookup(k string) vendorName {
	if v, ok := n.names[k]; ok {
		return v
	}
	name := n.prefix + k
	v := vendorName{name, n.keep.Keeps(name)}
	if n.names == nil {
		n.names = make(map[string]vendorName, 64)
	}
	if len(n.names) < maxVendorNames {
		n.names[k] = v
	}
	return v
}
