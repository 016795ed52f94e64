package main

// The UCluster case (-model ucluster, issue 21): the graph encoder of
// mlfuncs/ucluster, pre-training then k-means then deep k-means end to
// end, on jets of `hepsql gen jets` read through hepsql's SQL features
// (bench/ucjets, the jets ucbench trains on), one rank against R.

import (
	"context"
	"encoding/gob"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/bench/ucjets"
	"github.com/hepsql/hepsql/internal/mpi"
	"github.com/hepsql/hepsql/mlfuncs/synth"
	"github.com/hepsql/hepsql/mlfuncs/ucluster"
)

// Tolerances of the R-rank run against the one-rank run. The two do not
// take the same steps bit for bit: the ranks shuffle their shards with
// their own seeds, so the batches of a step hold other jets than one
// process's, and the k-means sees the same jets' embeddings in another
// order. What must agree is what the training reaches: the held-out
// clustering accuracy and the last end-to-end epoch's loss.
const (
	ucAccTol  = 0.03 // absolute, clustering accuracy
	ucLossTol = 0.10 // relative, last epoch's training loss
)

// ucData is what the launcher hands the ranks (a gob file): the spec with
// the training jets' standardisation fixed, so that both runs apply the
// same numbers, and the jets.
type ucData struct {
	Spec        ucluster.Spec
	Train, Test *synth.JetSet
}

// ucResult is rank 0's report of a UCluster training.
type ucResult struct {
	Ranks                int
	Params               int
	Steps                int     // per epoch
	PreSec, CluSec       float64 // fastest epoch of each phase
	PreMed, CluMed       float64 // median epoch of each phase
	PreEpochs, CluEpochs []float64
	// CPU seconds per epoch of each phase on the busiest rank, and the
	// same outside MPI_Allreduce (see trainResult).
	PreCPU, CluCPU, PreCompute, CluCompute float64
	KMeansSec                              float64
	Accuracy                               float64
	Sizes                                  []int
	Loss                                   float64 // last end-to-end epoch's
	AuxAccuracy                            float64 // last pre-training epoch's, on the training batches
}

// prepareUCluster generates and featurises the jets once, in the
// launcher, and writes them where the ranks read them (c.Data).
func prepareUCluster(c *config, dir string) (ucluster.Spec, error) {
	tr, te, err := ucjets.Generate(filepath.Join(dir, "genjets"), 1, c.Jets, c.Test)
	if err != nil {
		return ucluster.Spec{}, err
	}
	spec, err := ucjets.Spec(ucluster.Spec{}, ucjets.MassClasses, tr)
	if err != nil {
		return spec, err
	}
	c.Data = filepath.Join(dir, "jets.gob")
	f, err := os.Create(c.Data)
	if err != nil {
		return spec, err
	}
	if err := gob.NewEncoder(f).Encode(ucData{Spec: spec, Train: tr, Test: te}); err != nil {
		f.Close()
		return spec, fmt.Errorf("mpibench: writing %s: %w", c.Data, err)
	}
	return spec, f.Close()
}

// shardJets is rank's jets of s: j % size == rank.
func shardJets(s *synth.JetSet, rank, size int) *synth.JetSet {
	d := s.MaxParticles * synth.JetFeatures
	out := &synth.JetSet{MaxParticles: s.MaxParticles}
	for j := rank; j < s.Jets; j += size {
		out.Jets++
		out.Particles = append(out.Particles, s.Particles[j*d:(j+1)*d]...)
		out.Counts = append(out.Counts, s.Counts[j])
		out.Truth = append(out.Truth, s.Truth[j])
		out.Aux = append(out.Aux, s.Aux[j])
		out.Mass = append(out.Mass, s.Mass[j])
	}
	return out
}

// rankUCluster is one rank's UCluster training on its shard; rank 0
// scores the held-out jets.
func rankUCluster(w *mpi.World, c config) error {
	f, err := os.Open(c.Data)
	if err != nil {
		return err
	}
	var d ucData
	err = gob.NewDecoder(f).Decode(&d)
	f.Close()
	if err != nil {
		return fmt.Errorf("mpibench: reading %s: %w", c.Data, err)
	}
	mine := shardJets(d.Train, w.Rank(), w.Size())
	d.Train = nil
	src, err := ucjets.Source(mine, mine.Aux)
	if err != nil {
		return err
	}
	red := &timed{World: w}
	// CPU clocks at the end of every epoch: an epoch's CPU time is the
	// difference from the previous epoch's end, so that the first epoch
	// of each phase, which follows the scan of the data or the k-means,
	// is left out.
	var cpuAt, redAt []float64
	res, err := ucluster.Train(context.Background(), d.Spec, src, ucluster.Options{
		PretrainEpochs: c.Pretrain, Epochs: c.Epochs, BatchSize: c.Batch, Seed: c.Seed, Threads: c.Threads, Reducer: red,
		OnEpoch: func(ucluster.Epoch) error {
			cpuAt, redAt = append(cpuAt, cpuSeconds()), append(redAt, red.cpu)
			return nil
		},
	})
	if err != nil {
		return err
	}
	// Per phase, the mean CPU time of its epochs but the first, with
	// and without the all-reduces; then the maxima over the ranks.
	perEpoch := func(lo, hi int) (all, compute float64) {
		n := float64(hi - lo - 1)
		all = (cpuAt[hi-1] - cpuAt[lo]) / n
		return all, all - (redAt[hi-1]-redAt[lo])/n
	}
	R, P := w.Size(), c.Pretrain
	cpus := make([]float64, 4*R)
	pa, pc := perEpoch(0, P)
	ca, cc := perEpoch(P, len(cpuAt))
	for i, v := range []float64{pa, pc, ca, cc} {
		cpus[i*R+w.Rank()] = v
	}
	if err := w.AllReduceSum(cpus); err != nil {
		return err
	}
	if w.Rank() != 0 {
		return nil
	}
	out := ucResult{Ranks: R, Params: len(res.Model.Params), KMeansSec: res.KMeansSeconds,
		PreCPU: slices.Max(cpus[:R]), PreCompute: slices.Max(cpus[R : 2*R]),
		CluCPU: slices.Max(cpus[2*R : 3*R]), CluCompute: slices.Max(cpus[3*R:])}
	for _, e := range res.Epochs {
		if e.Phase == ucluster.PhasePretrain {
			out.PreEpochs = append(out.PreEpochs, e.Seconds)
			out.AuxAccuracy = e.AuxAccuracy
		} else {
			out.CluEpochs = append(out.CluEpochs, e.Seconds)
			out.Loss = e.Loss
		}
	}
	last := res.Epochs[len(res.Epochs)-1]
	out.Steps = (last.Rows + c.Batch - 1) / c.Batch
	// The fastest epoch as the figure (other work on a shared machine
	// only ever adds time), the median beside it.
	out.PreSec, out.CluSec = slices.Min(out.PreEpochs), slices.Min(out.CluEpochs)
	out.PreMed, out.CluMed = median(out.PreEpochs), median(out.CluEpochs)
	sc, err := ucjets.Score(res.Model, d.Test, 2)
	if err != nil {
		return err
	}
	out.Accuracy, out.Sizes = sc.Accuracy, sc.Sizes
	return emit(w, out)
}

// ucAgree says whether par's results are one's within the tolerances,
// and how far apart they are.
func ucAgree(one, par ucResult) (ok bool, dAcc, dLoss float64) {
	dAcc = par.Accuracy - one.Accuracy
	dLoss = (par.Loss - one.Loss) / math.Abs(one.Loss)
	return math.Abs(dAcc) <= ucAccTol && math.Abs(dLoss) <= ucLossTol, dAcc, dLoss
}

// formatUCluster writes the UCluster results as Markdown.
func formatUCluster(c config, np int, spec ucluster.Spec, one, par ucResult, mach bench.Machine, load string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s, commit %s; load before the run: %s. This 2-core machine is shared with up to 7 other jobs: wall times are noisy, CPU times less so.\n\n",
		time.Now().UTC().Format("2006-01-02"), mach.OneLine(), mach.Commit, load)
	fmt.Fprintf(&b, "`go run -tags mpi ./bench/cmd/mpibench -model ucluster -np %d -jets %d -test %d -pretrain %d -epochs %d -batch %d -threads %d -seed %d` (OpenMPI, `mpirun --bind-to none`, shared memory between the ranks; UCluster at the package's default widths: k %d, edge convolutions %d and %d, embedding %d, head %d, %s parameters; %d training jets of `hepsql gen jets` (seed 1) through the SQL features, %d mass classes as the auxiliary label, split j %% ranks; %d held-out jets)\n\n",
		np, c.Jets, c.Test, c.Pretrain, c.Epochs, c.Batch, c.Threads, c.Seed, spec.Neighbors, spec.Edge1, spec.Edge2, spec.Embed, spec.Head,
		bench.Thousands(int64(one.Params)), c.Jets, ucjets.MassClasses, c.Test)
	b.WriteString("| ranks × workers | global batch | steps/epoch | pre-training s/epoch (wall, fastest / median) | speed-up (fastest) | end-to-end s/epoch (wall, fastest / median) | speed-up (fastest) | CPU s/epoch pre-training / end-to-end (busiest rank, mean, first of each phase left out) | of which outside all-reduce | speed-up (compute CPU, pre / e2e) | k-means s | held-out clustering accuracy | test jets per cluster | last end-to-end loss |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range []ucResult{one, par} {
		fmt.Fprintf(&b, "| %d × %d | %d | %d | %.3f / %.3f | %.2f× | %.3f / %.3f | %.2f× | %.3f / %.3f | %.3f / %.3f | %.2f× / %.2f× | %.2f | %.4f | %v | %.4f |\n",
			r.Ranks, c.Threads, c.Batch, r.Steps, r.PreSec, r.PreMed, one.PreSec/r.PreSec, r.CluSec, r.CluMed, one.CluSec/r.CluSec,
			r.PreCPU, r.CluCPU, r.PreCompute, r.CluCompute, one.PreCompute/r.PreCompute, one.CluCompute/r.CluCompute,
			r.KMeansSec, r.Accuracy, r.Sizes, r.Loss)
	}
	ok, dAcc, dLoss := ucAgree(one, par)
	verdict := "agree"
	if !ok {
		verdict = "RESULTS DIFFER"
	}
	fmt.Fprintf(&b, "\n%d ranks − 1: clustering accuracy %+.4f (tolerance ±%.2f), last end-to-end loss %+.1f%% (tolerance ±%.0f%%): %s. The ranks shuffle their own shards, so the runs take as many steps of the same global batch but not the same batches.\n",
		np, dAcc, ucAccTol, 100*dLoss, 100*ucLossTol, verdict)
	fmt.Fprintf(&b, "\nEpoch times: all epochs of each phase (s): 1 rank pre-training %s, end-to-end %s; %d ranks %s, %s.\n",
		secs(one.PreEpochs), secs(one.CluEpochs), np, secs(par.PreEpochs), secs(par.CluEpochs))
	return b.String()
}

func secs(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprintf("%.3f", x)
	}
	return strings.Join(s, ", ")
}
