package evtx

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestCleanXMLChars: what XML 1.0 forbids becomes U+FFFD, written raw or
// as a reference; what it allows, and what is no reference, is untouched.
func TestCleanXMLChars(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, tabs\tand\r\nlines":         "plain text, tabs\tand\r\nlines",
		"a\x00b\x03c\x1fd":                       "a\uFFFDb\uFFFDc\uFFFDd",
		"&#x3;&#3;&#X1F;&#0;":                    "&#xFFFD;&#xFFFD;&#xFFFD;&#xFFFD;",
		"&#x9;&#10;&#xE9;&#233;&#x1F600;":        "&#x9;&#10;&#xE9;&#233;&#x1F600;",
		"&#xD800;&#xFFFE;&#x110000;":             "&#xFFFD;&#xFFFD;&#xFFFD;",
		"&amp;#x3; &#x; &#x3 &lt;":               "&amp;#x3; &#x; &#x3 &lt;",
		"é\x01ü":                                 "é\uFFFDü",
		"h\xe9l\xe8ne \x80 \x93ok\x94 caf\u00e9": "hélène € “ok” café",            // Windows-1252 bytes among UTF-8
		"\xed\xa0\x80 \xc3":                      "í\u00a0€ Ã",                    // a surrogate's bytes, a lead byte at the end
		"a\uFFFEb\uFFFFc\uFFFDd\uFFEFe":          "a\uFFFDb\uFFFDc\uFFFDd\uFFEFe", // raw U+FFFE, U+FFFF: found by the fuzzer
	} {
		if got := string(cleanXMLChars(nil, []byte(in), nil)); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

// FuzzXMLChars: read a byte at a time (a reference cut between reads) the
// filter gives what it gives on the whole text, and text it passes is
// never refused by Go's decoder for a forbidden character.
func FuzzXMLChars(f *testing.F) {
	f.Add([]byte("a&#x3;b\x01c&#233;&amp;#1;"))
	f.Add([]byte("&#x0000000000003;&"))
	f.Add([]byte("&#00000000000000;")) // leading zeros: found by the fuzzer
	f.Add([]byte("&#0<;"))             // no reference: the check's own markup removal made one
	f.Add([]byte("h\xe9l\xe8ne \xef\xbf\xbf \xe2\x82"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var legacy int64
		want := cleanXMLChars(nil, data, &legacy)
		x := newXMLChars(iotest.OneByteReader(bytes.NewReader(data)))
		got, err := io.ReadAll(x)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) || x.legacy != legacy {
			t.Fatalf("byte at a time %q (%d bytes not UTF-8), whole %q (%d)", got, x.legacy, want, legacy)
		}
		// Markup in the text is blanked, not cut out: cutting "<" from
		// "&#0<;" made a reference the filter never saw (found by the fuzzer).
		text := bytes.ReplaceAll(bytes.ReplaceAll(want, []byte("<"), []byte(" ")), []byte("]]>"), []byte("   "))
		dec := xml.NewDecoder(bytes.NewReader(append(append([]byte("<a>"), text...), "</a>"...)))
		for {
			_, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				if strings.Contains(err.Error(), "illegal character code") || strings.Contains(err.Error(), "invalid UTF-8") {
					t.Fatalf("%q passed on as %q, refused: %v", data, want, err)
				}
				break
			}
		}
	})
}
