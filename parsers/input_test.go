package parsers

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	utf16pkg "unicode/utf16"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/exfiltrace/exfiltrace/event"
)

// compressors write the compressed forms of rotated logs; bzip2 has no
// writer in Go, so its copy is a testdata file made with bzip2(1).
var compressors = map[string]func(t *testing.T, plain []byte) []byte{
	"gzip": func(t *testing.T, plain []byte) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write(plain)
		w.Close()
		return b.Bytes()
	},
	"xz": func(t *testing.T, plain []byte) []byte {
		var b bytes.Buffer
		w, err := xz.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(plain)
		w.Close()
		return b.Bytes()
	},
	"zstd": func(t *testing.T, plain []byte) []byte {
		w, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		return w.EncodeAll(plain, nil)
	},
	"bzip2": func(t *testing.T, plain []byte) []byte {
		b, err := os.ReadFile("testdata/postfix.log.bz2")
		if err != nil {
			t.Fatal(err)
		}
		return b
	},
}

// content is an event without what names its file: the fields a copy of
// the same log, compressed or not, must give alike.
func content(t *testing.T, ev *event.Event) string {
	t.Helper()
	m := ev.Document()
	delete(m, event.FieldFile)
	delete(m, event.FieldSHA256)
	delete(m, event.FieldID)
	b, err := event.AppendObject(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCompressedEvidence: a rotated log kept gzip-, bzip2-, xz- or
// zstd-compressed gives the events of the plain log, field for field, line
// numbers included; concatenated streams are read through; a truncated
// copy gives the events before the cut and an error that names the
// compression, never events the plain log lacks.
func TestCompressedEvidence(t *testing.T) {
	o := &Options{TZ: time.UTC, Year: 2024}
	plainEvents, plainStats := parseFile(t, "testdata/postfix.log", o)
	if plainStats.Parsed == 0 {
		t.Fatal("no events in testdata/postfix.log")
	}
	plain, err := os.ReadFile("testdata/postfix.log")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for kind, compress := range compressors {
		t.Run(kind, func(t *testing.T) {
			packed := compress(t, plain)
			path := filepath.Join(dir, "maillog.1."+kind)
			os.WriteFile(path, packed, 0o644)
			in, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if in.Compression != kind {
				t.Fatalf("compression %q, want %q", in.Compression, kind)
			}
			in.Close()
			evs, st := parseFile(t, path, o)
			if st.Format != "postfix" || st.Parsed != plainStats.Parsed || st.Raw != plainStats.Raw || len(evs) != len(plainEvents) {
				t.Fatalf("%+v, want %+v", st, plainStats)
			}
			for i := range evs {
				if got, want := content(t, evs[i]), content(t, plainEvents[i]); got != want {
					t.Fatalf("event %d:\n got %s\nwant %s", i, got, want)
				}
			}

			// Two streams one after the other: both read, lines numbered on,
			// as the two logs one after the other uncompressed.
			twicePlain := filepath.Join(dir, "twice.plain")
			os.WriteFile(twicePlain, append(append([]byte(nil), plain...), plain...), 0o644)
			wantEvs, wantSt := parseFile(t, twicePlain, o)
			twice := filepath.Join(dir, "twice."+kind)
			os.WriteFile(twice, append(append([]byte(nil), packed...), packed...), 0o644)
			evs, st = parseFile(t, twice, o)
			if st.Parsed != wantSt.Parsed || len(evs) != len(wantEvs) || wantSt.Parsed <= plainStats.Parsed {
				t.Fatalf("concatenated streams: %+v, want %+v", st, wantSt)
			}
			for i := range evs {
				if got, want := content(t, evs[i]), content(t, wantEvs[i]); got != want {
					t.Fatalf("concatenated streams, event %d:\n got %s\nwant %s", i, got, want)
				}
			}

			// Cut short: the events before the cut, no invented one, and an
			// error naming the decompressor. bzip2's one block of this small
			// log gives nothing; the others are cut inside a long log.
			long := plain
			if kind != "bzip2" {
				long = fortiLines(t, 3000)
			}
			full := filepath.Join(dir, "full.log")
			os.WriteFile(full, long, 0o644)
			fullEvs, _ := parseFile(t, full, o)
			byLine := map[any]string{}
			for _, ev := range fullEvs {
				byLine[ev.Fields[event.FieldLine]] = content(t, ev)
			}
			packedLong := packed
			if kind != "bzip2" {
				packedLong = compress(t, long)
			}
			cut := filepath.Join(dir, "cut."+kind)
			os.WriteFile(cut, packedLong[:len(packedLong)*2/3], 0o644)
			in, err = Open(cut)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			var got []*event.Event
			st, err = Parse(in, o, func(ev *event.Event) { got = append(got, ev) })
			msg := st.Error
			if err != nil {
				msg = err.Error()
			}
			if !strings.Contains(msg, kind+": unexpected EOF") {
				t.Errorf("truncated %s: error %q does not name the compression and the cut", kind, msg)
			}
			parsed := 0
			for _, ev := range got {
				if ev.Str(event.FieldKind) == event.KindRaw {
					continue // the line the cut went through, kept raw
				}
				parsed++
				if content(t, ev) != byLine[ev.Fields[event.FieldLine]] {
					t.Fatalf("truncated %s: line %v differs from the whole log's", kind, ev.Fields[event.FieldLine])
				}
			}
			// xz's reader gives nothing of a block it cannot check whole.
			if kind != "bzip2" && kind != "xz" && parsed == 0 {
				t.Errorf("truncated %s: nothing recovered before the cut", kind)
			}
		})
	}
}

// fortiLines is a FortiGate log of n traffic lines, each its own session.
func fortiLines(t *testing.T, n int) []byte {
	b, err := os.ReadFile("testdata/fortigate.log")
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, `type="traffic"`) {
			line = l
			break
		}
	}
	if !strings.Contains(line, "srcport=60100") {
		t.Fatal("testdata/fortigate.log has no traffic line with srcport=60100")
	}
	var out strings.Builder
	for i := range n {
		out.WriteString(strings.Replace(line, "srcport=60100", "srcport="+strconv.Itoa(1024+i), 1) + "\n")
	}
	return []byte(out.String())
}

// FuzzCompressedHead: any bytes after a compression's magic number give
// events or a clear error, never a panic or a hang.
func FuzzCompressedHead(f *testing.F) {
	plain, _ := os.ReadFile("testdata/postfix.log")
	t := &testing.T{}
	for _, compress := range compressors {
		f.Add(compress(t, plain))
	}
	f.Add([]byte("BZh9"))
	f.Add([]byte{0xfd, '7', 'z', 'X', 'Z', 0})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0})
	f.Add(utf16(string(plain[:200]), false, true))
	f.Add(utf16(string(plain[:200]), true, false))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "evidence")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		in, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		// The stream is what is fuzzed here (the formats have their own
		// targets): a few bytes can inflate to megabytes, which every
		// format would try line by line, so only a small text is parsed.
		r, err := in.Reader()
		if err != nil {
			return
		}
		n, _ := io.Copy(io.Discard, io.LimitReader(r, 1<<20))
		r.Close()
		if n >= 64<<10 {
			return
		}
		st, err := Parse(in, &Options{TZ: time.UTC, Year: 2024}, func(*event.Event) {})
		if err != nil && st.Error == "" {
			t.Fatalf("error %v not recorded in the file's statistics", err)
		}
	})
}

// utf16 encodes text as UTF-16 in the given byte order, with or without
// a byte-order mark, as PowerShell's Out-File and `>` write it.
func utf16(s string, bigEndian, bom bool) []byte {
	var out []byte
	put := func(u uint16) {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	if bom {
		put(0xfeff)
	}
	for _, u := range utf16pkg.Encode([]rune(s)) {
		put(u)
	}
	return out
}

// TestTextEncodings: a log or a wevtutil XML export written with a UTF-8
// byte-order mark or as UTF-16 (either order, with or without a mark,
// compressed or not; XML declaring encoding="UTF-16") gives the events of
// the plain UTF-8 file, field for field; XML declaring windows-1252 is
// decoded from it; an encoding nobody can decode is a clear loss.
func TestTextEncodings(t *testing.T) {
	o := &Options{TZ: time.UTC, Year: 2024}
	dir := t.TempDir()
	for _, src := range []string{"testdata/postfix.log", "testdata/smbserver.xml", "testdata/fortigate.log"} {
		plain, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		wantEvs, wantSt := parseFile(t, src, o)
		declared, declared8 := string(plain), string(plain)
		if strings.HasSuffix(src, ".xml") {
			declared = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n" + declared
			declared8 = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n" + declared8
		}
		variants := map[string][]byte{
			"utf-8 with a mark":     []byte("\xef\xbb\xbf" + declared8),
			"utf-16le with a mark":  utf16(declared, false, true),
			"utf-16be with a mark":  utf16(declared, true, true),
			"utf-16le without mark": utf16(declared, false, false),
			"utf-16be without mark": utf16(declared, true, false),
			"gzip of utf-16le":      compressors["gzip"](t, utf16(declared, false, true)),
		}
		for name, b := range variants {
			path := filepath.Join(dir, "evidence")
			os.WriteFile(path, b, 0o644)
			evs, st := parseFile(t, path, o)
			if st.Format != wantSt.Format || st.Parsed != wantSt.Parsed || st.Raw != wantSt.Raw || st.Lost != wantSt.Lost || len(evs) != len(wantEvs) {
				t.Fatalf("%s, %s: %+v, want %+v", src, name, st, wantSt)
			}
			for i := range evs {
				got, want := content(t, evs[i]), content(t, wantEvs[i])
				if strings.HasSuffix(src, ".xml") {
					// The declaration is one line more before each event.
					got = strings.Replace(got, fmt.Sprintf(`"evidence.line":%d`, evs[i].Fields[event.FieldLine]), fmt.Sprintf(`"evidence.line":%d`, evs[i].Fields[event.FieldLine].(int64)-1), 1)
				}
				if got != want {
					t.Fatalf("%s, %s, event %d:\n got %s\nwant %s", src, name, i, got, want)
				}
			}
		}
	}

	xml, _ := os.ReadFile("testdata/smbserver.xml")
	latin := "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n" + strings.Replace(string(xml), "Microsoft-Windows-SMBServer", "Microsoft-Windows-SMBServ\xe9r", -1)
	path := filepath.Join(dir, "latin.xml")
	os.WriteFile(path, []byte(latin), 0o644)
	evs, st := parseFile(t, path, o)
	if st.Parsed == 0 || st.Lost != 0 || evs[0].Str("event.provider") != "Microsoft-Windows-SMBServér" {
		t.Fatalf("windows-1252: %+v, provider %q", st, evs[0].Str("event.provider"))
	}
	os.WriteFile(path, []byte(strings.Replace(latin, "windows-1252", "klingon", 1)), 0o644)
	_, st = parseFile(t, path, o)
	if st.Lost != 1 || !strings.Contains(fmt.Sprint(st.LostReasons), `"klingon"`) {
		t.Fatalf("undecodable encoding: %+v", st)
	}
}

// TestLocalizedWindowsLogs: a French Windows Server's DHCP audit logs
// (legend and column header in French, written in Windows-1252) give the
// events of the English ones, field for field but the localized
// description, which reads as written ("Démarré"); the file says its lines
// were not UTF-8.
func TestLocalizedWindowsLogs(t *testing.T) {
	o := &Options{TZ: time.UTC, Year: 2025}
	for en, fr := range map[string]string{
		"testdata/formats/DhcpSrvLog-Ven.log":   "testdata/formats/DhcpSrvLog-Ven-fr.log",
		"testdata/formats/DhcpV6SrvLog-Ven.log": "testdata/formats/DhcpV6SrvLog-Ven-fr.log",
	} {
		if utf8.Valid(mustRead(t, fr)) {
			t.Fatalf("%s should be Windows-1252, as the server writes it", fr)
		}
		want, _ := parseFile(t, en, o)
		got, st := parseFile(t, fr, o)
		if st.Format != "windows-dhcp" || len(got) != len(want) || len(got) == 0 || st.Raw != 0 {
			t.Fatalf("%s: %+v", fr, st)
		}
		if !strings.Contains(strings.Join(st.Warnings, "|"), "not UTF-8, read as Windows-1252") {
			t.Errorf("%s: warnings %v", fr, st.Warnings)
		}
		for i := range got {
			g, w := got[i].Document(), want[i].Document()
			for _, k := range []string{"message", event.FieldOriginal, event.FieldFile, event.FieldSHA256, event.FieldID, event.FieldLine} {
				delete(g, k)
				delete(w, k)
			}
			gb, _ := event.AppendObject(nil, g)
			wb, _ := event.AppendObject(nil, w)
			if string(gb) != string(wb) {
				t.Errorf("%s event %d:\n got %s\nwant %s", fr, i, gb, wb)
			}
		}
	}
	evs, _ := parseFile(t, "testdata/formats/DhcpSrvLog-Ven-fr.log", o)
	if evs[0].Str("message") != "Démarré" {
		t.Errorf("description %q, want Démarré", evs[0].Str("message"))
	}
}

// TestInputStop: once an input is stopped, every read of its content —
// streamed or at an offset, decompressed or not — fails with ErrStopped,
// so that a parse no longer wanted ends at its next read.
func TestInputStop(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "a.log")
	if err := os.WriteFile(plain, []byte(strings.Repeat("line\n", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Repeat("line\n", 1000)))
	zw.Close()
	packed := filepath.Join(dir, "a.log.gz")
	if err := os.WriteFile(packed, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{plain, packed} {
		in, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := in.Reader()
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 10)
		if _, err := r.Read(buf); err != nil {
			t.Fatalf("%s: before the stop: %v", p, err)
		}
		in.Stop()
		if _, err := r.Read(buf); !errors.Is(err, ErrStopped) {
			t.Errorf("%s: read after the stop: %v", p, err)
		}
		if ra := in.ReaderAt(); ra != nil {
			if _, err := ra.ReadAt(buf, 0); !errors.Is(err, ErrStopped) {
				t.Errorf("%s: ReadAt after the stop: %v", p, err)
			}
		}
		r.Close()
		in.Close()
	}
}
