package parsers

import (
	"bytes"
	"fmt"
)

// zeroedText takes the NUL bytes out of a text log's lines before they are
// read. A text log holds none of its own: a run of them is a region the
// file system allocated and nothing wrote (a crash before the log was
// flushed) or something zeroed, and the first line written after it
// follows the run with no line break — kept, it hid that line's header
// and the line was lost to its format. The file says how many were taken
// out and where: a zeroed region is itself evidence.
type zeroedText struct {
	bytes, lines, first int64
}

func (z *zeroedText) strip(b []byte, at int64) []byte {
	n := bytes.Count(b, []byte{0})
	if n == 0 {
		return b
	}
	if z.lines++; z.lines == 1 {
		z.first = at
	}
	z.bytes += int64(n)
	return bytes.ReplaceAll(b, []byte{0}, nil)
}

func (z *zeroedText) warn(st *FileStats) {
	if z.bytes > 0 {
		st.Warn(fmt.Sprintf("%d NUL byte(s) taken out of %d line(s) before reading them (the first: line %d): a region zeroed or never written — a crash before the log was flushed, or erasure", z.bytes, z.lines, z.first))
	}
}
