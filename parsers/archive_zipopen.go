package parsers

import (
	"archive/zip"
	"os"
	"sync"
	"time"
)

// A zip archive's directory is read once while its members are read, not
// once a member: opening it for each member read the whole directory every
// time, quadratic in members (a Velociraptor or KAPE collection holds tens
// of thousands). Members of one opened zip read concurrently (each File's
// reader is a section of the file).

// openZip is a zip archive opened for reading its members.
type openZip struct {
	zr     *zip.ReadCloser
	byName map[string]*zip.File // the first member of each name
	users  int
	path   string
	size   int64
	mod    time.Time
}

// idleZips is how many archives no member is read from stay open for the
// next member: a directory of many zip files must not use up descriptors.
const idleZips = 8

var zipsOpen = struct {
	sync.Mutex
	byPath map[string]*openZip
	idle   []*openZip // least recently released first
}{byPath: map[string]*openZip{}}

// acquireZip opens the zip archive at path (a file on disk), or shares the
// one already open; release gives it back.
func acquireZip(path string) (*openZip, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	zipsOpen.Lock()
	defer zipsOpen.Unlock()
	if z := zipsOpen.byPath[path]; z != nil {
		if z.size == st.Size() && z.mod.Equal(st.ModTime()) {
			if z.users == 0 {
				zipsOpen.idle = deleteZip(zipsOpen.idle, z)
			}
			z.users++
			return z, nil
		}
		// Written again since (a long-lived process, a test): read anew.
		delete(zipsOpen.byPath, path)
		if z.users == 0 {
			zipsOpen.idle = deleteZip(zipsOpen.idle, z)
			z.zr.Close()
		}
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, err
	}
	z := &openZip{zr: zr, byName: make(map[string]*zip.File, len(zr.File)), users: 1, path: path, size: st.Size(), mod: st.ModTime()}
	for _, f := range zr.File {
		if _, dup := z.byName[f.Name]; !dup {
			z.byName[f.Name] = f
		}
	}
	zipsOpen.byPath[path] = z
	return z, nil
}

// release gives an archive back; the least recently used of those idle
// past idleZips is closed.
func (z *openZip) release() error {
	zipsOpen.Lock()
	defer zipsOpen.Unlock()
	if z.users--; z.users > 0 {
		return nil
	}
	if zipsOpen.byPath[z.path] != z { // replaced by a newer version of the file
		return z.zr.Close()
	}
	zipsOpen.idle = append(zipsOpen.idle, z)
	if len(zipsOpen.idle) <= idleZips {
		return nil
	}
	old := zipsOpen.idle[0]
	zipsOpen.idle = zipsOpen.idle[1:]
	if zipsOpen.byPath[old.path] == old {
		delete(zipsOpen.byPath, old.path)
	}
	return old.zr.Close()
}

// Close lets an Input hold the archive as its io.Closer.
func (z *openZip) Close() error { return z.release() }

func deleteZip(list []*openZip, z *openZip) []*openZip {
	for i, x := range list {
		if x == z {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// closeIdleZips closes the archives no member is read from (the end of an
// ingest: ReleaseArchives), before their copies are removed.
func closeIdleZips() {
	zipsOpen.Lock()
	defer zipsOpen.Unlock()
	for _, z := range zipsOpen.idle {
		if zipsOpen.byPath[z.path] == z {
			delete(zipsOpen.byPath, z.path)
		}
		z.zr.Close()
	}
	zipsOpen.idle = nil
}
