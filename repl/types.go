package repl

import "strings"

// typeInfo is the shape of a DuckDB type name, parsed just deep enough to
// print nested values: the driver returns STRUCTs as Go maps, which lose the
// field order that only the type name still carries.
type typeInfo struct {
	name     string      // upper-case base name: "INTEGER", "STRUCT", "LIST", "DECIMAL", ...
	elem     *typeInfo   // LIST and ARRAY element type
	fields   []fieldInfo // STRUCT and UNION members, in declaration order
	key, val *typeInfo   // MAP key and value types
}

type fieldInfo struct {
	name string
	typ  *typeInfo
}

// parseType parses names such as `STRUCT("px" DOUBLE, "tags" VARCHAR[])[]`.
// It never fails: anything it does not understand is kept as a scalar name.
func parseType(s string) *typeInfo {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "]") {
		if i := strings.LastIndexByte(s, '['); i > 0 {
			return &typeInfo{name: "LIST", elem: parseType(s[:i])}
		}
	}
	open := strings.IndexByte(s, '(')
	if open < 0 || !strings.HasSuffix(s, ")") {
		return &typeInfo{name: strings.ToUpper(s)}
	}
	t := &typeInfo{name: strings.ToUpper(strings.TrimSpace(s[:open]))}
	parts := splitTopLevel(s[open+1 : len(s)-1])
	switch t.name {
	case "STRUCT", "UNION":
		for _, p := range parts {
			if !strings.HasPrefix(strings.TrimSpace(p), `"`) { // unnamed: STRUCT(INTEGER, INTEGER)
				t.fields = append(t.fields, fieldInfo{"", parseType(p)})
				continue
			}
			name, rest := fieldName(p)
			t.fields = append(t.fields, fieldInfo{name, parseType(rest)})
		}
	case "MAP":
		if len(parts) == 2 {
			t.key, t.val = parseType(parts[0]), parseType(parts[1])
		}
	}
	return t
}

// splitTopLevel splits s at commas outside parentheses and double quotes.
func splitTopLevel(s string) []string {
	var parts []string
	depth, start, quoted := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted // a doubled quote toggles twice: still right
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// fieldName splits `"name" TYPE` or `name TYPE` into name and type.
func fieldName(p string) (name, rest string) {
	p = strings.TrimSpace(p)
	if !strings.HasPrefix(p, `"`) {
		name, rest, _ = strings.Cut(p, " ")
		return name, rest
	}
	var b strings.Builder
	for i := 1; i < len(p); i++ {
		if p[i] != '"' {
			b.WriteByte(p[i])
			continue
		}
		if i+1 < len(p) && p[i+1] == '"' {
			b.WriteByte('"')
			i++
			continue
		}
		return b.String(), p[i+1:]
	}
	return b.String(), ""
}

// isNumeric reports whether values of t are numbers, which tables align right.
func (t *typeInfo) isNumeric() bool {
	switch t.name {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
		"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
		"FLOAT", "DOUBLE", "DECIMAL":
		return true
	}
	return false
}

// member returns the type of a STRUCT's i-th field, if known.
func (t *typeInfo) member(i int) *typeInfo {
	if t != nil && i < len(t.fields) {
		return t.fields[i].typ
	}
	return nil
}

// field returns the type of the named STRUCT or UNION member, if known.
func (t *typeInfo) field(name string) *typeInfo {
	if t != nil {
		for _, f := range t.fields {
			if f.name == name {
				return f.typ
			}
		}
	}
	return nil
}
