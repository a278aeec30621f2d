// Package index stores a case's events in an embedded bleve index with an
// explicit mapping: exact keywords for addresses, ids and names, numbers for
// bytes and ports, a datetime for @timestamp, analyzed text only for free
// text. Whole events live in the case's event store (store.go); the index
// keeps each one's location in a stored, unindexed _loc field.
package index

import (
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	regexptok "github.com/blevesearch/bleve/v2/analysis/tokenizer/regexp"
	keywordtok "github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	"github.com/blevesearch/bleve/v2/mapping"
)

// LocField holds the event's location in the case's event store.
const LocField = "_loc"

// Field kinds of the mapping.
const (
	Keyword   = "keyword"   // exact, case-sensitive (addresses, ids, hashes, codes)
	Name      = "name"      // exact but case-insensitive (accounts, hosts, paths, mail addresses)
	Number    = "number"    // numeric range queries and sums
	Text      = "text"      // analyzed free text
	Timestamp = "timestamp" // datetime
)

// Fields is the indexed part of the event model. Fields not listed are kept
// in _source (shown and forwarded) but not searchable by field. Numbers are
// costly to index (bleve writes 16 terms per value), so only those analysts
// range over are numeric: bytes and sizes. Ports are identifiers, indexed as
// exact keywords (destination.port:443); event.id is the document id
// and is queried as such.
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
	"message":                           Text,
	"tags":                              Keyword,
}

// docValueFields are the fields sorted on or faceted.
var docValueFields = map[string]bool{"@timestamp": true, "event.dataset": true, "host.name": true}

const (
	nameAnalyzer = "exfiltrace_name"
	// wordsAnalyzer splits free text and command lines on every non-word
	// character, so "vssadmin" finds "vssadmin.exe" and "-pSecret" finds "psecret".
	wordsAnalyzer = "exfiltrace_words"
)

// NewMapping builds the explicit index mapping from Fields.
func NewMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	if err := im.AddCustomAnalyzer(nameAnalyzer, map[string]interface{}{
		"type":          custom.Name,
		"tokenizer":     keywordtok.Name,
		"token_filters": []string{lowercase.Name},
	}); err != nil {
		return nil, err
	}
	if err := im.AddCustomTokenizer("exfiltrace_word_runs", map[string]interface{}{
		"type":   regexptok.Name,
		"regexp": `[\p{L}\p{N}_]+`,
	}); err != nil {
		return nil, err
	}
	if err := im.AddCustomAnalyzer(wordsAnalyzer, map[string]interface{}{
		"type":          custom.Name,
		"tokenizer":     "exfiltrace_word_runs",
		"token_filters": []string{lowercase.Name},
	}); err != nil {
		return nil, err
	}
	root := bleve.NewDocumentStaticMapping()
	for name, kind := range Fields {
		var fm *mapping.FieldMapping
		switch kind {
		case Keyword:
			fm = bleve.NewKeywordFieldMapping()
		case Name:
			fm = bleve.NewTextFieldMapping()
			fm.Analyzer = nameAnalyzer
		case Number:
			fm = bleve.NewNumericFieldMapping()
		case Text:
			fm = bleve.NewTextFieldMapping()
			fm.Analyzer = wordsAnalyzer
		case Timestamp:
			fm = bleve.NewDateTimeFieldMapping()
		}
		fm.Store = false
		fm.IncludeInAll = false
		fm.IncludeTermVectors = false
		// Doc values cost on every document; only sorting and facets need them.
		fm.DocValues = docValueFields[name]
		addField(root, name, fm)
	}
	src := bleve.NewTextFieldMapping()
	src.Index = false
	src.Store = true
	src.IncludeInAll = false
	src.DocValues = false
	src.Analyzer = keyword.Name
	root.AddFieldMappingsAt(LocField, src)
	// No catch-all "_all" field: every query names its field (a bare word means message).
	root.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	im.DefaultMapping = root
	im.DefaultAnalyzer = keyword.Name
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	return im, nil
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
