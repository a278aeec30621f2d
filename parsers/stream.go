package parsers

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// An evidence file's stream: compressed or not, then its text encoding.
// Both are found from the first bytes, never from the file's name.

// compression names the compressed stream a file starts with, by its magic
// number (RFC 1952, bzip2's "BZh" and block size, the xz and zstd formats).
func compression(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return "gzip"
	case len(head) >= 4 && bytes.HasPrefix(head, []byte("BZh")) && head[3] >= '1' && head[3] <= '9':
		return "bzip2"
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return "xz"
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "zstd"
	}
	return ""
}

// decompress reads one compressed stream; concatenated streams (as
// `cat a.gz b.gz` or a resumed compressor leaves them) are read through.
func decompress(kind string, r io.Reader) (io.ReadCloser, error) {
	switch kind {
	case "gzip":
		return gzip.NewReader(r)
	case "bzip2":
		return io.NopCloser(bzip2.NewReader(r)), nil
	case "xz":
		xr, err := xz.NewReader(r)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(xr), nil
	case "zstd":
		// One goroutine, low memory: files are already read in parallel.
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("unknown compression %q", kind)
}

// namedErrors says which decompressor failed: "gzip: unexpected EOF" tells
// a truncated copy from a failing disk.
type namedErrors struct {
	io.ReadCloser
	kind string
}

func (r namedErrors) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if err != nil && err != io.EOF && !strings.HasPrefix(err.Error(), r.kind+":") {
		err = fmt.Errorf("%s: %w", r.kind, err) // compress/gzip names itself already
	}
	return n, err
}

// textEncoding names the encoding the first decompressed bytes show: a
// byte-order mark, or UTF-16 without one — a log's first characters are
// never NUL, so text with every other byte zero is UTF-16 (EVTX, the only
// binary format, starts with "ElfFile"). Empty for plain UTF-8.
func textEncoding(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xef, 0xbb, 0xbf}):
		return "utf-8"
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		return "utf-16le"
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		return "utf-16be"
	case len(b) == 4 && b[0] != 0 && b[1] == 0 && b[2] != 0 && b[3] == 0:
		return "utf-16le"
	case len(b) == 4 && b[0] == 0 && b[1] != 0 && b[2] == 0 && b[3] != 0:
		return "utf-16be"
	}
	return ""
}

// decodeText gives the stream as UTF-8 without a byte-order mark, its
// encoding read from its own first bytes as it is opened (no pass of its
// own: a bzip2 block or an xz dictionary is costly to start again).
func decodeText(r io.ReadCloser) io.ReadCloser {
	var b [4]byte
	n, err := io.ReadFull(r, b[:])
	head := b[:n]
	var rest io.Reader = r
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		rest = errReader{err} // a read error is the reader's to meet, after what came before it
	}
	switch textEncoding(head) {
	case "utf-8":
		head = head[3:]
	case "utf-16le", "utf-16be":
		order := unicode.LittleEndian
		if textEncoding(head) == "utf-16be" {
			order = unicode.BigEndian
		}
		// Unpaired surrogates and a last odd byte become U+FFFD: the line
		// is kept, marked where it could not be read.
		dec := unicode.UTF16(order, unicode.UseBOM).NewDecoder()
		return struct {
			io.Reader
			io.Closer
		}{transform.NewReader(io.MultiReader(bytes.NewReader(head), rest), dec), r}
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), rest), r}
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
