// Package rules runs detection rules over a case's event stream. Rules are
// data: Sigma YAML (https://sigmahq.io/docs/basics/rules.html), run unmodified,
// including SigmaHQ's rule set, plus Sigma correlation rules. A rule that uses
// something this engine does not support is reported as skipped with the
// reason, never silently ignored.
package rules

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// Rule is one Sigma rule or correlation rule as written.
type Rule struct {
	Title   string `yaml:"title"`
	TitleFR string `yaml:"title_fr"` // exfiltrace extension: the title in French reports
	// Signal is an exfiltrace extension. "transfer" marks a rule that sees
	// data leaving (a file-sharing destination, mail to free-mail) rather
	// than someone acting on a host; "volume" one that only measures how much
	// left. Reports never open an incident window on either, and judge
	// volumes against the baselines they learn instead of fixed thresholds.
	Signal      string         `yaml:"signal"`
	ID          string         `yaml:"id"`
	Name        string         `yaml:"name"`
	Status      string         `yaml:"status"`
	Description string         `yaml:"description"`
	Level       string         `yaml:"level"`
	Tags        []string       `yaml:"tags"`
	Logsource   Logsource      `yaml:"logsource"`
	Detection   map[string]any `yaml:"detection"`
	Correlation *Correlation   `yaml:"correlation"`
	Falsepos    []string       `yaml:"falsepositives"`
	// Tests are this project's extension for built-in rules: events that
	// must and must not make the rule fire.
	Tests *RuleTests `yaml:"tests"`

	Source string `yaml:"-"` // file the rule came from
}

// Logsource says which events a rule applies to.
type Logsource struct {
	Product  string `yaml:"product"`
	Category string `yaml:"category"`
	Service  string `yaml:"service"`
}

// Correlation is a Sigma correlation rule (Sigma specification v2).
type Correlation struct {
	Type      string            `yaml:"type"`
	Rules     []string          `yaml:"rules"`
	GroupBy   []string          `yaml:"group-by"`
	Timespan  string            `yaml:"timespan"`
	Condition map[string]any    `yaml:"condition"`
	Aliases   map[string]any    `yaml:"aliases"`
	Generate  bool              `yaml:"generate"`
	Fields    map[string]string `yaml:"-"`
}

// RuleTests hold events (flat ECS documents) for a built-in rule's own test.
type RuleTests struct {
	Positive []TestCase `yaml:"positive"`
	Negative []TestCase `yaml:"negative"`
}

// TestCase is a sequence of events: Events (repeated Repeat.Count times,
// Repeat.Every apart), then Then.
type TestCase struct {
	Name   string           `yaml:"name"`
	Events []map[string]any `yaml:"events"`
	Repeat *struct {
		Count int    `yaml:"count"`
		Every string `yaml:"every"`
	} `yaml:"repeat"`
	Then []map[string]any `yaml:"then"`
}

// Skipped is a rule that was not loaded, and why.
type Skipped struct {
	Source string `json:"source"`
	Title  string `json:"title"`
	Reason string `json:"reason"`
}

// ParseRules reads one YAML file, which may hold several documents (Sigma
// rule collections and correlation rules are multi-document).
func ParseRules(data []byte, source string) ([]*Rule, error) {
	var out []*Rule
	docs := splitDocuments(data)
	for i, d := range docs {
		if len(bytes.TrimSpace(d)) == 0 {
			continue
		}
		r := &Rule{}
		if err := yaml.Unmarshal(d, r); err != nil {
			return out, fmt.Errorf("%s (document %d): %w", source, i+1, err)
		}
		r.Source = source
		out = append(out, r)
	}
	return out, nil
}

func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur []byte
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if bytes.Equal(bytes.TrimRight(line, "\r\n"), []byte("---")) {
			docs = append(docs, cur)
			cur = nil
			continue
		}
		cur = append(cur, line...)
	}
	return append(docs, cur)
}

// LoadDir reads every .yml/.yaml file under the given paths.
func LoadDir(paths ...string) ([]*Rule, []Skipped, error) {
	var rules []*Rule
	var skipped []Skipped
	for _, root := range paths {
		var files []string
		err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			if !info.IsDir() && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		sort.Strings(files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, nil, err
			}
			rs, err := ParseRules(data, f)
			if err != nil {
				skipped = append(skipped, Skipped{Source: f, Reason: "invalid YAML: " + err.Error()})
			}
			rules = append(rules, rs...)
		}
	}
	return rules, skipped, nil
}
