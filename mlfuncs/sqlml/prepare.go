package sqlml

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hepsql/hepsql/internal/capi"
)

// decimalType matches DuckDB's name of a DECIMAL type.
var decimalType = regexp.MustCompile(`DECIMAL\(\d+,\d+\)`)

// prepare prepares a query the ML functions read. DECIMAL columns (a
// literal such as [1.5, 2.0] is DECIMAL(2,1)[]), scalars, lists and lists of
// lists alike, are read as DOUBLE: the query is wrapped in one that casts
// them, so that every reader sees only the number types it converts.
func prepare(conn *capi.Conn, query string) (*capi.Stmt, error) {
	st, err := conn.Prepare(query)
	if err != nil {
		return nil, err
	}
	var casts []string
	for i, c := range st.Columns() {
		name := st.TypeName(i)
		if c.Type.ID != capi.Invalid || !decimalType.MatchString(name) {
			continue
		}
		to := decimalType.ReplaceAllString(name, "DOUBLE")
		if strings.Contains(to, "type #") || strings.Contains(to, "STRUCT") || strings.Contains(to, "MAP") {
			continue // left for the caller to refuse, with its type's name
		}
		id := `"` + strings.ReplaceAll(c.Name, `"`, `""`) + `"`
		casts = append(casts, fmt.Sprintf("CAST(%s AS %s) AS %s", id, to, id))
	}
	if len(casts) == 0 {
		return st, nil
	}
	st.Close()
	q := strings.TrimRight(strings.TrimSpace(query), "; \t\n")
	return conn.Prepare("SELECT * REPLACE (" + strings.Join(casts, ", ") + ") FROM (\n" + q + "\n)")
}
