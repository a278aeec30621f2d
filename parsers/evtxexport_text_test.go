package parsers

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
)

// TestEvtxexportText reads a block of each kind: strings named by a
// template, a string over two lines, qualifiers in the identifier, an
// event without a template, and a block whose strings are out of order.
func TestEvtxexportText(t *testing.T) {
	text := "evtxexport 20181227\n\n" +
		"Event number\t\t\t: 1\nWritten time\t\t\t: Mar 15, 2024 13:13:07.123456700 UTC\nEvent level\t\t\t: Information (0)\nComputer name\t\t\t: SRV-FICHIERS.mairie.local\n" +
		"Source name\t\t\t: Microsoft-Windows-Security-Auditing\nEvent identifier\t\t: 0x00001434 (5172)\nNumber of strings\t\t: 0\n\n" +
		"Event number\t\t\t: 2\nWritten time\t\t\t: Mar 15, 2024 13:20:11.500000000 UTC\nEvent level\t\t\t: Information (0)\nComputer name\t\t\t: SRV-FICHIERS.mairie.local\n" +
		"Source name\t\t\t: Microsoft-Windows-Security-Auditing\nEvent identifier\t\t: 0x00001419 (5145)\nNumber of strings\t\t: 13\n" +
		"String: 1\t\t\t: S-1-5-21-1-2-3-1107\nString: 2\t\t\t: j.martin\nString: 3\t\t\t: MAIRIE\nString: 4\t\t\t: 0x00000000008a3f21\nString: 5\t\t\t: File\n" +
		"String: 6\t\t\t: 10.20.1.45\nString: 7\t\t\t: 51522\nString: 8\t\t\t: \\\\*\\Etat-Civil\nString: 9\t\t\t: \\??\\E:\\Partages\\Etat-Civil\n" +
		"String: 10\t\t\t: Naissances\\registre 2023.pdf\nString: 11\t\t\t: 0x00120089\nString: 12\t\t\t: %%1538\n\t\t\t\t%%4416\n\t\t\t\t\nString: 13\t\t\t: -\n\n" +
		"Event number\t\t\t: 3\nWritten time\t\t\t: Mar 16, 2024 00:02:00.000000000 UTC\nEvent level\t\t\t: Information (4)\nUser security identifier\t: S-1-5-18\nComputer name\t\t\t: SRV-FICHIERS.mairie.local\n" +
		"Source name\t\t\t: Service Control Manager\nEvent identifier\t\t: 0x40001b7c (7036)\nNumber of strings\t\t: 2\nString: 1\t\t\t: Windows Update\nString: 2\t\t\t: stopped\n\n" +
		"Event number\t\t\t: 4\nWritten time\t\t\t: Mar 16, 2024 00:03:00.000000000 UTC\nEvent level\t\t\t: Information (4)\nComputer name\t\t\t: X\n" +
		"Source name\t\t\t: Service Control Manager\nEvent identifier\t\t: 0x40001b7c (7036)\nNumber of strings\t\t: 2\nString: 2\t\t\t: stopped\n\n" +
		"Event number\t\t\t: 5\nWritten time\t\t\t: Jan 01, 1601 00:00:00.000000000 UTC\nEvent level\t\t\t: Information (4)\nComputer name\t\t\t: X\n" +
		"Source name\t\t\t: Service Control Manager\nEvent identifier\t\t: 0x40001b7c (7036)\nNumber of strings\t\t: 0\n"
	p := filepath.Join(t.TempDir(), "security.txt")
	os.WriteFile(p, []byte(text), 0o644)
	evs, st := parseFile(t, p, &Options{TZ: time.UTC})
	if st.Format != "evtxexport-text" || st.Parsed != 3 || st.Raw != 2 {
		t.Fatalf("stats %+v", st)
	}
	want(t, "no strings", evs[0], "2024-03-15T13:13:07.1234567Z", map[string]any{"event.code": "5172", "winlog.channel": "Security"})
	want(t, "5145", evs[1], "2024-03-15T13:20:11.5Z", map[string]any{
		"event.dataset": "system.security", "user.name": "j.martin", "source.ip": "10.20.1.45", "source.port": int64(51522),
		"file.path": `E:\Partages\Etat-Civil\Naissances\registre 2023.pdf`, "winlog.event_data.SubjectLogonId": "0x8a3f21",
		"winlog.event_data.AccessMask": "0x120089", "winlog.event_data.AccessList": "%%1538\n\t\t\t\t%%4416\n\t\t\t\t",
		"host.name": "SRV-FICHIERS.mairie.local", "evtxexport.event_number": int64(2),
	})
	want(t, "7036", evs[2], "2024-03-16T00:02:00Z", map[string]any{
		"event.code": "7036", "winlog.qualifiers": "16384", "winlog.event_data.param1": "Windows Update", "log.level": "information",
		"winlog.user.identifier": "S-1-5-18", "event.dataset": "system.system", "winlog.channel": "System",
	})
	if evs[3].Str(event.FieldKind) != event.KindRaw || evs[3].Str(event.FieldError) != `evtxexport-text: "String: 2" out of order` {
		t.Errorf("strings out of order: %v", evs[3].Fields)
	}
	if !strings.Contains(evs[4].Str(event.FieldError), "no written time") {
		t.Errorf("zero written time: %v", evs[4].Fields)
	}
	empty := filepath.Join(t.TempDir(), "empty.txt")
	os.WriteFile(empty, []byte("evtxexport 20181227\n\n"), 0o644)
	if evs, st := parseFile(t, empty, &Options{TZ: time.UTC}); st.Format != "evtxexport-text" || len(evs) != 0 {
		t.Errorf("the output for a file without events: %+v", st)
	}
}

// TestEvtxexportTextAgrees runs evtxexport on the corpus's .evtx files and
// reads its text: every event whose strings a template names carries the
// accounts, addresses, paths and actions this project's own reader gives
// for the same record (matched by time and id).
func TestEvtxexportTextAgrees(t *testing.T) {
	bin := corpus.Tool(t, "evtxexport", "libevtx-utils", "cross-check")
	files, _ := filepath.Glob(filepath.Join(corpus.Dir(t, "evtx"), "*", "*.evtx"))
	fields := []string{"user.name", "user.domain", "user.id", "source.ip", "source.port", "winlog.logon.type", "file.path",
		"process.command_line", "process.executable", "process.parent.executable", "host.name", "event.action", "event.category",
		"service.name", "winlog.share_name", "destination.domain"}
	compared := 0
	for _, f := range files {
		out, _ := exec.Command(bin, f).Output()
		if !strings.Contains(string(out), "Event number") {
			continue // the peer reads no event of some damaged files
		}
		p := filepath.Join(t.TempDir(), filepath.Base(f)+".txt")
		os.WriteFile(p, out, 0o644)
		got, st := parseFile(t, p, &Options{TZ: time.UTC})
		if st.Format != "evtxexport-text" {
			t.Fatalf("%s: read as %s", filepath.Base(f), st.Format)
		}
		for reason := range st.RawReasons {
			if !strings.Contains(reason, "no written time") {
				t.Errorf("%s: blocks raw: %v", filepath.Base(f), st.RawReasons)
			}
		}
		orig, _ := parseFile(t, f, &Options{TZ: time.UTC})
		// evtxexport gives the record's written time, not TimeCreated (an
		// event logged while Windows starts is written seconds later): each
		// of its events takes the first unmatched record of its id and
		// provider within ten minutes that agrees on every field.
		byKey := map[string][]*event.Event{}
		for _, o := range orig {
			if o.Str(event.FieldKind) != event.KindRaw { // carved records too: evtxexport prints those it recovers
				k := o.Str("event.code") + "|" + o.Str("event.provider")
				byKey[k] = append(byKey[k], o)
			}
		}
		differs := func(g, o *event.Event) string {
			for _, k := range fields {
				if a, b := fmt.Sprint(g.Fields[k]), fmt.Sprint(o.Fields[k]); a != b {
					return fmt.Sprintf("%s = %q via evtxexport, %q from the file", k, a, b)
				}
			}
			return ""
		}
		for _, g := range got {
			if !strings.HasPrefix(g.Str("evidence.mapping"), "EventData named") {
				continue
			}
			k := g.Str("event.code") + "|" + g.Str("event.provider")
			cands := byKey[k]
			if len(cands) == 0 {
				continue // a record one of the readers does not give
			}
			match := -1
			for i, o := range cands {
				if d := g.Timestamp.Sub(o.Timestamp); d < 10*time.Minute && d > -10*time.Minute && differs(g, o) == "" {
					match = i
					break
				}
			}
			if match < 0 {
				why := differs(g, cands[0])
				for _, o := range cands {
					if differs(g, o) == "" {
						why = fmt.Sprintf("written %s, created %s", g.Timestamp, o.Timestamp)
					}
				}
				t.Errorf("%s record %v: %s", filepath.Base(f), cands[0].Fields["winlog.record_id"], why)
				continue
			}
			byKey[k] = append(cands[:match], cands[match+1:]...)
			compared++
		}
	}
	if compared < 1000 {
		t.Fatalf("only %d events compared", compared)
	}
	t.Logf("%d events compared", compared)
}
