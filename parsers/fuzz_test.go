package parsers

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/parsers/evtx"
)

// seedLines adds every line of the given testdata and sample files as seeds.
func seedLines(f *testing.F, paths ...string) {
	for _, p := range paths {
		fh, err := os.Open(p)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 0; sc.Scan() && n < 200; n++ {
			f.Add(append([]byte(nil), sc.Bytes()...))
		}
		fh.Close()
	}
}

// fuzzLines feeds one line to a format's decoder: it may reject the line
// (kept raw by the pipeline) but must not panic, and what it emits must be sane.
func fuzzLines(f *testing.F, lf LineFormat) {
	f.Fuzz(func(t *testing.T, line []byte) {
		dec := lf.NewDecoder(&Options{TZ: time.UTC, Year: 2025})
		emit := func(ev *event.Event, pos string) {
			if pos == "" {
				t.Fatal("event without position")
			}
			if _, err := ev.MarshalJSON(); err != nil {
				t.Fatalf("event not serialisable: %v", err)
			}
		}
		for _, l := range bytes.Split(line, []byte("\n")) {
			_ = dec.Line(1, l, emit)
		}
		dec.Flush(emit)
	})
}

func FuzzFortiGate(f *testing.F) {
	seedLines(f, "testdata/fortigate.log", "../samples/incident/firewall/fortigate.log")
	fuzzLines(f, FortiGate{})
}

func FuzzPostfix(f *testing.F) {
	seedLines(f, "testdata/postfix.log", "../samples/incident/mail/mail.log")
	fuzzLines(f, Postfix{})
}

func FuzzWinlogbeat(f *testing.F) {
	seedLines(f, "testdata/winlogbeat.json")
	fuzzLines(f, Winlogbeat{})
}

func FuzzWindowsXML(f *testing.F) {
	seedLines(f, "../samples/incident/windows/FS01-Security.xml", "../samples/incident/windows/FS01-System.xml")
	f.Add([]byte("<Events><Event><System><EventID>1</EventID></System></Event></Events>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = evtx.ReadXMLEvents(bytes.NewReader(data), func(n *evtx.Node, line int) error {
			if w, err := winRecordFromNode(n); err == nil {
				w.toEvent()
			}
			return nil
		})
	})
}

func FuzzDetect(f *testing.F) {
	seedLines(f, "testdata/fortigate.log", "testdata/postfix.log", "testdata/winlogbeat.json")
	f.Fuzz(func(t *testing.T, head []byte) {
		fm, err := Detect(head)
		if (fm == nil) == (err == nil) {
			t.Fatalf("Detect returned format %v and error %v", fm, err)
		}
		if err != nil && !strings.Contains(err.Error(), "unknown format") {
			t.Fatalf("unclear error: %v", err)
		}
	})
}
