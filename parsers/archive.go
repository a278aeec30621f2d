package parsers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Evidence often arrives as an archive: a Velociraptor or KAPE collection
// (zip), an IT provider's export, a server's /var/log (tar.gz). Each member
// is evidence of its own, named ARCHIVE!/MEMBER: hashed (SHA-256 of its
// content, so the same log ingested bare or archived is the same
// evidence), its archive's own SHA-256 recorded beside it. A zip's members
// are read in place; a tar's, which can only be read one after another,
// are copied out once to a temporary directory (archive_tar.go).

// MemberSep separates an archive's path from a member's name in an
// evidence path.
const MemberSep = "!/"

var zipMagic = []byte("PK\x03\x04")

// archiveOf names the archive the file at p is: "zip", "7z", "tar" (bare
// or compressed: "ustar" at byte 257 of its decompressed start), or "".
func archiveOf(p string) string {
	// Asked again for every member's path: remembered while the file is
	// unchanged (20,000 members opened their archive 20,000 times).
	st, err := os.Stat(p)
	if err != nil {
		return ""
	}
	key := archiveKey{p, st.Size(), st.ModTime().UnixNano()}
	if k, ok := archiveKinds.Load(key); ok {
		return k.(string)
	}
	k := readArchiveKind(p)
	archiveKinds.Store(key, k)
	return k
}

// archiveKinds remembers what archiveOf found, by path, size and time.
var archiveKinds sync.Map

type archiveKey struct {
	path      string
	size, mod int64
}

func readArchiveKind(p string) string {
	r, kind, closeAll, err := openDecompressed(p)
	if err != nil {
		return ""
	}
	defer closeAll()
	var head [262]byte
	n, _ := io.ReadFull(r, head[:])
	switch {
	case kind == "" && bytes.HasPrefix(head[:n], zipMagic):
		return "zip"
	case kind == "" && bytes.HasPrefix(head[:n], sevenZipMagic):
		return "7z"
	case n == len(head) && bytes.Equal(head[257:262], []byte("ustar")):
		return "tar"
	}
	return ""
}

// unlistable holds the error of each archive whose members could not be
// listed (Expand then lists the archive itself): opening it says why.
var unlistable sync.Map

// zipMembers lists an archive's evidence members as evidence paths, and
// those left out (directories aside): documentation, hidden files, macOS
// resource forks.
func zipMembers(archive string) (members, skipped []string, err error) {
	z, err := acquireZip(diskPath(archive)) // kept open for its members' reads
	if err != nil {
		// Cut short or damaged at its end: its members are read from
		// their own headers (archive_zipcut.go).
		members, skipped := cutZipMembers(archive)
		return members, skipped, nil
	}
	defer z.release()
	zr := z.zr
	for _, f := range zr.File {
		// Office documents are zip archives too (a report beside the
		// evidence): not logs.
		if f.Name == "[Content_Types].xml" || f.Name == "mimetype" {
			return nil, []string{archive + " (an Office document)"}, nil
		}
	}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		p := archive + MemberSep + f.Name
		if leftOut(f.Name) {
			skipped = append(skipped, p)
			continue
		}
		members = append(members, p)
	}
	sort.Strings(members)
	return members, skipped, nil
}

// archiveMembersOrSelf lists an archive's members, or the archive itself
// when they cannot be listed: one damaged archive is that file's error,
// not the end of an ingest of many files.
func archiveMembersOrSelf(archive, kind string) (members, skipped []string) {
	list := zipMembers
	switch kind {
	case "tar":
		list = tarMembers
	case "7z":
		list = sevenZipMembers
	}
	members, skipped, err := list(archive)
	if err == nil && len(members) == 0 && len(skipped) == 0 {
		err = fmt.Errorf("%s: a %s archive without any file", archive, kind)
	}
	if err != nil {
		unlistable.Store(archive, fmt.Errorf("%w (damaged or cut short: its members cannot be listed)", err))
		return []string{archive}, nil
	}
	return members, skipped
}

// leftOut reports an archive member that is not evidence.
func leftOut(name string) bool {
	base := path.Base(name)
	return base[0] == '.' || isDocFile(base) || strings.HasPrefix(name, "__MACOSX/")
}

// splitMember splits an evidence path naming an archive member at the
// archive holding it — the innermost, for an archive inside an archive —
// and says which kind of archive that is.
func splitMember(p string) (archive, member, kind string) {
	for i := strings.Index(p, MemberSep); i >= 0; {
		prefix := p[:i]
		if _, inner := nested.Load(prefix); inner {
			if k := archiveOf(diskPath(prefix)); k != "" {
				archive, member, kind = prefix, p[i+len(MemberSep):], k
			}
		} else if st, err := os.Stat(prefix); err == nil && st.Mode().IsRegular() {
			if k := archiveOf(prefix); k != "" {
				archive, member, kind = prefix, p[i+len(MemberSep):], k
			}
		}
		j := strings.Index(p[i+1:], MemberSep)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return archive, member, kind
}

// openMember opens an archive member as evidence.
func openMember(archive, member, p string) (*Input, error) {
	z, err := acquireZip(diskPath(archive))
	if err != nil {
		return extractCutZip(archive).open(archive, member, p)
	}
	in, err := openZipMember(z, archive, member, p)
	if err != nil {
		z.release()
		return nil, err
	}
	return in, nil
}

func openZipMember(z *openZip, archive, member, p string) (*Input, error) {
	zf := z.byName[member]
	if zf == nil {
		return nil, fmt.Errorf("%s: no member %q in the archive", archive, member)
	}
	if zf.Flags&0x1 != 0 || zf.Method == 99 { // ZipCrypto, or WinZip's AES
		return nil, fmt.Errorf("%s: the member is encrypted (a password-protected archive): extract it with its password (7z x, unzip) and ingest the directory", p)
	}
	// Reading it whole also checks its CRC-32: a damaged member is said
	// so here, not parsed in part.
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	h := sha256.New()
	n, err := io.Copy(h, rc)
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: reading for hash: %w", p, err)
	}
	container := outermost(archive)
	archiveSum, err := archiveSHA256(container)
	if err != nil {
		return nil, err
	}
	in := &Input{Path: p, Size: n, ModTime: zf.Modified, SHA256: hex.EncodeToString(h.Sum(nil)),
		Archive: container, ArchiveSHA256: archiveSum, member: zf, archive: z}
	if r, err := zf.Open(); err == nil {
		var magic [6]byte
		k, _ := io.ReadFull(r, magic[:])
		r.Close()
		in.Compression = compression(magic[:k])
	}
	return in, nil
}

// archiveSums remembers archives' SHA-256, by path, size and time: each of
// an archive's members names it, and hashing it once is enough.
var archiveSums sync.Map

func archiveSHA256(archive string) (string, error) {
	f, err := os.Open(diskPath(archive))
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	key := fmt.Sprintf("%s\x00%d\x00%d", archive, st.Size(), st.ModTime().UnixNano())
	if v, ok := archiveSums.Load(key); ok {
		return v.(string), nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: reading for hash: %w", archive, err)
	}
	// A multi-volume archive is its volumes end to end (cat NAME.7z.* | sha256sum).
	for _, v := range laterVolumes(archive) {
		if err := hashFile(h, v); err != nil {
			return "", fmt.Errorf("%s: reading for hash: %w", v, err)
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	archiveSums.Store(key, sum)
	return sum, nil
}

// envelopedDataOID is the DER encoding of CMS's id-envelopedData,
// 1.2.840.113549.1.7.3 (RFC 5652 §6), which follows a ContentInfo's opening
// SEQUENCE.
var envelopedDataOID = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03}

// isEnvelopedData recognises a DER or BER ContentInfo holding enveloped
// data: a SEQUENCE (definite length of up to 4 bytes, or indefinite) whose
// first element is that OID.
func isEnvelopedData(head []byte) bool {
	if len(head) < 2 || head[0] != 0x30 {
		return false
	}
	i := 2
	switch l := head[1]; {
	case l == 0x80: // indefinite (BER, as streaming encoders write)
	case l > 0x80 && l <= 0x84:
		i += int(l & 0x7f)
	case l < 0x80:
	default:
		return false
	}
	return len(head) >= i+len(envelopedDataOID) && bytes.Equal(head[i:i+len(envelopedDataOID)], envelopedDataOID)
}

func hashFile(h io.Writer, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(h, f)
	return err
}

// archiveKind says what an archive (or an encrypted envelope) read as a
// log is and what to do: an archive is read as one when given, found in a
// directory, or inside another archive down to maxNesting deep; deeper, or
// in a format not read (RAR), it is named.
func archiveKind(head []byte) string {
	switch {
	case bytes.HasPrefix(head, zipMagic):
		return "a zip archive inside archives nested deeper than exfiltrace reads (" + strconv.Itoa(maxNesting) + "), not a log: extract it and ingest the directory"
	case bytes.HasPrefix(head, sevenZipMagic):
		return "a 7-Zip archive inside archives nested deeper than exfiltrace reads (" + strconv.Itoa(maxNesting) + "), not a log: extract it (7z x) and ingest the directory"
	case isEnvelopedData(head):
		return "an encrypted envelope (CMS enveloped data, as DFIR ORC writes its archives for a recipient's key), not a log: decrypt it with the recipient's private key (DFIR ORC's UnStream, or openssl cms -decrypt -inform DER -inkey KEY) and ingest what it holds"
	case bytes.HasPrefix(head, []byte("Rar!\x1a\x07")):
		return "a RAR archive, not a log: extract it and ingest the directory"
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return "a tar archive, not a log: extract it (tar xf) and ingest the directory"
	}
	return ""
}
