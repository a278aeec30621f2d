package parsers

import (
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

	// An archive cut short (its central directory lost): its own error,
	// and the other evidence given with it is still listed.
	cutZip := filepath.Join(dir, "cut.zip")
	os.WriteFile(cutZip, mustRead(t, archive)[:300], 0o644)
	files, _, err = Expand([]string{cutZip, "testdata/postfix.log"})
	if err != nil || len(files) != 2 || files[0] != cutZip {
		t.Fatalf("cut archive beside a log: %q, %v", files, err)
	}
	if _, err := Open(cutZip); err == nil || !strings.Contains(err.Error(), "cannot be listed") {
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

	// An archive inside an archive.
	outer := filepath.Join(dir, "outer.zip")
	writeZip(t, outer, [][2]string{{"inner.zip", string(mustRead(t, archive))}})
	in, err := Open(outer + "!/inner.zip")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := Parse(in, o, func(*event.Event) {}); err == nil || !strings.Contains(err.Error(), "zip archive inside an archive") {
		t.Errorf("nested archive: %v", err)
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

// FuzzZipArchive: any bytes given as a zip archive are listed and each
// member read, or refused with an error; never a panic.
func FuzzZipArchive(f *testing.F) {
	dir := f.TempDir()
	seed := filepath.Join(dir, "seed.zip")
	t := &testing.T{}
	postfix, _ := os.ReadFile("testdata/postfix.log")
	writeZip(t, seed, [][2]string{{"mail/maillog", string(postfix)}, {"stored:fw.log", "date=2025-01-01 time=00:00:00 logid=1 type=traffic\n"}})
	b, _ := os.ReadFile(seed)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
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
