//go:build hepsql_extension

// Command hepsql-extension is hepsql as a DuckDB loadable extension,
// hepsql.duckdb_extension: read_root, root_trees, root_branches, the
// replacement scan for '*.root', the HEP function library and the ML
// functions, LOADed into a stock DuckDB (the CLI, Python, Node, R, Java).
// Build it with ./scripts/build-extension, which also appends DuckDB's
// metadata footer (cmd/extfooter); see docs/extension.md.
//
// It is the embedded engine's registration (engine.registerAll) minus what
// needs the embedded DuckDB: COPY TO .root/.png (rootwrite, plotwrite: their
// column names come from DuckDB 1.5.5 internals, internal/capi/copynames.cpp)
// and query contexts (a cancelled query stops at DuckDB's own interrupt,
// between chunks, not inside a blocked remote read).
package main

import (
	"fmt"
	"runtime"

	ddb "github.com/duckdb/duckdb-go-bindings"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/internal/extapi"
	"github.com/hepsql/hepsql/mlfuncs/sqlml"
	_ "github.com/hepsql/hepsql/rootio/xrootd" // root:// sources
	"github.com/hepsql/hepsql/rootscan"
	"github.com/hepsql/hepsql/sqlfuncs"
)

// mlConns is how many connections the ML functions may hold at once (see
// capi.ConnPool: they must be opened during the load).
const mlConns = 8

func main() {} // a c-shared library: DuckDB calls hepsql_init_c_api

func init() { extapi.OnLoad = register }

func register(db ddb.Database) error {
	conn, err := capi.Connect(db)
	if err != nil {
		return err
	}
	defer conn.Close()
	// DuckDB runs one thread per core unless told otherwise.
	capi.ReserveCallbackProcs(runtime.NumCPU())
	if err := rootscan.Register(conn, db, nil, rootscan.Shard{}); err != nil {
		return fmt.Errorf("registering the ROOT reader: %w", err)
	}
	if err := sqlfuncs.Register(conn); err != nil {
		return fmt.Errorf("registering the function library: %w", err)
	}
	pool, err := capi.NewConnPool(db, mlConns)
	if err != nil {
		return fmt.Errorf("opening the ML functions' connections: %w", err)
	}
	if err := sqlml.RegisterConns(conn, pool.Get); err != nil {
		return fmt.Errorf("registering the ML functions: %w", err)
	}
	return nil
}
