package rules

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
)

//go:embed builtin/*.yml
var builtinFS embed.FS

// Builtin returns the embedded exfiltration pack.
func Builtin() ([]*Rule, error) {
	var out []*Rule
	names, err := fs.Glob(builtinFS, "builtin/*.yml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := builtinFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		rs, err := ParseRules(b, "builtin:"+n[len("builtin/"):])
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// TestResult is the outcome of one embedded test case.
type TestResult struct {
	Rule     string `json:"rule"`
	Case     string `json:"case"`
	Positive bool   `json:"positive"`
	Findings int    `json:"findings"`
	Pass     bool   `json:"pass"`
	Error    string `json:"error,omitempty"`
}

// RunTests runs every rule's embedded test cases: a positive case must make
// the rule fire, a negative case must not. The rules of the same file (base
// rules of a correlation) are loaded with it.
func RunTests(rules []*Rule, cfg *Config) []TestResult {
	bySource := map[string][]*Rule{}
	for _, r := range rules {
		bySource[r.Source] = append(bySource[r.Source], r)
	}
	var out []TestResult
	for _, r := range rules {
		if r.Tests == nil {
			continue
		}
		for _, pos := range []bool{true, false} {
			cases := r.Tests.Negative
			if pos {
				cases = r.Tests.Positive
			}
			for _, tc := range cases {
				res := TestResult{Rule: r.Title, Case: tc.Name, Positive: pos}
				evs, err := tc.expand()
				if err != nil {
					res.Error = err.Error()
					out = append(out, res)
					continue
				}
				e := CompileWith(bySource[r.Source], cfg)
				for _, s := range e.Skipped {
					res.Error = "skipped " + s.Title + ": " + s.Reason
				}
				for _, ev := range evs {
					e.Process(ev)
				}
				for _, f := range e.Findings() {
					if f.Title == r.Title {
						res.Findings += f.Count
					}
				}
				res.Pass = res.Error == "" && (res.Findings > 0) == pos
				out = append(out, res)
			}
		}
	}
	return out
}

func (tc TestCase) expand() ([]*event.Event, error) {
	n, every := 1, time.Duration(0)
	if tc.Repeat != nil {
		n = tc.Repeat.Count
		d, err := time.ParseDuration(tc.Repeat.Every)
		if err != nil {
			return nil, fmt.Errorf("repeat.every: %v", err)
		}
		every = d
	}
	var out []*event.Event
	for i := 0; i < n; i++ {
		for _, doc := range tc.Events {
			ev, err := testEvent(doc, time.Duration(i)*every)
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
	}
	for _, doc := range tc.Then {
		ev, err := testEvent(doc, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

func testEvent(doc map[string]any, shift time.Duration) (*event.Event, error) {
	ev := event.New()
	for k, v := range doc {
		switch x := v.(type) {
		case string:
			if k == "@timestamp" {
				t, err := time.Parse(time.RFC3339Nano, x)
				if err != nil {
					return nil, fmt.Errorf("@timestamp %q: %v", x, err)
				}
				ev.Timestamp = t.Add(shift)
				continue
			}
			ev.Fields[k] = x
		case uint64:
			ev.Fields[k] = int64(x)
		case int64:
			ev.Fields[k] = x
		case int:
			ev.Fields[k] = int64(x)
		case float64:
			ev.Fields[k] = int64(x)
		case []any:
			var ss []string
			for _, y := range x {
				ss = append(ss, fmt.Sprint(y))
			}
			ev.Fields[k] = ss
		default:
			ev.Fields[k] = fmt.Sprint(x)
		}
	}
	if ev.Timestamp.IsZero() {
		return nil, fmt.Errorf("test event without @timestamp")
	}
	return ev, nil
}
