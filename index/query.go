package index

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// The analyst's query language is Lucene/Kibana-style query-string over ECS
// names: field:value, field:"phrase", field:>N (>=, <, <=), wildcards * and ?,
// field:* (field present), AND / OR / NOT, -term, parentheses; terms side by
// side are ANDed; a bare word searches message. bleve's own query string has
// no AND/OR/NOT, so queries are parsed here and built from bleve's query types,
// each field queried the way its mapping indexes it.

// Node is a parsed query, kept so other stores (Elasticsearch) can render it too.
type Node struct {
	Op       string // "and", "or", "not", "term"
	Children []*Node
	Field    string // "" for a bare word
	Value    string
	Cmp      string // "", ">", ">=", "<", "<="
	Phrase   bool
}

// ParseQueryString parses the query language into a tree.
func ParseQueryString(s string) (*Node, error) {
	// Stored values are valid UTF-8 (events are stored as JSON): a query's
	// invalid bytes read as the replacement character, as a stored
	// value's did, in every store alike.
	s = strings.ToValidUTF8(s, "\uFFFD")
	if t := strings.TrimSpace(s); t == "*" || t == "*:*" {
		return nil, nil // everything, as the help and Kibana say, not "message:*"
	}
	p := &qparser{toks: lex(s)}
	if len(p.toks) == 0 {
		return nil, nil
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.i].s)
	}
	return n, nil
}

type qtok struct {
	s      string
	quoted bool
}

func lex(s string) []qtok {
	var out []qtok
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '(' || c == ')':
			out = append(out, qtok{s: string(c)})
			i++
		case c == '"':
			j := i + 1
			var sb strings.Builder
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				sb.WriteByte(s[j])
				j++
			}
			out = append(out, qtok{s: sb.String(), quoted: true})
			i = j + 1
		default:
			j := i
			var sb strings.Builder
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '(' && s[j] != ')' {
				if s[j] == '\\' && j+1 < len(s) {
					j++
					sb.WriteByte(s[j])
					j++
					continue
				}
				// field:"quoted value" stays one token
				if s[j] == ':' && j+1 < len(s) && s[j+1] == '"' {
					sb.WriteString(":")
					k := j + 2
					for k < len(s) && s[k] != '"' {
						if s[k] == '\\' && k+1 < len(s) {
							k++
						}
						k++
					}
					out = append(out, qtok{s: sb.String()})
					val := s[j+2 : min(k, len(s))]
					val = strings.ReplaceAll(val, `\"`, `"`)
					out = append(out, qtok{s: val, quoted: true})
					sb.Reset()
					j = k + 1
					break
				}
				sb.WriteByte(s[j])
				j++
			}
			if sb.Len() > 0 {
				out = append(out, qtok{s: sb.String()})
			}
			i = j
		}
	}
	return out
}

type qparser struct {
	toks []qtok
	i    int
}

func (p *qparser) peek() (qtok, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return qtok{}, false
}

func (p *qparser) or() (*Node, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	kids := []*Node{left}
	for {
		t, ok := p.peek()
		if !ok || t.quoted || (t.s != "OR" && t.s != "||") {
			break
		}
		p.i++
		n, err := p.and()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	if len(kids) == 1 {
		return left, nil
	}
	return &Node{Op: "or", Children: kids}, nil
}

func (p *qparser) and() (*Node, error) {
	left, err := p.not()
	if err != nil {
		return nil, err
	}
	kids := []*Node{left}
	for {
		t, ok := p.peek()
		if !ok || (!t.quoted && (t.s == ")" || t.s == "OR" || t.s == "||")) {
			break
		}
		if !t.quoted && (t.s == "AND" || t.s == "&&") {
			p.i++
		}
		n, err := p.not()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	if len(kids) == 1 {
		return left, nil
	}
	return &Node{Op: "and", Children: kids}, nil
}

func (p *qparser) not() (*Node, error) {
	t, ok := p.peek()
	if !ok {
		return nil, fmt.Errorf("query ends where a term was expected")
	}
	if !t.quoted && (t.s == "NOT" || t.s == "!") {
		p.i++
		n, err := p.not()
		if err != nil {
			return nil, err
		}
		return &Node{Op: "not", Children: []*Node{n}}, nil
	}
	if !t.quoted && len(t.s) > 1 && t.s[0] == '-' && !unicode.IsDigit(rune(t.s[1])) {
		p.toks[p.i].s = t.s[1:]
		n, err := p.primary()
		if err != nil {
			return nil, err
		}
		return &Node{Op: "not", Children: []*Node{n}}, nil
	}
	if !t.quoted && len(t.s) > 1 && t.s[0] == '+' {
		p.toks[p.i].s = t.s[1:]
	}
	return p.primary()
}

func (p *qparser) primary() (*Node, error) {
	t, _ := p.peek()
	if !t.quoted && t.s == "(" {
		p.i++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c, ok := p.peek(); !ok || c.quoted || c.s != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.i++
		return n, nil
	}
	if !t.quoted && t.s == ")" {
		return nil, fmt.Errorf("unexpected )")
	}
	p.i++
	if t.quoted {
		return &Node{Op: "term", Value: t.s, Phrase: true}, nil
	}
	s := t.s
	colon := strings.IndexByte(s, ':')
	if colon <= 0 || strings.HasPrefix(s, "http") && strings.Contains(s, "://") && colon == strings.Index(s, "://") {
		return &Node{Op: "term", Value: s}, nil
	}
	n := &Node{Op: "term", Field: s[:colon]}
	val := s[colon+1:]
	if val == "" {
		v, ok := p.peek()
		if !ok {
			return nil, fmt.Errorf("field %s has no value", n.Field)
		}
		if v.quoted {
			p.i++
			n.Value, n.Phrase = v.s, true
			return n, nil
		}
		if v.s == "(" {
			// field:(a OR b) applies the field to each term inside
			p.i++
			inner, err := p.or()
			if err != nil {
				return nil, err
			}
			if c, ok := p.peek(); !ok || c.s != ")" {
				return nil, fmt.Errorf("missing )")
			}
			p.i++
			setField(inner, n.Field)
			return inner, nil
		}
		return nil, fmt.Errorf("field %s has no value", n.Field)
	}
	for _, op := range []string{">=", "<=", ">", "<"} {
		if strings.HasPrefix(val, op) {
			n.Cmp, val = op, val[len(op):]
			if val == "" {
				if v, ok := p.peek(); ok {
					p.i++
					val = v.s
				}
			}
			break
		}
	}
	n.Value = val
	return n, nil
}

func setField(n *Node, f string) {
	if n.Op == "term" && n.Field == "" {
		n.Field = f
	}
	for _, c := range n.Children {
		setField(c, f)
	}
}

// termQuery is the bleve query of a free-text term: a bare word searches
// message; words of the value must all occur; * and ? match within one
// word. A quoted value's words must also be in order, which the index
// cannot tell (it holds no positions): the caller checks it on the events.
//
// field:* (the field holds a word) is a term of WordsField when the index
// has it (withWords), else every word of the field.
func termQuery(n *Node, withWords bool) (query.Query, error) {
	field := n.Field
	if field == "" {
		field = "message"
	}
	v := n.Value
	if n.Cmp != "" {
		return nil, fmt.Errorf("%s is free text; %s cannot be used on it", field, n.Cmp)
	}
	if v == "*" && !n.Phrase && withWords {
		q := bleve.NewTermQuery(field)
		q.SetField(WordsField)
		return q, nil
	}
	if !n.Phrase && strings.ContainsAny(v, "*?") {
		q := bleve.NewWildcardQuery(strings.ToLower(v))
		q.SetField(field)
		return q, nil
	}
	q := bleve.NewMatchQuery(v)
	q.SetField(field)
	q.SetOperator(query.MatchQueryOperatorAnd)
	return q, nil
}

// ParseQueryTime reads a time in a query: RFC 3339, or a UTC date and time
// to the second, minute or day.
func ParseQueryTime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (use 2025-03-14T22:00:00Z or 2025-03-14)", v)
}

// IndexedFields lists the searchable field names.
func IndexedFields() []string {
	out := []string{"event.id"}
	for k := range Fields {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
