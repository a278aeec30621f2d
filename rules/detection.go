package rules

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
)

// matcher tests one event; selections and conditions compile to matchers.
type matcher interface {
	match(v *view) bool
	reads(r *fieldReads) // the event fields match can read
}

type andM []matcher
type orM []matcher
type notM struct{ m matcher }
type constM bool

func (a andM) match(v *view) bool {
	for _, m := range a {
		if !m.match(v) {
			return false
		}
	}
	return true
}

func (o orM) match(v *view) bool {
	for _, m := range o {
		if m.match(v) {
			return true
		}
	}
	return false
}

func (n notM) match(v *view) bool   { return !n.m.match(v) }
func (c constM) match(v *view) bool { return bool(c) }

// fieldM matches one field against values with modifiers.
type fieldM struct {
	field  string
	all    bool // values ANDed (|all)
	exists *bool
	values []valueM
	null   bool // field: null → absent or empty
}

type valueM interface {
	matchValue(s string, v *view) bool
}

func (f *fieldM) match(v *view) bool {
	vals := v.values(f.field)
	if f.exists != nil {
		return (len(vals) > 0) == *f.exists
	}
	if f.null {
		for _, s := range vals {
			if s != "" {
				return false
			}
		}
		return true
	}
	if len(vals) == 0 {
		return false
	}
	if f.all {
		for _, vm := range f.values {
			ok := false
			for _, s := range vals {
				if vm.matchValue(s, v) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
		return true
	}
	for _, vm := range f.values {
		for _, s := range vals {
			if vm.matchValue(s, v) {
				return true
			}
		}
	}
	return false
}

// keywordM matches any field value of the event (Sigma keyword lists).
type keywordM struct {
	all    bool
	values []valueM
	// joined[i] finds values[i] in the event's values joined by NULs
	// (view.allJoined): one substring search instead of one per value, which
	// were most of a SigmaHQ hunt's time on Windows events. "" when values[i]
	// is not a case-insensitive exact, prefix, suffix or contains match.
	joined []string
}

func newKeywordM(values []valueM, all bool) *keywordM {
	k := &keywordM{all: all, values: values, joined: make([]string, len(values))}
	for i, vm := range values {
		m, ok := vm.(*strM)
		if !ok || m.cased || strings.IndexByte(m.lit, 0) >= 0 {
			continue
		}
		switch m.kind {
		case '~':
			k.joined[i] = m.lit
		case '=':
			k.joined[i] = "\x00" + m.lit + "\x00"
		case '^':
			k.joined[i] = "\x00" + m.lit
		case '$':
			k.joined[i] = m.lit + "\x00"
		}
	}
	return k
}

func (k *keywordM) match(v *view) bool {
	if v.noKeyword {
		return false
	}
	vals := v.allValues()
	test := func(i int, vm valueM) bool {
		if pat := k.joined[i]; pat != "" {
			if joined, ok := v.allJoined(); ok {
				return strings.Contains(joined, pat)
			}
		}
		if m, ok := vm.(*strM); ok && !m.cased {
			// Every value, lowered once per event rather than looked up
			// per keyword.
			for _, s := range v.allLowered() {
				if m.matchLowered(s) {
					return true
				}
			}
			return false
		}
		for _, s := range vals {
			if vm.matchValue(s, v) {
				return true
			}
		}
		return false
	}
	for i, vm := range k.values {
		ok := test(i, vm)
		if k.all && !ok {
			return false
		}
		if !k.all && ok {
			return true
		}
	}
	return k.all
}

// strM is a case-insensitive (unless cased) glob: exact, prefix, suffix,
// contains or general wildcard.
type strM struct {
	kind   byte // '=' exact, '^' prefix, '$' suffix, '~' contains, '*' glob
	lit    string
	glob   *regexp.Regexp
	cased  bool
	folded bool // lit is lowercase and contains no non-ASCII case variants issue
}

func (m *strM) matchValue(s string, v *view) bool {
	if !m.cased {
		s = v.lower(s)
	}
	return m.matchLowered(s)
}

// matchLowered matches s, already lowered unless the match is cased.
func (m *strM) matchLowered(s string) bool {
	switch m.kind {
	case '=':
		return s == m.lit
	case '^':
		return strings.HasPrefix(s, m.lit)
	case '$':
		return strings.HasSuffix(s, m.lit)
	case '~':
		return strings.Contains(s, m.lit)
	}
	return m.glob.MatchString(s)
}

type reM struct{ re *regexp.Regexp }

func (m reM) matchValue(s string, _ *view) bool { return m.re.MatchString(s) }

type cidrM struct{ p netip.Prefix }

func (m cidrM) matchValue(s string, v *view) bool {
	a, ok := v.addr(s)
	return ok && m.p.Contains(a)
}

type numM struct {
	op string
	n  float64
}

func (m numM) matchValue(s string, _ *view) bool {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		if i, err2 := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(s), "0x"), 16, 64); err2 == nil && strings.HasPrefix(s, "0x") {
			f = float64(i)
		} else {
			return false
		}
	}
	switch m.op {
	case "gt":
		return f > m.n
	case "gte":
		return f >= m.n
	case "lt":
		return f < m.n
	case "lte":
		return f <= m.n
	}
	return false
}

type fieldrefM struct {
	other string
	kind  byte // '=', '^', '$', '~'
}

func (m fieldrefM) matchValue(s string, v *view) bool {
	for _, o := range v.values(m.other) {
		a, b := v.lower(s), v.lower(o)
		switch m.kind {
		case '^':
			if strings.HasPrefix(a, b) {
				return true
			}
		case '$':
			if strings.HasSuffix(a, b) {
				return true
			}
		case '~':
			if strings.Contains(a, b) {
				return true
			}
		default:
			if a == b {
				return true
			}
		}
	}
	return false
}

// errUnsupported marks rules that use something the engine does not do.
type errUnsupported struct{ what string }

func (e errUnsupported) Error() string { return "unsupported: " + e.what }

// compileSelection turns one named detection item into a matcher.
func compileSelection(name string, def any, cfg *Config) (matcher, error) {
	switch d := def.(type) {
	case map[string]any:
		return compileMap(d, cfg)
	case []any:
		// A list of maps is OR of maps; a list of scalars is a keyword list.
		if len(d) > 0 {
			if _, isMap := d[0].(map[string]any); isMap {
				var or orM
				for _, x := range d {
					m, ok := x.(map[string]any)
					if !ok {
						return nil, fmt.Errorf("selection %s mixes maps and values", name)
					}
					cm, err := compileMap(m, cfg)
					if err != nil {
						return nil, err
					}
					or = append(or, cm)
				}
				return or, nil
			}
		}
		// Keywords are searched anywhere in the event: contains semantics.
		vals, err := compileValues(d, []string{"contains"}, cfg)
		if err != nil {
			return nil, err
		}
		return newKeywordM(vals, false), nil
	case string, int, int64, uint64, float64:
		vals, err := compileValues([]any{d}, []string{"contains"}, cfg)
		if err != nil {
			return nil, err
		}
		return newKeywordM(vals, false), nil
	}
	return nil, fmt.Errorf("selection %s has unsupported shape %T", name, def)
}

func compileMap(m map[string]any, cfg *Config) (matcher, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var and andM
	for _, k := range keys {
		fm, err := compileField(k, m[k], cfg)
		if err != nil {
			return nil, err
		}
		and = append(and, fm)
	}
	return and, nil
}

func compileField(key string, val any, cfg *Config) (matcher, error) {
	parts := strings.Split(key, "|")
	field := parts[0]
	mods := parts[1:]
	fm := &fieldM{field: field}
	var list []any
	switch x := val.(type) {
	case []any:
		list = x
	case nil:
		if len(mods) == 0 {
			fm.null = true
			return fm, nil
		}
		list = []any{""}
	default:
		list = []any{x}
	}
	if field == "" {
		// "|all" without a field: keywords that must all appear, searched
		// anywhere like a keyword list (contains, unless a modifier says
		// otherwise).
		vals, err := compileValues(list, append([]string{"contains"}, mods...), cfg)
		if err != nil {
			return nil, err
		}
		return newKeywordM(vals, slices.Contains(mods, "all")), nil
	}
	for _, md := range mods {
		switch md {
		case "all":
			fm.all = true
		case "exists":
			b := true
			if len(list) == 1 {
				switch x := list[0].(type) {
				case bool:
					b = x
				case string:
					b = strings.EqualFold(x, "true") || strings.EqualFold(x, "yes")
				}
			}
			fm.exists = &b
			return fm, nil
		}
	}
	vals, err := compileValues(list, mods, cfg)
	if err != nil {
		return nil, err
	}
	fm.values = vals
	return fm, nil
}

// compileValues applies value modifiers to a list of values.
func compileValues(list []any, mods []string, cfg *Config) ([]valueM, error) {
	var kind byte = '='
	cased, isRe, cidr, fieldref, windash := false, false, false, false, false
	var num string
	var encodings []string // transformations in order
	reFlags := ""
	for _, md := range mods {
		switch md {
		case "contains":
			kind = '~'
		case "startswith":
			kind = '^'
		case "endswith":
			kind = '$'
		case "all":
		case "cased":
			cased = true
		case "re":
			isRe = true
		case "i":
			reFlags += "i"
		case "m":
			reFlags += "m"
		case "s":
			reFlags += "s"
		case "cidr":
			cidr = true
		case "fieldref":
			fieldref = true
		case "windash":
			windash = true
		case "gt", "gte", "lt", "lte":
			num = md
		case "base64", "base64offset", "wide", "utf16le", "utf16be", "utf16":
			encodings = append(encodings, md)
		case "expand":
			expanded, err := cfg.expand(list)
			if err != nil {
				return nil, err
			}
			list = expanded
		default:
			return nil, errUnsupported{"modifier |" + md}
		}
	}
	var out []valueM
	for _, raw := range list {
		s, err := scalarString(raw)
		if err != nil {
			return nil, err
		}
		switch {
		case num != "":
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("|%s needs a number, got %q", num, s)
			}
			out = append(out, numM{op: num, n: f})
			continue
		case fieldref:
			out = append(out, fieldrefM{other: s, kind: kind})
			continue
		case cidr:
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("|cidr: %v", err)
			}
			out = append(out, cidrM{p: p.Masked()})
			continue
		case isRe:
			flags := reFlags
			if flags != "" {
				s = "(?" + flags + ")" + s
			}
			re, err := regexp.Compile(s)
			if err != nil {
				return nil, fmt.Errorf("|re: %v", err)
			}
			out = append(out, reM{re})
			continue
		}
		variants := []string{s}
		if windash {
			variants = windashVariants(s)
		}
		for _, enc := range encodings {
			var next []string
			for _, vv := range variants {
				next = append(next, encode(enc, vv)...)
			}
			variants = next
		}
		for _, vv := range variants {
			sm, err := newStrM(vv, kind, cased || len(encodings) > 0)
			if err != nil {
				return nil, err
			}
			out = append(out, sm)
		}
	}
	return out, nil
}

func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("value of type %T", v)
}

// windashVariants: a dash at the start of a word may be any of Windows' flag characters.
func windashVariants(s string) []string {
	dashes := []string{"-", "/", "–", "—", "―"}
	out := []string{""}
	for i := 0; i < len(s); i++ {
		if s[i] == '-' && (i == 0 || s[i-1] == ' ') {
			var next []string
			for _, o := range out {
				for _, d := range dashes {
					next = append(next, o+d)
				}
			}
			out = next
			continue
		}
		for j := range out {
			out[j] += string(s[i])
		}
	}
	return out
}

func encode(enc, s string) []string {
	switch enc {
	case "wide", "utf16le":
		return []string{string(utf16Bytes(s, false))}
	case "utf16be":
		return []string{string(utf16Bytes(s, true))}
	case "utf16":
		return []string{"\xff\xfe" + string(utf16Bytes(s, false))}
	case "base64":
		return []string{base64.StdEncoding.EncodeToString([]byte(s))}
	case "base64offset":
		// The three encodings of s at byte offsets 0, 1, 2 inside a longer
		// base64 string, trimmed to the characters that do not depend on neighbours.
		var out []string
		for i := 0; i < 3; i++ {
			enc := base64.StdEncoding.EncodeToString(append(make([]byte, i), s...))
			start := []int{0, 2, 3}[i]
			end := len(enc) - []int{0, 3, 2}[(len(s)+i)%3]
			if start < end {
				out = append(out, enc[start:end])
			}
		}
		return out
	}
	return []string{s}
}

func utf16Bytes(s string, be bool) []byte {
	u := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2*len(u))
	for _, c := range u {
		if be {
			out = append(out, byte(c>>8), byte(c))
		} else {
			out = append(out, byte(c), byte(c>>8))
		}
	}
	return out
}

// newStrM compiles a Sigma string value: * and ? are wildcards, \* \? \\ escapes.
func newStrM(s string, kind byte, cased bool) (*strM, error) {
	var lit strings.Builder
	hasWild := false
	var re strings.Builder
	re.WriteString("^")
	if kind == '~' || kind == '$' {
		re.WriteString(".*")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			lit.WriteByte(s[i+1])
			re.WriteString(regexp.QuoteMeta(string(s[i+1])))
			i++
		case c == '*':
			hasWild = true
			re.WriteString(".*")
		case c == '?':
			hasWild = true
			re.WriteString(".")
		default:
			lit.WriteByte(c)
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	if kind == '~' || kind == '^' {
		re.WriteString(".*")
	}
	re.WriteString("$")
	m := &strM{kind: kind, cased: cased}
	if hasWild {
		expr := re.String()
		if !cased {
			expr = "(?s)" + strings.ToLower(expr)
		} else {
			expr = "(?s)" + expr
		}
		g, err := regexp.Compile(expr)
		if err != nil {
			return nil, err
		}
		m.kind, m.glob = '*', g
		return m, nil
	}
	m.lit = lit.String()
	if !cased {
		m.lit = strings.ToLower(m.lit)
	}
	return m, nil
}
