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

// FuzzEveryLineFormat feeds the same input to every line format of the
// registry, so a format added later is fuzzed without a new target.
func FuzzEveryLineFormat(f *testing.F) {
	seedLines(f, "testdata/fortigate.log", "testdata/postfix.log", "testdata/winlogbeat.json")
	f.Add([]byte(`Sep 27 20:56:38 host kernel: [  203.842973] IPTABLES-DROP: XX=lo SRC=127.0.0.1 DST=127.0.0.53 LEN=76 PROTO=UDP SPT=1 DPT=53`))
	f.Add([]byte(`Sep 28 10:38:09 pfSense filterlog: 53,,,1000000301,em0,match,block,in,4,0x0,,64,420,0,none,6,tcp,460,10.0.2.2,10.0.2.15,53742,22,420,PA,1,2,65535,,`))
	f.Add([]byte(`Sep 28 10:38:09 pfSense filterlog: 53,,,1,em0,match,pass,out,6,0x00,0x00000,64,udp,17,40,fe80::1,ff02::1,546,547,40`))
	f.Add([]byte(`id=firewall time="2024-03-08 17:29:30" fw="stormy-1" tz=+0000 startime="2024-03-08 12:27:28" src=192.168.197.134 dst=1.128.0.1 sent=48 logtype="connection"`))
	f.Add([]byte(`2024-01-07T00:00:07.463Z,192.168.0.1,exchange,192.168.0.2,exchange.example.com,,c,SMTP,SEND,1,<m@x>,n,a@b.fr,250,38663,1,,,subj,s@x.fr,s@x.fr,,Originating`))
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, fm := range Formats() {
			lf, ok := fm.(LineFormat)
			if !ok {
				continue
			}
			dec := lf.NewDecoder(&Options{TZ: time.UTC, Year: 2025})
			emit := func(ev *event.Event, pos string) {
				if _, err := ev.MarshalJSON(); err != nil {
					t.Fatalf("%s: event not serialisable: %v", fm.Name(), err)
				}
			}
			_ = dec.Line(1, line, emit)
			dec.Flush(emit)
		}
	})
}
