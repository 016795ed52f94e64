package rootscan

import "github.com/hepsql/hepsql/sqlfuncs"

// The ROOT table functions in the function reference (.help read_root,
// hepsql_functions(), docs/functions.md). Their examples run, as every
// example of the reference, from the folder sqlfuncs/, on a five-event file
// written by `hepsql gen adl --events 5 --seed 1`
// (sqlfuncs/testdata/events.root).

const rootGroup = "ROOT files"

const sourceDoc = "source: a path, a glob ('data/*.root'), a root:// URL (XRootD) or a list of them, read as one chain"

func init() {
	sqlfuncs.Document(
		&sqlfuncs.Function{
			Name: "read_root", Group: rootGroup,
			Summary: "One row per entry of a TTree; " + sourceDoc + ". tree defaults to the file's only top-level tree, else Events; a tree in a directory is named by its path ('dir/sub/tree'). " +
				"Only the branches a query names are read. Jagged branches are lists, fixed arrays ARRAYs, leaf lists and split objects one column per member (dotted names); " +
				"unsupported layouts are left out with a notice (see root_branches). Two more columns: _file and _entry. " +
				"nest := true makes each NanoAOD collection one list of structs, as coffea's NanoEvents: the branches X_y[nX] counted by nX become X STRUCT(y, ...)[] " +
				"(list_filter(Jet, j -> j.pt > 30), unnest(Jet), Jet[1].pt), the counter nX stays; a query naming X reads all of X's branches. " +
				"Remote sources: timeout (default '30s'), retries (2) and readahead ('32MB'). FROM 'f.root' is the same as FROM read_root('f.root'). " +
				"RNTuples read the same way (tree names the RNTuple) when no TTree answers: one column per top-level field, collections as lists, classes as STRUCTs, optionals as NULLs.",
			Forms:   []string{"read_root(source, tree := VARCHAR, nest := BOOLEAN, timeout := VARCHAR, retries := BIGINT, readahead := VARCHAR) → TABLE(one column per supported branch (nest: per collection)…, _file VARCHAR, _entry BIGINT)"},
			Example: `SELECT _entry, nJet, round(MET_pt, 2) AS met, len(Jet_pt) AS jets FROM read_root('testdata/events.root', tree := 'Events') LIMIT 3`,
		},
		&sqlfuncs.Function{
			Name: "root_trees", Group: rootGroup,
			Summary: "The TTrees and RNTuples of every file of source (" + sourceDoc + "), those in directories named by their path ('dir/sub/tree'): their titles, entries, numbers of branches (an RNTuple's top-level fields) and kind ('TTree' or 'RNTuple').",
			Forms:   []string{"root_trees(source) → TABLE(file VARCHAR, tree VARCHAR, title VARCHAR, entries BIGINT, branches BIGINT, kind VARCHAR)"},
			Example: `SELECT tree, title, entries, branches FROM root_trees('testdata/events.root')`,
		},
		&sqlfuncs.Function{
			Name: "root_branches", Group: rootGroup,
			Summary: "The columns read_root makes of a tree's branches: SQL name, ROOT branch and type, SQL type, compressed and uncompressed bytes, baskets, compression; " +
				"supported is false (with the reason in note) for layouts read_root leaves out. For an RNTuple: its top-level fields, their C++ type, and pages for baskets.",
			Forms: []string{"root_branches(source, tree := VARCHAR) → TABLE(file VARCHAR, tree VARCHAR, name VARCHAR, branch VARCHAR, root_type VARCHAR, sql_type VARCHAR, " +
				"compressed_bytes BIGINT, uncompressed_bytes BIGINT, baskets BIGINT, compression VARCHAR, supported BOOLEAN, note VARCHAR)"},
			Example: `SELECT name, root_type, sql_type, supported FROM root_branches('testdata/events.root') WHERE name LIKE 'Muon%' LIMIT 4`,
		},
	)
}
