package slurmtest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/internal/slurmtest"
)

// TestClusters runs a job array on a one-node and on a two-node cluster and
// checks that every task ran, the latter on both nodes.
func TestClusters(t *testing.T) {
	for _, nodes := range []int{1, 2} {
		t.Run(map[int]string{1: "one-node", 2: "two-node"}[nodes], func(t *testing.T) {
			c := slurmtest.Start(t, slurmtest.Options{Nodes: nodes, CPUs: 1})
			out := t.TempDir()
			script := filepath.Join(out, "job.sh")
			os.WriteFile(script, []byte("#!/bin/sh\nhostname_=$SLURMD_NODENAME\necho \"$SLURM_ARRAY_TASK_ID $hostname_\" > "+out+"/task-$SLURM_ARRAY_TASK_ID\n"), 0o755)
			b, err := c.Command("sbatch", "--wait", "--array=0-3", "--output=/dev/null", script).CombinedOutput()
			if err != nil {
				t.Fatalf("sbatch: %v\n%s", err, b)
			}
			seen := map[string]bool{}
			for k := range 4 {
				data, err := os.ReadFile(filepath.Join(out, "task-"+string(rune('0'+k))))
				if err != nil {
					t.Fatalf("task %d did not run: %v", k, err)
				}
				f := strings.Fields(string(data))
				seen[f[1]] = true
			}
			if len(seen) != nodes {
				t.Errorf("the array ran on nodes %v, want %d nodes", seen, nodes)
			}
		})
	}
}
