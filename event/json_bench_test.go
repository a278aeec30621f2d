package event

import (
	"fmt"
	"testing"
	"time"
)

// fortiLike is an event shaped as the FortiGate parser's: ~45 fields, of
// which a report reads about twenty.
func fortiLike() (*Event, *Selection) {
	ev := New()
	ev.Timestamp = time.Date(2025, 3, 1, 1, 0, 0, 580532791, time.UTC)
	ev.Fields[FieldOriginal] = `<189>date=2025-03-01 time=01:00:00 devname="FGT-MAIRIE" devid="FG100FTK20012345" eventtime=1740787200580532791 tz="+0100" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.10.25.51 srcport=63594 srcintf="port1"`
	sel := &Selection{Only: map[string]bool{}, Suffixes: []string{".queue_id", ".relay_ip"}}
	for i := 0; i < 24; i++ {
		ev.Fields[fmt.Sprintf("fortinet.firewall.field%02d", i)] = fmt.Sprintf("value %d", i)
	}
	for i, k := range []string{"source.ip", "source.port", "destination.ip", "destination.port", "source.bytes", "destination.bytes",
		"event.action", "event.code", "event.dataset", "observer.type", "observer.name", "network.transport", "network.protocol",
		"destination.domain", "user.name", "rule.name", "event.id", "log.file.path", "evidence.sha256", "evidence.line"} {
		if i%3 == 0 {
			ev.Fields[k] = int64(i * 1000)
		} else {
			ev.Fields[k] = "v" + k
		}
		sel.Only[k] = true
	}
	for i := 0; i < 40; i++ {
		sel.Only[fmt.Sprintf("winlog.event_data.Name%02d", i)] = true
	}
	return ev, sel
}

func BenchmarkAppendJSON(b *testing.B) {
	ev, sel := fortiLike()
	buf := make([]byte, 0, 4096)
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			buf, _ = ev.AppendJSON(buf[:0])
		}
	})
	b.Run("selected", func(b *testing.B) {
		for b.Loop() {
			buf, _ = ev.AppendJSONSelected(buf[:0], sel)
		}
	})
}
