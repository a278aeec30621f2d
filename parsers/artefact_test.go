package parsers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// TestNotALog: the artefacts of a triage collection that are not logs are
// named and left out — no events, no error, their hash kept — while a
// forced format still refuses them, and text that merely starts like one,
// or a file near a collector's log name, is still an unknown format.
func TestNotALog(t *testing.T) {
	dir := t.TempDir()
	binary := strings.Repeat("\x00\x01\x02\x03", 1024)
	cases := []struct {
		name, content, want string // want "" = an unknown-format error
	}{
		{"SYSTEM", "regf" + binary, "a Windows registry hive (or its transaction log): read it with a registry tool (RegRipper, Registry Explorer)"},
		{"SYSTEM.LOG1", "DIRT" + binary, "a Windows registry transaction log: read it with its hive in a registry tool"},
		{"$MFT", "FILE0\x00\x03\x00" + binary, "an NTFS master file table ($MFT): read it with MFTECmd or analyzeMFT"},
		{"CMD.EXE-0BD30981.pf", "MAM\x04" + binary, "a Windows prefetch file (compressed): read it with PECmd"},
		{"OLD.EXE-11111111.pf", "\x11\x00\x00\x00SCCA" + binary, "a Windows prefetch file: read it with PECmd"},
		{"report.lnk", "L\x00\x00\x00\x01\x14\x02\x00" + binary, "a Windows shortcut (LNK): read it with LECmd"},
		{"History", "SQLite format 3\x00" + binary, "an SQLite database (browser history, application data): read it with sqlite3"},
		{"SRUDB.dat", "\x12\x34\x56\x78\xef\xcd\xab\x89" + binary, "an ESE database (SRUM, WebCache, Windows Search): read it with an ESE tool (SrumECmd, esedbexport)"},
		{"1b4dd67f29cb1962.automaticDestinations-ms", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + binary, "an OLE compound file (a jump list, an MSI, an older Office document)"},
		{"MEMORY.DMP", "PAGEDU64" + binary, "a Windows memory dump: read it with a memory forensics tool (Volatility)"},
		{"rclone.exe", "MZ\x90\x00" + binary, "a Windows executable or library (PE)"},
		{"2026-12-02T140000_ConsoleLog.txt", "KAPE version 1.3.0.2 Author: Eric Zimmerman\nTotal execution time: 12.3 seconds\n", "KAPE's own log of the collection (what it copied or skipped), not evidence of the incident"},
		{"2026-12-02T140000_CopyLog.csv", "CopiedTimestamp,SourceFile,DestinationFile,FileSize\n2026-12-02 14:00:01,C:\\x,y,1\n", "KAPE's own log of the collection (what it copied or skipped), not evidence of the incident"},
		{"uploads.json", `{"Timestamp":"2026-12-02T14:00:01Z","started":"2026-12-02 14:00:01","vfs_path":"C:\\Windows\\System32\\winevt\\Logs\\Security.evtx","_Components":["uploads","auto","C:","Windows"],"file_size":69632,"uploaded_size":69632}` + "\n", "Velociraptor's own record of the collection (uploads.json), not evidence of the incident"},
		{"log.json", `{"_ts":1764684001,"client_time":1764684001,"level":"DEFAULT","message":"Starting collection"}` + "\n", "Velociraptor's own record of the collection (log.json), not evidence of the incident"},
		{"uploads.json.index", "\x00\x00\x00\x00\x00\x00\x00\x00\xb2\x00\x00\x00\x00\x00\x00\x00", "Velociraptor's own record of the collection (uploads.json.index), not evidence of the incident"},
		{"GetThis.csv", "ComputerName,VolumeID,ParentFRN,FRN,FullName,SampleName,SizeInBytes,MD5,SHA1,FindMatch,ContentType,SampleCollectionDate\r\n\"SRV01\",0x36DA2C4BDA2C0A27,0x00010000000009E5,0x000100000000E576,\"\\Windows\\System32\\winevt\\Logs\\Security.evtx\",\"36DA2C4BDA2C0A27_10000000009E5_100000000E576_3_Security.evtx_{00000000-0000-0000-0000-000000000000}.data\",1052672,,,\"Name=*.evtx\",data,2026-12-02 14:00:01.000\r\n", "DFIR-ORC's own record of the collection (GetThis.csv: what it collected, from which path), not evidence of the incident"},
		{"Outcome.json", `{"version":"1.0","dfir-orc":{"outcome":{"timestamp":"2026-12-02T14:00:01Z","computer_name":"SRV01"}}}` + "\n", "DFIR-ORC's own record of the collection (Outcome.json: how its run went), not evidence of the incident"},
		{"GetThis.csv", "a,b,c\n1,2,3\n", ""},
		{"MZnotes.txt", "MZ is where the backup went\nand then nothing\n", ""},
		{"log.json", `{"when":"2026-12-02","what":"a log of no known format"}` + "\n", ""},
		{"ConsoleLog.txt", "KAPE version 1.3.0.2 Author: Eric Zimmerman\n", ""},
		{"unknown.bin", "\x00\x01XYZW" + binary, ""},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, forced := range []string{"", "fortigate"} {
			in, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			st, err := Parse(in, &Options{TZ: time.UTC, Format: forced}, func(*event.Event) { n++ })
			in.Close()
			if c.want == "" || forced != "" {
				if forced == "" && (err == nil || !strings.Contains(err.Error(), "unknown format")) {
					t.Errorf("%s: %v, want an unknown format", c.name, err)
				}
				if forced != "" && len(st.Warnings) > 0 && strings.HasPrefix(st.Warnings[0], "not a log") {
					t.Errorf("%s with --format %s: left out (%q), want it read as asked", c.name, forced, st.Warnings)
				}
				continue
			}
			if err != nil || st.Error != "" || n != 0 || st.SHA256 == "" {
				t.Errorf("%s: %d events, %v %q, sha %q", c.name, n, err, st.Error, st.SHA256)
			}
			if want := "not a log, left out: " + c.want; len(st.Warnings) != 1 || st.Warnings[0] != want {
				t.Errorf("%s: warnings %q, want %q", c.name, st.Warnings, want)
			}
		}
	}
}
