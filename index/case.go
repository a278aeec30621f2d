package index

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/exfiltrace/exfiltrace/parsers"
)

// Version is the tool version recorded in every case.
var Version = "0.1.0-dev"

// FilesByPath lists the case's evidence files by path, then hash. The
// manifest lists them as parallel workers finished them, which varies from
// run to run; the report, stats and the order of simultaneous events follow
// this one instead.
func (c *Case) FilesByPath() []*parsers.FileStats {
	files := slices.Clone(c.Manifest.Files)
	slices.SortStableFunc(files, func(a, b *parsers.FileStats) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.SHA256, b.SHA256))
	})
	return files
}

// Case is a case directory: the index plus the evidence manifest.
type Case struct {
	Dir      string
	Manifest *Manifest
	lk       *caseLock
}

// CaseFormat numbers the layout of a case directory (manifest, event store,
// index mapping); a change that older builds cannot read increments it.
// Manifests written before the number existed have the layout of format 1.
// Format 2: the full-text index holds free text only, and structured
// queries need the columnar store (a format-1 index held every field, which
// a format-1 build would query). A format-1 case is read as is: its index
// answers free text the same way, and its columnar store is built on first
// query. Format 3: the full-text index's words are split by this build's
// own tokenizer (the same words as format 2's regexp tokenizer, faster),
// which older builds do not have. Format 4: the full-text index holds no
// word positions (a phrase's order is checked on the events), without
// which older builds' phrase queries find nothing; an index of an older
// format keeps its positions and is read the same way.
const CaseFormat = 4

// minCaseFormat is the oldest layout this build still reads.
var minCaseFormat = 1

// Manifest accounts for every evidence file in the case.
type Manifest struct {
	Format      int                  `json:"format"`
	ToolVersion string               `json:"tool_version"`
	Created     time.Time            `json:"created"`
	Updated     time.Time            `json:"updated"`
	Settings    Settings             `json:"settings"`
	Files       []*parsers.FileStats `json:"files"`
	// Unindexed lists (by SHA-256) the evidence files whose events are in
	// the event store but not yet in the index (analyze answers first).
	Unindexed []string `json:"unindexed,omitempty"`
	// Incomplete lists (by SHA-256) the evidence files an interrupted run
	// (killed, disk full) was indexing: some of their events may be in the
	// index, so queries hide them until the same file is ingested again.
	Incomplete []string  `json:"incomplete,omitempty"`
	Events     int64     `json:"events"`
	First      time.Time `json:"first,omitempty"`
	Last       time.Time `json:"last,omitempty"`
}

// TZSourceGiven is Settings.TZSource when the analyst gave the zone.
const TZSourceGiven = "--tz"

// Settings are the analyst's parsing choices in force for the case.
type Settings struct {
	TZ         string `json:"tz"`
	TZSource   string `json:"tz_source"`
	Year       int    `json:"year,omitempty"`
	YearSource string `json:"year_source"`
}

const manifestName = "manifest.json"

// IndexDir is where the bleve index lives inside a case.
func (c *Case) IndexDir() string { return filepath.Join(c.Dir, "index.bleve") }

// OpenCase opens a case directory; with create, a missing case is created.
// With create the case is opened for writing (exclusive lock), otherwise for
// reading (shared lock; ForWriting upgrades). Close releases it.
func OpenCase(dir string, create bool) (*Case, error) {
	c := &Case{Dir: dir}
	_, err := os.Stat(filepath.Join(dir, manifestName))
	switch {
	case err == nil:
	case errors.Is(err, os.ErrNotExist) && create:
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("no case at %s (create one with `exfiltrace ingest --case %s FILES...`)", dir, dir)
	default:
		return nil, fmt.Errorf("case %s: %w", dir, err)
	}
	if err := c.lock(create); err != nil {
		return nil, err
	}
	if err := c.load(); err != nil {
		c.Close()
		return nil, err
	}
	if c.Manifest == nil { // created now, under the lock
		now := time.Now().UTC()
		c.Manifest = &Manifest{Format: CaseFormat, ToolVersion: Version, Created: now, Updated: now}
		if err := c.Save(); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// load reads the manifest; a missing one leaves Manifest nil.
func (c *Case) load() error {
	b, err := os.ReadFile(filepath.Join(c.Dir, manifestName))
	if errors.Is(err, os.ErrNotExist) {
		c.Manifest = nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("case %s: %w", c.Dir, err)
	}
	m := &Manifest{}
	if err := json.Unmarshal(b, m); err != nil {
		return fmt.Errorf("case %s: corrupt manifest: %w", c.Dir, err)
	}
	if m.Format == 0 {
		m.Format = 1
	}
	switch {
	case m.Format > CaseFormat:
		return fmt.Errorf("case %s was written by a newer exfiltrace (case format %d, tool %s); this build (%s) reads case formats %d to %d: open it with that version or newer", c.Dir, m.Format, m.ToolVersion, Version, minCaseFormat, CaseFormat)
	case m.Format < minCaseFormat:
		return fmt.Errorf("case %s has case format %d (tool %s), which this build (%s) no longer reads (formats %d to %d): ingest the evidence again into a new case — manifest.json lists every file with its SHA-256", c.Dir, m.Format, m.ToolVersion, Version, minCaseFormat, CaseFormat)
	}
	c.Manifest = m
	return nil
}

// Save writes the manifest atomically.
func (c *Case) Save() error {
	if c.lk == nil || !c.lk.exclusive {
		return fmt.Errorf("case %s: manifest written without the case's write lock (a bug: the command must open the case for writing)", c.Dir)
	}
	m := c.Manifest
	m.Format = CaseFormat
	m.Updated = time.Now().UTC()
	m.ToolVersion = Version
	m.tally()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(c.Dir, manifestName+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(c.Dir, manifestName))
}

// tally counts the files' events and their time range.
func (m *Manifest) tally() {
	m.Events, m.First, m.Last = 0, time.Time{}, time.Time{}
	for _, f := range m.Files {
		m.Events += f.Events()
		if !f.First.IsZero() && (m.First.IsZero() || f.First.Before(m.First)) {
			m.First = f.First
		}
		if f.Last.After(m.Last) {
			m.Last = f.Last
		}
	}
}

// FileBySHA returns the manifest entry of an evidence file already in the case.
func (c *Case) FileBySHA(sha string) *parsers.FileStats {
	for _, f := range c.Manifest.Files {
		if f.SHA256 == sha && f.Error == "" {
			return f
		}
	}
	return nil
}

// ImportConfig copies the case configuration (exfiltrace.yaml) found at the
// top of an evidence directory into the case, and returns where it came from.
func (c *Case) ImportConfig(paths []string) (string, error) {
	for _, p := range paths {
		src := filepath.Join(p, parsers.CaseConfigName)
		b, err := os.ReadFile(src)
		if err != nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(c.Dir, parsers.CaseConfigName), b, 0o644); err != nil {
			return "", err
		}
		return src, nil
	}
	return "", nil
}

// WriteResult writes a result file into the case (findings.json) whole or
// not at all: readers share the case, so two hunts may finish together and
// a reader must never see half a file; the last to finish wins.
func (c *Case) WriteResult(name string, b []byte) error {
	f, err := os.CreateTemp(c.Dir, name+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(c.Dir, name))
	}
	if err != nil {
		os.Remove(f.Name())
		return c.DiskFull(err)
	}
	return nil
}
