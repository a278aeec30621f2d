package parsers

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/bodgit/sevenzip"

	"github.com/exfiltrace/exfiltrace/internal/scratch"
)

// 7-Zip archives are how DFIR ORC, ANSSI's collection tool, and many IT
// providers hand over a server's logs. Their members are compressed
// together in blocks that can only be decompressed from their start, so
// they are copied out once, in the archive's order, as a tar's are
// (archive_tar.go). Each member's CRC-32 is checked; a damaged block
// loses what follows the damage in it, and says so, while the other blocks
// are still read.

var sevenZipMagic = []byte("7z\xbc\xaf\x27\x1c")

const encryptedMember = "the member is encrypted (a password-protected archive): extract it with its password (7z x) and ingest the directory"

var sevenZipExtracts sync.Map // archive path → *tarExtract

// volumes maps the later volumes of a multi-volume archive (NAME.7z.002…),
// read with its first (NAME.7z.001), to that first volume: they are not
// evidence of their own.
var volumes sync.Map

// laterVolumes lists the volumes read with a multi-volume archive's first, in order.
func laterVolumes(first string) []string {
	var out []string
	volumes.Range(func(k, v any) bool {
		if v.(string) == first {
			out = append(out, k.(string))
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { // NAME.7z.002 … .999, .1000: by number
		if len(out[i]) != len(out[j]) {
			return len(out[i]) < len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

// volumeOf names the multi-volume archive the file at p is a later volume of.
func volumeOf(p string) (string, bool) {
	v, ok := volumes.Load(filepath.Clean(p))
	if !ok {
		return "", false
	}
	return v.(string), true
}

func extractSevenZip(archive string) *tarExtract {
	return extractOnce(&sevenZipExtracts, archive, (*tarExtract).extractSevenZip)
}

func (x *tarExtract) extractSevenZip(archive string) error {
	zr, err := sevenzip.OpenReader(diskPath(archive))
	if err != nil {
		var re *sevenzip.ReadError
		if errors.As(err, &re) && re.Encrypted {
			return fmt.Errorf("%s: 7-Zip archive whose list of files is encrypted (password-protected): extract it with its password (7z x) and ingest the directory", archive)
		}
		return fmt.Errorf("%s: 7-Zip archive unreadable (damaged, or cut short: its list of files is at its end): %w", archive, err)
	}
	defer zr.Close()
	if vols := zr.Volumes(); len(vols) > 1 {
		for _, v := range vols[1:] {
			volumes.Store(filepath.Clean(v), archive)
		}
	}
	if x.dir, err = scratch.Dir("7z"); err != nil {
		return err
	}
	x.files = map[string]tarFile{}
	broken := map[int]string{} // block → why the members after it in the block are not read
	damaged := 0
	unread := func(name, why string) {
		if _, dup := x.files[name]; !dup {
			x.names = append(x.names, name)
		}
		x.files[name] = tarFile{cut: why} // listed, and opening it says why it was not read
	}
	for i, f := range zr.File {
		name := strings.ReplaceAll(f.Name, `\`, "/") // Windows writers' separators
		mode := f.FileInfo().Mode()
		if mode.IsDir() {
			continue
		}
		if !mode.IsRegular() {
			x.left = append(x.left, archive+MemberSep+name+" (not a regular file)")
			continue
		}
		if why, ok := broken[f.Stream]; ok {
			unread(name, why)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			var re *sevenzip.ReadError
			why := fmt.Sprintf("not read: %v", err)
			if errors.As(err, &re) && re.Encrypted {
				why = encryptedMember
			}
			unread(name, why)
			broken[f.Stream] = why // every member of the block needs the same
			continue
		}
		out := filepath.Join(x.dir, strconv.Itoa(i))
		n, cut, err := copySevenZipMember(f, rc, out)
		rc.Close()
		var re *sevenzip.ReadError
		if errors.As(err, &re) && re.Encrypted {
			// Without its password an encrypted block reads as damage.
			os.Remove(out)
			unread(name, encryptedMember)
			broken[f.Stream] = encryptedMember
			continue
		}
		if err != nil && !errors.Is(err, errLost) {
			return fmt.Errorf("%s: %w", archive, err)
		}
		if errors.Is(err, errLost) {
			broken[f.Stream] = fmt.Sprintf("not read: the compressed block holding it is damaged before it, inside member %s after %d bytes", name, n)
			damaged++
		}
		if _, dup := x.files[name]; !dup {
			x.names = append(x.names, name)
		}
		x.files[name] = tarFile{path: out, mod: f.Modified, cut: cut, short: errors.Is(err, errLost)}
	}
	if damaged > 0 {
		return fmt.Errorf("%s: 7-Zip archive damaged: %d of its compressed blocks could not be read to their end (what precedes the damage is read)", archive, damaged)
	}
	return nil
}

// copySevenZipMember copies member f to out and says why the copy is
// shorter than the member or does not match its CRC-32, if it is so; the
// error is errLost when the damage cut it (the block's decompression
// failed), a write error when the copy itself failed.
func copySevenZipMember(f *sevenzip.File, rc io.Reader, out string) (n int64, cut string, err error) {
	w, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, "", err
	}
	sum := crc32.NewIEEE()
	rw := &recordingWriter{w: io.MultiWriter(w, sum)}
	n, err = io.Copy(rw, rc)
	if cerr := w.Close(); rw.err == nil {
		rw.err = cerr
	}
	if rw.err != nil {
		return n, "", fmt.Errorf("copying member %s out to read it: %w", f.Name, rw.err)
	}
	var re *sevenzip.ReadError
	if errors.As(err, &re) && re.Encrypted {
		return n, "", err
	}
	if err != nil || uint64(n) < f.UncompressedSize {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return n, fmt.Sprintf("the archive is damaged or cut short inside this member: %d of its %d bytes read (%v)", n, f.UncompressedSize, err), errLost
	}
	// A member without a CRC-32 records 0 (7-Zip writes one for every file).
	if f.CRC32 != 0 && sum.Sum32() != f.CRC32 {
		return n, fmt.Sprintf("this member's content does not match its CRC-32 (%08x; the archive says %08x): damaged", sum.Sum32(), f.CRC32), nil
	}
	return n, "", nil
}

// sevenZipMembers lists a 7-Zip archive's evidence members, and those left
// out; an archive damaged midway gives what was read before the damage,
// and itself, whose opening says what the damage is.
func sevenZipMembers(archive string) (members, skipped []string, err error) {
	x := extractSevenZip(archive)
	members, skipped = x.list(archive)
	if x.err != nil {
		unlistable.Store(archive, x.err)
		members = append(members, archive)
	}
	return members, skipped, nil
}

// openSevenZipMember opens a 7-Zip member's copy as evidence.
func openSevenZipMember(archive, member, p string) (*Input, error) {
	return extractSevenZip(archive).open(archive, member, p)
}
