package index

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
)

// formatTwoConfig is the tokenizer case format 2 stored in its mapping:
// bleve's regexp tokenizer, found by its registered type as an index of
// format 2 finds it (this package must still register it).
var formatTwoConfig = map[string]interface{}{"type": "regexp", "regexp": `[\p{L}\p{N}_]+`}

var formatTwoTokenizer = func() analysis.Tokenizer {
	tok, err := registry.NewCache().DefineTokenizer("v2", formatTwoConfig)
	if err != nil {
		panic(fmt.Sprintf("format 2's tokenizer: %v", err))
	}
	return tok
}()

func tokenStrings(ts analysis.TokenStream) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = fmt.Sprintf("%q@%d-%d#%d/%d", t.Term, t.Start, t.End, t.Position, t.Type)
	}
	return out
}

func TestWordRuns(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" ,;", nil},
		{`vssadmin.exe delete shadows /all /quiet`, []string{`"vssadmin"@0-8#1/0`, `"exe"@9-12#2/0`, `"delete"@13-19#3/0`, `"shadows"@20-27#4/0`, `"all"@29-32#5/0`, `"quiet"@34-39#6/0`}},
		{"-pSecret rclone_copy", []string{`"pSecret"@1-8#1/0`, `"rclone_copy"@9-20#2/0`}},
		// Numbers, hexadecimal floats, inf and nan are numeric (type 2), as
		// strconv.ParseFloat has them; 0x3e7 has no exponent and is a word.
		{"4624 0x3e7 0x1p4 Inf nan 1e5 12ab", []string{`"4624"@0-4#1/2`, `"0x3e7"@5-10#2/0`, `"0x1p4"@11-16#3/2`, `"Inf"@17-20#4/2`, `"nan"@21-24#5/2`, `"1e5"@25-28#6/2`, `"12ab"@29-33#7/0`}},
		// Accented letters and other scripts' digits are word runes.
		{"Mairie d'Évreux ٣٤", []string{`"Mairie"@0-6#1/0`, `"d"@7-8#2/0`, `"Évreux"@9-16#3/0`, `"٣٤"@17-21#4/0`}},
		// Ideographs: type 1 when any rune is Han, Hangul, Hiragana or Katakana.
		{"文件 abc漢", []string{`"文件"@0-6#1/1`, `"abc漢"@7-13#2/1`}},
		// An invalid byte and U+FFFD split words; the text after them is kept.
		{"pass\xffword\uFFFDend\xc3", []string{`"pass"@0-4#1/0`, `"word"@5-9#2/0`, `"end"@12-15#3/0`}},
	}
	for _, c := range cases {
		got := tokenStrings(wordRuns{}.Tokenize([]byte(c.in)))
		if fmt.Sprint(got) != fmt.Sprint(c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("%q:\n got %v\nwant %v", c.in, got, c.want)
		}
		if old := tokenStrings(formatTwoTokenizer.Tokenize([]byte(c.in))); fmt.Sprint(old) != fmt.Sprint(got) {
			t.Errorf("%q: format 2's tokenizer gives %v, this one %v", c.in, old, got)
		}
	}
}

// TestMappingUsesWordRuns: a new case's text is split by the hand-written
// tokenizer (an index built with the mapping analyzes through it).
func TestMappingUsesWordRuns(t *testing.T) {
	m, err := NewMapping()
	if err != nil {
		t.Fatal(err)
	}
	a := m.AnalyzerNamed(wordsAnalyzer)
	if a == nil {
		t.Fatal("no words analyzer")
	}
	got := tokenStrings(a.Analyze([]byte("Invoke-WebRequest https://Mega.nz/x")))
	want := []string{`"invoke"@0-6#1/0`, `"webrequest"@7-17#2/0`, `"https"@18-23#3/0`, `"mega"@26-30#4/0`, `"nz"@31-33#5/0`, `"x"@34-35#6/0`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

// FuzzWordRuns: the tokenizer gives format 2's tokens, byte for byte.
func FuzzWordRuns(f *testing.F) {
	for _, s := range []string{
		"", "a", "vssadmin.exe delete shadows", "4624 0x1p4 inf NaN 1_000 0x1_0p0",
		"文件 カタカナ 한국어 ひらがな", "pass\xffword\uFFFD\xc3", "Évreux_٣٤ ⅷ ²",
		"C:\\Users\\agent\\AppData\\Local\\Temp\\rclone.exe copy",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got := tokenStrings(wordRuns{}.Tokenize(in))
		want := tokenStrings(formatTwoTokenizer.Tokenize(in))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q:\n got %v\nwant %v", in, got, want)
		}
		// Node.Match splits text as the index does: its words are the
		// tokens, lower-cased.
		var lower []string
		for _, tok := range formatTwoTokenizer.Tokenize(in) {
			lower = append(lower, strings.ToLower(string(tok.Term)))
		}
		if words := textWords(string(in)); fmt.Sprint(words) != fmt.Sprint(lower) {
			t.Fatalf("%q: Match's words %v, the index's %v", in, words, lower)
		}
	})
}

// TestFormatTwoIndexReads: an index written by case format 2 names bleve's
// regexp tokenizer in its mapping; this build opens it and its words match
// as before.
func TestFormatTwoIndexReads(t *testing.T) {
	m, err := NewMapping()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddCustomTokenizer("exfiltrace_word_runs_v2", formatTwoConfig); err != nil {
		t.Fatal(err)
	}
	m.CustomAnalysis.Analyzers[wordsAnalyzer]["tokenizer"] = "exfiltrace_word_runs_v2"
	dir := filepath.Join(t.TempDir(), "index.bleve")
	idx, err := bleve.NewUsing(dir, m, "scorch", "scorch", nil)
	if err != nil {
		t.Fatal(err)
	}
	for id, msg := range map[string]string{"e1": "vssadmin.exe Delete Shadows /all", "e2": "shadows of a delete"} {
		if err := idx.Index(id, map[string]interface{}{"message": msg}); err != nil {
			t.Fatal(err)
		}
	}
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := bleve.OpenUsing(dir, map[string]interface{}{"read_only": true})
	if err != nil {
		t.Fatalf("format-2 index: %v", err)
	}
	b := &Bleve{idx: ro}
	defer b.Close()
	// A phrase gives the events holding its words, in any order: the order
	// is checked on the events (columns.Store; TestStoreMeansTheQuery).
	for q, want := range map[string]string{`vssadmin`: "[e1]", `message:"delete shadows"`: "[e1 e2]", `message:"delete all"`: "[e1]", `shadows`: "[e1 e2]", `message:vss*`: "[e1]"} {
		n, err := ParseQueryString(q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		if err := b.TextMatches(n, func(id string) error { got = append(got, id); return nil }); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		sort.Strings(got)
		if fmt.Sprint(got) != want {
			t.Errorf("%s: %v, want %s", q, got, want)
		}
	}
}
