package parsers

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/exfiltrace/exfiltrace/internal/scratch"
)

// A zip archive is read from its central directory, at its end. One cut
// short (a copy or a download stopped, a disk filled) has none, and Go's
// reader opens nothing of it; yet each member is still there behind its
// local header, one after the other. Such an archive is read that way, from
// its start, as a tar is: the members before the cut are copied out whole,
// what was read of the member it cuts is kept and said to be cut, and the
// archive itself reports the damage.

const (
	zipLocalSig      = 0x04034b50
	zipCentralSig    = 0x02014b50
	zipEndSig        = 0x06054b50
	zipDescriptorSig = 0x08074b50
)

var zipCutExtracts sync.Map // archive path → *tarExtract

// extractCutZip copies out, once, the members of a zip archive without a
// readable central directory.
func extractCutZip(archive string) *tarExtract {
	return extractOnce(&zipCutExtracts, archive, (*tarExtract).extractLocalHeaders)
}

// zipLocal is what a member's local header says.
type zipLocal struct {
	flags, method uint16
	modified      time.Time
	crc           uint32
	csize, usize  uint64
	name          string
	zip64         bool
}

func (x *tarExtract) extractLocalHeaders(archive string) error {
	f, err := os.Open(diskPath(archive))
	if err != nil {
		return err
	}
	defer f.Close()
	if x.dir, err = scratch.Dir("zip"); err != nil {
		return err
	}
	x.files = map[string]tarFile{}
	cr := bufio.NewReaderSize(f, 1<<16)
	for i := 0; ; i++ {
		var sig [4]byte
		if _, err := io.ReadFull(cr, sig[:]); err != nil {
			return fmt.Errorf("%s: zip archive cut short after %d members, before its central directory (the members before the cut are read)", archive, len(x.names))
		}
		switch binary.LittleEndian.Uint32(sig[:]) {
		case zipLocalSig:
		case zipCentralSig, zipEndSig:
			return fmt.Errorf("%s: zip archive whose central directory cannot be read (damaged): its %d members were read from their own headers", archive, len(x.names))
		default:
			return fmt.Errorf("%s: zip archive damaged after its member %d: no member header follows (the %d before are read)", archive, i, len(x.names))
		}
		h, err := readZipLocal(cr)
		if err != nil {
			return fmt.Errorf("%s: zip archive cut short inside the header of its member %d (the %d before it are read)", archive, i+1, len(x.names))
		}
		if strings.HasSuffix(h.name, "/") && h.csize == 0 && h.flags&0x8 == 0 {
			continue // a directory
		}
		if h.flags&0x1 != 0 || h.method == 99 {
			if h.flags&0x8 != 0 {
				return fmt.Errorf("%s: zip archive without central directory whose member %s is encrypted and of unknown length: extract it with its password and ingest the directory", archive, h.name)
			}
			x.left = append(x.left, archive+MemberSep+h.name+" (encrypted: extract it with its password and ingest the directory)")
			if _, err := io.CopyN(io.Discard, cr, int64(h.csize)); err != nil {
				return fmt.Errorf("%s: zip archive cut short inside its member %s", archive, h.name)
			}
			continue
		}
		if h.method != 0 && h.method != 8 {
			if h.flags&0x8 != 0 {
				return fmt.Errorf("%s: zip archive without central directory whose member %s is compressed with method %d, of unknown length: the members after it cannot be found", archive, h.name, h.method)
			}
			x.left = append(x.left, fmt.Sprintf("%s%s%s (compression method %d, not read)", archive, MemberSep, h.name, h.method))
			if _, err := io.CopyN(io.Discard, cr, int64(h.csize)); err != nil {
				return fmt.Errorf("%s: zip archive cut short inside its member %s", archive, h.name)
			}
			continue
		}
		out := filepath.Join(x.dir, strconv.Itoa(i))
		n, cut, err := copyZipMember(cr, h, out)
		if err != nil && err != errLost {
			return fmt.Errorf("%s: %w", archive, err)
		}
		if strings.HasSuffix(h.name, "/") && n == 0 && cut == "" {
			os.Remove(out) // a directory written with a data descriptor
			continue
		}
		if _, dup := x.files[h.name]; !dup {
			x.names = append(x.names, h.name)
		}
		x.files[h.name] = tarFile{path: out, mod: h.modified, cut: cut, short: err == errLost}
		if err == errLost {
			return fmt.Errorf("%s: zip archive cut short or damaged inside its member %s (%d bytes of it read; the members before it are read whole)", archive, h.name, n)
		}
	}
}

// readZipLocal reads a local header after its signature.
func readZipLocal(r io.Reader) (zipLocal, error) {
	var b [26]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return zipLocal{}, err
	}
	le := binary.LittleEndian
	h := zipLocal{flags: le.Uint16(b[2:]), method: le.Uint16(b[4:]), crc: le.Uint32(b[10:]),
		csize: uint64(le.Uint32(b[14:])), usize: uint64(le.Uint32(b[18:]))}
	h.modified = msDosTime(le.Uint16(b[8:]), le.Uint16(b[6:]))
	name := make([]byte, le.Uint16(b[22:]))
	extra := make([]byte, le.Uint16(b[24:]))
	if _, err := io.ReadFull(r, name); err != nil {
		return h, err
	}
	if _, err := io.ReadFull(r, extra); err != nil {
		return h, err
	}
	h.name = string(name)
	// Zip64: the sizes that do not fit are in extra field 1, in order.
	for len(extra) >= 4 {
		id, size := le.Uint16(extra), int(le.Uint16(extra[2:]))
		if size > len(extra)-4 {
			break
		}
		if id == 0x5455 && size >= 5 && extra[4]&1 != 0 { // extended timestamp: modified, UTC
			h.modified = time.Unix(int64(int32(le.Uint32(extra[5:]))), 0).UTC()
		}
		if id == 1 {
			h.zip64 = true
			field := extra[4 : 4+size]
			if h.usize == 0xFFFFFFFF && len(field) >= 8 {
				h.usize, field = le.Uint64(field), field[8:]
			}
			if h.csize == 0xFFFFFFFF && len(field) >= 8 {
				h.csize = le.Uint64(field)
			}
		}
		extra = extra[4+size:]
	}
	return h, nil
}

func msDosTime(date, clock uint16) time.Time {
	return time.Date(int(date>>9)+1980, time.Month(date>>5&0xf), int(date&0x1f),
		int(clock>>11), int(clock>>5&0x3f), int(clock&0x1f)*2, 0, time.UTC)
}

// errLost says that the archive cannot be read past a member: where the
// next member begins is lost with the damage.
var errLost = errors.New("the rest of the archive is lost")

// copyZipMember copies a member's content to out; cut says why the copy is
// shorter than the member or does not match its CRC-32, if it is so — a
// member whose content does not match is still followed by the next (its
// length was known); one that could not be read to its end is not
// (errLost). Another error leaves nothing of the member read.
func copyZipMember(cr *bufio.Reader, h zipLocal, out string) (n int64, cut string, err error) {
	w, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, "", err
	}
	defer func() {
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}()
	sum := crc32.NewIEEE()
	rw := &recordingWriter{w: w}
	dst := io.MultiWriter(rw, sum)
	descriptor := h.flags&0x8 != 0
	var rerr error
	switch {
	case h.method == 8 && descriptor:
		// Deflate ends itself, and reads no further from a ByteReader:
		// the length need not be known.
		fr := flate.NewReader(cr)
		n, rerr = io.Copy(dst, fr)
		fr.Close()
	case h.method == 8:
		lr := &io.LimitedReader{R: cr, N: int64(h.csize)}
		fr := flate.NewReader(bufio.NewReader(lr))
		n, rerr = io.Copy(dst, fr)
		fr.Close()
		if rerr == nil {
			_, rerr = io.Copy(io.Discard, lr)
		}
	case h.method == 0 && !descriptor:
		n, rerr = io.CopyN(dst, cr, int64(h.csize))
	case h.method == 0:
		// Stored, length only in the descriptor after it: the content runs
		// to the first descriptor whose CRC-32 and length match it.
		n, rerr = copyToDescriptor(cr, dst, sum)
		descriptor = false // read with the content, and matched
		h.crc, h.usize = sum.Sum32(), uint64(n)
	default:
		return 0, "", fmt.Errorf("zip member %s: compression method %d", h.name, h.method) // stepped over by the caller
	}
	if rw.err != nil {
		return n, "", fmt.Errorf("copying member %s out to read it: %w", h.name, rw.err)
	}
	if rerr != nil {
		return n, fmt.Sprintf("the archive is damaged or cut short inside this member: %d bytes of it read (%v)", n, rerr), errLost
	}
	if descriptor {
		crc, size, err := readZipDescriptor(cr, h.zip64)
		if err != nil {
			return n, fmt.Sprintf("the archive is cut short after this member's content, in its data descriptor: its %d bytes read but not checked", n), nil
		}
		h.crc, h.usize = crc, size
	}
	if sum.Sum32() != h.crc || uint64(n) != h.usize {
		return n, fmt.Sprintf("this member's content does not match its header (CRC-32 %08x, %d bytes; the header says %08x, %d bytes): damaged", sum.Sum32(), n, h.crc, h.usize), nil
	}
	return n, "", nil
}

// readZipDescriptor reads a data descriptor (its signature is optional).
func readZipDescriptor(cr *bufio.Reader, zip64 bool) (crc uint32, size uint64, err error) {
	var b [24]byte
	if _, err := io.ReadFull(cr, b[:4]); err != nil {
		return 0, 0, err
	}
	le := binary.LittleEndian
	if le.Uint32(b[:]) == zipDescriptorSig {
		if _, err := io.ReadFull(cr, b[:4]); err != nil {
			return 0, 0, err
		}
	}
	crc = le.Uint32(b[:])
	width := 4
	if zip64 {
		width = 8
	}
	if _, err := io.ReadFull(cr, b[:2*width]); err != nil {
		return 0, 0, err
	}
	if zip64 {
		return crc, le.Uint64(b[8:]), nil
	}
	return crc, uint64(le.Uint32(b[4:])), nil
}

// copyToDescriptor copies a stored member of unknown length: up to the
// first data descriptor (signed) whose CRC-32 and size are those of what
// precedes it, which it reads too.
func copyToDescriptor(br *bufio.Reader, dst io.Writer, sum hash.Hash32) (int64, error) {
	sig := []byte("PK\x07\x08")
	var n int64
	for {
		peek, err := br.Peek(br.Size())
		if len(peek) < 16 && err != nil {
			dst.Write(peek)
			br.Discard(len(peek))
			return n + int64(len(peek)), io.ErrUnexpectedEOF
		}
		i := bytes.Index(peek, sig)
		if i < 0 || i+16 > len(peek) {
			// Keep the last 15 bytes: a descriptor may straddle the window.
			k := len(peek) - 15
			if i >= 0 && i < k {
				k = i
			}
			if k <= 0 {
				k = 1
			}
			dst.Write(peek[:k])
			br.Discard(k)
			n += int64(k)
			continue
		}
		dst.Write(peek[:i])
		n += int64(i)
		br.Discard(i)
		d, _ := br.Peek(16)
		le := binary.LittleEndian
		if le.Uint32(d[4:]) == sum.Sum32() && uint64(le.Uint32(d[8:])) == uint64(n) && uint64(le.Uint32(d[12:])) == uint64(n) {
			br.Discard(16)
			return n, nil
		}
		dst.Write(d[:1]) // "PK\x07\x08" inside the content
		br.Discard(1)
		n++
	}
}

// cutZipMembers lists the members of a zip archive without a readable
// central directory, read from their own headers, and the archive itself,
// whose opening says what the damage is.
func cutZipMembers(archive string) (members, skipped []string) {
	x := extractCutZip(archive)
	for _, name := range x.names {
		if name == "[Content_Types].xml" || name == "mimetype" {
			return nil, []string{archive + " (an Office document)"}
		}
	}
	members, skipped = x.list(archive)
	unlistable.Store(archive, x.err) // never nil: reading stops only at the damage
	return append(members, archive), skipped
}
