package evtx

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/exfiltrace/exfiltrace/internal/corpus"
)

// minimalFile builds a valid file header and one empty chunk, the smallest
// input that reaches the record loop.
func minimalFile() []byte {
	b := make([]byte, fileHeaderSize+chunkSize)
	copy(b, fileMagic)
	binary.LittleEndian.PutUint32(b[32:], 128)
	binary.LittleEndian.PutUint16(b[38:], 3)
	binary.LittleEndian.PutUint16(b[40:], fileHeaderSize)
	binary.LittleEndian.PutUint16(b[42:], 1)
	binary.LittleEndian.PutUint32(b[124:], crc32.ChecksumIEEE(b[:120]))
	c := b[fileHeaderSize:]
	copy(c, chunkMagic)
	binary.LittleEndian.PutUint32(c[40:], 128)
	binary.LittleEndian.PutUint32(c[48:], chunkHeaderSize)
	return b
}

func FuzzReader(f *testing.F) {
	// Inputs are kept under 64 KiB: Go's fuzzer slows to a crawl above that.
	// A cut chunk still exercises the record decoder (records wholly inside are read).
	f.Add(minimalFile()[:fileHeaderSize+1024])
	// Without the file header: chunks read on their own.
	f.Add(minimalFile()[fileHeaderSize : fileHeaderSize+1024])
	// Seeds from the shared corpus when present: the first chunk of small files.
	if dir := filepath.Join(corpus.Root(f), "..", "shared", "corpus", "evtx", "omerbenamram-evtx"); dirExists(dir) {
		for _, name := range []string{"security.evtx", "sysmon.evtx", "MSExchange_Management_wec.evtx", "sample_with_a_bad_chunk_magic.evtx"} {
			if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil && len(b) >= fileHeaderSize+chunkSize {
				f.Add(b[:fileHeaderSize+40000])
				f.Add(b[fileHeaderSize : fileHeaderSize+40000])
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, err := NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		_ = rd.Wrapped() // asked of every EVTX file before it is read straight (parsers.OutOfTimeOrder)
		_ = rd.Records(func(r *Record) error {
			if r.Root == nil {
				t.Fatal("record without root")
			}
			_ = r.Root.XML()
			return nil
		})
	})
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
