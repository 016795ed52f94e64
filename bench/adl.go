package bench

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/hepsql/hepsql/engine"
	"github.com/hepsql/hepsql/internal/adlref"
)

// The ADL benchmark's queries are the pipeline files queries/adl/NAME.sql
// (with the function library) and queries/adl/builtin/NAME.sql (DuckDB's
// built-in list functions only), NAME among adlref.Queries(). Each returns
// one histogram as rows (x DOUBLE, y BIGINT).

// LoadADL reads the pipeline file of query name in dir (relative to the
// repository root), substitutes input for ${input} and passes the text
// through rewrite when it is not nil.
func LoadADL(dir, name, input string, rewrite func(string) (string, error)) ([]engine.Statement, error) {
	file := filepath.Join(dir, name+".sql")
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	text := string(src)
	if rewrite != nil {
		if text, err = rewrite(text); err != nil {
			return nil, fmt.Errorf("bench: %s: %w", file, err)
		}
	}
	stmts, err := engine.ParseScript(file, text, map[string]string{"input": input})
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return stmts, nil
}

// RunADL runs the statements on conn and returns the histogram of the last
// statement that returns rows.
func RunADL(ctx context.Context, conn *sql.Conn, file string, stmts []engine.Statement) ([]adlref.Bin, error) {
	var bins []adlref.Bin
	err := engine.RunScriptConn(ctx, conn, stmts, file, func(r engine.Result) error {
		if len(r.Columns) != 2 {
			return fmt.Errorf("want columns x, y, got %s", strings.Join(r.Columns, ", "))
		}
		bins = bins[:0]
		for i, row := range r.Rows {
			x, okx := row[0].(float64)
			y, oky := row[1].(int64)
			if !okx || !oky {
				return fmt.Errorf("row %d: want (DOUBLE, BIGINT), got (%T, %T)", i+1, row[0], row[1])
			}
			bins = append(bins, adlref.Bin{X: x, Y: y})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return bins, nil
}

// BinTolerance is the absolute difference allowed between two bin
// positions: the SQL baseline computes lo + (k + 0.5)·w in DuckDB's
// arithmetic, the library in Go's, and either may round differently in
// the last place. Counts must agree exactly.
const BinTolerance = 1e-9

// CompareBins returns an error describing how got differs from want.
func CompareBins(want, got []adlref.Bin) error {
	if len(want) == 0 {
		return fmt.Errorf("empty histogram")
	}
	if len(got) != len(want) {
		return fmt.Errorf("%d bins, want %d", len(got), len(want))
	}
	var diffs []string
	for i := range want {
		if math.Abs(got[i].X-want[i].X) > BinTolerance || got[i].Y != want[i].Y {
			diffs = append(diffs, fmt.Sprintf("bin %d: (%g, %d), want (%g, %d)", i, got[i].X, got[i].Y, want[i].X, want[i].Y))
		}
	}
	if len(diffs) > 5 {
		diffs = append(diffs[:5], fmt.Sprintf("... %d bins differ", len(diffs)))
	}
	if len(diffs) > 0 {
		return fmt.Errorf("histograms differ: %s", strings.Join(diffs, "; "))
	}
	return nil
}

// Entries is the histogram's total count.
func Entries(bins []adlref.Bin) int64 {
	var n int64
	for _, b := range bins {
		n += b.Y
	}
	return n
}

// Queryer is what Drain runs a statement on: a *sql.DB or a *sql.Conn.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Drain runs text on q and reads every row, for timing a statement whose
// result does not matter.
func Drain(ctx context.Context, q Queryer, text string) error {
	rows, err := q.QueryContext(ctx, text)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}
