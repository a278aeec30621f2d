package parsers

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/exfiltrace/exfiltrace/event"
)

// Plaso reads a super-timeline psort wrote in its default "dynamic" CSV
// (datetime, timestamp_desc, source, source_long, message, parser,
// display_name, tag): the timeline a forensic kit (SIFT, log2timeline)
// hands over. Its rows of Windows event logs (parser winevtx) are read as
// the events: plaso's message gives the id, the provider, the computer,
// the record number, the level and the EventData's values without their
// names ("Strings: ['S-1-5-18', 'FS01$', …]"), named by the event's
// template as for evtxexport, whose library plaso uses (zero-padded hex
// written as Windows' XML does). The log is named after the file the row
// came from (display_name), else after the provider. Plaso writes a row
// per timestamp of a record (its creation and its written time): the first
// is read, the others said in the warnings. Rows of every other parser
// (file system times, registry, prefetch…) are no log record: kept raw
// with the reason.
type Plaso struct{}

func (Plaso) Name() string { return "plaso" }
func (Plaso) Description() string {
	return "plaso/psort super-timeline, dynamic CSV: its Windows event log rows (winevtx) read as the events"
}

var plasoColumns = []string{"datetime", "timestamp_desc", "source", "source_long", "message", "parser", "display_name"}

func (Plaso) Detect(head []byte) bool {
	first, _, _ := strings.Cut(strings.TrimLeft(strings.TrimPrefix(string(head), "\ufeff"), " \t\r\n"), "\n")
	cols, _ := csvHeader(strings.TrimRight(first, "\r"))
	has := map[string]bool{}
	for _, c := range cols {
		has[strings.TrimSpace(c)] = true
	}
	for _, c := range plasoColumns {
		if !has[c] {
			return false
		}
	}
	return true
}

func (Plaso) ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error {
	br, _, rc, err := openText(in, "plaso")
	if err != nil {
		return err
	}
	defer rc.Close()
	seen := map[string]bool{} // records read, by file and record number
	var again int64
	err = readTable(br, st, "plaso", func(r tableRow, err error) {
		if err == nil && !strings.Contains(r.f["parser"], "winevtx") {
			err = fmt.Errorf("a row of its %q parser, no log record this tool reads (its message is plaso's summary)", r.f["parser"])
		}
		var ev *event.Event
		var key string
		if err == nil {
			ev, key, err = plasoWindowsEvent(r.f["datetime"], r.f["timestamp_desc"], r.f["message"], r.f["display_name"])
		}
		switch {
		case err != nil:
			rawLine(emit, r.line, r.original, "plaso: "+err.Error())
			return
		case seen[key]:
			again++
			return
		}
		seen[key] = true
		ev.Fields[event.FieldOriginal] = string(r.original)
		ev.Fields[event.FieldLine] = r.line
		emit(ev, linePos(r.line))
	})
	if again > 0 {
		st.Warn(fmt.Sprintf("%d row(s) gave a Windows event record already read from an earlier row, under another of its times (plaso writes a row per timestamp): not read twice", again))
	}
	return err
}

// plasoWindowsEvent reads a winevtx row; key names the record (its file
// and number), whichever of its times the row is dated by.
func plasoWindowsEvent(stamp, desc, msg, file string) (*event.Event, string, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(stamp))
	if err != nil {
		if t, err = time.Parse("2006-01-02 15:04:05.999999999", strings.TrimSpace(stamp)); err != nil {
			return nil, "", fmt.Errorf("datetime %q: %v", stamp, err)
		}
	}
	// "[4624 / 0x1210] Provider identifier: {…} Source Name: … Strings:
	// [...] Computer Name: … Record Number: … Event Level: … Message string: …"
	if !strings.HasPrefix(msg, "[") {
		return nil, "", fmt.Errorf("message %q is not plaso's for an event record", clip(msg, 60))
	}
	idEnd := strings.Index(msg, " / 0x")
	if idEnd < 0 {
		return nil, "", fmt.Errorf("message without its event identifier")
	}
	id, err := strconv.ParseUint(msg[1:idEnd], 10, 32)
	if err != nil {
		return nil, "", fmt.Errorf("event identifier %q", msg[1:idEnd])
	}
	label := func(name, next string) string {
		i := strings.Index(msg, name)
		if i < 0 {
			return ""
		}
		v := msg[i+len(name):]
		if j := strings.Index(v, next); j >= 0 {
			v = v[:j]
		}
		return strings.TrimSpace(v)
	}
	var strs []string
	if i := strings.Index(msg, "Strings: ["); i >= 0 {
		rest := msg[i+len("Strings: ["):]
		end := strings.LastIndex(rest, "] Computer Name:")
		if end < 0 {
			return nil, "", fmt.Errorf("the strings' list is not closed")
		}
		if strs, err = pythonStrings(rest[:end]); err != nil {
			return nil, "", fmt.Errorf("strings: %v", err)
		}
	}
	w := &winRecord{Provider: label("Source Name: ", " Strings:"), Computer: label("Computer Name: ", " Record Number:"),
		RecordID: label("Record Number: ", " Event Level:"), Level: label("Event Level: ", " "),
		EventID: strconv.FormatUint(id&0xffff, 10), Time: t.UTC()}
	if g := label("Provider identifier: ", " "); strings.HasPrefix(g, "{") {
		w.ProviderGUID = g
	}
	if p := strings.Index(w.Provider, " Message string:"); p >= 0 {
		w.Provider = strings.TrimSpace(w.Provider[:p]) // an older plaso's order
	}
	if id>>16 != 0 {
		w.Qualifiers = strconv.FormatUint(id>>16, 10)
	}
	mapping := []string{fmt.Sprintf("time: plaso's %q", desc)}
	w.Channel = channelOfFile(file)
	if w.Channel == "" {
		if w.Channel = channelOfProvider(w.Provider, w.EventID); w.Channel != "" {
			mapping = append(mapping, "channel named after the provider")
		}
	}
	for i := range strs {
		strs[i] = unpadHex(strs[i])
	}
	if w.EventData = templateEventData(w.Provider, w.EventID, strs); w.EventData != nil {
		mapping = append([]string{"EventData named by the event's template (plaso gives their values only)"}, mapping...)
	} else {
		w.EventData = paramEventData(strs)
	}
	ev := w.toEvent()
	if m := label("Message string: ", "\x00"); m != "" {
		ev.Fields["message"] = m
	}
	ev.Fields["evidence.mapping"] = strings.Join(mapping, "; ")
	ev.Set("plaso.display_name", file)
	return ev, file + "\x00" + w.Computer + "\x00" + w.RecordID, nil
}

// channelOfFile names an event log after its file, as Windows names them:
// "…\Security.evtx", "Microsoft-Windows-Sysmon%4Operational.evtx".
func channelOfFile(file string) string {
	base := path.Base(strings.ReplaceAll(file, `\`, "/"))
	name, ok := strings.CutSuffix(base, ".evtx")
	if !ok {
		if name, ok = strings.CutSuffix(base, ".EVTX"); !ok {
			return ""
		}
	}
	return strings.ReplaceAll(name, "%4", "/")
}

// pythonStrings reads a Python list's items as repr writes strings ('a',
// "it's", escapes), separated by commas or spaces.
func pythonStrings(s string) ([]string, error) {
	var out []string
	for i := 0; i < len(s); {
		c := s[i]
		if c == ' ' || c == ',' {
			i++
			continue
		}
		if c != '\'' && c != '"' {
			return nil, fmt.Errorf("an item not quoted at %d", i)
		}
		var b strings.Builder
		j := i + 1
		for ; j < len(s) && s[j] != c; j++ {
			if s[j] != '\\' || j+1 == len(s) {
				b.WriteByte(s[j])
				continue
			}
			j++
			switch s[j] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'x', 'u', 'U':
				n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[j]]
				if j+n < len(s) {
					if r, err := strconv.ParseUint(s[j+1:j+1+n], 16, 32); err == nil && utf8.ValidRune(rune(r)) {
						b.WriteRune(rune(r))
						j += n
						continue
					}
				}
				b.WriteByte('\\')
				b.WriteByte(s[j])
			default:
				b.WriteByte(s[j]) // \\ \' \"
			}
		}
		if j >= len(s) {
			return nil, fmt.Errorf("an item not closed")
		}
		out = append(out, b.String())
		i = j + 1
	}
	return out, nil
}
