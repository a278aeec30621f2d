package parsers

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
)

// writeZip writes an archive of the given members (name → content), the
// stored ones (names starting "stored:") uncompressed.
func writeZip(t *testing.T, path string, members [][2]string) {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, m := range members {
		name, method := m[0], zip.Deflate
		if n, ok := strings.CutPrefix(name, "stored:"); ok {
			name, method = n, zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: time.Date(2025, 3, 20, 8, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(m[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestZipEvidence: a zip archive's members are evidence of their own,
// listed in name order without documentation, hidden files or resource
// forks; each gives the events of the same file given bare, with the
// member's SHA-256 (so it is the same evidence) and its archive's beside
// it; a member whose CRC fails is an error, not events; an archive inside
// an archive says to extract it.
func TestZipEvidence(t *testing.T) {
	o := &Options{TZ: time.UTC, Year: 2024}
	postfix, _ := os.ReadFile("testdata/postfix.log")
	forti := fortiLines(t, 200)
	fortiGz := compressors["gzip"](t, forti)
	dir := t.TempDir()
	var members = [][2]string{
		{"mail/maillog", string(postfix)},
		{"stored:firewall/fortigate.log.1.gz", string(fortiGz)},
		{"firewall/", ""},
		{"README.md", "# notes"},
		{"__MACOSX/firewall/._fortigate.log.1.gz", "resource fork"},
		{"mail/.DS_Store", "x"},
	}
	var evtxBytes []byte
	if p := filepath.Join(corpus.Root(t), "..", "shared", "corpus", "evtx", "omerbenamram-evtx", "security.evtx"); true {
		if b, err := os.ReadFile(p); err == nil {
			evtxBytes = b
			members = append(members, [2]string{"uploads/auto/C%3A/Windows/System32/winevt/Logs/Security.evtx", string(b)})
		} else {
			t.Logf("shared corpus absent: the archived EVTX member is not tried (%v)", err)
		}
	}
	archive := filepath.Join(dir, "collection.zip")
	writeZip(t, archive, members)

	files, skipped, err := Expand([]string{archive})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{archive + "!/firewall/fortigate.log.1.gz", archive + "!/mail/maillog"}
	if evtxBytes != nil {
		want = append(want, archive+"!/uploads/auto/C%3A/Windows/System32/winevt/Logs/Security.evtx")
	}
	if strings.Join(files, "\n") != strings.Join(want, "\n") {
		t.Fatalf("members %q, want %q", files, want)
	}
	if len(skipped) != 3 {
		t.Errorf("left out %q, want README.md, the resource fork and .DS_Store", skipped)
	}
	sum := sha256.Sum256(mustRead(t, archive))
	bare := map[string][]byte{want[0]: fortiGz, want[1]: postfix}
	if evtxBytes != nil {
		bare[want[2]] = evtxBytes
	}
	for member, data := range bare {
		plain := filepath.Join(dir, "bare-"+filepath.Base(member))
		os.WriteFile(plain, data, 0o644)
		wantEvs, wantSt := parseFile(t, plain, o)
		evs, st := parseFile(t, member, o)
		memberSum := sha256.Sum256(data)
		if st.SHA256 != hex.EncodeToString(memberSum[:]) || st.Size != int64(len(data)) ||
			st.Archive != archive || st.ArchiveSHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: sha %s size %d archive %s %s", member, st.SHA256, st.Size, st.Archive, st.ArchiveSHA256)
		}
		if st.Format != wantSt.Format || st.Parsed != wantSt.Parsed || st.Raw != wantSt.Raw || st.Lost != wantSt.Lost || st.Carved != wantSt.Carved || len(evs) != len(wantEvs) || len(evs) == 0 {
			t.Fatalf("%s: %+v, bare %+v", member, st, wantSt)
		}
		for i := range evs {
			if evs[i].Str(event.FieldFile) != member || evs[i].Str(event.FieldID) != wantEvs[i].Str(event.FieldID) {
				t.Fatalf("%s event %d: path %s id %s, bare id %s", member, i, evs[i].Str(event.FieldFile), evs[i].Str(event.FieldID), wantEvs[i].Str(event.FieldID))
			}
			if got, want := content(t, evs[i]), content(t, wantEvs[i]); got != want {
				t.Fatalf("%s event %d:\n got %s\nwant %s", member, i, got, want)
			}
		}
	}

	// A directory holding the archive: its members in its place.
	os.WriteFile(filepath.Join(dir, "a.log"), postfix, 0o644)
	os.WriteFile(filepath.Join(dir, "z.log"), postfix, 0o644)
	files, _, err = Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimPrefix(f, dir+"/"))
	}
	if got := strings.Join(names, " "); !strings.HasPrefix(got, "a.log bare-") || !strings.Contains(got, " collection.zip!/firewall/fortigate.log.1.gz collection.zip!/mail/maillog ") || !strings.HasSuffix(got, " z.log") {
		t.Errorf("directory expanded as %s", got)
	}

	// A damaged member: its CRC fails when it is hashed.
	raw := mustRead(t, archive)
	at := bytes.Index(raw, fortiGz[20:40])
	if at < 0 {
		t.Fatal("stored member not found in the archive")
	}
	raw[at] ^= 0xff
	damaged := filepath.Join(dir, "damaged.zip")
	os.WriteFile(damaged, raw, 0o644)
	if _, err := Open(damaged + "!/firewall/fortigate.log.1.gz"); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("damaged member opened: %v", err)
	}

	// An archive cut short (its central directory lost): the members read
	// before the cut (TestZipCutShort), its own error, and the other
	// evidence given with it is still listed.
	cutZip := filepath.Join(dir, "cut.zip")
	os.WriteFile(cutZip, mustRead(t, archive)[:300], 0o644)
	files, _, err = Expand([]string{cutZip, "testdata/postfix.log"})
	if err != nil || len(files) != 3 || files[1] != cutZip || files[2] != "testdata/postfix.log" {
		t.Fatalf("cut archive beside a log: %q, %v", files, err)
	}
	if _, err := Open(cutZip); err == nil || !strings.Contains(err.Error(), "cut short") {
		t.Errorf("cut archive opened: %v", err)
	}

	// An Office document beside the evidence is a zip archive too: left out.
	docx := filepath.Join(dir, "rapport.docx")
	writeZip(t, docx, [][2]string{{"[Content_Types].xml", "<Types/>"}, {"word/document.xml", "<w:document/>"}})
	files, skipped, err = Expand([]string{docx})
	if err != nil || len(files) != 0 || len(skipped) != 1 || !strings.Contains(skipped[0], "Office document") {
		t.Errorf("Office document: %q, left out %q, %v", files, skipped, err)
	}

	// A password-protected member (ZipCrypto's flag).
	enc := append([]byte(nil), mustRead(t, archive)...)
	for i := 0; i+8 < len(enc); i++ {
		if bytes.Equal(enc[i:i+4], []byte("PK\x01\x02")) { // central directory entries: set the encrypted flag
			enc[i+8] |= 1
		}
	}
	encrypted := filepath.Join(dir, "encrypted.zip")
	os.WriteFile(encrypted, enc, 0o644)
	if _, err := Open(encrypted + "!/mail/maillog"); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("encrypted member: %v", err)
	}

}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzArchive: any bytes given as an archive (zip, tar, tar.gz, 7z: its
// seeds in testdata/fuzz, written by 7-Zip) are listed and each member
// read, or refused with an error; never a panic.
func FuzzArchive(f *testing.F) {
	dir := f.TempDir()
	seed := filepath.Join(dir, "seed.zip")
	t := &testing.T{}
	postfix, _ := os.ReadFile("testdata/postfix.log")
	writeZip(t, seed, [][2]string{{"mail/maillog", string(postfix)}, {"stored:fw.log", "date=2025-01-01 time=00:00:00 logid=1 type=traffic\n"}})
	b, _ := os.ReadFile(seed)
	f.Add(b)
	// Zip archives cut short: read from their members' own headers, laid
	// out each way a writer does (TestZipCutShort).
	for _, layout := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		z := zipBytes(t, [][2]string{{"mail/maillog", string(postfix[:400])}, {"fw.log", "date=2025-01-01 time=00:00:00 logid=1 type=traffic\n"}}, layout[0], layout[1])
		f.Add(z[:bytes.Index(z, []byte("PK\x01\x02"))])
		f.Add(z[:len(z)/2])
	}
	for _, gz := range []bool{false, true} {
		p := filepath.Join(dir, "seed.tar")
		writeTar(t, p, [][2]string{{"var/log/maillog", string(postfix[:300])}, {"var/log/link@", "maillog"}}, gz)
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer ReleaseArchives()
		p := filepath.Join(t.TempDir(), "evidence.zip")
		os.WriteFile(p, data, 0o644)
		files, _, err := Expand([]string{p})
		if err != nil {
			return
		}
		for _, m := range files {
			in, err := Open(m)
			if err != nil {
				continue
			}
			if in.Size < 64<<10 { // the archive is fuzzed here, not the formats
				Parse(in, &Options{TZ: time.UTC, Year: 2025}, func(*event.Event) {})
			}
			in.Close()
		}
	})
}

// gzTar is where TestTarEvidence writes its gzip-compressed archive.
func gzTar(dir string) string { return filepath.Join(dir, "logs.tar.gz") }

// writeTar writes a tar archive of the given members (a name ending "@"
// is a symbolic link), gzip-compressed when gz.
func writeTar(t *testing.T, path string, members [][2]string, gz bool) {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	mod := time.Date(2025, 3, 20, 8, 0, 0, 0, time.UTC)
	for _, m := range members {
		if name, ok := strings.CutSuffix(m[0], "@"); ok {
			tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: m[1], ModTime: mod})
			continue
		}
		tw.WriteHeader(&tar.Header{Name: m[0], Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(m[1])), ModTime: mod})
		tw.Write([]byte(m[1]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	if gz {
		data = compressors["gzip"](t, data)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTarEvidence: a tar archive, bare or compressed (a server's /var/log),
// is read member by member like a zip: each member gives the bare file's
// events with the same ids, links and documentation are left out; an
// archive cut short gives the members before the cut, what was read of the
// member it cuts (said so), and the archive's own error; the copies made
// to read it are removed afterwards.
func TestTarEvidence(t *testing.T) {
	o := &Options{TZ: time.UTC, Year: 2024}
	postfix := mustRead(t, "testdata/postfix.log")
	forti := fortiLines(t, 3000)
	dir := t.TempDir()
	members := [][2]string{
		{"var/log/mail.log", string(postfix)},
		{"var/log/README.md", "notes"},
		{"var/log/current@", "mail.log"},
		{"var/log/fortigate.log", string(forti)},
	}
	for _, gz := range []bool{false, true} {
		archive := filepath.Join(dir, "logs.tar")
		if gz {
			archive += ".gz"
		}
		writeTar(t, archive, members, gz)
		files, skipped, err := Expand([]string{archive})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{archive + "!/var/log/fortigate.log", archive + "!/var/log/mail.log"}
		if strings.Join(files, "\n") != strings.Join(want, "\n") || len(skipped) != 2 {
			t.Fatalf("members %q, left out %q", files, skipped)
		}
		for i, data := range [][]byte{forti, postfix} {
			plain := filepath.Join(dir, "bare.log")
			os.WriteFile(plain, data, 0o644)
			wantEvs, _ := parseFile(t, plain, o)
			evs, st := parseFile(t, files[i], o)
			if len(evs) != len(wantEvs) || len(evs) == 0 || st.Archive != archive || st.ArchiveSHA256 == "" {
				t.Fatalf("%s: %+v", files[i], st)
			}
			for j := range evs {
				if evs[j].Str(event.FieldID) != wantEvs[j].Str(event.FieldID) || content(t, evs[j]) != content(t, wantEvs[j]) {
					t.Fatalf("%s event %d differs from the bare file's", files[i], j)
				}
			}
		}
	}

	// A year-less log takes the year of the member's time in the archive
	// (20 March 2025), not that of the copy made to read it: the year
	// before, as its first year-less stamp (11 May) would follow that time.
	if _, st := parseFile(t, gzTar(dir)+"!/var/log/mail.log", &Options{TZ: time.UTC}); st.Year != 2024 || !st.YearGuessed {
		t.Errorf("year %d (%s), want 2024, the year before the member's 2025", st.Year, st.YearSource)
	}

	// Cut inside its second member.
	full := gzTar(dir)
	cut := filepath.Join(dir, "cut.tar.gz")
	b := mustRead(t, full)
	os.WriteFile(cut, b[:len(b)*3/4], 0o644)
	files, _, err := Expand([]string{cut})
	if err != nil {
		t.Fatal(err)
	}
	var read, broken int
	for _, f := range files {
		if f == cut {
			if _, err := Open(f); err == nil || !strings.Contains(err.Error(), "gzip: unexpected EOF") {
				t.Errorf("the cut archive itself: %v", err)
			}
			broken++
			continue
		}
		evs, st, err := parseAll(t, f, o)
		read += len(evs)
		if strings.HasSuffix(f, "fortigate.log") && (!strings.Contains(strings.Join(st.Warnings, "|"), "cut short inside this member") ||
			err == nil || !strings.Contains(err.Error(), "the archive is cut short inside this member")) {
			t.Errorf("%s: warnings %v, %v", f, st.Warnings, err)
		}
		if last := evs[len(evs)-1]; strings.HasSuffix(f, "fortigate.log") && last.Str(event.FieldKind) == event.KindRaw &&
			!strings.Contains(last.Str(event.FieldError), "line cut short by a read error") {
			t.Errorf("%s: last line %v", f, last.Fields)
		}
	}
	if broken != 1 || read == 0 {
		t.Errorf("cut archive: %q, %d events read", files, read)
	}

	ReleaseArchives()
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), "exfiltrace-tar-*"))
	for _, l := range left {
		if st, err := os.Stat(l); err == nil && time.Since(st.ModTime()) < time.Minute {
			t.Errorf("copies left after ReleaseArchives: %s", l)
		}
	}
}
