package parsers

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

// evtxHeader is the 4,096-byte file header of an EVTX log with no chunk,
// as Windows writes for a channel never written to.
func evtxHeader() []byte {
	h := make([]byte, 4096)
	copy(h, "ElfFile\x00")
	binary.LittleEndian.PutUint64(h[24:], 1) // next record id
	binary.LittleEndian.PutUint32(h[32:], 128)
	binary.LittleEndian.PutUint16(h[36:], 1)
	binary.LittleEndian.PutUint16(h[38:], 3)
	binary.LittleEndian.PutUint16(h[40:], 4096)
	binary.LittleEndian.PutUint32(h[124:], crc32.ChecksumIEEE(h[:120]))
	return h
}

// TestEmptyEVTX: an EVTX log without records (its header alone, or with a
// chunk never written, all zeros) is read without error and said empty.
func TestEmptyEVTX(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string][]byte{
		"header-only.evtx":  evtxHeader(),
		"zeroed-chunk.evtx": append(evtxHeader(), make([]byte, 65536)...),
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		in, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		st, err := Parse(in, &Options{TZ: time.UTC}, func(*event.Event) { n++ })
		in.Close()
		if err != nil || st.Error != "" || n != 0 || st.Format != "evtx" {
			t.Fatalf("%s: %d events, format %q, %v %q", name, n, st.Format, err, st.Error)
		}
		if len(st.Warnings) != 1 || st.Warnings[0] != "empty: the log holds no event record, so no events" {
			t.Fatalf("%s: warnings %q", name, st.Warnings)
		}
	}
}
