package columns

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/exfiltrace/exfiltrace/index"
)

// The query language (index.ParseQueryString) rendered as SQL over the
// columnar store, with the matching rules of index.Fields: Keyword exactly,
// Name case-insensitively, Number and Timestamp by range, lists by any
// element; * and ? are wildcards. Every searchable field has a typed column
// (a test holds it so); `top` may also rank or sum a field without one, read
// from the event's other fields (the "fields" JSON of event_fields).
// Free-text terms are not SQL: the caller resolves each to the set of event
// ids the full-text index matches (textSet).

// listColumns hold several values joined by commas; the others one value.
var listColumns = map[string]bool{"event.category": true, "event.type": true, "email.to.address": true}

// fieldName is what a field name may be: it is written into SQL as a column
// name or a JSON path.
var fieldName = regexp.MustCompile(`^[A-Za-z0-9_@][A-Za-z0-9_@.\-]*$`)

func hasColumn(name string) bool {
	for _, c := range Columns {
		if c.name == name && c.get != nil {
			return true
		}
	}
	return false
}

// jsonPath is the JSON path of a field among the remaining fields.
func jsonPath(field string) string { return `'$."` + field + `"'` }

// values is a field's values as a VARCHAR list (NULL elements when absent):
// lists split, numbers and booleans in their decimal and true/false forms.
func values(field string) string {
	if hasColumn(field) {
		col := "CAST(" + quote(field) + " AS VARCHAR)"
		if listColumns[field] {
			return "string_split(" + col + ", ',')"
		}
		return "[" + col + "]"
	}
	p := jsonPath(field)
	return "(CASE WHEN json_type(fields, " + p + ") = 'ARRAY' THEN json_extract_string(fields, " + strings.TrimSuffix(p, `'`) + `[*]'` +
		") ELSE [json_extract_string(fields, " + p + ")] END)"
}

// number is a field as a number (NULL when absent or not a number).
func number(field string) string {
	if hasColumn(field) {
		return quote(field)
	}
	return "TRY_CAST(json_extract_string(fields, " + jsonPath(field) + ") AS BIGINT)"
}

// present is the condition that an event carries the field.
func present(field string) string { return quote(field) + " IS NOT NULL" }

// fieldKind is how a query term on field matches, or an error naming the
// fields that can be searched.
func fieldKind(field string) (string, error) {
	if field == "event.id" {
		return index.Keyword, nil
	}
	kind, ok := index.Fields[field]
	if !ok || !fieldName.MatchString(field) {
		return "", fmt.Errorf("field %q is not indexed (indexed fields: %s)", field, strings.Join(index.IndexedFields(), ", "))
	}
	return kind, nil
}

// where renders a parsed query as a SQL condition with its arguments;
// textSet turns a free-text term into a condition on event.id.
func where(n *index.Node, textSet func(*index.Node) (string, error)) (string, []any, error) {
	if n == nil {
		return "TRUE", nil, nil
	}
	switch n.Op {
	case "and", "or":
		var parts []string
		var args []any
		for _, c := range n.Children {
			s, a, err := where(c, textSet)
			if err != nil {
				return "", nil, err
			}
			parts = append(parts, "("+s+")")
			args = append(args, a...)
		}
		return strings.Join(parts, " "+strings.ToUpper(n.Op)+" "), args, nil
	case "not":
		s, a, err := where(n.Children[0], textSet)
		return "NOT coalesce((" + s + "), FALSE)", a, err
	}
	if index.IsTextTerm(n) {
		s, err := textSet(n)
		return s, nil, err
	}
	return term(n)
}

// term renders one term on a field that is not free text.
func term(n *index.Node) (string, []any, error) {
	field := n.Field
	kind, err := fieldKind(field)
	if err != nil {
		return "", nil, err
	}
	v := n.Value
	if n.Cmp != "" {
		v = strings.Trim(v, `"`) // field:>="2025-03-14T22:00:00Z"
	}
	if v == "*" && !n.Phrase {
		return present(field), nil, nil
	}
	switch kind {
	case index.Number:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return "", nil, fmt.Errorf("%s is numeric; %q is not a number", field, v)
		}
		return number(field) + " " + sqlCmp(n.Cmp) + " ?", []any{f}, nil
	case index.Timestamp:
		t, err := index.ParseQueryTime(v)
		if err != nil {
			return "", nil, fmt.Errorf("%s: %v", field, err)
		}
		// Every event's query time is within the column's range: a time
		// outside it is before or after all of them (and DuckDB refuses
		// it as a parameter).
		if t.Before(index.MinQueryTime) || t.After(index.MaxQueryTime) {
			after := t.Before(index.MinQueryTime) // every event is after t
			if n.Cmp == ">" || n.Cmp == ">=" {
				if after {
					return present(field), nil, nil
				}
			} else if (n.Cmp == "<" || n.Cmp == "<=") && !after {
				return present(field), nil, nil
			}
			return "FALSE", nil, nil
		}
		return quote(field) + " " + sqlCmp(n.Cmp) + " ?", []any{t}, nil
	}
	if n.Cmp != "" {
		return "", nil, fmt.Errorf("%s is not numeric or a time; %s cannot be used on it", field, n.Cmp)
	}
	op, arg := "= ?", any(v)
	if strings.ContainsAny(v, "*?") && !n.Phrase {
		op, arg = "LIKE ? ESCAPE '\\'", likePattern(v)
	}
	if kind == index.Name {
		arg = strings.ToLower(arg.(string))
	}
	if hasColumn(field) && !listColumns[field] {
		expr := "CAST(" + quote(field) + " AS VARCHAR)"
		if kind == index.Name {
			expr = "lower(" + expr + ")"
		}
		return expr + " " + op, []any{arg}, nil
	}
	x := "x"
	if kind == index.Name {
		x = "lower(x)"
	}
	return "len(list_filter(" + values(field) + ", x -> " + x + " " + op + ")) > 0", []any{arg}, nil
}

func sqlCmp(c string) string {
	if c == "" {
		return "="
	}
	return c
}

// likePattern turns the query's * and ? wildcards into LIKE's % and _.
func likePattern(v string) string {
	r := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`, "*", "%", "?", "_")
	return r.Replace(v)
}
