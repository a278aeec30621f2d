package parsers

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/exfiltrace/exfiltrace/event"
)

// WevtutilText reads `wevtutil qe LOG /f:text` output, Windows' own text
// rendering of events, which administrators redirect to a file:
//
//	Event[0]:
//	  Log Name: Security
//	  Source: Microsoft-Windows-Security-Auditing
//	  Date: 2024-03-15T14:13:07.123
//	  Event ID: 4624
//	  …
//	  Computer: SRV-FICHIERS.mairie.local
//	  Description:
//	An account was successfully logged on.
//	…
//
// The date is the exporting machine's local time without zone (read in
// --tz); EventData are not written, only the rendered description, from
// which they are read back as for Snare.
type WevtutilText struct{}

func (WevtutilText) Name() string { return "wevtutil-text" }
func (WevtutilText) Description() string {
	return "Windows events as `wevtutil qe /f:text` writes them (Event[n]: blocks); EventData read back from the description"
}

func (WevtutilText) Detect(head []byte) bool {
	lines := headLines(head, 4)
	return len(lines) >= 3 && isWevtutilStart(lines[0]) && wevtutilLabel(lines[1]) != "" && wevtutilLabel(lines[2]) != ""
}

func isWevtutilStart(l string) bool {
	l = strings.TrimPrefix(strings.TrimSpace(l), "\ufeff")
	if !strings.HasPrefix(l, "Event[") || !strings.HasSuffix(l, "]:") {
		return false
	}
	_, err := strconv.Atoi(l[len("Event[") : len(l)-2])
	return err == nil
}

// wevtutilLabels name the block's lines, English and French.
var wevtutilLabels = map[string]string{
	"log name": "channel", "nom du journal": "channel", "source": "provider", "date": "time",
	"event id": "id", "id de l'événement": "id", "id de l’événement": "id", "task": "task", "tâche": "task",
	"level": "level", "niveau": "level", "opcode": "opcode", "keyword": "keywords", "keywords": "keywords", "mot clé": "keywords", "mots clés": "keywords",
	"user": "user", "utilisateur": "user", "user name": "username", "nom d'utilisateur": "username", "nom d’utilisateur": "username",
	"computer": "computer", "ordinateur": "computer", "description": "message",
}

// wevtutilLabel gives the field of an indented "  Label: value" line.
func wevtutilLabel(l string) string {
	if !strings.HasPrefix(l, "  ") {
		return ""
	}
	k, _, ok := strings.Cut(strings.TrimSpace(l), ":")
	if !ok {
		return ""
	}
	return wevtutilLabels[strings.ToLower(strings.TrimSpace(k))]
}

func (WevtutilText) ReadFile(in *Input, o *Options, emit Emit, st *FileStats) error {
	opts := *o
	opts.Warn = st.Warn
	zone := newZoneless(&opts)
	return blockReader{
		name:    "wevtutil-text",
		isStart: isWevtutilStart,
		parse:   func(block []string) (*event.Event, error) { return wevtutilEvent(block, &zone) },
	}.read(in, st, emit)
}

func wevtutilEvent(block []string, zone *zoneless) (*event.Event, error) {
	f := map[string]string{}
	var msg []string
	for i, l := range block[1:] {
		name := wevtutilLabel(l)
		if name == "" {
			continue
		}
		_, v, _ := strings.Cut(l, ":")
		f[name] = strings.TrimSpace(v)
		if name == "message" {
			msg = append([]string{f[name]}, block[i+2:]...)
			break
		}
	}
	id, err := strconv.ParseUint(f["id"], 10, 16)
	if err != nil {
		return nil, fmt.Errorf("event id %q is not a number", f["id"])
	}
	if f["time"] == "" {
		return nil, fmt.Errorf("no date")
	}
	t, zoned, err := parseISOZoned(f["time"], zone.tz)
	if err != nil {
		return nil, fmt.Errorf("date %q: %v", f["time"], err)
	}
	message := strings.TrimSpace(strings.Join(msg, "\n"))
	w := &winRecord{Provider: f["provider"], Channel: f["channel"], Computer: f["computer"], EventID: strconv.FormatUint(id, 10),
		Task: f["task"], Opcode: f["opcode"], Time: t, EventData: messageEventDataFor(f["provider"], strconv.FormatUint(id, 10), message)}
	if u := f["user"]; u != "" && u != "N/A" {
		w.UserID = u
	}
	if w.Channel == "" {
		w.Channel = channelOfProvider(w.Provider, w.EventID)
	}
	for _, k := range []string{"keywords", "level"} {
		for _, word := range strings.Split(f[k], ",") {
			w.setTypeWord(word)
		}
	}
	ev := w.toEvent()
	if message != "" {
		ev.Fields["message"] = message
	}
	if len(w.EventData) > 0 {
		ev.Fields["evidence.mapping"] = "EventData read back from the rendered message"
	}
	setWinlogUser(ev, f["username"])
	if !zoned {
		zone.mark(ev, "wevtutil writes the exporting machine's local time without a zone", "that machine's")
	}
	return ev, nil
}
