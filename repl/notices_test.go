package repl

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/internal/testfiles"
)

// TestNotices: the shell shows read_root's notice about the branches it
// left out on stderr after the statement's result, once a session (the
// second statement over the same file says nothing), and a statement naming
// one of them fails with the error naming its ROOT type and why (not with
// the notice again); `SELECT *` lists the supported columns.
func TestNotices(t *testing.T) {
	f := filepath.Join(testfiles.GrootTestdata(t), "std-containers-split00.root")
	db, err := hepsql.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	input := "SELECT count(*) AS n FROM '" + f + "';\n" +
		"SELECT count(*) AS c FROM (DESCRIBE SELECT * FROM '" + f + "');\n" +
		"SELECT map_i32_vec_set_i16 FROM '" + f + "';\n"
	var out, errOut bytes.Buffer
	err = New(db, Options{In: strings.NewReader(input), Out: &out, Err: &errOut, Mode: ModeCSV, NoTimer: true}).Run(context.Background())
	if !errors.Is(err, ErrFailed) {
		t.Errorf("err = %v, want ErrFailed", err)
	}
	// 40 branches, 2 of them unsupported (maps of nested containers),
	// then _file and _entry.
	if out.String() != "n\n2\n\nc\n40\n" {
		t.Errorf("stdout = %q", out.String())
	}
	notice := "Notice: read_root: " + f + `: 2 unsupported branches of tree "tree" left out of the table (map_i32_vec_vec_i16, map_i32_vec_set_i16): see root_branches()` + "\n"
	lines := strings.SplitAfter(errOut.String(), "\n")
	if len(lines) < 2 || lines[0] != notice ||
		!strings.HasPrefix(lines[1], `Error: read_root: cannot read branch "map_i32_vec_set_i16" (TBranchElement map<int,vector<set<short> > >: C++ type map<int,vector<set<short>>>)`) ||
		strings.Count(errOut.String(), "Notice:") != 1 {
		t.Errorf("stderr = %q", errOut.String())
	}
}
