package parsers

import (
	"bytes"
	"path/filepath"
	"regexp"
)

// A triage collection (KAPE, Velociraptor's KapeFiles targets, DFIR ORC, an
// IT provider's copy of C:\) holds the event logs beside forensic
// artefacts that are not logs: registry hives, the $MFT, prefetch files,
// shortcuts, browser and SRUM databases, and the collector's own logs.
// Each such file is named for what it is and left out, hashed and kept in
// the manifest, rather than failing the run as an unknown log format once
// per file: an ingest of a collection then succeeds, its notes say what
// was not read and with what tool it is read.

// artefactSignatures are the leading bytes of artefacts that are not logs.
var artefactSignatures = []struct {
	offset int
	magic  string
	what   string
}{
	{0, "regf", "a Windows registry hive (or its transaction log): read it with a registry tool (RegRipper, Registry Explorer)"},
	{0, "DIRT", "a Windows registry transaction log: read it with its hive in a registry tool"},
	{0, "FILE0", "an NTFS master file table ($MFT): read it with MFTECmd or analyzeMFT"},
	{0, "FILE*", "an NTFS master file table ($MFT): read it with MFTECmd or analyzeMFT"},
	{0, "MAM\x04", "a Windows prefetch file (compressed): read it with PECmd"},
	{4, "SCCA", "a Windows prefetch file: read it with PECmd"},
	{0, "L\x00\x00\x00\x01\x14\x02\x00", "a Windows shortcut (LNK): read it with LECmd"},
	{0, "SQLite format 3\x00", "an SQLite database (browser history, application data): read it with sqlite3"},
	{4, "\xef\xcd\xab\x89", "an ESE database (SRUM, WebCache, Windows Search): read it with an ESE tool (SrumECmd, esedbexport)"},
	{0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE compound file (a jump list, an MSI, an older Office document)"},
	{0, "PAGEDU64", "a Windows memory dump: read it with a memory forensics tool (Volatility)"},
	{0, "PAGEDUMP", "a Windows memory dump: read it with a memory forensics tool (Volatility)"},
	{0, "MDMP", "a Windows minidump (a process's memory)"},
	{0, "\x7fELF", "an ELF executable or library"},
	{0, "%PDF-", "a PDF document"},
	{0, "\x89PNG\r\n\x1a\n", "a PNG image"},
	{0, "\xff\xd8\xff", "a JPEG image"},
}

// collectorLog matches the names KAPE gives its own logs of a collection.
var collectorLog = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{6}_(ConsoleLog\.txt|CopyLog\.csv|SkipLog\.csv)$`)

// velociraptorRecords are the files a Velociraptor collection writes
// about itself beside what it collected, with keys one of which its
// content holds (written from knowledge of the collector's output, not
// checked against it; a file of the name without them is still an
// unknown format). Its indexes (NAME.json.index) are binary offsets.
var velociraptorRecords = map[string][]string{
	"uploads.json":            {`"vfs_path"`, `"_Components"`},
	"log.json":                {`"client_time"`, `"_ts"`},
	"collection_context.json": {`"session_id"`, `"artifacts_with_results"`},
	"client_info.json":        {`"client_id"`},
	"requests.json":           {`"session_id"`, `"VQLClientAction"`},
	"uploads.json.index":      {""},
	"log.json.index":          {""},
}

// orcRecords are the files DFIR-ORC (ANSSI's collector) writes about its
// collection in each archive: GetThis.csv maps every collected file's
// stored name to its path on the machine (ComputerName, FullName,
// SampleName, …, FindMatch), and the outcome (v10.1+) summarises the run
// as JSON; both checked against DFIR-ORC's documentation and real
// GetThis.csv headers.
var orcRecords = map[string]struct {
	keys []string
	what string
}{
	"GetThis.csv":  {[]string{"SampleName", "FindMatch"}, "what it collected, from which path"},
	"Outcome.json": {[]string{`"dfir-orc"`, `"outcome"`}, "how its run went"},
	"outcome.json": {[]string{`"dfir-orc"`, `"outcome"`}, "how its run went"},
}

// notALog says what a file no log format reads is, when it is a known
// artefact that is not a log; "" otherwise. Executables ("MZ") are named
// only in binary content: text may start with those letters.
func notALog(head []byte, path string) string {
	base := filepath.Base(path)
	if collectorLog.MatchString(base) {
		return "KAPE's own log of the collection (what it copied or skipped), not evidence of the incident"
	}
	if keys, ok := velociraptorRecords[base]; ok {
		for _, k := range keys {
			if bytes.Contains(head, []byte(k)) {
				return "Velociraptor's own record of the collection (" + base + "), not evidence of the incident"
			}
		}
	}
	if r, ok := orcRecords[base]; ok && containsAll(head, r.keys) {
		return "DFIR-ORC's own record of the collection (" + base + ": " + r.what + "), not evidence of the incident"
	}
	for _, s := range artefactSignatures {
		if len(head) >= s.offset+len(s.magic) && bytes.Equal(head[s.offset:s.offset+len(s.magic)], []byte(s.magic)) {
			return s.what
		}
	}
	if bytes.HasPrefix(head, []byte("MZ")) && isBinary(head) {
		return "a Windows executable or library (PE)"
	}
	return ""
}

func containsAll(head []byte, keys []string) bool {
	for _, k := range keys {
		if !bytes.Contains(head, []byte(k)) {
			return false
		}
	}
	return true
}
