package parsers

import (
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

// TestNestedArchives: an archive inside an archive (DFIR ORC's 7-Zip
// collections inside its outer archive, a tar.gz zipped to be sent) is
// read as one, its members named through both; each gives the bare
// file's events with the same ids, the outer archive (the file handed
// over) and its SHA-256 beside it; deeper than maxNesting, the archive is
// named, not read; the copies made are removed afterwards.
func TestNestedArchives(t *testing.T) {
	o := &Options{TZ: time.UTC, Year: 2024}
	postfix := mustRead(t, "testdata/postfix.log")
	forti := fortiLines(t, 500)
	dir := t.TempDir()
	bare := map[string][]*event.Event{}
	for name, data := range map[string][]byte{"maillog": postfix, "fortigate.log": forti} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		bare[name], _ = parseFile(t, p, o)
	}
	zipOf := func(name string, members [][2]string) []byte {
		p := filepath.Join(dir, name)
		writeZip(t, p, members)
		return mustRead(t, p)
	}
	tarOf := func(name string, members [][2]string, gz bool) []byte {
		p := filepath.Join(dir, name)
		writeTar(t, p, members, gz)
		return mustRead(t, p)
	}
	logs := [][2]string{{"var/log/maillog", string(postfix)}, {"fw/fortigate.log", string(forti)}}

	type layout struct {
		name   string
		outer  []byte
		expect []string // members, after the outer archive's path
	}
	layouts := []layout{
		{"zip in zip", zipOf("outer.zip", [][2]string{{"inner.zip", string(zipOf("inner.zip", logs))}, {"notes.md", "x"}}),
			[]string{"!/inner.zip!/fw/fortigate.log", "!/inner.zip!/var/log/maillog"}},
		{"stored zip in zip", zipOf("outer.zip", [][2]string{{"stored:inner.zip", string(zipOf("inner.zip", logs))}}),
			[]string{"!/inner.zip!/fw/fortigate.log", "!/inner.zip!/var/log/maillog"}},
		{"tar.gz in zip", zipOf("outer.zip", [][2]string{{"srv/logs.tar.gz", string(tarOf("logs.tar.gz", logs, true))}}),
			[]string{"!/srv/logs.tar.gz!/fw/fortigate.log", "!/srv/logs.tar.gz!/var/log/maillog"}},
		{"zip in tar.gz, beside a log", tarOf("outer.tar.gz", [][2]string{{"a/inner.zip", string(zipOf("inner.zip", logs[:1]))}, {"b/fortigate.log", string(forti)}}, true),
			[]string{"!/a/inner.zip!/var/log/maillog", "!/b/fortigate.log"}},
		{"zip in zip in tar", tarOf("outer.tar", [][2]string{{"x.zip", string(zipOf("x.zip", [][2]string{{"y.zip", string(zipOf("y.zip", logs))}}))}}, false),
			[]string{"!/x.zip!/y.zip!/fw/fortigate.log", "!/x.zip!/y.zip!/var/log/maillog"}},
	}
	check := func(t *testing.T, layouts []layout) {
		for i, l := range layouts {
			outer := filepath.Join(dir, l.name[:3]+string(rune('a'+i))+".evidence")
			os.WriteFile(outer, l.outer, 0o644)
			sum := sha256.Sum256(l.outer)
			files, _, err := Expand([]string{outer})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, e := range l.expect {
				want = append(want, outer+e)
			}
			if strings.Join(files, "\n") != strings.Join(want, "\n") {
				t.Fatalf("%s: members %q, want %q", l.name, files, want)
			}
			for _, f := range files {
				evs, st := parseFile(t, f, o)
				wantEvs := bare[filepath.Base(f)]
				if len(evs) != len(wantEvs) || st.Archive != outer || st.ArchiveSHA256 != hex.EncodeToString(sum[:]) {
					t.Fatalf("%s: %s: %d events (want %d), archive %s %s", l.name, f, len(evs), len(wantEvs), st.Archive, st.ArchiveSHA256)
				}
				for j := range evs {
					if evs[j].Str(event.FieldID) != wantEvs[j].Str(event.FieldID) || content(t, evs[j]) != content(t, wantEvs[j]) {
						t.Fatalf("%s: %s event %d differs from the bare file's", l.name, f, j)
					}
				}
			}
			ReleaseArchives()
		}
	}
	check(t, layouts)
	t.Run("7-Zip", func(t *testing.T) {
		bin := corpus.Tool(t, "7zz", "7zip", "7-Zip archives inside archives")
		inner := filepath.Join(dir, "Event.7z")
		write7z(t, bin, inner, logs)
		general := filepath.Join(dir, "General.7z")
		write7z(t, bin, general, [][2]string{{"Event.7z", string(mustRead(t, inner))}, {"mail.zip", string(zipOf("mail.zip", logs[:1]))}})
		// A 7-Zip archive cut short inside a zip: its own error, not read as a log.
		whole := mustRead(t, inner)
		outer := filepath.Join(dir, "cut.zip")
		writeZip(t, outer, [][2]string{{"Event.7z", string(whole[:len(whole)/2])}})
		files, _, _ := Expand([]string{outer})
		if len(files) != 1 || files[0] != outer+"!/Event.7z" {
			t.Fatalf("cut inner archive: %q", files)
		}
		if _, err := Open(files[0]); err == nil || !strings.Contains(err.Error(), "7-Zip archive unreadable") {
			t.Errorf("cut inner archive: %v", err)
		}
		ReleaseArchives()
		check(t, []layout{
			{"7z in 7z, and zip in 7z (DFIR ORC)", mustRead(t, general),
				[]string{"!/Event.7z!/fw/fortigate.log", "!/Event.7z!/var/log/maillog", "!/mail.zip!/var/log/maillog"}},
			{"7z in zip", zipOf("outer.zip", [][2]string{{"Event.7z", string(mustRead(t, inner))}}),
				[]string{"!/Event.7z!/fw/fortigate.log", "!/Event.7z!/var/log/maillog"}},
		})
	})

	// Deeper than maxNesting: the innermost archive is named, not read.
	data := zipOf("z.zip", logs[:1])
	for range maxNesting {
		data = zipOf("z.zip", [][2]string{{"z.zip", string(data)}})
	}
	deep := filepath.Join(dir, "deep.zip")
	os.WriteFile(deep, data, 0o644)
	files, _, err := Expand([]string{deep})
	want := deep + strings.Repeat("!/z.zip", maxNesting)
	if err != nil || len(files) != 1 || files[0] != want {
		t.Fatalf("deep: %q, want %q", files, want)
	}
	in, err := Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(in, o, func(*event.Event) {}); err == nil || !strings.Contains(err.Error(), "nested deeper than exfiltrace reads") {
		t.Errorf("deep: %v", err)
	}
	in.Close()

	ReleaseArchives()
	for _, pattern := range []string{"exfiltrace-nested-*", "exfiltrace-tar-*", "exfiltrace-7z-*"} {
		left, _ := filepath.Glob(filepath.Join(os.TempDir(), pattern))
		for _, l := range left {
			if st, err := os.Stat(l); err == nil && time.Since(st.ModTime()) < time.Minute {
				t.Errorf("copies left after ReleaseArchives: %s", l)
			}
		}
	}
}
