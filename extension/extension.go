// Package extension builds hepsql.duckdb_extension (scripts/build-extension,
// cmd/hepsql-extension) and runs SQL in a stock DuckDB that has loaded it:
// Node's @duckdb/node-api (installed by scripts/test into nodetest/), the
// peer that this package's tests and bench/cmd/extbench compare the
// embedded engine with.
package extension

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Build runs scripts/build-extension in the repository at root, writing the
// extension to out.
func Build(ctx context.Context, root, out string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "build-extension"), out)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("extension: scripts/build-extension %s: %v\n%s", out, err, stderr.Bytes())
	}
	return nil
}

// Query is one named query: statements run in order, the rows of the
// last one that returns any are the result.
type Query struct {
	Name       string   `json:"name"`
	Statements []string `json:"statements"`
}

// Result is a query's result in Node's DuckDB.
type Result struct {
	Name      string              `json:"name"`
	Columns   []string            `json:"columns"`
	Rows      [][]json.RawMessage `json:"rows"`   // getRowsJson: BIGINT as strings, DOUBLE as numbers
	Millis    []float64           `json:"ms"`     // each run's wall time
	CPUMillis []float64           `json:"cpu_ms"` // the process's CPU time (all threads) during each run
	Error     string              `json:"error"`  // a failed statement's message
}

// Response is what a run of the Node script gives back.
type Response struct {
	DuckDB    string   `json:"duckdb"`     // the host's version()
	LoadError string   `json:"load_error"` // why the LOAD failed; then no query ran
	Results   []Result `json:"results"`
}

// ErrNoNode is returned (wrapped) by Node.Run when node or the npm package
// is missing: scripts/test installs them.
var ErrNoNode = errors.New("node or the npm packages of extension/nodetest not installed (run: cd extension/nodetest && npm install)")

// NodeDir is the folder holding the Node script and its npm package.
func NodeDir(root string) string { return filepath.Join(root, "extension", "nodetest") }

// LoadError is the host's error for a failed LOAD.
type LoadError struct{ Msg string }

func (e *LoadError) Error() string { return e.Msg }

// Refusing is the npm package (an alias in nodetest/package.json) of a
// DuckDB the extension must refuse to load into, with an error: 1.4.4.
const Refusing = "duckdb-1.4.4"

// Hosts are the npm packages of nodetest/package.json, each shipping a
// stock DuckDB: @duckdb/node-api 1.5.6-r.1 (DuckDB 1.5.6) and, under the
// alias duckdb-1.5.5, 1.5.5-r.5 (DuckDB 1.5.5).
var Hosts = []string{"@duckdb/node-api", "duckdb-1.5.5"}

// Node is a stock DuckDB in Node.
type Node struct {
	Root    string // the repository
	Package string // one of Hosts; "" is @duckdb/node-api
	Threads int    // DuckDB's threads setting; 0: its default (one per core)
	Runs    int    // how many times each query runs (timings); 0: once
}

// Run loads the extension at ext into a fresh in-memory DuckDB of n and
// runs the queries.
func (n Node) Run(ctx context.Context, ext string, queries []Query) (*Response, error) {
	dir := NodeDir(n.Root)
	pkg := n.Package
	if pkg == "" {
		pkg = Hosts[0]
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("extension: %w: %v", ErrNoNode, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(pkg), "package.json")); err != nil {
		return nil, fmt.Errorf("extension: %w: %v", ErrNoNode, err)
	}
	abs, err := filepath.Abs(ext)
	if err != nil {
		return nil, err
	}
	req, err := json.Marshal(map[string]any{"extension": abs, "package": pkg, "threads": n.Threads, "runs": max(n.Runs, 1), "queries": queries})
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "node", "run.mjs")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("extension: node run.mjs with %s: %v\n%s", ext, err, stderr.Bytes())
	}
	var resp Response
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		return nil, fmt.Errorf("extension: node's output: %w", err)
	}
	if resp.LoadError != "" {
		return &resp, fmt.Errorf("extension: LOAD into Node's DuckDB %s: %w", resp.DuckDB, &LoadError{resp.LoadError})
	}
	if len(resp.Results) != len(queries) {
		return nil, fmt.Errorf("extension: node gave %d results for %d queries", len(resp.Results), len(queries))
	}
	return &resp, nil
}
