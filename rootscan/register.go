package rootscan

import (
	"strings"

	ddb "github.com/duckdb/duckdb-go-bindings"

	"github.com/hepsql/hepsql/internal/capi"
)

// Register installs read_root, root_trees and root_branches on conn, and the
// replacement scan that turns FROM 'f.root' into read_root('f.root') on db.
// read_root records in notes (which may be nil) the unsupported branches it
// leaves out of its tables, and reads only shard's part of its sources
// (shard.go; the zero Shard reads everything).
func Register(conn *capi.Conn, db ddb.Database, notes *Notes, shard Shard) error {
	source := capi.Scalar(capi.Any)
	tree := capi.NamedParam{Name: "tree", Type: capi.Scalar(capi.Varchar)}
	// nest := true: NanoAOD collections as lists of structs (see outputs).
	nest := capi.NamedParam{Name: "nest", Type: capi.Scalar(capi.Boolean)}
	// shard := false: every shard reads the whole source (shard.go).
	sharded := capi.NamedParam{Name: "shard", Type: capi.Scalar(capi.Boolean)}
	remote := []capi.NamedParam{ // see SourceOptions
		{Name: "timeout", Type: capi.Scalar(capi.Varchar)},
		{Name: "retries", Type: capi.Scalar(capi.BigInt)},
		{Name: "readahead", Type: capi.Scalar(capi.Varchar)},
	}
	fns := []*capi.TableFunction{
		{Name: "read_root", Params: []capi.Type{source}, Named: append([]capi.NamedParam{tree, nest, sharded}, remote...), Bind: func(a *capi.BindArgs) (capi.Table, error) { return bindReadRoot(a, notes, shard) }},
		{Name: "root_trees", Params: []capi.Type{source}, Bind: bindRootTrees},
		{Name: "root_branches", Params: []capi.Type{source}, Named: []capi.NamedParam{tree}, Bind: bindRootBranches},
	}
	for _, f := range fns {
		if err := conn.RegisterTableFunction(f); err != nil {
			return err
		}
	}
	capi.AddReplacementScan(db, replaceROOTName)
	return nil
}

// replaceROOTName maps table names that look like ROOT files or globs of
// them ('data/*.root', 'root://host//f.root') to read_root.
func replaceROOTName(name string) (string, []string, bool) {
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".root") || strings.HasPrefix(lower, "root://") {
		return "read_root", []string{name}, true
	}
	return "", nil, false
}
