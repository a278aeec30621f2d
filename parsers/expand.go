package parsers

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// CaseConfigName is the case configuration file an evidence directory may
// carry; ingest copies it into the case rather than parsing it.
const CaseConfigName = "exfiltrace.yaml"

// Expand walks directories and returns evidence files in a stable order,
// and the files it left out (documentation, case configuration) so the
// caller can say so.
func Expand(paths []string) ([]string, []string, error) {
	var out, skipped []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, nil, err
		}
		if !st.IsDir() {
			if kind := archiveOf(p); kind != "" {
				members, left := listArchive(p, kind)
				out, skipped = append(out, members...), append(skipped, left...)
				continue
			}
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if path == p {
					return err
				}
				// One unreadable directory is that directory's error, not
				// the end of the ingest: said when it is opened.
				unlistable.Store(path, fmt.Errorf("%s: cannot be read: %w", path, err))
				found = append(found, path)
				if d != nil && d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			name := d.Name()
			if d.Type()&fs.ModeSymlink != 0 {
				// Links are read as their target, but a link to a
				// directory is not followed (it may lead back up).
				target, _ := os.Readlink(path)
				switch st, err := os.Stat(path); {
				case err != nil:
					unlistable.Store(path, fmt.Errorf("%s: a symbolic link to %s, which cannot be read: %w", path, target, err))
				case st.IsDir():
					skipped = append(skipped, path+" (a link to the directory "+target+", not followed: give that directory to read it)")
					return nil
				}
			}
			if d.IsDir() {
				if path != p && name[0] == '.' {
					skipped = append(skipped, path+"/ (hidden directory)")
					return filepath.SkipDir
				}
				return nil
			}
			if name[0] == '.' || isDocFile(name) {
				skipped = append(skipped, path)
				return nil
			}
			found = append(found, path)
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		sort.Strings(found)
		for i := 0; i < len(found); i++ {
			kind := archiveOf(found[i])
			if kind == "" {
				continue
			}
			members, left := listArchive(found[i], kind)
			skipped = append(skipped, left...)
			found = append(found[:i], append(members, found[i+1:]...)...)
			i += len(members) - 1
		}
		out = append(out, found...)
	}
	// A multi-volume 7-Zip archive's later volumes were read with its first.
	kept := out[:0]
	for _, p := range out {
		if first, ok := volumeOf(p); ok {
			skipped = append(skipped, p+" (a volume of "+first+", read with it)")
			continue
		}
		kept = append(kept, p)
	}
	return kept, skipped, nil
}

// isDocFile recognises documentation and configuration beside evidence.
func isDocFile(name string) bool {
	switch filepath.Ext(name) {
	case ".md", ".yaml", ".yml", ".go":
		return true
	}
	return false
}
