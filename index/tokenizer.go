package index

import (
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
)

// wordRunsType is the tokenizer type of case format 3: the runs of
// letters, numbers and underscores of a text, the tokens bleve's regexp
// tokenizer gives for `[\p{L}\p{N}_]+` (format 2 names that one), at the same
// offsets and positions and with the same token types. Written by hand
// because the regexp tokenizer took a fifth of an EVTX ingest's CPU: a
// backtracking match per text, and a second regexp per token to tell
// ideographs from words. FuzzWordRuns holds the two equal.
const wordRunsType = "exfiltrace_word_runs"

func init() {
	if err := registry.RegisterTokenizer(wordRunsType, func(map[string]interface{}, *registry.Cache) (analysis.Tokenizer, error) {
		return wordRuns{}, nil
	}); err != nil {
		panic(err)
	}
}

type wordRuns struct{}

// asciiWord marks the ASCII bytes a word is made of.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		t[c] = c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	return t
}()

// wordRune reports whether the rune at the start of b belongs to a word, and
// its width. An invalid byte is a one-byte non-word, as in Go's regexp.
func wordRune(b []byte) (word bool, size int) {
	if c := b[0]; c < utf8.RuneSelf {
		return asciiWord[c], 1
	}
	r, size := utf8.DecodeRune(b)
	if r == utf8.RuneError {
		return false, size
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r), size
}

// Tokenize counts the runs first so that all tokens live in one allocation.
func (wordRuns) Tokenize(input []byte) analysis.TokenStream {
	n := 0
	for i, in := 0, false; i < len(input); {
		w, size := wordRune(input[i:])
		if w && !in {
			n++
		}
		in = w
		i += size
	}
	if n == 0 {
		return analysis.TokenStream{}
	}
	toks := make([]analysis.Token, n)
	out := make(analysis.TokenStream, n)
	k, start := 0, -1
	emit := func(end int) {
		term := input[start:end]
		toks[k] = analysis.Token{Term: term, Start: start, End: end, Position: k + 1, Type: tokenType(term)}
		out[k] = &toks[k]
		k++
		start = -1
	}
	for i := 0; i < len(input); {
		w, size := wordRune(input[i:])
		switch {
		case w && start < 0:
			start = i
		case !w && start >= 0:
			emit(i)
		}
		i += size
	}
	if start >= 0 {
		emit(len(input))
	}
	return out
}

// tokenType is the regexp tokenizer's type: ideographic when a rune is Han,
// Hangul, Hiragana or Katakana, numeric when the term parses as a float
// (only terms that start with a digit or with i/n, as in inf and nan, can),
// else alphanumeric.
func tokenType(term []byte) analysis.TokenType {
	ascii := true
	for _, c := range term {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		for i := 0; i < len(term); {
			r, size := utf8.DecodeRune(term[i:])
			if unicode.In(r, unicode.Han, unicode.Hangul, unicode.Hiragana, unicode.Katakana) {
				return analysis.Ideographic
			}
			i += size
		}
	}
	switch c := term[0]; {
	case '0' <= c && c <= '9', c == 'i', c == 'I', c == 'n', c == 'N':
		if _, err := strconv.ParseFloat(string(term), 64); err == nil {
			return analysis.Numeric
		}
	}
	return analysis.AlphaNumeric
}
