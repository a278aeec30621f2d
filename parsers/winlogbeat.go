package parsers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Winlogbeat reads JSON lines as written by Winlogbeat or Elastic Agent
// (the winlog.* fields), re-mapping them with the same ECS mapping as EVTX.
type Winlogbeat struct{}

func (Winlogbeat) Name() string { return "winlogbeat" }
func (Winlogbeat) Description() string {
	return "Winlogbeat / Elastic Agent Windows events as JSON lines"
}

func (Winlogbeat) Detect(head []byte) bool {
	return mostLines(head, Winlogbeat{}.matchLine)
}

func (Winlogbeat) matchLine(l string) bool {
	l = strings.TrimSpace(l)
	return strings.HasPrefix(l, "{") && strings.Contains(l, `"winlog"`)
}

func (Winlogbeat) NewDecoder(o *Options) LineDecoder { return winlogbeatDecoder{} }

type winlogbeatDecoder struct{}

func (winlogbeatDecoder) Flush(Emit) {}

type wlbDoc struct {
	Timestamp string `json:"@timestamp"`
	Message   string `json:"message"`
	Winlog    struct {
		Channel      string          `json:"channel"`
		ComputerName string          `json:"computer_name"`
		EventID      json.RawMessage `json:"event_id"`
		ProviderName string          `json:"provider_name"`
		ProviderGUID string          `json:"provider_guid"`
		RecordID     json.RawMessage `json:"record_id"`
		Version      json.RawMessage `json:"version"`
		Task         string          `json:"task"`
		Opcode       string          `json:"opcode"`
		ActivityID   string          `json:"activity_id"`
		Process      struct {
			PID    json.RawMessage `json:"pid"`
			Thread struct {
				ID json.RawMessage `json:"id"`
			} `json:"thread"`
		} `json:"process"`
		User struct {
			Identifier string `json:"identifier"`
		} `json:"user"`
		EventData map[string]any `json:"event_data"`
		UserData  map[string]any `json:"user_data"`
	} `json:"winlog"`
	Event struct {
		Created string `json:"created"`
	} `json:"event"`
}

func rawString(m json.RawMessage) string {
	s := strings.TrimSpace(string(m))
	if s == "" || s == "null" {
		return ""
	}
	if strings.HasPrefix(s, `"`) {
		var v string
		if json.Unmarshal(m, &v) == nil {
			return v
		}
	}
	return s
}

func sortedKV(m map[string]any) []kv {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]kv, 0, len(keys))
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			out = append(out, kv{k, v})
		case nil:
		case map[string]any:
			for _, sub := range sortedKV(v) {
				out = append(out, kv{k + "." + sub.k, sub.v})
			}
		default:
			b, _ := json.Marshal(v)
			out = append(out, kv{k, string(b)})
		}
	}
	return out
}

func (winlogbeatDecoder) Line(no int64, line []byte, emit Emit) error {
	line = bytes.TrimSpace(line)
	var d wlbDoc
	if err := json.Unmarshal(line, &d); err != nil {
		return fmt.Errorf("winlogbeat: invalid JSON: %v", err)
	}
	w := &winRecord{
		Provider:     d.Winlog.ProviderName,
		ProviderGUID: d.Winlog.ProviderGUID,
		Channel:      d.Winlog.Channel,
		Computer:     d.Winlog.ComputerName,
		UserID:       d.Winlog.User.Identifier,
		ActivityID:   d.Winlog.ActivityID,
		EventID:      rawString(d.Winlog.EventID),
		Version:      rawString(d.Winlog.Version),
		RecordID:     rawString(d.Winlog.RecordID),
		PID:          rawString(d.Winlog.Process.PID),
		TID:          rawString(d.Winlog.Process.Thread.ID),
		EventData:    sortedKV(d.Winlog.EventData),
		UserData:     sortedKV(d.Winlog.UserData),
	}
	if w.EventID == "" {
		return fmt.Errorf("winlogbeat: no winlog.event_id")
	}
	t, err := time.Parse(time.RFC3339Nano, d.Timestamp)
	if err != nil {
		return fmt.Errorf("winlogbeat: @timestamp %q: %v", d.Timestamp, err)
	}
	w.Time = t.UTC()
	ev := w.toEvent()
	if d.Message != "" {
		ev.Fields["message"] = d.Message
	}
	ev.Set("winlog.task", d.Winlog.Task)
	ev.Set("winlog.opcode", d.Winlog.Opcode)
	ev.Fields["evidence.line"] = no
	ev.Fields["event.original"] = string(line)
	emit(ev, "L"+strconv.FormatInt(no, 10))
	return nil
}
