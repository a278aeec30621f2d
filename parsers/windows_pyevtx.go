package parsers

import "strings"

// python-evtx's evtx_dump.py renders some values of an EVTX record in its
// own way, where Windows (wevtutil, Event Viewer, this project's EVTX
// reader) renders them alike: hexadecimal integers zero-padded to their
// width (0x000001e8 for 0x1e8), GUIDs and booleans in another case
// ({8f97efec-…}, False), times with a space and microseconds. Rules match
// Windows' forms (Sigma's GrantedAccess: '0x1fffff', Initiated: 'true'),
// and one case may mix both sources, so its events are given Windows'
// forms. Its records are known by their TimeCreated, which Windows never
// writes with a space. Times in event data are left as written: a
// FILETIME python-evtx rounded to microseconds cannot be told from a
// string Sysmon writes the same way (UtcTime: 2019-02-16 10:01:45.887).

// pythonEvtxArray splits the text python-evtx gives an unnamed <Data>
// holding an array of strings ("<string>a</string>\n<string>b</string>\n",
// escaped), which Windows renders as one <Data> per string.
func pythonEvtxArray(v string) ([]string, bool) {
	v = strings.TrimSuffix(v, "\n")
	if !strings.HasPrefix(v, "<string>") || !strings.HasSuffix(v, "</string>") {
		return nil, false
	}
	return strings.Split(v[len("<string>"):len(v)-len("</string>")], "</string>\n<string>"), true
}

// pythonEvtxTime reports a SystemTime as python-evtx writes it.
func pythonEvtxTime(s string) bool {
	return len(s) >= 19 && s[10] == ' ' && !strings.ContainsAny(s, "TZ")
}

// asWindowsRenders gives a value python-evtx rendered as Windows renders it.
func asWindowsRenders(v string) string {
	switch {
	case v == "True" || v == "False":
		return strings.ToLower(v)
	case len(v) == 10 || len(v) == 18:
		if strings.HasPrefix(v, "0x0") && isLowerHex(v[2:]) {
			if t := strings.TrimLeft(v[2:], "0"); t != "" {
				return "0x" + t
			}
			return "0x0"
		}
	case len(v) == 38 && v[0] == '{' && v[37] == '}' && v[9] == '-' && v[14] == '-' && v[19] == '-' && v[24] == '-':
		if g := strings.ToUpper(v); g != v && isGUIDText(g[1:37]) {
			return g
		}
	}
	return v
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s != ""
}

func isGUIDText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// asWindowsRendered gives a record read from python-evtx's XML the forms
// Windows renders.
func (w *winRecord) asWindowsRendered() {
	// The provider's GUID is often a string in the record, kept as written
	// by both readers; the activity id is a GUID value.
	w.ActivityID = asWindowsRenders(w.ActivityID)
	w.Keywords = asWindowsRenders(w.Keywords)
	for i := range w.EventData {
		w.EventData[i].v = asWindowsRenders(w.EventData[i].v)
	}
	for i := range w.UserData {
		w.UserData[i].v = asWindowsRenders(w.UserData[i].v)
	}
}
