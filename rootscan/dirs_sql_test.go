package rootscan_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestNestedDirsAgainstGroot: uproot's nesteddirs file keeps its three
// trees in subdirectories only. root_trees lists them by path with groot's
// entry counts, SELECT * of each (named by path) equals groot's per-entry
// reader on every supported column, and the default tree, chosen among
// the top directory's trees, is an error naming the nested ones.
func TestNestedDirsAgainstGroot(t *testing.T) {
	file := sharedUproot(t, "uproot-nesteddirs.root")
	db := openDB(t)
	rows, err := db.Query(fmt.Sprintf(`SELECT tree, entries FROM root_trees(%s) ORDER BY tree`, quote(file)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for rows.Next() {
		var tree string
		var n int64
		if err := rows.Scan(&tree, &n); err != nil {
			t.Fatal(err)
		}
		got[tree] = n
	}
	rows.Close()
	want := map[string]int64{"one/tree": 4, "one/two/tree": 100, "three/tree": 100}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("root_trees: %v, want %v", got, want)
	}
	for tree := range want {
		if n := compareStarWithGroot(t, file, tree, nil, 0); n == 0 {
			t.Errorf("%s: no column compared", tree)
		}
	}
	var n int64
	err = db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM read_root(%s)`, quote(file))).Scan(&n)
	if err == nil || !strings.Contains(err.Error(), "one/two/tree") {
		t.Errorf("default tree: %d, %v; want an error naming the nested trees", n, err)
	}
}
