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
// left out on stderr after the statement's result, and a statement naming
// one of them fails with the error naming its ROOT type and why (not with
// the notice again); `SELECT *` lists the supported columns.
func TestNotices(t *testing.T) {
	f := filepath.Join(testfiles.GrootTestdata(t), "small-evnt-tree-fullsplit.root")
	db, err := hepsql.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	input := "SELECT count(*) AS n FROM '" + f + "';\n" +
		"SELECT count(*) AS c FROM (DESCRIBE SELECT * FROM '" + f + "');\n" +
		"SELECT \"evt.SliceF64\" FROM '" + f + "';\n"
	var out, errOut bytes.Buffer
	err = New(db, Options{In: strings.NewReader(input), Out: &out, Err: &errOut, Mode: ModeCSV, NoTimer: true}).Run(context.Background())
	if !errors.Is(err, ErrFailed) {
		t.Errorf("err = %v, want ErrFailed", err)
	}
	// 41 branches, 8 of them unsupported, then _file and _entry.
	if out.String() != "n\n100\n\nc\n35\n" {
		t.Errorf("stdout = %q", out.String())
	}
	notice := "Notice: read_root: " + f + `: 8 unsupported branches of tree "tree" left out of the table (evt.SliceI16, evt.SliceI32, evt.SliceI64, evt.SliceU16, evt.SliceU32, ...): see root_branches()` + "\n"
	lines := strings.SplitAfter(errOut.String(), "\n")
	if len(lines) < 3 || lines[0] != notice || lines[1] != notice ||
		!strings.HasPrefix(lines[2], `Error: read_root: cannot read branch "evt.SliceF64" (TBranchElement double*: pointer member double*)`) ||
		strings.Count(errOut.String(), "Notice:") != 2 {
		t.Errorf("stderr = %q", errOut.String())
	}
}
