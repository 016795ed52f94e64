package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/engine"
	"github.com/hepsql/hepsql/gen/topology"
	"github.com/hepsql/hepsql/internal/testfiles"
)

const queriesDir = "../../queries"

// hepsqlRun runs the command in-process and fails the test unless it
// exits with want.
func hepsqlRun(t *testing.T, want int, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), args, strings.NewReader(""), &out, &errOut); code != want {
		t.Fatalf("hepsql %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out.String(), errOut.String())
	}
	return out.String() + errOut.String()
}

// runShards runs file as shards 0 … n-1, each a separate database.
func runShards(t *testing.T, file string, n int, sets ...string) {
	t.Helper()
	for k := range n {
		args := []string{"run", file, "--shard", fmt.Sprintf("%d/%d", k, n), "--threads", "2", "--mode", "csv"}
		for _, s := range sets {
			args = append(args, "--set", s)
		}
		hepsqlRun(t, 0, args...)
	}
}

// queryRows runs a query and returns its rows as printed strings.
func queryRows(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// onePipeline runs a one-process pipeline file with params on db and
// returns the rows of its last result.
func onePipeline(t *testing.T, db *sql.DB, path string, params map[string]string) []string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := engine.ParseScript(path, string(src), params)
	if err != nil {
		t.Fatal(err)
	}
	var last []string
	if err := engine.RunScript(context.Background(), db, stmts, path, func(r engine.Result) error {
		last = last[:0]
		for _, row := range r.Rows {
			last = append(last, fmt.Sprint(row...))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return last
}

// TestShardedADL runs queries/adl/sharded over the CMS sample, as one file
// cut into entry ranges and as a chain of copies split by whole files,
// merges the parts, and checks every histogram bin against the
// one-process queries/adl/qN.sql.
func TestShardedADL(t *testing.T) {
	cms := testfiles.CMSSample(t)
	chain := t.TempDir()
	for i := range 9 {
		abs, _ := filepath.Abs(cms)
		if err := os.Symlink(abs, filepath.Join(chain, fmt.Sprintf("cms_%d.root", i))); err != nil {
			t.Fatal(err)
		}
	}
	db, err := hepsql.Open("?threads=2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		input  string
		shards int
	}{{cms, 3}, {filepath.Join(chain, "*.root"), 2}} {
		out := t.TempDir()
		runShards(t, filepath.Join(queriesDir, "adl", "sharded", "shard.sql"), c.shards, "input="+c.input, "out="+out)
		hepsqlRun(t, 0, "run", filepath.Join(queriesDir, "adl", "sharded", "merge.sql"), "--set", "out="+out, "--set", fmt.Sprint("shards=", c.shards))
		checkADLMerged(t, db, out, c.input, c.shards)
	}
}

// checkADLMerged compares the merged histograms in out/adl.parquet with
// the one-process queries/adl/qN.sql over input, bin by bin.
func checkADLMerged(t *testing.T, db *sql.DB, out, input string, shards int) {
	t.Helper()
	for _, q := range []string{"q1", "q2", "q3", "q4", "q5", "q6-1", "q6-2", "q7", "q8"} {
		want := onePipeline(t, db, filepath.Join(queriesDir, "adl", q+".sql"), map[string]string{"input": input})
		got := queryRows(t, db, fmt.Sprintf(`SELECT x, y FROM read_parquet('%s/adl.parquet') WHERE query = '%s' ORDER BY x`, out, q))
		if len(want) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s over %s in %d shards: merged bins\n%v\nwant (one process)\n%v", q, input, shards, got, want)
		}
	}
}

// TestShardedMergeRefusesPartialInput: a shard that fails leaves no part
// (its part is written last, through a temporary file), the other parts
// stay valid, and the merge refuses to run until the missing shard is
// rerun alone.
func TestShardedMergeRefusesPartialInput(t *testing.T) {
	out := t.TempDir()
	shard := filepath.Join(queriesDir, "adl", "sharded", "shard.sql")
	merge := filepath.Join(queriesDir, "adl", "sharded", "merge.sql")
	input := "input=" + testfiles.CMSSample(t)
	runShards(t, shard, 1, input, "out="+out) // part-0 of a one-shard run…
	hepsqlRun(t, 0, "run", shard, "--shard", "0/3", "--set", input, "--set", "out="+out)
	hepsqlRun(t, 1, "run", shard, "--shard", "1/3", "--set", "input=/nonexistent/x.root", "--set", "out="+out)
	hepsqlRun(t, 0, "run", shard, "--shard", "2/3", "--set", input, "--set", "out="+out)
	if _, err := os.Stat(filepath.Join(out, "part-1.parquet")); !os.IsNotExist(err) {
		t.Fatalf("the failed shard left a part: %v", err)
	}
	msg := hepsqlRun(t, 1, "run", merge, "--set", "out="+out, "--set", "shards=3")
	if !strings.Contains(msg, "2 of the 3 parts") {
		t.Errorf("merge over 2 of 3 parts said %q, want it to name the missing part", msg)
	}
	if _, err := os.Stat(filepath.Join(out, "adl.parquet")); !os.IsNotExist(err) {
		t.Fatalf("the merge wrote a result from partial input: %v", err)
	}
	hepsqlRun(t, 0, "run", shard, "--shard", "1/3", "--set", input, "--set", "out="+out)
	msg = hepsqlRun(t, 0, "run", merge, "--set", "out="+out, "--set", "shards=3", "--mode", "csv")
	if !strings.Contains(msg, "q1,10000,") {
		t.Errorf("merge after the rerun printed\n%s\nwant q1 with all 10000 events", msg)
	}
}

// TestShardedTopologyFeatures runs the topology feature step sharded and
// merged, and checks its outputs against the one-process
// queries/topology/1-features.sql: the same events per class, the same
// feature rows (every column, by event id).
func TestShardedTopologyFeatures(t *testing.T) {
	in := t.TempDir()
	if _, err := topology.Generate(topology.Options{Events: 1500, Seed: 5, OutDir: in, EventsPerFile: 250}); err != nil {
		t.Fatal(err)
	}
	db, err := hepsql.Open("?threads=2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	one := t.TempDir()
	onePipeline(t, db, filepath.Join(queriesDir, "topology", "1-features.sql"), map[string]string{"in": in, "out": one})
	for _, shards := range []int{2, 5} { // 6 files: entry ranges across files; 5 shards: some cut inside files
		out := t.TempDir()
		runShards(t, filepath.Join(queriesDir, "topology", "sharded", "1-features.sql"), shards, "in="+in, "out="+out)
		hepsqlRun(t, 0, "run", filepath.Join(queriesDir, "topology", "sharded", "merge.sql"), "--set", "out="+out, "--set", fmt.Sprint("shards=", shards))
		for _, f := range []string{"generated.parquet", "features.parquet"} {
			a, b := filepath.Join(one, f), filepath.Join(out, f)
			counts := queryRows(t, db, fmt.Sprintf(`SELECT
				(SELECT count(*) FROM read_parquet('%[1]s')), (SELECT count(*) FROM read_parquet('%[2]s')),
				(SELECT count(*) FROM (FROM read_parquet('%[1]s') EXCEPT ALL FROM read_parquet('%[2]s'))),
				(SELECT count(*) FROM (FROM read_parquet('%[2]s') EXCEPT ALL FROM read_parquet('%[1]s')))`, a, b))
			var n1, n2, onlyOne, onlyMerged int
			fmt.Sscan(counts[0], &n1, &n2, &onlyOne, &onlyMerged)
			if n1 == 0 || n1 != n2 || onlyOne != 0 || onlyMerged != 0 {
				t.Errorf("%d shards: %s has %d rows merged, %d in one process; %d rows only in one process, %d only merged",
					shards, f, n2, n1, onlyOne, onlyMerged)
			}
		}
		ids := queryRows(t, db, fmt.Sprintf(`SELECT count(*) FROM (SELECT id, lag(id) OVER () AS prev FROM read_parquet('%s/features.parquet')) WHERE prev >= id`, out))
		if ids[0] != "0" {
			t.Errorf("%d shards: merged features.parquet is not ordered by id (%s rows out of order)", shards, ids[0])
		}
	}

	// At scale: merge-counts.sql, then step 2 reads the parts in place; its
	// training and test sets equal the one-process ones.
	onePipeline(t, db, filepath.Join(queriesDir, "topology", "2-prepare.sql"), map[string]string{"out": one})
	out := t.TempDir()
	runShards(t, filepath.Join(queriesDir, "topology", "sharded", "1-features.sql"), 3, "in="+in, "out="+out)
	hepsqlRun(t, 0, "run", filepath.Join(queriesDir, "topology", "sharded", "merge-counts.sql"), "--set", "out="+out, "--set", "shards=3")
	onePipeline(t, db, filepath.Join(queriesDir, "topology", "2-prepare.sql"), map[string]string{"out": out, "features": out + "/features-part-*.parquet"})
	for _, f := range []string{"generated.parquet", "train.parquet", "test.parquet"} {
		a, b := filepath.Join(one, f), filepath.Join(out, f)
		diff := queryRows(t, db, fmt.Sprintf(`SELECT (SELECT count(*) FROM read_parquet('%[1]s')),
			(SELECT count(*) FROM (SELECT * FROM read_parquet('%[1]s') EXCEPT ALL SELECT * FROM read_parquet('%[2]s'))) +
			(SELECT count(*) FROM (SELECT * FROM read_parquet('%[2]s') EXCEPT ALL SELECT * FROM read_parquet('%[1]s')))`, a, b))
		if strings.HasPrefix(diff[0], "0 ") || !strings.HasSuffix(diff[0], " 0") {
			t.Errorf("2-prepare over the parts: %s differs from one process's (rows, differing rows: %s)", f, diff[0])
		}
	}
}

// TestRunShardFlag: --shard sets ${shard} and ${shards} where declared,
// splits read_root in files that declare neither, and is checked.
func TestRunShardFlag(t *testing.T) {
	dir := t.TempDir()
	cms := testfiles.CMSSample(t)
	declared := writeFile(t, dir, "d.sql", "-- @param shard = 0\n-- @param shards = 1\nSELECT ${shard} AS k, ${shards} AS n, count(*) AS events FROM read_root('"+cms+"');\n")
	plain := writeFile(t, dir, "p.sql", "SELECT count(*) AS events FROM read_root('"+cms+"');\n")
	if got := hepsqlRun(t, 0, "run", declared, "--shard", "1/4", "--mode", "csv"); !strings.Contains(got, "1,4,2500") {
		t.Errorf("shard 1/4 printed %q, want k=1, n=4 and a quarter of the 10000 events", got)
	}
	if got := hepsqlRun(t, 0, "run", plain, "--shard", "1/4", "--mode", "csv"); !strings.Contains(got, "2500") {
		t.Errorf("a file without shard parameters, shard 1/4, printed %q, want 2500 events", got)
	}
	for _, bad := range [][]string{{"--shard", "4/4"}, {"--shard", "x"}, {"--shard", "0/2", "--set", "shard=1"}} {
		hepsqlRun(t, 2, append([]string{"run", declared}, bad...)...)
	}
}
