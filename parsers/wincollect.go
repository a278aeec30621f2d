package parsers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// WinCollect reads Windows events as IBM QRadar's WinCollect agent sends
// them — a syslog line whose message is "AgentDevice=WindowsLog
// AgentLogFile=Security … EventID=4624 … TimeGenerated=1752843861 …
// Message=An account was successfully logged on. Subject: …" — or as QRadar
// exports their payloads, without the syslog header. Its pairs are
// separated by a tab or a space and their values hold spaces unquoted
// ("Level=Log Always"), so a value runs to the next of the agent's own
// keys; the message comes last and runs to the end of the line, the lines
// of Windows' rendering joined by spaces. TimeGenerated is the event's time
// in seconds (or milliseconds) since 1970: exact, unlike the header's.
type WinCollect struct{}

func (WinCollect) Name() string { return "wincollect" }
func (WinCollect) Description() string {
	return "Windows events as IBM QRadar's WinCollect agent sends them (AgentDevice=WindowsLog … Message=…), over syslog or as exported payloads; EventData read back from the message"
}

func (WinCollect) Detect(head []byte) bool { return mostLines(head, isWinCollect) }

func isWinCollect(l string) bool {
	_, rest, ok := strings.Cut(l, "AgentDevice=WindowsLog")
	return ok && strings.Contains(rest, "EventID=")
}

// wincollectKeys are the agent's keys, the only ones a value ends before.
var wincollectKeys = map[string]bool{
	"AgentDevice": true, "AgentLogFile": true, "PluginVersion": true, "Source": true, "Computer": true,
	"OriginatingComputer": true, "User": true, "Domain": true, "EventID": true, "EventIDCode": true,
	"EventType": true, "EventCategory": true, "RecordNumber": true, "TimeGenerated": true, "TimeWritten": true,
	"Level": true, "Keywords": true, "Task": true, "Opcode": true, "Message": true,
}

// wincollectPairs splits a payload from "AgentDevice=" on: each key's
// value, the message to the end of the line.
func wincollectPairs(payload string) map[string]string {
	f := map[string]string{}
	key, start := "", 0
	put := func(end int) {
		if key != "" {
			f[key] = strings.TrimSpace(payload[start:end])
		}
	}
	for i := 0; i < len(payload); i++ {
		if i > 0 && payload[i-1] != ' ' && payload[i-1] != '\t' {
			continue
		}
		eq := strings.IndexByte(payload[i:], '=')
		if eq <= 0 || eq > len("OriginatingComputer") || !wincollectKeys[payload[i:i+eq]] {
			continue
		}
		put(i)
		key, start = payload[i:i+eq], i+eq+1
		if key == "Message" {
			break
		}
		i += eq
	}
	put(len(payload))
	return f
}

// wincollectTime reads TimeGenerated: seconds since 1970, or milliseconds
// (13 digits, as Microsoft's documentation of the format shows).
func wincollectTime(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, fmt.Errorf("TimeGenerated %q is no time", s)
	}
	if len(s) >= 13 {
		return time.UnixMilli(n).UTC(), nil
	}
	return time.Unix(n, 0).UTC(), nil
}

// wincollectEvent maps one payload; host is the syslog header's (the
// agent's address or name), used when the payload names no computer.
func wincollectEvent(payload, host string) (*event.Event, error) {
	f := wincollectPairs(payload)
	id := f["EventIDCode"]
	if _, err := strconv.ParseUint(id, 10, 32); err != nil {
		id = f["EventID"]
	}
	n, err := strconv.ParseUint(id, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("wincollect: event id %q is not a number", id)
	}
	t, err := wincollectTime(f["TimeGenerated"])
	if err != nil {
		return nil, fmt.Errorf("wincollect: %v", err)
	}
	w := &winRecord{
		Provider: f["Source"], Channel: f["AgentLogFile"], Computer: firstNonEmpty(f["Computer"], host),
		EventID: strconv.FormatUint(n&0xffff, 10), RecordID: f["RecordNumber"], Time: t,
	}
	if n>>16 != 0 {
		w.Qualifiers = strconv.FormatUint(n>>16, 10)
	}
	if _, err := strconv.ParseUint(w.RecordID, 10, 64); err != nil {
		w.RecordID = ""
	}
	// Keywords and EventType (Get-EventLog's numbers: 8 success audit, 16
	// failure audit) as the keywords and level they stand for.
	w.setTypeWord(f["Keywords"])
	w.setTypeWord(f["EventType"])
	if w.Channel == "" {
		w.Channel = channelOfProvider(w.Provider, w.EventID)
	}
	msg := strings.TrimSpace(f["Message"])
	w.EventData = messageEventDataFor(w.Provider, w.EventID, msg)
	ev := w.toEvent()
	if msg != "" {
		ev.Fields["message"] = msg
	}
	if len(w.EventData) > 0 {
		ev.Fields["evidence.mapping"] = "EventData read back from the rendered message"
	}
	if u := f["User"]; u != "" {
		setWinlogUser(ev, strings.TrimPrefix(f["Domain"]+`\`+u, `\`))
	}
	setIP(ev, "host.ip", f["OriginatingComputer"])
	ev.Set("wincollect.plugin_version", f["PluginVersion"])
	return ev, nil
}

// wincollectFromSyslog reads a syslog message that is a WinCollect payload.
func wincollectFromSyslog(h syslogHeader) (*event.Event, bool) {
	msg := h.Msg
	if h.Program != "" && !strings.HasPrefix(msg, "AgentDevice=") {
		msg = h.Program + " " + msg
	}
	i := strings.Index(msg, "AgentDevice=WindowsLog")
	if i < 0 {
		return nil, false
	}
	ev, err := wincollectEvent(msg[i:], h.Host)
	if err != nil {
		return nil, false
	}
	return ev, true
}

func (WinCollect) NewDecoder(o *Options) LineDecoder {
	return &wincollectDecoder{clock: o.clock()}
}

type wincollectDecoder struct{ clock syslogClock }

func (d *wincollectDecoder) Flush(Emit) {}

func (d *wincollectDecoder) Line(no int64, line []byte, emit Emit) error {
	s := strings.TrimRight(string(line), "\r\n")
	i := strings.Index(s, "AgentDevice=WindowsLog")
	if i < 0 {
		return fmt.Errorf("wincollect: no AgentDevice=WindowsLog")
	}
	host := ""
	if i > 0 {
		// The header's host (the agent's) stands for the computer when
		// the payload names none.
		if h, err := d.clock.parse(s); err == nil {
			host = h.Host
		}
	}
	ev, err := wincollectEvent(s[i:], host)
	if err != nil {
		return err
	}
	ev.Fields[event.FieldLine] = no
	ev.Fields[event.FieldOriginal] = s
	emit(ev, linePos(no))
	return nil
}
