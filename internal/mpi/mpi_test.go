//go:build mpi

package mpi

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hepsql/hepsql/mlfuncs/nn"
	"github.com/hepsql/hepsql/mlfuncs/train"
	"github.com/hepsql/hepsql/mlfuncs/train/ranktest"
)

// The tests start this test binary as the ranks of an mpirun job: with
// childEnv set, TestMain trains as one rank (see rankMain) instead of
// running the tests.
const childEnv = "HEPSQL_MPI_TEST_CHILD"

// The training the ranks run: the inclusive model (HLF vector and a GRU
// over a particle sequence), every step's global batch the whole set
// (the ranks' batches are their whole shards), so that ranks and one
// process train on the same rows at every step.
var (
	spec     = nn.Spec{Arch: nn.Inclusive, HLFDim: 5, SeqLen: 10, SeqDim: 3, GRUUnits: 6, Hidden: []int{8}}
	rows     = 600
	valRows  = 200
	trainOpt = train.Options{Epochs: 4, BatchSize: 600, LR: 1e-2, Seed: 9, Threads: 2}
)

// rankResult is what a rank writes for the test to compare.
type rankResult struct {
	Rank, Size int
	Params     []float32
	Epochs     []string // each epoch's figures as text, timing left out
	Seconds    []float64
}

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := rankMain(mode); err != nil {
			fmt.Fprintln(os.Stderr, "rank:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func trainRank(red train.Reducer, rank, size int) (*train.Result, error) {
	s, _ := spec.Normalize()
	in, labels := ranktest.Separable(s, rows, 3)
	vin, vlabels := ranktest.Separable(s, valRows, 4)
	src, err := ranktest.Split(in, labels, s.InputDims(), rank, size)
	if err != nil {
		return nil, err
	}
	opt := trainOpt
	if opt.Validation, err = ranktest.Split(vin, vlabels, s.InputDims(), rank, size); err != nil {
		return nil, err
	}
	opt.Reducer = red
	return train.Train(context.Background(), spec, src, opt)
}

func epochTexts(res *train.Result) (out []string, secs []float64) {
	for _, e := range res.Epochs {
		secs = append(secs, e.Seconds)
		e.Seconds, e.RowsPerSec = 0, 0
		out = append(out, fmt.Sprintf("%+v", e))
	}
	return out, secs
}

// rankMain is one rank: mode "train" trains and writes its result to
// $HEPSQL_MPI_TEST_OUT/rank-R.json; mode "die" makes rank 1 exit in the
// middle of the job without a word to MPI, mode "fail" makes it Abort.
func rankMain(mode string) error {
	w, err := Init()
	if err != nil {
		return err
	}
	if mode != "train" && w.Rank() == 1 {
		// Rank 0 is inside a collective by now or soon.
		time.Sleep(200 * time.Millisecond)
		if mode == "fail" {
			w.Abort(2, "the statement failed on purpose")
		}
		os.Exit(3)
	}
	res, err := trainRank(w, w.Rank(), w.Size())
	if err != nil {
		return err
	}
	if mode != "train" {
		// Rank 0 of a job whose rank 1 is gone: a collective after the
		// training must not return normally.
		for range 100 {
			if err := w.Barrier(); err != nil {
				return err
			}
		}
		return fmt.Errorf("rank 0 finished although rank 1 is gone")
	}
	r := rankResult{Rank: w.Rank(), Size: w.Size(), Params: res.Model.Params}
	r.Epochs, r.Seconds = epochTexts(res)
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(os.Getenv("HEPSQL_MPI_TEST_OUT"), "rank-"+strconv.Itoa(w.Rank())+".json"), b, 0o644); err != nil {
		return err
	}
	return w.Finalize()
}

// mpirun runs this test binary as np ranks in mode and returns its
// combined output; the test fails if mpirun is missing and CI is set.
func mpirun(t *testing.T, np int, mode, out string, timeout time.Duration) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("mpirun")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mpirun not found (apt-get install openmpi-bin libopenmpi-dev): %v", err)
		}
		t.Skipf("mpirun not found: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", strconv.Itoa(np),
		"-x", childEnv+"="+mode, "-x", "HEPSQL_MPI_TEST_OUT="+out, "-x", "HEPSQL_MPI_TIMEOUT=20s",
		os.Args[0], "-test.run=^$")
	b, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("mpirun -np %d (%s) still running after %v: a hang\n%s", np, mode, timeout, b)
	}
	return string(b), err
}

func readRanks(t *testing.T, dir string, np int) []rankResult {
	t.Helper()
	var out []rankResult
	for r := range np {
		b, err := os.ReadFile(filepath.Join(dir, "rank-"+strconv.Itoa(r)+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var rr rankResult
		if err := json.Unmarshal(b, &rr); err != nil {
			t.Fatal(err)
		}
		if rr.Rank != r || rr.Size != np {
			t.Fatalf("rank file %d says rank %d of %d, want of %d", r, rr.Rank, rr.Size, np)
		}
		out = append(out, rr)
	}
	return out
}

// One rank under mpirun is the one-process training, bit for bit; two
// ranks on loopback, each with half of the rows (ranktest.Split), report
// the same epochs and hold the same weights bit for bit, and their model
// is the one-process model on the union within float32 summation order
// (tolerance 1e-4 relative, scale floor 1e-2: the one-process and
// in-process-ranks runs differ by ~1e-6, see mlfuncs/train's
// TestRanksMatchOneProcess).
func TestTrainOneAndTwoRanks(t *testing.T) {
	one, err := trainRank(nil, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	oneEpochs, _ := epochTexts(one)
	for _, np := range []int{1, 2} {
		t.Run(fmt.Sprintf("np=%d", np), func(t *testing.T) {
			dir := t.TempDir()
			if out, err := mpirun(t, np, "train", dir, 2*time.Minute); err != nil {
				t.Fatalf("mpirun -np %d: %v\n%s", np, err, out)
			}
			ranks := readRanks(t, dir, np)
			for _, r := range ranks[1:] {
				if !ranktest.Same(r.Params, ranks[0].Params) {
					t.Errorf("rank %d's weights differ from rank 0's", r.Rank)
				}
				if strings.Join(r.Epochs, "\n") != strings.Join(ranks[0].Epochs, "\n") || fmt.Sprint(r.Seconds) != fmt.Sprint(ranks[0].Seconds) {
					t.Errorf("rank %d reports other epochs:\n%s\nrank 0:\n%s", r.Rank, strings.Join(r.Epochs, "\n"), strings.Join(ranks[0].Epochs, "\n"))
				}
			}
			d := ranktest.MaxRelDiff(ranks[0].Params, one.Model.Params, 1e-2)
			t.Logf("np=%d: weights differ from one process by %g relative", np, d)
			if np == 1 && d != 0 {
				t.Errorf("one rank differs from one process (%g): a world of one must be the plain training", d)
			}
			if d > 1e-4 {
				t.Errorf("np=%d: weights differ from one process by %g (tolerance 1e-4)", np, d)
			}
			if np == 1 && strings.Join(ranks[0].Epochs, "\n") != strings.Join(oneEpochs, "\n") {
				t.Errorf("one rank's epochs differ from one process's")
			}
			if np == 2 && len(ranks[0].Epochs) != len(oneEpochs) {
				t.Errorf("%d epochs, one process %d", len(ranks[0].Epochs), len(oneEpochs))
			}
			if np == 2 {
				for i, e := range one.Epochs {
					var rowsGot int
					fmt.Sscanf(ranks[0].Epochs[i][strings.Index(ranks[0].Epochs[i], "Rows:")+5:], "%d", &rowsGot)
					if rowsGot != e.Rows {
						t.Errorf("epoch %d: ranks count %d rows, one process %d", i+1, rowsGot, e.Rows)
					}
				}
			}
		})
	}
}

// A rank that dies (exits without MPI_Finalize) or aborts ends the job,
// non-zero and promptly, instead of leaving rank 0 in a collective.
func TestDeadRankEndsJob(t *testing.T) {
	for _, mode := range []string{"die", "fail"} {
		t.Run(mode, func(t *testing.T) {
			t0 := time.Now()
			out, err := mpirun(t, 2, mode, t.TempDir(), time.Minute)
			if err == nil {
				t.Fatalf("mpirun succeeded although rank 1 %s:\n%s", mode, out)
			}
			if mode == "fail" && !strings.Contains(out, "rank 1 of 2: the statement failed on purpose; aborting the MPI job") {
				t.Errorf("the failed rank's message is missing:\n%s", out)
			}
			t.Logf("%s: job ended after %v: %v", mode, time.Since(t0).Round(time.Millisecond), err)
		})
	}
}
