// Package index keeps a case: its manifest (chain of custody), its event
// store (every event whole, store.go) and an embedded bleve index of the
// events' free text. Fields maps the query language's field names to how
// each is matched; the columnar store answers every kind but Text, which
// bleve answers (TextMatches), joined on event.id.
package index

import (
	"sort"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	// Indexes of case format 2 name bleve's regexp tokenizer.
	_ "github.com/blevesearch/bleve/v2/analysis/tokenizer/regexp"
	"github.com/blevesearch/bleve/v2/mapping"
)

// Field kinds of the mapping.
const (
	Keyword   = "keyword"   // exact, case-sensitive (addresses, ids, hashes, codes)
	Name      = "name"      // exact but case-insensitive (accounts, hosts, paths, mail addresses)
	Number    = "number"    // numeric range queries and sums
	Text      = "text"      // analyzed free text
	Timestamp = "timestamp" // datetime
)

// Fields are the searchable part of the event model and how each matches:
// Keyword exactly, Name case-insensitively, Number and Timestamp by range,
// Text by word. Fields not listed are kept (shown and forwarded) but not
// searchable by field. Ports are identifiers, matched as exact keywords
// (destination.port:443); event.id is matched exactly too.
var Fields = map[string]string{
	"@timestamp":                        Timestamp,
	"event.dataset":                     Keyword,
	"event.kind":                        Keyword,
	"event.category":                    Keyword,
	"event.type":                        Keyword,
	"event.action":                      Keyword,
	"event.outcome":                     Keyword,
	"event.code":                        Keyword,
	"event.provider":                    Name,
	"source.ip":                         Keyword,
	"source.port":                       Keyword,
	"source.bytes":                      Number,
	"source.domain":                     Name,
	"destination.ip":                    Keyword,
	"destination.port":                  Keyword,
	"destination.bytes":                 Number,
	"destination.domain":                Name,
	"network.transport":                 Keyword,
	"network.direction":                 Keyword,
	"network.protocol":                  Keyword,
	"network.application":               Keyword,
	"url.original":                      Name,
	"url.domain":                        Name,
	"user.name":                         Name,
	"user.domain":                       Name,
	"user.id":                           Keyword,
	"user.target.name":                  Name,
	"group.name":                        Name,
	"host.name":                         Name,
	"observer.name":                     Name,
	"process.name":                      Name,
	"process.executable":                Name,
	"process.command_line":              Text,
	"process.parent.name":               Name,
	"process.parent.executable":         Name,
	"process.parent.command_line":       Text,
	"file.path":                         Name,
	"file.name":                         Name,
	"service.name":                      Name,
	"email.from.address":                Name,
	"email.to.address":                  Name,
	"email.message_id":                  Keyword,
	"email.size":                        Number,
	"rule.name":                         Name,
	"winlog.channel":                    Name,
	"winlog.logon.type":                 Keyword,
	"winlog.share_name":                 Name,
	"postfix.queue_id":                  Keyword,
	"fortinet.firewall.type":            Keyword,
	"fortinet.firewall.subtype":         Keyword,
	"powershell.file.script_block_text": Text,
	"log.file.path":                     Name,
	"evidence.sha256":                   Keyword,
	"evidence.carved":                   Keyword, // "true" on records carved from EVTX slack
	"evidence.export":                   Keyword, // the collector export a row came from (graylog-csv, wazuh…)
	"error.message":                     Text,
	"email.subject":                     Text,
	"message":                           Text,
	"tags":                              Keyword,
}

// TextFields are the fields of kind Text, the only ones bleve indexes.
var TextFields = func() []string {
	var out []string
	for k, kind := range Fields {
		if kind == Text {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}()

// IsTextTerm reports whether a query term is answered by the full-text
// index: a bare word (it searches message) or a field of kind Text.
func IsTextTerm(n *Node) bool {
	return n.Op == "term" && (n.Field == "" || Fields[n.Field] == Text)
}

const (
	// wordsAnalyzer splits free text and command lines on every non-word
	// character, so "vssadmin" finds "vssadmin.exe" and "-pSecret" finds "psecret".
	wordsAnalyzer = "exfiltrace_words"
)

// NewMapping builds the explicit index mapping: the Text fields, split into
// words. Layouts of case format 1 also indexed every other field; TextMatches
// reads both alike.
func NewMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	if err := im.AddCustomAnalyzer(wordsAnalyzer, map[string]interface{}{
		"type":          custom.Name,
		"tokenizer":     wordRunsType,
		"token_filters": []string{lowercase.Name},
	}); err != nil {
		return nil, err
	}
	root := bleve.NewDocumentStaticMapping()
	for _, name := range TextFields {
		addField(root, name, textField(wordsAnalyzer, true, false))
	}
	// The Text fields that hold a word, as keywords: field:* is one term's
	// postings, where a wildcard over the field's words expanded to every
	// word of its dictionary (message:* on 2 M documents: a minute, 4 GB).
	addField(root, WordsField, textField(keyword.Name, true, false))
	// Stored, not indexed: no term, no dictionary entry (SearchText).
	addField(root, PlaceField, textField(keyword.Name, false, true))
	// No catch-all "_all" field: every query names its field (a bare word means message).
	root.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	im.DefaultMapping = root
	im.DefaultAnalyzer = keyword.Name
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	return im, nil
}

// textField is a field split by analyzer, indexed and stored or not,
// outside "_all", without doc values and without positions: a phrase
// ("delete shadows") is searched as its words, and their order checked on
// each event holding them all (SearchText, columns.Store). Positions were a
// fifth of a Windows ingest's time and 60 % of the index (bench/README).
func textField(analyzer string, index, store bool) *mapping.FieldMapping {
	fm := bleve.NewTextFieldMapping()
	fm.Analyzer = analyzer
	fm.Index = index
	fm.Store = store
	fm.IncludeInAll = false
	fm.IncludeTermVectors = false
	fm.DocValues = false
	return fm
}

func addField(root *mapping.DocumentMapping, dotted string, fm *mapping.FieldMapping) {
	parts := strings.Split(dotted, ".")
	dm := root
	for _, p := range parts[:len(parts)-1] {
		sub, ok := dm.Properties[p]
		if !ok {
			sub = bleve.NewDocumentStaticMapping()
			dm.AddSubDocumentMapping(p, sub)
		}
		dm = sub
	}
	dm.AddFieldMappingsAt(parts[len(parts)-1], fm)
}
