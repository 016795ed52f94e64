package xrootd_test

import (
	"fmt"
	"testing"

	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/internal/xrdtest"
)

// TestRNTupleRemote reads an RNTuple through root:// as read_root reads
// it from disk: a chain of the local and the remote copy, root_trees'
// kind, and the same sums from both.
func TestRNTupleRemote(t *testing.T) {
	local := testfiles.Shared(t, "rntuple/test_multiple_cluster_groups_rntuple_v1-0-0-0.root")
	srv := xrdtest.Start(t)
	srv.Put("groups.root", local)
	db := openDB(t, "")
	remote := srv.URL("groups.root")
	var n, sum, vec int64
	q := fmt.Sprintf(`SELECT count(*), sum(one), sum(list_sum(int_vector)) FROM read_root(['%s', '%s'])`, local, remote)
	if err := db.QueryRow(q).Scan(&n, &sum, &vec); err != nil {
		t.Fatal(err)
	}
	// one = 0..999, int_vector = [one, one+1], in each of the two files.
	if n != 2000 || sum != 2*999*1000/2 || vec != 2*(2*999*1000/2+1000) {
		t.Errorf("chain of local and remote: %d rows, sum %d, vector sum %d", n, sum, vec)
	}
	var kind string
	if err := db.QueryRow(fmt.Sprintf(`SELECT kind FROM root_trees('%s')`, remote)).Scan(&kind); err != nil || kind != "RNTuple" {
		t.Errorf("root_trees over root://: %q %v", kind, err)
	}
}
