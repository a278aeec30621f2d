package parsers

import (
	"slices"
	"strings"
)

// FortiOS writes its logs as CEF when asked (config log syslogd setting,
// set format cef): the same fields, those CEF has a name for renamed
// (srcip → src, sentbyte → out…) and the others prefixed FTNTFGT. Such lines
// are read by the FortiGate decoder, so that they mean what the key=value
// form means — above all the byte counters: FortiOS writes sentbyte as
// "out" (its Log Message Reference's own example: sentbyte=151
// rcvdbyte=90170 → out=151 in=90170), the reverse of CEF's standard ("in":
// bytes from source to destination), so read as plain CEF an upload is
// taken for a download; and its interim records (running totals) are told
// apart only by FortiOS' own keys.

// fortiCEFKeys are FortiOS' names of the CEF keys it writes (FortiOS Log
// Message Reference, "… log support for CEF" tables and examples).
var fortiCEFKeys = map[string]string{
	"deviceExternalId": "devid", "dvchost": "devname",
	"src": "srcip", "spt": "srcport", "dst": "dstip", "dpt": "dstport",
	"shost": "srcname", "dhost": "hostname", "smac": "srcmac", "dmac": "dstmac",
	"deviceInboundInterface": "srcintf", "deviceOutboundInterface": "dstintf",
	"externalId": "sessionid", "proto": "proto", "act": "action", "app": "service",
	"sourceTranslatedAddress": "transip", "sourceTranslatedPort": "transport",
	"destinationTranslatedAddress": "tranip", "destinationTranslatedPort": "tranport",
	"out": "sentbyte", "in": "rcvdbyte",
	"duser": "user", "msg": "msg", "outcome": "status", "reason": "reason", "sproc": "ui",
	"request": "url", "requestClientApplication": "agent", "fname": "filename", "fsize": "filesize",
}

// fortiCEFLabels are the custom strings' labels FortiOS 5.6 used for keys
// later written with the FTNTFGT prefix.
var fortiCEFLabels = map[string]string{"Policy Id": "policyid", "Filter Type": "filtertype"}

// fortiCEFStart is where a FortiGate's CEF message starts ("CEF:0|Fortinet|
// Fortigate|…"; FortiOS 6.2 and later write "CEF: 0|"), -1 if the line is
// no FortiGate's CEF.
func fortiCEFStart(l string) int {
	i := strings.Index(l, "CEF:")
	if i < 0 {
		return -1
	}
	hdr, _, err := cefHeader(l[i+4:])
	if err != nil || !strings.EqualFold(strings.TrimSpace(hdr[1]), "Fortinet") ||
		!strings.HasPrefix(strings.ToLower(strings.TrimSpace(hdr[2])), "fortigate") {
		return -1
	}
	return i
}

// fortiCEFPairs reads a FortiGate's CEF message (from "CEF:") as the
// FortiOS pairs it holds.
func fortiCEFPairs(s string, kv *fortiLine) error {
	hdr, ext, err := cefHeader(s[4:])
	if err != nil {
		return err
	}
	m := cefExtension(ext)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // a map's order would change which of two names for one key counts
	for _, k := range keys {
		v := m[k]
		switch {
		case strings.HasPrefix(k, "FTNTFGT") && len(k) > len("FTNTFGT"):
			kv.add(k[len("FTNTFGT"):], v)
		case k == "cat": // type:subtype
			t, sub, _ := strings.Cut(v, ":")
			kv.add("type", t)
			if sub != "" {
				kv.add("subtype", sub)
			}
		case k == "deviceDirection":
			kv.add("direction", map[string]string{"0": "incoming", "1": "outgoing"}[v])
		case fortiCEFLabels[m[k+"Label"]] != "":
			kv.add(fortiCEFLabels[m[k+"Label"]], v)
		case strings.HasSuffix(k, "Label") && fortiCEFLabels[v] != "":
			// the label of a custom string read above
		case fortiCEFKeys[k] != "":
			kv.add(fortiCEFKeys[k], v)
		default:
			kv.add(k, v)
		}
	}
	if kv.get(fLogID) == "" {
		kv.add("logid", hdr[4]) // its last five digits: better than none
	}
	return nil
}
