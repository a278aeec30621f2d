package index

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/exfiltrace/exfiltrace/parsers"
)

// Version is the tool version recorded in every case.
var Version = "0.1.0-dev"

// Case is a case directory: the index plus the evidence manifest.
type Case struct {
	Dir      string
	Manifest *Manifest
}

// Manifest accounts for every evidence file in the case.
type Manifest struct {
	ToolVersion string               `json:"tool_version"`
	Created     time.Time            `json:"created"`
	Updated     time.Time            `json:"updated"`
	Settings    Settings             `json:"settings"`
	Files       []*parsers.FileStats `json:"files"`
	// Unindexed lists (by SHA-256) the evidence files whose events are in
	// the event store but not yet in the index (analyze answers first).
	Unindexed []string  `json:"unindexed,omitempty"`
	Events    int64     `json:"events"`
	First     time.Time `json:"first,omitempty"`
	Last      time.Time `json:"last,omitempty"`
}

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
func OpenCase(dir string, create bool) (*Case, error) {
	c := &Case{Dir: dir}
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	switch {
	case err == nil:
		m := &Manifest{}
		if err := json.Unmarshal(b, m); err != nil {
			return nil, fmt.Errorf("case %s: corrupt manifest: %w", dir, err)
		}
		c.Manifest = m
		return c, nil
	case errors.Is(err, os.ErrNotExist) && create:
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		now := time.Now().UTC()
		c.Manifest = &Manifest{ToolVersion: Version, Created: now, Updated: now}
		return c, c.Save()
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("no case at %s (create one with `exfiltrace ingest --case %s FILES...`)", dir, dir)
	}
	return nil, fmt.Errorf("case %s: %w", dir, err)
}

// Save writes the manifest atomically.
func (c *Case) Save() error {
	m := c.Manifest
	m.Updated = time.Now().UTC()
	m.ToolVersion = Version
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
