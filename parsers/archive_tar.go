package parsers

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/exfiltrace/exfiltrace/internal/scratch"
)

// openDecompressed reads the file at p decompressed, whatever compression
// its first bytes name (kind, empty when none); closeAll closes what it
// opened.
func openDecompressed(p string) (r io.Reader, kind string, closeAll func(), err error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, "", nil, err
	}
	var magic [6]byte
	n, _ := f.ReadAt(magic[:], 0)
	r = bufio.NewReaderSize(f, 1<<16)
	kind = compression(magic[:n])
	if kind == "" {
		return r, "", func() { f.Close() }, nil
	}
	zr, err := decompress(kind, r)
	if err != nil {
		f.Close()
		return nil, kind, nil, fmt.Errorf("%s: %s: %w", p, kind, err)
	}
	return namedErrors{zr, kind}, kind, func() { zr.Close(); f.Close() }, nil
}

// tarExtract is a tar archive's regular files (or the members of a zip
// archive cut short, archive_zipcut.go), copied out once (by the first
// caller) to a temporary directory, with the first error met.
type tarExtract struct {
	once  sync.Once
	dir   string
	files map[string]tarFile
	names []string // in the archive's order
	left  []string // links, devices: not evidence
	err   error
}

type tarFile struct {
	path  string // "" for a member listed but not read: cut says why
	mod   time.Time
	cut   string // why the copy is shorter than the member, if it is
	short bool   // the copy ends where the damage cut it
}

var tarExtracts sync.Map // archive path → *tarExtract

func extractTar(archive string) *tarExtract {
	return extractOnce(&tarExtracts, archive, (*tarExtract).extract)
}

// extractOnce copies out an archive's members the first time one asks.
func extractOnce(m *sync.Map, archive string, extract func(*tarExtract, string) error) *tarExtract {
	v, _ := m.LoadOrStore(archive, &tarExtract{})
	x := v.(*tarExtract)
	x.once.Do(func() { x.err = extract(x, archive) })
	return x
}

func (x *tarExtract) extract(archive string) error {
	r, _, closeAll, err := openDecompressed(diskPath(archive))
	if err != nil {
		return err
	}
	defer closeAll()
	if x.dir, err = scratch.Dir("tar"); err != nil {
		return err
	}
	x.files = map[string]tarFile{}
	tr := tar.NewReader(r)
	for i := 0; ; i++ {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: tar archive unreadable after %d members (damaged or cut short): %w", archive, len(x.names), err)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			if h.Typeflag != tar.TypeDir {
				x.left = append(x.left, archive+MemberSep+h.Name+" (not a regular file)")
			}
			continue
		}
		out := filepath.Join(x.dir, strconv.Itoa(i))
		w, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		rw := &recordingWriter{w: w}
		n, err := io.Copy(rw, tr)
		if cerr := w.Close(); rw.err == nil {
			rw.err = cerr
		}
		if rw.err != nil {
			return fmt.Errorf("%s: copying member %s out to read it: %w", archive, h.Name, rw.err)
		}
		tf := tarFile{path: out, mod: h.ModTime}
		if err != nil {
			// What was read of it is kept: its lines, or its EVTX records,
			// up to the damage are still evidence; the reader says the rest.
			tf.cut, tf.short = fmt.Sprintf("the archive is damaged or cut short inside this member: %d of its %d bytes read (%v)", n, h.Size, err), true
		}
		if _, dup := x.files[h.Name]; !dup {
			x.names = append(x.names, h.Name)
		}
		x.files[h.Name] = tf // a later copy of a name replaces the earlier, as tar does
		if err != nil {
			return fmt.Errorf("%s: tar archive unreadable from member %s on (damaged or cut short): %w", archive, h.Name, err)
		}
	}
}

// recordingWriter remembers its first write error: a full disk under the
// copy of a member is said as such, not taken for damage in the archive.
type recordingWriter struct {
	w   io.Writer
	err error
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.w.Write(p)
	r.err = err
	return n, err
}

// tarMembers lists a tar archive's evidence members, and those left out.
// An archive damaged midway gives the members before the damage, and
// itself, whose opening says what the damage is.
func tarMembers(archive string) (members, skipped []string, err error) {
	x := extractTar(archive)
	members, skipped = x.list(archive)
	if x.err != nil {
		unlistable.Store(archive, x.err) // opening the archive itself says what the damage is
		members = append(members, archive)
	}
	return members, skipped, nil
}

// list names the copied members as evidence paths, in name order, and those
// left out.
func (x *tarExtract) list(archive string) (members, skipped []string) {
	for _, name := range x.names {
		if leftOut(name) {
			skipped = append(skipped, archive+MemberSep+name)
		} else {
			members = append(members, archive+MemberSep+name)
		}
	}
	sort.Strings(members)
	return members, append(skipped, x.left...)
}

// openTarMember opens a tar member's copy as evidence.
func openTarMember(archive, member, p string) (*Input, error) {
	return extractTar(archive).open(archive, member, p)
}

// open opens a copied member as evidence.
func (x *tarExtract) open(archive, member, p string) (*Input, error) {
	tf, ok := x.files[member]
	if !ok {
		if x.err != nil {
			return nil, x.err
		}
		return nil, fmt.Errorf("%s: no member %q in the archive", archive, member)
	}
	if tf.path == "" { // listed but not read (encrypted, or after damage in its block)
		return nil, fmt.Errorf("%s: %s", p, tf.cut)
	}
	container := outermost(archive)
	sum, err := archiveSHA256(container)
	if err != nil {
		return nil, err
	}
	in, err := openFile(tf.path, p)
	if err != nil {
		return nil, err
	}
	if in.Size == 0 && tf.cut != "" {
		in.Close() // nothing of it was read: the damage is all there is to say
		return nil, fmt.Errorf("%s: %s", p, tf.cut)
	}
	in.ModTime, in.Archive, in.ArchiveSHA256, in.Damage, in.cutShort = tf.mod, container, sum, tf.cut, tf.short
	return in, nil
}

// ReleaseArchives removes the copies of tar members made while reading
// them, and forgets the archives read: the caller that read evidence (an
// ingest) calls it when done.
func ReleaseArchives() {
	closeIdleZips()
	archiveKinds.Clear()
	for _, m := range []*sync.Map{&tarExtracts, &zipCutExtracts, &sevenZipExtracts} {
		m.Range(func(k, v any) bool {
			if x := v.(*tarExtract); x.dir != "" {
				os.RemoveAll(x.dir)
			}
			m.Delete(k)
			return true
		})
	}
	unlistable.Clear()
	volumes.Clear()
	releaseNested()
}
