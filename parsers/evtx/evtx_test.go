package evtx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/internal/corpus"
)

func readAll(t testing.TB, path string) ([]*Record, *Reader) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	rd, err := NewReader(f, st.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var recs []*Record
	if err := rd.Records(func(r *Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs, rd
}

func corpusFiles(t *testing.T) []string {
	dir := corpus.Dir(t, "evtx")
	var files []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".evtx") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no .evtx files in corpus")
	}
	return files
}

// TestCorpusCounts pins the number of records read and lost per corpus file.
// Every file must be read without error; losses only where the file is damaged.
func TestCorpusCounts(t *testing.T) {
	want := map[string][2]int{ // records, records reported lost
		"2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx": {1910, 69},
		"sample_with_a_bad_chunk_magic.evtx":                                          {298, 86},
		"security.evtx":                                                               {2261, 0},
		"security_bad_string_cache.evtx":                                              {2261, 0},
		"system.evtx":                                                                 {1881, 0},
		"sysmon.evtx":                                                                 {358, 0},
		"MSExchange_Management_wec.evtx":                                              {1, 0},
		"Application_no_crc32.evtx":                                                   {17, 0},
		"sample-with-irregular-bool-values.evtx":                                      {3028, 0},
		"LM_5145_Remote_FileCopy.evtx":                                                {869, 0},
		"ID7000_7009_7045-Payload_deployed_via_service_-_Tchopper.evtx":               {733, 0},
	}
	for _, p := range corpusFiles(t) {
		recs, rd := readAll(t, p)
		lost := 0
		for _, l := range rd.Losses {
			lost += l.Records
		}
		for _, r := range recs {
			if r.Root == nil || r.Root.Name != "Event" {
				t.Errorf("%s record %d: root %v", p, r.ID, r.Root)
			}
		}
		if w, ok := want[filepath.Base(p)]; ok {
			if len(recs) != w[0] || lost != w[1] {
				t.Errorf("%s: %d records, %d lost; want %d, %d (losses %v)", filepath.Base(p), len(recs), lost, w[0], w[1], rd.Losses)
			}
		} else if lost != 0 {
			t.Errorf("%s: unexpected losses %v", filepath.Base(p), rd.Losses)
		}
	}
}

// TestDamagedFilesReportLosses checks that damage is explained, not silent.
func TestDamagedFilesReportLosses(t *testing.T) {
	dir := corpus.Dir(t, "evtx/omerbenamram-evtx")
	_, rd := readAll(t, filepath.Join(dir, "sample_with_a_bad_chunk_magic.evtx"))
	var reasons []string
	for _, l := range rd.Losses {
		reasons = append(reasons, l.Reason)
	}
	if !strings.Contains(strings.Join(reasons, "|"), "bad chunk signature") {
		t.Errorf("bad chunk magic not reported: %v", reasons)
	}
	_, rd = readAll(t, filepath.Join(dir, "Application_no_crc32.evtx"))
	if len(rd.Warnings) == 0 {
		t.Errorf("no checksum warning for a file without CRCs")
	}
}

// TestTruncatedAndGarbage feeds cut and random input: errors or losses, never a panic.
func TestTruncatedAndGarbage(t *testing.T) {
	dir := corpus.Dir(t, "evtx/omerbenamram-evtx")
	data, err := os.ReadFile(filepath.Join(dir, "security.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 7, 100, 4096, 4096 + 600, 4096 + 65536 + 30000, len(data) - 1} {
		rd, err := NewReader(bytes.NewReader(data[:n]), int64(n))
		if err != nil {
			if n >= 128 {
				t.Errorf("cut at %d: header should still read: %v", n, err)
			}
			continue
		}
		count := 0
		if err := rd.Records(func(*Record) error { count++; return nil }); err != nil {
			t.Errorf("cut at %d: %v", n, err)
		}
		if n == 4096+65536+30000 && len(rd.Losses) == 0 {
			t.Errorf("cut at %d: truncation not reported", n)
		}
	}
	garbage := bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 1000)
	if _, err := NewReader(bytes.NewReader(garbage), int64(len(garbage))); err != ErrNotEVTX {
		t.Errorf("garbage: err = %v, want ErrNotEVTX", err)
	}
}

// pair is one field/value of an event, the unit snapshots are compared in.
type pair struct{ k, v string }

var (
	reHexNum = regexp.MustCompile(`^0x[0-9a-fA-F]+$`)
	reGUID   = regexp.MustCompile(`^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$`)
)

// norm makes equivalent renderings of one value equal: GUID braces and case,
// hex zero-padding, and time precision (snapshots keep µs or ns).
func norm(v string) string {
	// Text XML normalises line ends; the binary form keeps CR LF.
	v = strings.ReplaceAll(v, "\r\n", "\n")
	if strings.TrimSpace(v) == "" {
		return "" // indentation-only text is not kept by XML readers
	}
	v = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' {
			return 0xFFFD
		}
		return r
	}, v)
	switch {
	case reGUID.MatchString(v):
		return strings.ToUpper(strings.Trim(v, "{}"))
	case reHexNum.MatchString(v):
		if n, err := strconv.ParseUint(v[2:], 16, 64); err == nil {
			return "0x" + strconv.FormatUint(n, 16)
		}
	}
	if ts, err := time.Parse(time.RFC3339Nano, v); err == nil && strings.Contains(v, "T") {
		return ts.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
	}
	return v
}

// flattenNode lists attributes and texts; a Data element with a Name is keyed by it.
func flattenTree(n *Node, out *[]pair) {
	for _, a := range n.Attrs {
		if a.Name != "xmlns" {
			*out = append(*out, pair{a.Name, norm(a.Value)})
		}
	}
	key := n.Name
	if name, ok := n.Attr("Name"); ok && n.Name == "Data" {
		key = name
		*out = (*out)[:len(*out)-1] // the Name attribute is the key, not a value
	}
	if v := norm(n.Text); v != "" {
		*out = append(*out, pair{key, v})
	}
	for _, c := range n.Children {
		flattenTree(c, out)
	}
}

// flattenJSON lists the same pairs from the evtx crate's JSON rendering.
func flattenJSON(key string, v any, out *[]pair) {
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			switch {
			case k == "#attributes":
				for ak, av := range y.(map[string]any) {
					if ak != "xmlns" {
						flattenJSON(ak, av, out)
					}
				}
			case k == "#text":
				flattenJSON(key, y, out)
			case strings.HasSuffix(k, "_attributes"):
				for ak, av := range y.(map[string]any) {
					if ak != "xmlns" {
						flattenJSON(ak, av, out)
					}
				}
			default:
				flattenJSON(k, y, out)
			}
		}
	case []any:
		for _, y := range x {
			flattenJSON(key, y, out)
		}
	case nil:
	case string:
		if x != "" {
			*out = append(*out, pair{key, norm(x)})
		}
	case float64:
		*out = append(*out, pair{key, strconv.FormatFloat(x, 'f', -1, 64)})
	case bool:
		*out = append(*out, pair{key, strconv.FormatBool(x)})
	}
}

func sortPairs(p []pair) []string {
	out := make([]string, len(p))
	for i, x := range p {
		out[i] = x.k + "=" + x.v
	}
	sort.Strings(out)
	return out
}

// TestSnapshots compares our records with the evtx crate's snapshot records
// for every snapshot whose source file is in the corpus.
func TestSnapshots(t *testing.T) {
	dir := corpus.Dir(t, "evtx/omerbenamram-evtx")
	src, err := os.ReadFile(filepath.Join(dir, "snapshots", "test_record_samples.rs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	reFn := regexp.MustCompile(`fn (test_\w+)\(\)`)
	reFile := regexp.MustCompile(`"\.\./samples/([^"]+)"`)
	reID := regexp.MustCompile(`event_record_id == (\d+)`)
	fns := reFn.FindAllStringSubmatchIndex(string(src), -1)
	compared := 0
	for i, m := range fns {
		end := len(src)
		if i+1 < len(fns) {
			end = fns[i+1][0]
		}
		body := string(src[m[0]:end])
		name := string(src[m[2]:m[3]])
		fm := reFile.FindStringSubmatch(body)
		if fm == nil {
			continue
		}
		evtxPath := filepath.Join(dir, fm[1])
		if _, err := os.Stat(evtxPath); err != nil {
			t.Logf("%s: source %s not in corpus, snapshot not comparable", name, fm[1])
			continue
		}
		recs, _ := readAll(t, evtxPath)
		rec := recs[0]
		if idm := reID.FindStringSubmatch(body); idm != nil {
			id, _ := strconv.ParseUint(idm[1], 10, 64)
			rec = nil
			for _, r := range recs {
				if r.ID == id {
					rec = r
				}
			}
			if rec == nil {
				t.Errorf("%s: record %d not found", name, id)
				continue
			}
		}
		var ours []pair
		flattenTree(rec.Root, &ours)
		snaps, _ := filepath.Glob(filepath.Join(dir, "snapshots", "test_record_samples__"+strings.TrimPrefix(name, "test_")+"*.snap"))
		for _, snap := range snaps {
			base := strings.TrimSuffix(filepath.Base(snap), ".snap")
			if base != "test_record_samples__"+strings.TrimPrefix(name, "test_") && !strings.HasSuffix(base, "-2") {
				continue
			}
			raw, _ := os.ReadFile(snap)
			parts := strings.SplitN(string(raw), "\n---\n", 2)
			if len(parts) != 2 {
				t.Fatalf("%s: no snapshot body", snap)
			}
			body := strings.TrimSpace(parts[1])
			var theirs []pair
			if strings.HasPrefix(body, "{") {
				var v any
				if err := json.Unmarshal([]byte(body), &v); err != nil {
					t.Fatalf("%s: %v", snap, err)
				}
				flattenJSON("", v, &theirs)
			} else {
				body = strings.TrimPrefix(body, `<?xml version="1.0" encoding="utf-8"?>`)
				err := ReadXMLEvents(strings.NewReader(body), func(n *Node, _ int) error {
					flattenTree(n, &theirs)
					return nil
				})
				if err != nil {
					t.Fatalf("%s: %v", snap, err)
				}
			}
			a, b := sortPairs(ours), sortPairs(theirs)
			if strings.Join(a, "\n") != strings.Join(b, "\n") {
				t.Errorf("%s (%s record %d) differs:\nours:   %v\ntheirs: %v", filepath.Base(snap), fm[1], rec.ID, a, b)
			}
			compared++
		}
	}
	if compared < 6 {
		t.Errorf("only %d snapshots compared", compared)
	}
	t.Logf("%d snapshots compared", compared)
}

// TestAgainstEvtxexport cross-checks every corpus file against libyal's
// evtxexport, an independent reader: same records, and for each the same
// EventID, time, channel, computer and EventData values.
func TestAgainstEvtxexport(t *testing.T) {
	bin, err := exec.LookPath("evtxexport")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("evtxexport not installed; .ci/run installs libevtx-utils")
		}
		t.Skip("evtxexport (Debian libevtx-utils) not installed: cross-check skipped")
	}
	// Files where the peer is known to differ, and why.
	peerFails := map[string]string{
		"MSExchange_Management_wec.evtx":                   "evtxexport exports no record of this valid file; the snapshot test covers it",
		"ID1149-RDP_success_logins_to_multiple_hosts.evtx": "evtxexport fails on record 0 (libfdata: unable to read element data) and exports nothing",
	}
	// Records we recover beyond evtxexport: records framed (signature, size,
	// trailing size, id in the chunk's range) after a zeroed region that
	// evtxexport stops at.
	extra := map[string]int{"sample_with_a_bad_chunk_magic.evtx": 31}
	for _, p := range corpusFiles(t) {
		base := filepath.Base(p)
		if why, ok := peerFails[base]; ok {
			t.Logf("%s: not compared: %s", base, why)
			continue
		}
		out, err := exec.Command(bin, "-f", "xml", p).Output()
		if err != nil {
			t.Errorf("%s: evtxexport: %v", base, err)
			continue
		}
		if i := bytes.IndexByte(out, '<'); i > 0 {
			out = out[i:]
		}
		// evtxexport writes control characters raw, which XML forbids.
		out = bytes.Map(func(r rune) rune {
			if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
				return 0xFFFD
			}
			return r
		}, out)
		theirs := map[string]*Node{}
		err = ReadXMLEvents(bytes.NewReader(out), func(n *Node, _ int) error {
			theirs[n.Child("System").Child("EventRecordID").Text] = n
			return nil
		})
		if err != nil {
			t.Errorf("%s: reading evtxexport output: %v", base, err)
			continue
		}
		recs, _ := readAll(t, p)
		matched := 0
		for _, r := range recs {
			sys := r.Root.Child("System")
			id := sys.Child("EventRecordID").Text
			th, ok := theirs[id]
			if !ok {
				continue
			}
			matched++
			if d := diffCore(r.Root, th); d != "" {
				t.Errorf("%s record %s: %s", base, id, d)
			}
		}
		if matched != len(theirs) {
			t.Errorf("%s: evtxexport has %d records, we matched %d", base, len(theirs), matched)
		}
		if len(recs)-matched != extra[base] {
			t.Errorf("%s: %d records beyond evtxexport's, want %d", base, len(recs)-matched, extra[base])
		}
	}
}

func diffCore(ours, theirs *Node) string {
	get := func(n *Node, name string) string { return n.Child("System").Child(name).Text }
	for _, f := range []string{"EventID", "Channel", "Computer"} {
		if a, b := get(ours, f), get(theirs, f); a != b {
			return fmt.Sprintf("%s %q != %q", f, a, b)
		}
	}
	ta, _ := ours.Child("System").Child("TimeCreated").Attr("SystemTime")
	tb, _ := theirs.Child("System").Child("TimeCreated").Attr("SystemTime")
	if norm(ta) != norm(tb) {
		return fmt.Sprintf("TimeCreated %q != %q", ta, tb)
	}
	var a, b []pair
	if ed := ours.Child("EventData"); ed != nil {
		flattenTree(ed, &a)
	}
	if ed := theirs.Child("EventData"); ed != nil {
		flattenTree(ed, &b)
	}
	if x, y := strings.Join(sortPairs(a), "|"), strings.Join(sortPairs(b), "|"); x != y {
		return fmt.Sprintf("EventData differs:\nours:   %s\ntheirs: %s", x, y)
	}
	return ""
}

// BenchmarkReader measures the EVTX reader alone (records decoded to trees).
func BenchmarkReader(b *testing.B) {
	dir := corpus.Dir(b, "evtx/omerbenamram-evtx")
	data, err := os.ReadFile(filepath.Join(dir, "security.evtx"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	n := 0
	for i := 0; i < b.N; i++ {
		rd, err := NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		rd.Records(func(*Record) error { n++; return nil })
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
