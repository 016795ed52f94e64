package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/hepsql/hepsql/bench"
)

// The reading-only variant (r) reads exactly the branches that (a)'s plan
// projects from read_root, and nothing else: each column goes into a
// count(), which DuckDB cannot answer without the scan producing it (table
// function columns carry no NOT NULL), and rootscan has no filter
// pushdown, so (a) reads and inflates every basket of these branches too.
// Its time is thus what (a) pays before any physics, up to a count per
// value; c/r is the largest c/a that free physics would give.

// projections returns, per read_root scan in the plan of query, the
// columns it projects, found through EXPLAIN (FORMAT json).
func projections(ctx context.Context, conn *sql.Conn, query string) ([][]string, error) {
	var key, plan string
	if err := conn.QueryRowContext(ctx, "EXPLAIN (FORMAT json) "+query).Scan(&key, &plan); err != nil {
		return nil, fmt.Errorf("explaining the query: %w", err)
	}
	type node struct {
		Name      string          `json:"name"`
		Children  []node          `json:"children"`
		ExtraInfo json.RawMessage `json:"extra_info"`
	}
	var roots []node
	if err := json.Unmarshal([]byte(plan), &roots); err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	var scans [][]string
	var walk func(n node) error
	walk = func(n node) error {
		if n.Name == "READ_ROOT" {
			var info struct {
				Projections json.RawMessage `json:"Projections"`
			}
			if err := json.Unmarshal(n.ExtraInfo, &info); err != nil {
				return fmt.Errorf("reading the scan's projections: %w", err)
			}
			// One column is written as a string, several as a list.
			var cols []string
			if err := json.Unmarshal(info.Projections, &cols); err != nil {
				var one string
				if err := json.Unmarshal(info.Projections, &one); err != nil || one == "" {
					return fmt.Errorf("scan projections %s: want a name or a list of names", info.Projections)
				}
				cols = []string{one}
			}
			scans = append(scans, cols)
		}
		for _, c := range n.Children {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range roots {
		if err := walk(r); err != nil {
			return nil, err
		}
	}
	if len(scans) == 0 {
		return nil, fmt.Errorf("no read_root scan in the plan")
	}
	return scans, nil
}

// readOnlyQueries returns one query per read_root scan of query (the
// library's), each reading that scan's columns from input, after checking
// that its plan projects the same columns.
func readOnlyQueries(ctx context.Context, conn *sql.Conn, query, input string) ([]string, error) {
	scans, err := projections(ctx, conn, query)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, cols := range scans {
		var aggs []string
		for _, c := range cols {
			aggs = append(aggs, fmt.Sprintf(`count("%s")`, strings.ReplaceAll(c, `"`, `""`)))
		}
		q := fmt.Sprintf("SELECT %s FROM read_root(%s)", strings.Join(aggs, ", "), bench.QuoteString(input))
		got, err := projections(ctx, conn, q)
		if err != nil {
			return nil, err
		}
		if len(got) != 1 || !sameSet(got[0], cols) {
			return nil, fmt.Errorf("reading-only query projects %v, the library's scan %v", got, cols)
		}
		out = append(out, q)
	}
	return out, nil
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// runReadOnly runs the queries and reads their rows.
func runReadOnly(ctx context.Context, conn *sql.Conn, queries []string) error {
	for _, q := range queries {
		if err := bench.Drain(ctx, conn, q); err != nil {
			return err
		}
	}
	return nil
}
