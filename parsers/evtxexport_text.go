package parsers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// EvtxexportText reads the default text output of libevtx's evtxexport (the
// .evtx reader of Linux forensic kits), which responders keep instead of
// the files:
//
//	Event number			: 2
//	Written time			: Jul 08, 2016 18:12:51.681640800 UTC
//	Event level			: Information (0)
//	User security identifier	: S-1-5-18
//	Computer name			: 37L4247F27-25
//	Source name			: Microsoft-Windows-Security-Auditing
//	Event identifier		: 0x00001210 (4624)
//	Number of strings		: 20
//	String: 1			: S-1-0-0
//	…
//
// Its time is the record's written time, in UTC: Windows' TimeCreated is
// not printed, and for events logged while Windows starts it can be seconds
// earlier (evidence.mapping says so). It gives neither the log's name nor
// the record number nor EventData's names: the strings are named by the event's template
// (windows_templates.go) and the log after the provider; a string that
// spans lines keeps them.
type EvtxexportText struct{}

func (EvtxexportText) Name() string { return "evtxexport-text" }
func (EvtxexportText) Description() string {
	return "Windows events as libevtx's evtxexport prints them by default (text blocks, strings named by the event's template)"
}

func (EvtxexportText) Detect(head []byte) bool {
	lines := headLines(head, 3)
	if len(lines) == 1 && strings.HasPrefix(lines[0], "evtxexport ") && len(strings.Fields(lines[0])) == 2 {
		return true // the output for a file without events
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "evtxexport ") {
			continue
		}
		k, _ := evtxexportLine(l)
		return k == "Event number"
	}
	return false
}

// evtxexportLine splits "Label\t\t\t: value"; k is "" for a continuation.
func evtxexportLine(l string) (k, v string) {
	i := strings.Index(l, "\t: ")
	if i < 0 {
		if strings.HasSuffix(l, "\t:") {
			i = len(l) - 2
		} else {
			return "", l
		}
	}
	k = strings.TrimRight(l[:i], "\t")
	if k == "" || strings.ContainsAny(k, "\t") {
		return "", l
	}
	if i+3 <= len(l) {
		v = l[i+3:]
	}
	return k, v
}

func (EvtxexportText) ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error {
	return blockReader{
		name:     "evtxexport-text",
		isStart:  func(l string) bool { k, _ := evtxexportLine(l); return k == "Event number" },
		preamble: func(l string) bool { return strings.HasPrefix(l, "evtxexport ") },
		parse:    evtxexportEvent,
	}.read(in, st, emit)
}

func evtxexportEvent(block []string) (*event.Event, error) {
	f := map[string]string{}
	var strs []string
	last := ""
	for _, l := range block {
		k, v := evtxexportLine(l)
		switch {
		case k == "":
			// The rest of a multi-line value.
			if strings.HasPrefix(last, "String: ") && len(strs) > 0 {
				strs[len(strs)-1] += "\n" + l
			}
			continue
		case strings.HasPrefix(k, "String: "):
			n, err := strconv.Atoi(strings.TrimPrefix(k, "String: "))
			if err != nil || n != len(strs)+1 {
				return nil, fmt.Errorf("%q out of order", k)
			}
			strs = append(strs, v)
		default:
			f[k] = v
		}
		last = k
	}
	t, err := time.Parse("Jan 02, 2006 15:04:05.999999999 MST", f["Written time"])
	if err != nil {
		return nil, fmt.Errorf("written time %q: %v", f["Written time"], err)
	}
	if t.Year() <= 1601 {
		return nil, fmt.Errorf("no written time (a zero FILETIME, printed as %s)", f["Written time"])
	}
	// "0x40001b7c (7036)": the 32-bit identifier, qualifiers above the id.
	idf := strings.Fields(f["Event identifier"])
	if len(idf) == 0 {
		return nil, fmt.Errorf("no event identifier")
	}
	full, err := strconv.ParseUint(strings.TrimPrefix(idf[0], "0x"), 16, 32)
	if err != nil {
		return nil, fmt.Errorf("event identifier %q", f["Event identifier"])
	}
	if n, err := strconv.Atoi(f["Number of strings"]); err == nil && n != len(strs) {
		return nil, fmt.Errorf("%d strings announced, %d read", n, len(strs))
	}
	w := &winRecord{Provider: f["Source name"], Computer: f["Computer name"], UserID: f["User security identifier"],
		EventID: strconv.FormatUint(full&0xffff, 10), Time: t.UTC()}
	if full>>16 != 0 {
		w.Qualifiers = strconv.FormatUint(full>>16, 10)
	}
	if lv := f["Event level"]; strings.HasSuffix(lv, ")") {
		if i := strings.LastIndexByte(lv, '('); i >= 0 {
			w.Level = lv[i+1 : len(lv)-1]
		}
	}
	w.Channel = channelOfProvider(w.Provider, w.EventID)
	for i := range strs {
		strs[i] = unpadHex(strs[i])
	}
	mapping := []string{"time: the record's written time (evtxexport prints no TimeCreated)"}
	if w.EventData = templateEventData(w.Provider, w.EventID, strs); w.EventData != nil {
		mapping = append([]string{"EventData named by the event's template (evtxexport gives their values only)"}, mapping...)
	} else {
		w.EventData = paramEventData(strs)
	}
	if w.Channel != "" {
		mapping = append(mapping, "channel named after the provider (evtxexport gives none)")
	}
	ev := w.toEvent()
	ev.Fields["evidence.mapping"] = strings.Join(mapping, "; ")
	ev.SetIntString("evtxexport.event_number", f["Event number"])
	return ev, nil
}

// unpadHex writes evtxexport's zero-padded hexadecimal numbers
// ("0x00000000000003e7") as Windows' XML does ("0x3e7").
func unpadHex(v string) string {
	if len(v) != 10 && len(v) != 18 || !strings.HasPrefix(v, "0x") {
		return v
	}
	if _, err := strconv.ParseUint(v[2:], 16, 64); err != nil {
		return v
	}
	t := strings.TrimLeft(v[2:], "0")
	if t == "" {
		t = "0"
	}
	return "0x" + t
}
