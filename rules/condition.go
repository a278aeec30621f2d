package rules

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// compileCondition parses a Sigma condition ("selection and not 1 of
// filter_*", "all of them", parentheses…) over the compiled selections.
func compileCondition(cond string, sel map[string]matcher) (matcher, error) {
	p := &condParser{toks: condTokens(cond), sel: sel}
	if len(p.toks) == 0 {
		return nil, fmt.Errorf("empty condition")
	}
	m, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		t := p.toks[p.i]
		if t == "|" {
			return nil, errUnsupported{"aggregation in condition (Sigma v1 '| count()'); use a correlation rule"}
		}
		return nil, fmt.Errorf("unexpected %q in condition", t)
	}
	return m, nil
}

func condTokens(s string) []string {
	var out []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch r {
		case ' ', '\t', '\n', '\r':
			flush()
		case '(', ')', '|':
			flush()
			out = append(out, string(r))
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return out
}

type condParser struct {
	toks []string
	i    int
	sel  map[string]matcher
}

func (p *condParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *condParser) or() (matcher, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	ms := orM{l}
	for strings.EqualFold(p.peek(), "or") {
		p.i++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		ms = append(ms, r)
	}
	if len(ms) == 1 {
		return l, nil
	}
	return ms, nil
}

func (p *condParser) and() (matcher, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	ms := andM{l}
	for strings.EqualFold(p.peek(), "and") {
		p.i++
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		ms = append(ms, r)
	}
	if len(ms) == 1 {
		return l, nil
	}
	return ms, nil
}

func (p *condParser) not() (matcher, error) {
	if strings.EqualFold(p.peek(), "not") {
		p.i++
		m, err := p.not()
		if err != nil {
			return nil, err
		}
		return notM{m}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (matcher, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, fmt.Errorf("condition ends early")
	case t == "(":
		p.i++
		m, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing ) in condition")
		}
		p.i++
		return m, nil
	case strings.EqualFold(t, "all") || strings.EqualFold(t, "any") || isNumber(t):
		if p.i+2 < len(p.toks)+0 && strings.EqualFold(p.toks[p.i+1], "of") {
			quant := strings.ToLower(t)
			pattern := p.toks[p.i+2]
			p.i += 3
			return p.quantified(quant, pattern)
		}
	case strings.EqualFold(t, "near"):
		return nil, errUnsupported{"'near' in condition"}
	}
	p.i++
	m, ok := p.sel[t]
	if !ok {
		return nil, fmt.Errorf("condition names unknown selection %q", t)
	}
	return m, nil
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// quantified handles "1 of sel_*", "all of them", "any of filter*".
func (p *condParser) quantified(quant, pattern string) (matcher, error) {
	var names []string
	for name := range p.sel {
		if strings.HasPrefix(name, "_") {
			continue
		}
		if pattern == "them" {
			names = append(names, name)
			continue
		}
		if ok, _ := path.Match(pattern, name); ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("%s of %s matches no selection", quant, pattern)
	}
	var ms []matcher
	for _, n := range names {
		ms = append(ms, p.sel[n])
	}
	switch quant {
	case "all":
		return andM(ms), nil
	case "any", "1":
		return orM(ms), nil
	}
	n, _ := strconv.Atoi(quant)
	return &atLeastM{n: n, ms: ms}, nil
}

type atLeastM struct {
	n  int
	ms []matcher
}

func (a *atLeastM) match(v *view) bool {
	c := 0
	for _, m := range a.ms {
		if m.match(v) {
			if c++; c >= a.n {
				return true
			}
		}
	}
	return false
}
