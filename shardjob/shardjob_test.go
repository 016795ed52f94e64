package shardjob

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestArraySpec(t *testing.T) {
	for _, c := range []struct {
		tasks []int
		want  string
	}{{[]int{0, 1, 2, 3}, "0-3"}, {[]int{1}, "1"}, {[]int{1, 4, 5, 6, 9}, "1,4-6,9"}} {
		if got := arraySpec(c.tasks); got != c.want {
			t.Errorf("arraySpec(%v) = %q, want %q", c.tasks, got, c.want)
		}
		if got := expandTasks(c.want); !reflect.DeepEqual(got, c.tasks) {
			t.Errorf("expandTasks(%q) = %v, want %v", c.want, got, c.tasks)
		}
	}
	if got := expandTasks("0-3%2"); !reflect.DeepEqual(got, []int{0, 1, 2, 3}) {
		t.Errorf("expandTasks with a throttle: %v", got)
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"plain", "with space", "it's", "$HOME", "a'b'c", "x=*.root", ""} {
		out, err := exec.Command("sh", "-c", "printf %s "+quote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("quote(%q) = %s: sh printed %q (%v)", s, quote(s), out, err)
		}
	}
}

func writeSQL(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCheckAndScripts: --set reaches the files that declare the
// parameter, ${shards} reaches the merge, a pipeline without ${shard} and
// a --set nobody declares are refused.
func TestCheckAndScripts(t *testing.T) {
	dir := t.TempDir()
	shard := writeSQL(t, dir, "s.sql", "-- @param shard = 0\n-- @param input = x\n-- @param out = o\nSELECT 1;\n")
	merge := writeSQL(t, dir, "m.sql", "-- @param shards = 1\n-- @param out = o\nSELECT 1;\n")
	j := &Job{Pipeline: shard, Merge: merge, Shards: 3, Sets: map[string]string{"input": "a b/*.root", "out": "/o"},
		Hepsql: "/bin/hepsql", Dir: dir, WorkDir: "/w", Threads: 2, Name: "hepsql-s", Options: []string{"--partition=short"}}
	if err := j.Check(); err != nil {
		t.Fatal(err)
	}
	s, m, err := j.Scripts()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`--shard "$k/3" --threads 2 --mode csv --set 'input=a b/*.root' --set out=/o`, "#SBATCH --partition=short", "#SBATCH --cpus-per-task=2", "cd /w"} {
		if !strings.Contains(s, want) {
			t.Errorf("shard.sh lacks %q:\n%s", want, s)
		}
	}
	if !strings.Contains(m, "--set out=/o --set shards=3") || strings.Contains(m, "input=") {
		t.Errorf("merge.sh should get out and shards, not input:\n%s", m)
	}
	j.Sets["typo"] = "1"
	if err := j.Check(); err == nil || !strings.Contains(err.Error(), "typo") {
		t.Errorf("an undeclared --set: %v", err)
	}
	delete(j.Sets, "typo")
	j.Pipeline = merge
	if err := j.Check(); err == nil || !strings.Contains(err.Error(), "@param shard") {
		t.Errorf("a pipeline without ${shard}: %v", err)
	}
}

// TestShardScriptStatus runs shard.sh by hand (as HTCondor would, the index
// as its argument) with a stand-in hepsql, and checks the status files
// and the merge script's refusal while a shard has not succeeded.
func TestShardScriptStatus(t *testing.T) {
	dir := t.TempDir()
	shard := writeSQL(t, dir, "s.sql", "-- @param shard = 0\nSELECT 1;\n")
	merge := writeSQL(t, dir, "m.sql", "-- @param shards = 1\nSELECT 1;\n")
	// The stand-in fails for shard 1 of 2.
	fake := writeSQL(t, dir, "fake-hepsql", "#!/bin/sh\ncase \"$*\" in *'--shard 1/2'*) exit 3;; esac\nexit 0\n")
	os.Chmod(fake, 0o755)
	j := &Job{Pipeline: shard, Merge: merge, Shards: 2, Hepsql: fake, Dir: filepath.Join(dir, "job"), WorkDir: dir, Threads: 1, Name: "t"}
	if err := j.Check(); err != nil {
		t.Fatal(err)
	}
	if err := j.Write(); err != nil {
		t.Fatal(err)
	}
	for k, want := range []int{0, 3} {
		err := exec.Command(filepath.Join(j.Dir, "shard.sh"), []string{"0", "1"}[k]).Run()
		if rc, ok := j.taskStatus(k); !ok || rc != want {
			t.Errorf("task %d: status %d %v (run: %v), want %d", k, rc, ok, err, want)
		}
	}
	out, err := exec.Command(filepath.Join(j.Dir, "merge.sh")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "shard 1 of 2 has not succeeded") {
		t.Errorf("merge.sh ran with shard 1 failed: %v\n%s", err, out)
	}
	if _, ok := j.mergeStatus(); ok {
		t.Error("merge.sh recorded a status without running the merge")
	}
	loaded, err := Load(j.Dir)
	if err != nil || loaded.Shards != 2 || loaded.Pipeline != shard {
		t.Errorf("Load: %+v, %v", loaded, err)
	}
}
