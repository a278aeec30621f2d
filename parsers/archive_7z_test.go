package parsers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
)

// write7z writes a 7-Zip archive of the given members (name → content)
// with 7-Zip itself, with its options (method, solid blocks, password).
func write7z(t *testing.T, bin, archive string, members [][2]string, opts ...string) {
	t.Helper()
	src := t.TempDir()
	mod := time.Date(2025, 3, 20, 8, 0, 0, 0, time.UTC)
	for _, m := range members {
		p := filepath.Join(src, filepath.FromSlash(m[0]))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(m[1]), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, mod, mod)
	}
	os.Remove(archive)
	cmd := exec.Command(bin, append(append([]string{"a", "-bd", "-y"}, opts...), archive, ".")...)
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("7zz: %v\n%s", err, out)
	}
}

// TestSevenZipEvidence: a 7-Zip archive (DFIR ORC's collections, an IT
// provider's export) is read member by member as a tar is, whatever its
// compression method or blocks: each member gives the bare file's events
// with the same ids; an encrypted member, or one after damage in its
// compressed block, is an error naming why, while the other blocks are
// read; a member whose CRC-32 fails says so; an archive cut short (its
// list of files is at its end) or whose list is encrypted is the
// archive's own error.
func TestSevenZipEvidence(t *testing.T) {
	bin := corpus.Tool(t, "7zz", "7zip", "7-Zip archives")
	o := &Options{TZ: time.UTC, Year: 2024}
	postfix := mustRead(t, "testdata/postfix.log")
	forti := fortiLines(t, 3000)
	members := [][2]string{
		{"firewall/fortigate.log", string(forti)},
		{"mail/mail.log", string(postfix)},
		{"README.md", "notes"},
	}
	dir := t.TempDir()
	bare, bareWarnings := map[string][]*event.Event{}, map[string]string{}
	for _, m := range members[:2] {
		p := filepath.Join(dir, filepath.Base(m[0]))
		os.WriteFile(p, []byte(m[1]), 0o644)
		evs, st := parseFile(t, p, o)
		bare[m[0]], bareWarnings[m[0]] = evs, strings.Join(st.Warnings, "|")
	}
	for _, opts := range [][]string{
		nil,                    // LZMA2, one solid block
		{"-ms=off"},            // a block per file
		{"-m0=PPMd"},           // other methods 7-Zip writes
		{"-m0=BZip2"},          //
		{"-m0=Deflate"},        //
		{"-m0=Copy"},           // stored
		{"-mx9", "-mmt=off"},   // the strongest setting
		{"-m0=LZMA", "-mx1"},   // the fastest
		{"-mf=BCJ2", "-mx5"},   // a filter before the coder
		{"-mtm=off", "-ms=on"}, // no times
	} {
		archive := filepath.Join(dir, "logs.7z")
		write7z(t, bin, archive, members, opts...)
		files, skipped, err := Expand([]string{archive})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{archive + "!/firewall/fortigate.log", archive + "!/mail/mail.log"}
		if strings.Join(files, "\n") != strings.Join(want, "\n") || strings.Join(skipped, "") != archive+"!/README.md" {
			t.Fatalf("%v: members %q, left out %q", opts, files, skipped)
		}
		for _, f := range files {
			evs, st := parseFile(t, f, o)
			member := strings.SplitN(f, MemberSep, 2)[1]
			wantEvs := bare[member]
			if len(evs) != len(wantEvs) || len(evs) == 0 || st.Archive != archive || len(st.ArchiveSHA256) != 64 || strings.Join(st.Warnings, "|") != bareWarnings[member] {
				t.Fatalf("%v: %s: %d events, want %d; %+v", opts, f, len(evs), len(wantEvs), st)
			}
			for j := range evs {
				if evs[j].Str(event.FieldID) != wantEvs[j].Str(event.FieldID) || content(t, evs[j]) != content(t, wantEvs[j]) {
					t.Fatalf("%v: %s event %d differs from the bare file's", opts, f, j)
				}
			}
		}
		ReleaseArchives()
	}

	// A year-less log takes the year of the member's time in the archive
	// (20 March 2025), the year before when its first year-less stamp (11
	// May) would follow that time; the copy made to read it would give this
	// year.
	archive := filepath.Join(dir, "logs.7z")
	write7z(t, bin, archive, members)
	if _, st := parseFile(t, archive+"!/mail/mail.log", &Options{TZ: time.UTC}); st.Year != 2024 || !st.YearGuessed {
		t.Errorf("year %d (%s), want 2024, the year before the member's 2025", st.Year, st.YearSource)
	}
	ReleaseArchives()

	// In volumes: read from the first, the others listed as read with it,
	// in whatever order they are given.
	volDir := filepath.Join(dir, "volumes")
	os.Mkdir(volDir, 0o755)
	write7z(t, bin, filepath.Join(volDir, "logs.7z"), members, "-v128k", "-m0=Copy")
	vols, _ := filepath.Glob(filepath.Join(volDir, "logs.7z.*"))
	if len(vols) < 3 {
		t.Fatalf("volumes: %q", vols)
	}
	files, skipped, err := Expand(append(vols[1:], vols[0]))
	if err != nil || len(files) != 2 || files[0] != vols[0]+"!/firewall/fortigate.log" || len(skipped) != len(vols) ||
		skipped[0] != vols[0]+"!/README.md" || skipped[1] != vols[1]+" (a volume of "+vols[0]+", read with it)" {
		t.Fatalf("%d volumes: %q, left out %d: %q, %v", len(vols), files, len(skipped), skipped[:min(len(skipped), 2)], err)
	}
	all := sha256.New()
	for _, v := range vols {
		all.Write(mustRead(t, v))
	}
	if evs, st := parseFile(t, files[0], o); len(evs) != len(bare["firewall/fortigate.log"]) || st.Archive != vols[0] || st.ArchiveSHA256 != hex.EncodeToString(all.Sum(nil)) {
		t.Errorf("volumes: %d events, archive %s %s", len(evs), st.Archive, st.ArchiveSHA256)
	}
	ReleaseArchives()

	// Encrypted: the members, or the list of files itself.
	enc := filepath.Join(dir, "enc.7z")
	write7z(t, bin, enc, members, "-pSecret")
	files, _, _ = Expand([]string{enc})
	if len(files) != 2 {
		t.Fatalf("encrypted archive: %q", files)
	}
	for _, f := range files {
		if _, err := Open(f); err == nil || !strings.Contains(err.Error(), "encrypted") {
			t.Errorf("%s: %v, want encrypted", f, err)
		}
	}
	ReleaseArchives()
	write7z(t, bin, enc, members, "-pSecret", "-mhe=on")
	files, _, _ = Expand([]string{enc})
	if len(files) != 1 || files[0] != enc {
		t.Fatalf("archive with an encrypted list: %q", files)
	}
	if _, err := Open(enc); err == nil || !strings.Contains(err.Error(), "list of files is encrypted") {
		t.Errorf("archive with an encrypted list: %v", err)
	}

	// Cut short: its list of files, at its end, is lost.
	whole := mustRead(t, archive)
	cut := filepath.Join(dir, "cut.7z")
	os.WriteFile(cut, whole[:len(whole)*2/3], 0o644)
	files, _, _ = Expand([]string{cut})
	if len(files) != 1 || files[0] != cut {
		t.Fatalf("cut archive: %q", files)
	}
	if _, err := Open(cut); err == nil || !strings.Contains(err.Error(), "7-Zip archive unreadable") {
		t.Errorf("cut archive: %v", err)
	}

	// Damaged inside the firewall log's compressed data: in one solid
	// block, what precedes the damage is read (LZMA2 decodes by chunks of
	// up to 2 MiB: the damaged chunk is lost whole) and the members after
	// it in the block are errors; with a block per file, the others are
	// whole.
	for _, solid := range []bool{true, false} {
		opts := []string{"-ms=on"}
		if !solid {
			opts = []string{"-ms=off"}
		}
		write7z(t, bin, archive, members[:2], opts...)
		b := mustRead(t, archive)
		damaged := filepath.Join(dir, "damaged.7z")
		b[32+100] ^= 0x55 // inside the packed streams, which follow the 32-byte start header: the firewall log's come first
		os.WriteFile(damaged, b, 0o644)
		files, _, _ := Expand([]string{damaged})
		var whole, errs int
		for _, f := range files {
			var evs []*event.Event
			st := &FileStats{}
			in, err := Open(f)
			if err == nil {
				st, err = Parse(in, o, func(ev *event.Event) { evs = append(evs, ev) })
				in.Close()
			}
			switch {
			case f == damaged:
				if err == nil || !strings.Contains(err.Error(), "7-Zip archive damaged") {
					t.Errorf("solid %v: the archive itself: %v", solid, err)
				}
			case strings.HasSuffix(f, "fortigate.log"):
				cut := strings.Contains(strings.Join(st.Warnings, "|"), "damaged or cut short inside this member")
				if err == nil || !cut && !strings.Contains(err.Error(), "damaged or cut short inside this member: 0 of") || len(evs) >= len(bare["firewall/fortigate.log"]) {
					t.Errorf("solid %v: %s: %d events, %v, %v", solid, f, len(evs), st.Warnings, err)
				}
			case err != nil:
				if !solid || !strings.Contains(err.Error(), "not read: the compressed block holding it is damaged before it, inside member firewall/fortigate.log") {
					t.Errorf("solid %v: %s: %v", solid, f, err)
				}
				errs++
			default:
				if len(evs) != len(bare["mail/mail.log"]) {
					t.Errorf("solid %v: %s: %d events", solid, f, len(evs))
				}
				whole++
			}
		}
		if len(files) != 3 || solid && errs != 1 || !solid && whole != 1 {
			t.Errorf("solid %v: %q: %d whole, %d errors", solid, files, whole, errs)
		}
		ReleaseArchives()
	}

	// Stored, a byte changed: read whole, said damaged by its CRC-32.
	write7z(t, bin, archive, members, "-m0=Copy")
	b := mustRead(t, archive)
	i := bytes.Index(b, []byte("srcport=1500"))
	b[i] = 'S'
	damaged := filepath.Join(dir, "crc.7z")
	os.WriteFile(damaged, b, 0o644)
	_, st := parseFile(t, damaged+"!/firewall/fortigate.log", o)
	if !strings.Contains(strings.Join(st.Warnings, "|"), "does not match its CRC-32") {
		t.Errorf("changed byte: warnings %v", st.Warnings)
	}
	ReleaseArchives()
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), "exfiltrace-7z-*"))
	for _, l := range left {
		if st, err := os.Stat(l); err == nil && time.Since(st.ModTime()) < time.Minute {
			t.Errorf("copies left after ReleaseArchives: %s", l)
		}
	}
}
