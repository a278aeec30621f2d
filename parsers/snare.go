package parsers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// Snare reads Windows events in Snare's "MSWinEventLog" format, written by
// the Snare agent, NXLog's to_syslog_snare() and other forwarders: TAB
// separated (rsyslog stores the TAB as "#011"), with or without a syslog
// header. It carries the log, event id, source, user, computer, the event's
// local time and the rendered message — no EventData names: the fields the
// ECS mapping needs are read back from the message (English or French).
type Snare struct{}

func (Snare) Name() string { return "snare" }
func (Snare) Description() string {
	return "Windows events in Snare's MSWinEventLog format (Snare agent, NXLog to_syslog_snare), TAB or #011 separated"
}

func (Snare) Detect(head []byte) bool { return mostLines(head, Snare{}.matchLine) }

func (Snare) matchLine(l string) bool {
	_, _, ok := snareFields(l)
	return ok
}

// snareFields splits what follows "MSWinEventLog" by the delimiter that
// follows it: a TAB, rsyslog's "#011" for one, or a delimiter Snare was set
// to use.
func snareFields(l string) (prefix string, f []string, ok bool) {
	i := strings.Index(l, "MSWinEventLog")
	if i < 0 {
		return "", nil, false
	}
	rest := l[i+len("MSWinEventLog"):]
	var delim string
	switch {
	case strings.HasPrefix(rest, "#011"):
		delim = "#011"
	case rest != "" && strings.ContainsRune("\t;|,^", rune(rest[0])):
		delim = rest[:1]
	default:
		return "", nil, false
	}
	f = strings.Split(rest[len(delim):], delim)
	// Criticality, log, counter, time, id, source, user, SID type, type,
	// computer, category at least.
	if len(f) < 11 {
		return "", nil, false
	}
	if _, err := strconv.Atoi(f[4]); err != nil {
		return "", nil, false
	}
	return l[:i], f, true
}

func (Snare) NewDecoder(o *Options) LineDecoder {
	return &snareDecoder{zone: newZoneless(o), repeat: repeatedHour{warn: o.Warn}}
}

type snareDecoder struct {
	zone   zoneless
	repeat repeatedHour // the event's local time in the repeated autumn hour
}

func (*snareDecoder) Flush(Emit) {}

func (d *snareDecoder) Line(no int64, line []byte, emit Emit) error {
	s := strings.TrimRight(string(line), "\r\n")
	_, f, ok := snareFields(s)
	if !ok {
		return fmt.Errorf("snare: not an MSWinEventLog record with its 11 first fields")
	}
	var t time.Time
	var err error
	for _, layout := range []string{"Mon Jan _2 15:04:05 2006", "Mon Jan 2 15:04:05 2006"} {
		if t, err = time.ParseInLocation(layout, strings.TrimSpace(f[3]), d.zone.tz); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("snare: time %q: %v", f[3], err)
	}
	t = d.repeat.place(t, d.zone.tz)
	msg := ""
	for _, k := range []int{12, 11} {
		if k < len(f) && strings.TrimSpace(f[k]) != "" {
			msg = strings.TrimSpace(f[k])
			break
		}
	}
	kind, _ := winTypeWord(f[8])
	w := &winRecord{
		Provider: strings.TrimSpace(f[5]), Channel: strings.TrimSpace(f[1]), Computer: strings.TrimSpace(f[9]),
		EventID: strings.TrimSpace(f[4]), Keywords: kind[0], Level: kind[1], Task: strings.TrimSpace(f[10]),
		Time: t.UTC(), EventData: messageEventDataFor(strings.TrimSpace(f[5]), strings.TrimSpace(f[4]), msg),
	}
	if len(f) > 13 {
		if _, err := strconv.ParseUint(strings.TrimSpace(f[13]), 10, 64); err == nil {
			w.RecordID = strings.TrimSpace(f[13])
		}
	}
	ev := w.toEvent()
	if msg != "" {
		ev.Fields["message"] = msg
	}
	if len(w.EventData) > 0 {
		ev.Fields["evidence.mapping"] = "EventData read back from the rendered message"
	}
	setWinlogUser(ev, strings.TrimSpace(f[6]))
	ev.Set("snare.criticality", strings.TrimSpace(f[0]))
	ev.Set("snare.counter", strings.TrimSpace(f[2]))
	d.zone.mark(ev, "Snare writes the event's local time without a zone", "the servers'")
	ev.Fields["evidence.line"] = no
	ev.Fields[event.FieldOriginal] = s
	emit(ev, "L"+strconv.FormatInt(no, 10))
	return nil
}
