//go:build mpi

package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hepsql/hepsql/internal/slurmtest"
)

// trainScript trains on a table the script makes, each rank on the rows
// of its shard (${shard} of ${shards}, which hepsql sets from the MPI
// rank), with a global batch of all 800 rows so that one process and two
// ranks take their steps on the same rows.
const trainScript = `-- @param shard = 0
-- @param shards = 1
CREATE TABLE toy AS SELECT i, (i % 3 = 0)::INT AS label,
	((i * 7919) % 1000) / 1000.0 + (i % 3 = 0)::INT AS a,
	((i * 104729) % 997) / 997.0 - (i % 3 = 0)::INT AS b
FROM range(800) t(i);
SELECT epoch, train_loss, rows FROM train('m',
	'SELECT label, a, b FROM toy WHERE i % ${shards} = ${shard}',
	hidden := [8], epochs := 3, batch := 800, lr := 0.01, threads := 2, seed := 4, validation := 0);
`

// Under mpirun -np 2, both ranks print the same epoch rows, which match
// one process's on all the rows within float32 summation order (train
// loss 1e-5 relative), and only rank 0 stores the model in --db's file.
func TestRunTrainTwoRanks(t *testing.T) {
	dir := t.TempDir()
	mpirun, bin := mpiSetup(t, dir)
	script := filepath.Join(dir, "train.sql")
	if err := os.WriteFile(script, []byte(trainScript), 0o644); err != nil {
		t.Fatal(err)
	}
	one := invoke(t, bin, "", "run", "--mode", "csv", "--db", filepath.Join(dir, "one.db"), script)
	if one.code != 0 {
		t.Fatalf("one process: %s", one.stderr)
	}
	outs := runRanks(t, mpirun, bin, dir, filepath.Join(dir, "ranks.db"), script, 2)
	if outs[0] != outs[1] {
		t.Errorf("ranks print different epochs:\nrank 0:\n%s\nrank 1:\n%s", outs[0], outs[1])
	}
	got, want := csvRows(t, outs[0]), csvRows(t, one.stdout)
	if len(got) != 3 || len(got) != len(want) {
		t.Fatalf("epoch rows: ranks %v, one process %v", got, want)
	}
	for i := range want {
		// No validation split: a rank's split would be of its shard, not
		// the one process's split of the union.
		if got[i][2] != 800 || got[i][2] != want[i][2] || math.Abs(got[i][1]-want[i][1]) > 1e-5*want[i][1] {
			t.Errorf("epoch %d: ranks %v, one process %v", i+1, got[i], want[i])
		}
	}
	t.Logf("epochs, 2 ranks: %v; one process: %v", got, want)
	models := invoke(t, bin, "", "--db", filepath.Join(dir, "ranks.db"), "--mode", "csv", "-c", "SELECT count(*) FROM hepsql_models WHERE name = 'm'")
	if models.code != 0 || !strings.Contains(models.stdout, "\n1") {
		t.Errorf("rank 0's database should hold model m once: %q %s", models.stdout, models.stderr)
	}
}

// tuneScript tunes over a grid of two configurations, each rank on its
// shard, with a validation split of each rank's rows.
const tuneScript = `-- @param shard = 0
-- @param shards = 1
CREATE TABLE toy AS SELECT i, (i % 3 = 0)::INT AS label,
	((i * 7919) % 1000) / 1000.0 + (i % 3 = 0)::INT AS a,
	((i * 104729) % 997) / 997.0 - (i % 3 = 0)::INT AS b
FROM range(800) t(i);
SELECT config, params, val_loss, val_auc_macro, best_epoch, epochs, seconds FROM tune('t',
	'SELECT label, a, b FROM toy WHERE i % ${shards} = ${shard}',
	grid := '{"hidden": [[4], [8]]}', epochs := 2, lr := 0.01, threads := 2, seed := 4, validation := 0.25);
`

// tune() under mpirun -np 2: both ranks print the same rows (validation
// figures of the union of the ranks' validation rows, rank 0's times),
// and rank 0 stores the best configuration.
func TestRunTuneTwoRanks(t *testing.T) {
	dir := t.TempDir()
	mpirun, bin := mpiSetup(t, dir)
	script := filepath.Join(dir, "tune.sql")
	if err := os.WriteFile(script, []byte(tuneScript), 0o644); err != nil {
		t.Fatal(err)
	}
	outs := runRanks(t, mpirun, bin, dir, filepath.Join(dir, "ranks.db"), script, 2)
	if outs[0] != outs[1] || strings.Count(outs[0], "\n") != 3 {
		t.Errorf("ranks print different or missing rows:\nrank 0:\n%s\nrank 1:\n%s", outs[0], outs[1])
	}
	models := invoke(t, bin, "", "--db", filepath.Join(dir, "ranks.db"), "--mode", "csv", "-c", "SELECT count(*) FROM hepsql_models WHERE name = 't'")
	if models.code != 0 || !strings.Contains(models.stdout, "\n1") {
		t.Errorf("rank 0's database should hold model t once: %q %s", models.stdout, models.stderr)
	}
}

// ucScript trains a tiny ucluster model on SQL-made jets, each rank on
// the rows of its shard, with a global batch of all 240 rows (one
// process and two ranks step on the same rows) and a k-means sample of
// every row (the default budget holds them all). The k-means sees the
// ranks' samples in rank order (rank 0's jets, then rank 1's) and its
// result depends on the order of its points, so the query orders one
// process's rows the same way: i % 2, then i.
const ucScript = `-- @param shard = 0
-- @param shards = 1
CREATE TABLE jets AS SELECT i, (i % 3)::INTEGER AS aux_label,
	list_transform(range(3 + i % 5), k -> [sin(i + k), cos(i * k), k, i % 3 + 1, -k, 0.5, k * k, 1]::FLOAT[]) AS particles
FROM range(240) t(i);
SELECT epoch, train_loss, rows FROM train('uc',
	'SELECT particles, aux_label FROM jets WHERE i % ${shards} = ${shard} ORDER BY i % 2, i',
	model := 'ucluster', clusters := 3, pretrain_epochs := 2, epochs := 2, embed := 4, k := 3, batch := 240,
	threads := 2, seed := 5);
`

// ucluster under mpirun -np 2: both ranks print the same epoch rows
// (pre-training and end to end, so the same centroids from the k-means
// of the gathered samples), which match one process's on all the rows
// within float32 summation order; rank 0 alone stores the model, and
// its clusters of every jet are one process's model's.
func TestRunUClusterTwoRanks(t *testing.T) {
	dir := t.TempDir()
	mpirun, bin := mpiSetup(t, dir)
	script := filepath.Join(dir, "uc.sql")
	if err := os.WriteFile(script, []byte(ucScript), 0o644); err != nil {
		t.Fatal(err)
	}
	oneDB, ranksDB := filepath.Join(dir, "one.db"), filepath.Join(dir, "ranks.db")
	one := invoke(t, bin, "", "run", "--mode", "csv", "--db", oneDB, script)
	if one.code != 0 {
		t.Fatalf("one process: %s", one.stderr)
	}
	outs := runRanks(t, mpirun, bin, dir, ranksDB, script, 2)
	if outs[0] != outs[1] {
		t.Errorf("ranks print different epochs:\nrank 0:\n%s\nrank 1:\n%s", outs[0], outs[1])
	}
	got, want := csvRows(t, outs[0]), csvRows(t, one.stdout)
	if len(got) != 4 || len(got) != len(want) {
		t.Fatalf("epoch rows: ranks %v, one process %v", got, want)
	}
	for i := range want {
		if got[i][2] != 240 || got[i][2] != want[i][2] || math.Abs(got[i][1]-want[i][1]) > 1e-5*want[i][1] {
			t.Errorf("epoch %d: ranks %v, one process %v", i+1, got[i], want[i])
		}
	}
	t.Logf("epochs, 2 ranks: %v; one process: %v", got, want)
	const clusters = "SELECT list(cluster ORDER BY i) AS c FROM predict('uc', 'SELECT i, particles FROM jets')"
	a := invoke(t, bin, "", "--db", ranksDB, "--mode", "csv", "-c", clusters)
	b := invoke(t, bin, "", "--db", oneDB, "--mode", "csv", "-c", clusters)
	if a.code != 0 || b.code != 0 || a.stdout != b.stdout {
		t.Errorf("clusters of rank 0's model:\n%s%s\none process's:\n%s%s", a.stdout, a.stderr, b.stdout, b.stderr)
	}
	models := invoke(t, bin, "", "--db", ranksDB, "--mode", "csv", "-c", "SELECT count(*) FROM hepsql_models WHERE name = 'uc'")
	if models.code != 0 || !strings.Contains(models.stdout, "\n1") {
		t.Errorf("rank 0's database should hold model uc once: %q %s", models.stdout, models.stderr)
	}
}

// mpiSetup finds mpirun (the test fails without it when CI is set) and
// builds hepsql with the mpi tag into dir.
func mpiSetup(t *testing.T, dir string) (mpirun, bin string) {
	t.Helper()
	mpirun, err := exec.LookPath("mpirun")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mpirun not found (apt-get install openmpi-bin libopenmpi-dev): %v", err)
		}
		t.Skipf("mpirun not found: %v", err)
	}
	bin = filepath.Join(dir, "hepsql")
	if out, err := exec.Command("go", "build", "-tags", "mpi", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags mpi: %v\n%s", err, out)
	}
	return mpirun, bin
}

// runRanks runs `hepsql run --mode csv --db DB SCRIPT` as np ranks and
// returns each rank's standard output.
func runRanks(t *testing.T, mpirun, bin, dir, db, script string, np int) []string {
	t.Helper()
	logs := filepath.Join(dir, "logs")
	cmd := exec.Command(mpirun, "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", strconv.Itoa(np),
		"--output-filename", logs, bin, "run", "--mode", "csv", "--db", db, script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mpirun: %v\n%s", err, out)
	}
	var outs []string
	for r := range np {
		b, err := os.ReadFile(filepath.Join(logs, "1", "rank."+strconv.Itoa(r), "stdout"))
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(b))
	}
	return outs
}

// csvRows parses the numeric rows of a CSV result after its header.
func csvRows(t *testing.T, s string) [][]float64 {
	t.Helper()
	var out [][]float64
	for _, line := range strings.Split(strings.TrimSpace(s), "\n")[1:] {
		var row []float64
		for _, f := range strings.Split(line, ",") {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			row = append(row, v)
		}
		out = append(out, row)
	}
	return out
}

// Under Slurm, `srun --mpi=pmix -n 2` starts the ranks (PMIx, no mpirun)
// on one node; both ranks print the same epoch rows as under mpirun.
// (Two nodes in slurmtest's network namespaces hang: the nodes reach the
// host's ends of their links, not each other, so the ranks' TCP cannot
// connect; not covered yet.)
func TestRunTrainSrun(t *testing.T) {
	for _, nodes := range []int{1, 2} {
		t.Run(fmt.Sprintf("nodes=%d", nodes), func(t *testing.T) {
			dir := t.TempDir()
			_, bin := mpiSetup(t, dir)
			c := slurmtest.Start(t, slurmtest.Options{Nodes: nodes, CPUs: 2})
			script := filepath.Join(dir, "train.sql")
			if err := os.WriteFile(script, []byte(trainScript), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			args := []string{"--mpi=pmix", "-n", "2", "-N", strconv.Itoa(nodes), "-o", filepath.Join(dir, "out-%t-%n"),
				"--export=ALL,HEPSQL_MPI_TIMEOUT=60s", bin, "run", "--mode", "csv", script}
			cmd := c.Command("srun", args...)
			cmd = exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
			cmd.Env = c.Env()
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("srun %v: %v\n%s", args, err, out)
			}
			// One output file per rank, named after the job's node it ran on (%n: 0, 1, ...).
			var outs []string
			hosts := map[string]bool{}
			for r := range 2 {
				names, err := filepath.Glob(filepath.Join(dir, "out-"+strconv.Itoa(r)+"-*"))
				if err != nil || len(names) != 1 {
					t.Fatalf("rank %d's output: %v (%v)", r, names, err)
				}
				hosts[strings.TrimPrefix(filepath.Base(names[0]), "out-"+strconv.Itoa(r)+"-")] = true
				b, err := os.ReadFile(names[0])
				if err != nil {
					t.Fatal(err)
				}
				outs = append(outs, string(b))
			}
			if len(hosts) != nodes {
				t.Errorf("2 ranks ran on nodes %v, want %d distinct", hosts, nodes)
			}
			if outs[0] != outs[1] || len(csvRows(t, outs[0])) != 3 {
				t.Errorf("ranks print different epochs:\nrank 0:\n%s\nrank 1:\n%s", outs[0], outs[1])
			}
		})
	}
}
