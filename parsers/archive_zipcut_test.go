package parsers

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// zipBytes writes a zip archive of members the way a writer would: Go's
// (and Java's, and a streaming tool's) with the sizes in a data descriptor
// after each member, or with them in the local header (Windows, 7-Zip,
// .NET on a seekable file); deflated or stored.
func zipBytes(t *testing.T, members [][2]string, descriptor, stored bool) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	mod := time.Date(2025, 3, 20, 8, 0, 0, 0, time.UTC)
	for _, m := range members {
		method := zip.Deflate
		if stored {
			method = zip.Store
		}
		if descriptor {
			w, err := zw.CreateHeader(&zip.FileHeader{Name: m[0], Method: method, Modified: mod})
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(m[1]))
			continue
		}
		data := []byte(m[1])
		if !stored {
			var c bytes.Buffer
			fw, _ := flate.NewWriter(&c, flate.DefaultCompression)
			fw.Write(data)
			fw.Close()
			data = c.Bytes()
		}
		w, err := zw.CreateRaw(&zip.FileHeader{Name: m[0], Method: method, Modified: mod, CRC32: crc32.ChecksumIEEE([]byte(m[1])),
			CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(m[1]))})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestZipCutShort: a zip archive without its central directory — cut short
// at it, inside a member, inside a member's header, or damaged inside a
// member — still gives its members before the damage, each the same events
// as the file given bare, and what was read of the member the damage is in,
// said so; the archive itself reports the damage. For every way writers lay
// out members (sizes in the header or in a descriptor after the content,
// deflated or stored).
func TestZipCutShort(t *testing.T) {
	o := &Options{TZ: time.UTC, Year: 2024}
	postfix := mustRead(t, "testdata/postfix.log")
	forti := fortiLines(t, 3000)
	members := [][2]string{
		{"logs/mail.log", string(postfix)},
		{"logs/README.md", "notes"},
		{"logs/fortigate.log", string(forti)},
	}
	dir := t.TempDir()
	bare := map[string][]*event.Event{}
	for name, data := range map[string][]byte{"mail.log": postfix, "fortigate.log": forti} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		bare[name], _ = parseFile(t, p, o)
	}
	for _, layout := range []struct {
		name               string
		descriptor, stored bool
	}{{"deflate, sizes in header", false, false}, {"deflate, descriptor", true, false}, {"stored, sizes in header", false, true}, {"stored, descriptor", true, true}} {
		whole := zipBytes(t, members, layout.descriptor, layout.stored)
		central := bytes.Index(whole, []byte("PK\x01\x02"))
		last := bytes.LastIndex(whole[:central], []byte("PK\x03\x04"))
		// Where the last member's content begins: after its header.
		lastData := last + 30 + len("logs/fortigate.log")
		for _, cut := range []struct {
			name    string
			bytes   []byte
			whole   int    // members read whole
			partial bool   // the last member read in part, said so
			archive string // what opening the archive says
		}{
			{name: "at its central directory", bytes: whole[:central], whole: 2, archive: "cut short after 3 members"},
			{name: "inside its last member", bytes: whole[:lastData+(central-lastData)/2], whole: 1, partial: true, archive: "cut short or damaged inside its member logs/fortigate.log"},
			{name: "inside its last member's header", bytes: whole[:last+10], whole: 1, archive: "inside the header of its member 3"},
		} {
			t.Run(layout.name+"/"+cut.name, func(t *testing.T) {
				defer ReleaseArchives()
				archive := filepath.Join(t.TempDir(), "collecte.zip")
				os.WriteFile(archive, cut.bytes, 0o644)
				files, skipped, err := Expand([]string{archive})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, f := range files {
					got = append(got, strings.TrimPrefix(f, archive))
				}
				want := []string{"!/logs/mail.log", ""}
				if cut.whole == 2 || cut.partial {
					want = []string{"!/logs/fortigate.log", "!/logs/mail.log", ""}
				}
				if strings.Join(got, " ") != strings.Join(want, " ") || len(skipped) != 1 || !strings.HasSuffix(skipped[0], "README.md") {
					t.Fatalf("members %q (want %q), left out %q", got, want, skipped)
				}
				if _, err := Open(archive); err == nil || !strings.Contains(err.Error(), cut.archive) {
					t.Errorf("the archive itself: %v, want %q", err, cut.archive)
				}
				for _, f := range files[:len(files)-1] {
					name := filepath.Base(f)
					wantEvs := bare[name]
					if name == "fortigate.log" && cut.partial {
						// Its events up to the cut; the line the cut falls in
						// kept raw, not parsed; the member's error says why.
						evs, st, err := parseAll(t, f, o)
						if err == nil || !strings.Contains(err.Error(), "the archive is cut short inside this member") ||
							!strings.Contains(strings.Join(st.Warnings, "|"), "cut short inside this member") || len(evs) < 2 || len(evs) >= len(wantEvs) {
							t.Fatalf("%s: %d of %d events, %v, warnings %v", f, len(evs), len(wantEvs), err, st.Warnings)
						}
						// The last line is raw if the cut fell inside it, and
						// parsed whole if it fell between lines.
						if last := evs[len(evs)-1]; last.Str(event.FieldKind) == event.KindRaw {
							if !strings.Contains(last.Str(event.FieldError), "line cut short by a read error") {
								t.Fatalf("%s: last line %v", f, last.Fields)
							}
							evs = evs[:len(evs)-1]
						}
						for j := range evs {
							if content(t, evs[j]) != content(t, wantEvs[j]) {
								t.Fatalf("%s event %d differs from the bare file's", f, j)
							}
						}
						continue
					}
					evs, st := parseFile(t, f, o)
					damaged := strings.Contains(strings.Join(st.Warnings, "|"), "cut short inside this member")
					if damaged || len(evs) != len(wantEvs) || st.Archive != archive || st.ArchiveSHA256 == "" {
						t.Fatalf("%s: %d events (want %d), %+v", f, len(evs), len(wantEvs), st)
					}
					for j := range evs {
						if evs[j].Str(event.FieldID) != wantEvs[j].Str(event.FieldID) || content(t, evs[j]) != content(t, wantEvs[j]) {
							t.Fatalf("%s event %d differs from the bare file's", f, j)
						}
					}
				}
			})
		}
		// A byte changed inside the first member: it is said damaged, and
		// the members after it are still read.
		t.Run(layout.name+"/damaged", func(t *testing.T) {
			defer ReleaseArchives()
			b := append([]byte(nil), whole[:central]...)
			b[30+len("logs/mail.log")+40] ^= 0xff
			archive := filepath.Join(t.TempDir(), "collecte.zip")
			os.WriteFile(archive, b, 0o644)
			files, _, err := Expand([]string{archive})
			if err != nil {
				t.Fatal(err)
			}
			var warned bool
			for _, f := range files {
				if f == archive {
					continue
				}
				if !strings.HasSuffix(f, "mail.log") {
					parseFile(t, f, o)
					continue
				}
				// Nothing of it read (deflate stops at the damage): opening
				// it says why; else its reading warns.
				if _, err := Open(f); err != nil {
					warned = strings.Contains(err.Error(), "damaged")
				} else {
					_, st, _ := parseAll(t, f, o)
					warned = strings.Contains(strings.Join(st.Warnings, "|"), "damaged")
				}
			}
			if !warned {
				t.Errorf("the damaged member is not said so: %q", files)
			}
		})
	}

	// A member compressed some other way (bzip2, method 12) with its size
	// in its header is stepped over and said so; a directory is no member.
	t.Run("other method", func(t *testing.T) {
		defer ReleaseArchives()
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		zw.CreateHeader(&zip.FileHeader{Name: "logs/", Method: zip.Store})
		w, _ := zw.CreateRaw(&zip.FileHeader{Name: "logs/old.log.bz2", Method: 12, CompressedSize64: 5, UncompressedSize64: 9, CRC32: 1})
		w.Write([]byte("BZh91"))
		w, _ = zw.CreateHeader(&zip.FileHeader{Name: "logs/mail.log", Method: zip.Deflate})
		w.Write(postfix)
		zw.Close()
		whole := b.Bytes()
		archive := filepath.Join(t.TempDir(), "collecte.zip")
		os.WriteFile(archive, whole[:bytes.Index(whole, []byte("PK\x01\x02"))], 0o644)
		files, skipped, err := Expand([]string{archive})
		if err != nil || len(files) != 2 || files[0] != archive+"!/logs/mail.log" || len(skipped) != 1 || !strings.Contains(skipped[0], "old.log.bz2 (compression method 12") {
			t.Fatalf("members %q, left out %q, %v", files, skipped, err)
		}
		if evs, _ := parseFile(t, files[0], o); len(evs) != len(bare["mail.log"]) {
			t.Errorf("%d events, want %d", len(evs), len(bare["mail.log"]))
		}
	})
}
