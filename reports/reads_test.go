package reports

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exfiltrace/exfiltrace/event"
	"github.com/exfiltrace/exfiltrace/index"
	"github.com/exfiltrace/exfiltrace/internal/corpus"
	"github.com/exfiltrace/exfiltrace/parsers"
	"github.com/exfiltrace/exfiltrace/rules"
	"github.com/exfiltrace/exfiltrace/samples/scenario"
)

// TestAnalyzerReadsListed reads this package's source: every field the
// Analyzer's code reads of an event (ev.Str, ev.Int, ev.Strings,
// hasValue, ev.Fields[…]) must be in analyzerReads, or end with one of
// analyzerSuffixes, or Build would read it as missing from the event store.
// A name computed at run time fails unless listed in computed below with the
// suffix that covers it.
func TestAnalyzerReadsListed(t *testing.T) {
	consts := map[string]string{
		"event.FieldDataset": event.FieldDataset, "event.FieldFile": event.FieldFile, "event.FieldLine": event.FieldLine,
		"event.FieldRecord": event.FieldRecord, "event.FieldSHA256": event.FieldSHA256,
	}
	computed := map[string]string{ // expression → the suffix that keeps it
		`ds + ".queue_id"`: ".queue_id",
		`ds + ".relay_ip"`: ".relay_ip",
		`field`:            "", // hasValue's own parameter: its callers are checked
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		src := func(e ast.Expr) string {
			var b strings.Builder
			if err := printer.Fprint(&b, fset, e); err != nil {
				t.Fatal(err)
			}
			return b.String()
		}
		check := func(arg ast.Expr) {
			seen++
			name := ""
			switch a := arg.(type) {
			case *ast.BasicLit:
				name, _ = strconv.Unquote(a.Value)
			case *ast.SelectorExpr:
				name = consts[src(a)]
			}
			if name == "" {
				s, ok := computed[src(arg)]
				if !ok {
					t.Errorf("%s: field %s is computed: list it in this test with the suffix that keeps it", fset.Position(arg.Pos()), src(arg))
				} else if s != "" && !slices.Contains(analyzerSuffixes, s) {
					t.Errorf("%s: %s needs suffix %q in analyzerSuffixes", fset.Position(arg.Pos()), src(arg), s)
				}
				return
			}
			if !slices.Contains(analyzerReads, name) {
				t.Errorf("%s: the Analyzer reads %q: add it to analyzerReads", fset.Position(arg.Pos()), name)
			}
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				if sel, ok := x.Fun.(*ast.SelectorExpr); ok && len(x.Args) == 1 {
					switch sel.Sel.Name {
					case "Str", "Int", "Strings":
						if src(sel.X) == "ev" {
							check(x.Args[0])
						}
					}
				}
				if id, ok := x.Fun.(*ast.Ident); ok && id.Name == "hasValue" && len(x.Args) == 3 {
					check(x.Args[1])
				}
			case *ast.IndexExpr:
				if sel, ok := x.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Fields" {
					check(x.Index)
				}
			case *ast.RangeStmt:
				if sel, ok := x.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Fields" {
					t.Errorf("%s: ranging over an event's fields reads them all: Build decodes only analyzerReads", fset.Position(x.Pos()))
				}
			}
			return true
		})
	}
	if seen < 50 {
		t.Fatalf("found only %d field reads: the scan no longer sees the Analyzer's code", seen)
	}
}

// TestBuildDecodesWhatItReads: a report built from the fields Build
// decodes is the report built from every field, on the samples (whole and
// damaged), on every storyline written by every firewall vendor, and on the
// shared corpus's EVTX files (damaged ones among them) with SigmaHQ's rules.
func TestBuildDecodesWhatItReads(t *testing.T) {
	type input struct {
		name  string
		paths []string
		po    parsers.Options
		rules []*rules.Rule // besides the built-in pack
	}
	inputs := []input{
		{name: "samples/incident", paths: []string{filepath.Join("..", "samples", "incident")}, po: parsers.Options{TZ: time.UTC}},
		{name: "samples/control", paths: []string{filepath.Join("..", "samples", "control")}, po: parsers.Options{TZ: time.UTC}},
		{name: "samples/incident, damaged", paths: []string{damagedCopy(t, filepath.Join("..", "samples", "incident"))}, po: parsers.Options{TZ: time.UTC}},
	}
	if shared := filepath.Join(corpus.Root(t), "..", "shared", "corpus"); fileExists(shared) {
		sigma, _, err := rules.LoadDir(filepath.Join(shared, "sigma", "rules", "windows"))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs,
			input{name: "corpus EVTX, SigmaHQ", paths: []string{filepath.Join(shared, "evtx")}, po: parsers.Options{TZ: time.UTC}, rules: sigma},
			// Other vendors' real lines: firewalls, proxies, mail servers
			// (Exim, Sendmail, Exchange: their own queue-id fields).
			input{name: "corpus firewall, proxy and mail lines", paths: []string{filepath.Join(shared, "firewall"), filepath.Join(shared, "proxy"), filepath.Join(shared, "mail")}, po: parsers.Options{TZ: time.UTC, Year: 2025}})
	} else {
		t.Logf("shared corpus not at %s: its EVTX, firewall and mail inputs left out", shared)
	}
	for i, vendor := range scenario.Firewalls {
		for j, v := range scenario.Variants {
			inc := scenario.Generate(v, uint64(1+i+j))
			if err := inc.AsFirewall(vendor); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "evidence")
			if err := inc.Write(dir, dir+".truth.json"); err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, input{name: fmt.Sprintf("%s/%s", vendor, v), paths: []string{dir}, po: parsers.Options{TZ: inc.Truth.Location(), Year: inc.Truth.Year}})
		}
	}
	builtin, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	// A keyword rule that matches nothing of these cases: with it, a
	// scratch case keeps every field but the original line.
	keyword, err := rules.ParseRules([]byte("title: keyword\nid: 5a1e6a9c-0000-4000-8000-000000000001\nlogsource: {product: windows}\ndetection:\n  keywords: ['no such text anywhere']\n  condition: keywords\nlevel: high\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	ruleSets := [][]*rules.Rule{builtin, append(slices.Clone(builtin), keyword...)}
	if sel := ScratchFields(Options{Rules: ruleSets[1]}); sel != event.ExceptOriginal() {
		t.Fatalf("with a keyword rule a scratch case stores %+v, want every field but the original line", sel)
	}
	if sel := ScratchFields(Options{Rules: builtin}); sel.Only == nil || sel.Only[event.FieldOriginal] || !sel.Only["source.bytes"] || !sel.Only["winlog.event_id"] {
		t.Fatalf("the built-in pack's scratch case stores %+v", sel)
	}
	var rs []*rules.Rule
	build := func(c *index.Case, whole bool) string {
		res, err := Build(c, Options{Rules: rs, Lang: "en", decodeWhole: whole})
		if err != nil {
			t.Fatal(err)
		}
		res.Report.GeneratedAt = time.Time{}
		b, err := json.MarshalIndent(res, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	ingest := func(in input, store *event.Selection) *index.Case {
		c, err := index.OpenCase(filepath.Join(t.TempDir(), "case"), true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := index.Ingest(c, in.paths, index.IngestOptions{Parse: in.po, DeferIndex: true, Store: store}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	for i, in := range inputs {
		rs = ruleSets[0]
		if in.rules != nil {
			rs = append(slices.Clone(builtin), in.rules...)
		}
		c := ingest(in, nil)
		whole, selected := build(c, true), build(c, false)
		if whole != selected {
			t.Errorf("%s: the report from the decoded fields differs from the report from every field:\n%s", in.name, firstDiff(whole, selected))
		}
		if !strings.Contains(whole, `"data_taken"`) {
			t.Fatalf("%s: no verdict in the report", in.name)
		}
		// What the inputs are for: lines kept raw, Sigma findings.
		raw := int64(0)
		for _, f := range c.Manifest.Files {
			raw += f.Raw
		}
		var out struct{ Findings []any }
		if err := json.Unmarshal([]byte(whole), &out); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(in.name, "damaged") && raw < 10 {
			t.Fatalf("%s: only %d raw lines", in.name, raw)
		}
		if in.rules != nil && len(out.Findings) < 20 {
			t.Fatalf("%s: only %d findings", in.name, len(out.Findings))
		}
		// A scratch case (analyze without --case) stores only what Build
		// reads, and gives the same report.
		if i%2 == 0 || in.rules != nil {
			if in.rules == nil {
				rs = ruleSets[i/2%2]
			}
			withKeyword := build(c, false)
			scratch := ingest(in, ScratchFields(Options{Rules: rs}))
			if got := build(scratch, false); got != withKeyword {
				t.Errorf("%s (%d rules): the report from a scratch case differs:\n%s", in.name, len(rs), firstDiff(withKeyword, got))
			}
			scratch.Close()
		}
		c.Close()
	}
}

// damagedCopy copies an evidence directory with every 40th line of its text
// logs replaced by bytes no parser reads, and a truncated last line.
func damagedCopy(t *testing.T, dir string) string {
	out := filepath.Join(t.TempDir(), "damaged")
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".log") {
			lines := strings.Split(string(b), "\n")
			for i := 39; i < len(lines); i += 40 {
				lines[i] = "\x00\xff garbage " + strconv.Itoa(i)
			}
			last := len(lines) - 2
			lines[last] = lines[last][:len(lines[last])/2]
			b = []byte(strings.Join(lines, "\n"))
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(out, rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(out, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n  every field: %s\n  decoded:     %s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(la), len(lb))
}
