package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/internal/slurmtest"
	"github.com/hepsql/hepsql/internal/testfiles"
)

// hepsqlSlurm runs "hepsql slurm ARGS" in-process and returns its exit
// code and output.
func hepsqlSlurm(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"slurm"}, args...), strings.NewReader(""), &out, &errOut)
	return code, out.String() + errOut.String()
}

var arrayJob = regexp.MustCompile(`shards: array job (\d+), (\d+) of (\d+) tasks`)

// linkChain makes dir/cms_K.root, n links to the CMS sample.
func linkChain(t *testing.T, dir string, n int) {
	t.Helper()
	abs, _ := filepath.Abs(testfiles.CMSSample(t))
	for i := range n {
		if err := os.Symlink(abs, filepath.Join(dir, fmt.Sprintf("cms_%d.root", i))); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSlurmADL submits the sharded ADL queries to a private Slurm
// cluster (one node; two nodes, each in its own network namespace), waits
// for the array and the merge, and checks the merged histograms against
// the one-process queries.
func TestSlurmADL(t *testing.T) {
	bin := buildBinary(t)
	db, err := hepsql.Open("?threads=2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	input := filepath.Join(t.TempDir(), "*.root")
	linkChain(t, filepath.Dir(input), 8)
	for _, nodes := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d-node", nodes), func(t *testing.T) {
			c := slurmtest.Start(t, slurmtest.Options{Nodes: nodes, CPUs: 2})
			c.Setenv(t)
			out, jobs := t.TempDir(), filepath.Join(t.TempDir(), "adl")
			code, msg := hepsqlSlurm(t, filepath.Join(queriesDir, "adl", "sharded", "shard.sql"), "--shards", "4",
				"--merge", filepath.Join(queriesDir, "adl", "sharded", "merge.sql"),
				"--set", "out="+out, "--set", "input="+input, "--dir", jobs, "--hepsql", bin,
				"--time", "10:00", "--wait", "--poll", "200ms")
			t.Logf("hepsql slurm:\n%s", msg)
			if code != 0 {
				t.Fatalf("hepsql slurm: exit %d\n%s", code, msg)
			}
			for k := range 4 {
				if !regexp.MustCompile(fmt.Sprintf(`(?m)^%d +\d+_%d +COMPLETED +0$`, k, k)).MatchString(msg) {
					t.Errorf("no report of task %d completed with exit 0", k)
				}
			}
			if !regexp.MustCompile(`(?m)^merge +\d+ +COMPLETED +0$`).MatchString(msg) {
				t.Errorf("no report of the merge completed with exit 0")
			}
			checkADLMerged(t, db, out, input, 4)
			m := arrayJob.FindStringSubmatch(msg)
			if m == nil {
				t.Fatal("no array job id printed")
			}
			hosts, _ := c.Command("scontrol", "-o", "show", "job", m[1]).Output()
			used := map[string]bool{}
			for _, h := range regexp.MustCompile(`BatchHost=(\S+)`).FindAllStringSubmatch(string(hosts), -1) {
				used[h[1]] = true
			}
			if len(used) != nodes {
				t.Errorf("the tasks ran on %v, want all %d nodes used", used, nodes)
			}
		})
	}
}

// TestSlurmResume: a shard that fails leaves the other parts valid, the
// merge job does not run (its afterok dependency fails), --wait reports
// the failed task and exits 1; --resume then reruns that task alone, and
// the merge.
func TestSlurmResume(t *testing.T) {
	bin := buildBinary(t)
	c := slurmtest.Start(t, slurmtest.Options{Nodes: 1, CPUs: 2})
	c.Setenv(t)
	dir := t.TempDir()
	linkChain(t, dir, 8)
	// Files 4–7 are shard 1's of 2 (whole files): break one of them.
	broken := filepath.Join(dir, "cms_6.root")
	os.Remove(broken)
	os.WriteFile(broken, []byte("not a ROOT file"), 0o644)
	input := filepath.Join(dir, "*.root")
	out, jobs := t.TempDir(), filepath.Join(t.TempDir(), "adl")
	code, msg := hepsqlSlurm(t, filepath.Join(queriesDir, "adl", "sharded", "shard.sql"), "--shards", "2",
		"--merge", filepath.Join(queriesDir, "adl", "sharded", "merge.sql"),
		"--set", "out="+out, "--set", "input="+input, "--dir", jobs, "--hepsql", bin, "--wait", "--poll", "200ms")
	t.Logf("hepsql slurm:\n%s", msg)
	if code != 1 || !strings.Contains(msg, "1 of 2 shards failed") || !strings.Contains(msg, "--resume "+jobs) {
		t.Fatalf("exit %d, want 1 with the failed shard and how to resume:\n%s", code, msg)
	}
	if !regexp.MustCompile(`(?m)^1 +\d+_1 +FAILED +1$`).MatchString(msg) || !regexp.MustCompile(`(?m)^0 +\d+_0 +COMPLETED +0$`).MatchString(msg) {
		t.Errorf("want task 0 COMPLETED 0 and task 1 FAILED 1 in the report")
	}
	if !regexp.MustCompile(`(?m)^merge +\d+ +CANCELLED`).MatchString(msg) {
		t.Errorf("want the merge reported CANCELLED (its dependency failed)")
	}
	part0 := filepath.Join(out, "part-0.parquet")
	st0, err := os.Stat(part0)
	if err != nil {
		t.Fatalf("the successful shard's part: %v", err)
	}
	for _, f := range []string{"part-1.parquet", "adl.parquet"} {
		if _, err := os.Stat(filepath.Join(out, f)); !os.IsNotExist(err) {
			t.Errorf("%s exists after shard 1 failed (%v): a failed shard leaves no part, the merge does not run", f, err)
		}
	}
	if code, msg := hepsqlSlurm(t, "--resume", jobs, "--wait"); code != 1 || !strings.Contains(msg, "1 of 2 shards failed") {
		t.Errorf("resume with the file still broken: exit %d, want 1\n%s", code, msg)
	}

	// Repair the file: the resumed run reruns shard 1 alone, then merges.
	os.Remove(broken)
	abs, _ := filepath.Abs(testfiles.CMSSample(t))
	os.Symlink(abs, broken)
	time.Sleep(10 * time.Millisecond) // so that a rewritten part-0 would show in its mtime
	code, msg = hepsqlSlurm(t, "--resume", jobs, "--wait", "--poll", "200ms")
	t.Logf("hepsql slurm --resume:\n%s", msg)
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, msg)
	}
	if m := arrayJob.FindStringSubmatch(msg); m == nil || m[2] != "1" {
		t.Errorf("resume submitted %v, want 1 of 2 tasks", m)
	}
	if st, err := os.Stat(part0); err != nil || !st.ModTime().Equal(st0.ModTime()) {
		t.Errorf("part-0 was rewritten by the resume (%v): only the failed task may rerun", err)
	}
	db, err := hepsql.Open("?threads=2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkADLMerged(t, db, out, input, 2)
	if code, msg := hepsqlSlurm(t, "--resume", jobs); code != 0 || !strings.Contains(msg, "nothing to resume") {
		t.Errorf("resume of a finished job: exit %d\n%s", code, msg)
	}
}
