package parsers

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/exfiltrace/exfiltrace/internal/scratch"
)

// Archives inside archives: DFIR ORC writes each of its collections as a
// 7-Zip archive inside its outer one (…_General.7z!/Event.7z!/Security.evtx),
// and evidence is often zipped again to be sent. A member that is itself
// an archive is read as one, its members named through both
// (OUTER!/INNER!/MEMBER), down to maxNesting archives deep; deeper, it is
// named as an archive to extract. The inner archive is read from its copy
// (made to read the outer one, or for a zip's member, made here), which
// is what archive functions open for its evidence path (diskPath).

const maxNesting = 4

var (
	nested      sync.Map // evidence path of an archive inside an archive → its copy on disk
	nestedMu    sync.Mutex
	nestedDir   string // where zip members that may be archives are copied
	nestedCount int
	zipCopies   sync.Map // evidence path of a zip member → its copy ("" when not copied)
)

// diskPath is the file that holds the archive named p: p itself, or the
// copy of an archive inside another.
func diskPath(p string) string {
	if v, ok := nested.Load(p); ok {
		return v.(string)
	}
	return p
}

// outermost is the file an archive was handed over in: the archive
// itself, or the outer archive holding it (the first named in its path).
// Its SHA-256 is what the manifest keeps beside every member read from it.
func outermost(archive string) string {
	if _, ok := nested.Load(archive); !ok {
		return archive
	}
	for i := strings.Index(archive, MemberSep); i >= 0; {
		if st, err := os.Stat(archive[:i]); err == nil && st.Mode().IsRegular() {
			return archive[:i]
		}
		j := strings.Index(archive[i+1:], MemberSep)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return archive
}

// listArchive lists an archive's members, each archive among them
// replaced by its own members.
func listArchive(archive, kind string) (members, skipped []string) {
	members, skipped = archiveMembersOrSelf(archive, kind)
	return expandNested(archive, kind, members, skipped, 1)
}

func expandNested(archive, kind string, members, skipped []string, depth int) (out, left []string) {
	left = skipped
	var inPlace map[string]*zip.File // a zip read in place: opened once, not once a member
	if _, cut := zipCutExtracts.Load(archive); kind == "zip" && !cut {
		if z, err := acquireZip(diskPath(archive)); err == nil {
			defer z.release()
			inPlace = z.byName // the first of a name, as openMember reads
		}
	}
	for _, m := range members {
		if m == archive || depth >= maxNesting {
			out = append(out, m)
			continue
		}
		copyPath, err := memberCopy(archive, kind, strings.TrimPrefix(m, archive+MemberSep), inPlace)
		inner := ""
		if err == nil && copyPath != "" {
			inner = archiveOf(copyPath)
		}
		if err != nil || inner == "" {
			out = append(out, m) // read as a log (or its error said when opened)
			continue
		}
		nested.Store(m, copyPath)
		ms, ls := archiveMembersOrSelf(m, inner)
		ms, ls = expandNested(m, inner, ms, ls, depth+1)
		out, left = append(out, ms...), append(left, ls...)
	}
	return out, left
}

// memberCopy is the file holding a member's content: the copy a tar, a
// 7-Zip archive or a cut zip made of it, or, for a zip read in place and a
// member starting like an archive, a copy made now; "" when there is none
// (a member not read, or not an archive).
func memberCopy(archive, kind, member string, inPlace map[string]*zip.File) (string, error) {
	var x *tarExtract
	switch kind {
	case "tar":
		x = extractTar(archive)
	case "7z":
		x = extractSevenZip(archive)
	case "zip":
		if v, ok := zipCutExtracts.Load(archive); ok {
			x = v.(*tarExtract)
		} else {
			return copyZipMemberOut(archive, member, inPlace[member])
		}
	}
	if x == nil {
		return "", nil
	}
	return x.files[member].path, nil
}

// copyZipMemberOut copies out a zip member whose first bytes are those of
// an archive (zip, 7-Zip, tar, or compressed: perhaps a tar), once.
func copyZipMemberOut(archive, member string, f *zip.File) (string, error) {
	key := archive + MemberSep + member
	if v, ok := zipCopies.Load(key); ok {
		return v.(string), nil
	}
	if f == nil {
		return "", nil
	}
	out, err := copyZipMemberIfArchive(f, key)
	if err == nil {
		zipCopies.Store(key, out)
	}
	return out, err
}

func copyZipMemberIfArchive(f *zip.File, key string) (string, error) {
	if f.Flags&0x1 != 0 || f.Method == 99 {
		return "", nil // encrypted: opening it says so
	}
	rc, err := f.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	head := make([]byte, 262)
	n, _ := io.ReadFull(rc, head)
	head = head[:n]
	// A zip, a 7-Zip archive, a tar, or compressed content that may
	// be a tar (archiveOf decides on the copy).
	if !bytes.HasPrefix(head, zipMagic) && !bytes.HasPrefix(head, sevenZipMagic) && compression(head) == "" &&
		!(n == 262 && string(head[257:]) == "ustar") {
		return "", nil
	}
	nestedMu.Lock()
	if nestedDir == "" {
		if nestedDir, err = scratch.Dir("nested"); err != nil {
			nestedMu.Unlock()
			return "", err
		}
	}
	nestedCount++
	out := filepath.Join(nestedDir, strconv.Itoa(nestedCount))
	nestedMu.Unlock()
	w, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(w, io.MultiReader(bytes.NewReader(head), rc))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return "", fmt.Errorf("%s: copying the archive inside it out to read it: %w", key, err)
	}
	return out, nil
}

// releaseNested removes the copies made of zip members that are archives.
func releaseNested() {
	nestedMu.Lock()
	defer nestedMu.Unlock()
	if nestedDir != "" {
		os.RemoveAll(nestedDir)
	}
	nestedDir, nestedCount = "", 0
	nested.Clear()
	zipCopies.Clear()
}
