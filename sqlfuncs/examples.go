package sqlfuncs

import (
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// RunExamples runs every example of the reference on db, each after its
// setup statements, and renders each result as text: a header line of
// column names, then one line per row.
func RunExamples(db *sql.DB) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range Reference() {
		for _, s := range f.Setup {
			if _, err := db.Exec(s); err != nil {
				return nil, fmt.Errorf("sqlfuncs: example of %s: setup %q: %w", f.Name, s, err)
			}
		}
		text, err := runExample(db, f.Example)
		if err != nil {
			return nil, fmt.Errorf("sqlfuncs: example of %s: %w", f.Name, err)
		}
		out[f.Name] = text
	}
	return out, nil
}

func runExample(db *sql.DB, query string) (string, error) {
	rows, err := db.Query(query)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(strings.Join(cols, " | ") + "\n")
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = formatValue(v)
		}
		b.WriteString(strings.Join(cells, " | ") + "\n")
	}
	return b.String(), rows.Err()
}

// formatValue prints floats with 6 significant digits, lists in brackets
// and structs with sorted keys, so the rendering is stable.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case float64:
		return strconv.FormatFloat(x, 'g', 6, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', 6, 32)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + formatValue(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}
