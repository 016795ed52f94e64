package engine

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootscan"
)

func openHepsql(t *testing.T) *sql.DB {
	t.Helper()
	c, err := NewConnector("", &duckdb.Driver{})
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestRunScriptNotices: a pipeline reading go-hep's std-containers tree,
// whose 23 maps and vectors of string sets are unsupported, gets one notice per
// statement that binds it (a CREATE TABLE ... AS included, emitted without
// rows), none for statements that do not, and, for the statement that
// names a map of vectors of vectors, an error naming the branch, its ROOT type and
// why, located where DuckDB points.
func TestRunScriptNotices(t *testing.T) {
	f := filepath.Join(testfiles.GrootTestdata(t), "std-containers-split00.root")
	src := `CREATE TABLE t AS SELECT * FROM read_root('` + f + `');
SELECT count(*) AS n FROM t;
SELECT count(*) AS n FROM read_root('` + f + `');
SELECT _entry,
       map_i32_vec_vec_i16 FROM read_root('` + f + `');
`
	results, err := runFile(t, openHepsql(t), src, nil)
	const notice = `2 unsupported branches of tree "tree" left out of the table (map_i32_vec_vec_i16, map_i32_vec_set_i16): see root_branches()`
	if len(results) != 3 {
		t.Fatalf("got %d results, want 3: %+v", len(results), results)
	}
	if r := results[0]; r.Columns != nil || r.Stmt.Line != 1 || len(r.Notices) != 1 || !strings.HasSuffix(r.Notices[0], notice) {
		t.Errorf("CREATE TABLE AS: %+v", r)
	}
	if r := results[1]; r.Rows[0][0] != int64(2) || len(r.Notices) != 0 {
		t.Errorf("count from the table: %+v", r)
	}
	if r := results[2]; r.Rows[0][0] != int64(2) || len(r.Notices) != 1 || !strings.HasSuffix(r.Notices[0], notice) {
		t.Errorf("count from read_root: %+v", r)
	}
	var se *ScriptError
	var ue *rootscan.UnsupportedColumnError
	if !errors.As(err, &se) || !errors.As(err, &ue) {
		t.Fatalf("error %v: want a *ScriptError explaining the unsupported branch", err)
	}
	for _, want := range []string{`read_root: cannot read branch "map_i32_vec_vec_i16" (TBranchElement map<int,vector<vector<short> > >: C++ type map<int,vector<vector<short>>>)`, "bad.sql:5:", "LINE 5:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nwant it to contain %q", err, want)
		}
	}
}
