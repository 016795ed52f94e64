package sqlml

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/mlfuncs/metrics"
	"github.com/hepsql/hepsql/mlfuncs/train"
	"github.com/hepsql/hepsql/mlfuncs/ucluster"
)

// UCluster through SQL: train(name, 'SELECT particles, aux_label ...',
// model := 'ucluster', clusters := 3, ...) trains on one particle column
// (a list of structs of numbers, or a list of lists) and an auxiliary
// label; predict gives each row's cluster and its squared distances to
// the centroids; evaluate(name, query, truth := 'col') scores the
// clusters against a truth column the training never saw.

// ucParams are train's named arguments for model := 'ucluster' only.
var ucParams = []capi.NamedParam{
	{Name: "clusters", Type: tBigInt},
	{Name: "pretrain_epochs", Type: tBigInt},
	{Name: "alpha", Type: tDouble},
	{Name: "alpha_step", Type: tDouble},
	{Name: "beta", Type: tDouble},
	{Name: "k", Type: tBigInt},
	{Name: "embed", Type: tBigInt},
	{Name: "lr_halve_every", Type: tBigInt},
}

// ucOptions are a ucluster training's own options, stored with the model.
type ucOptions struct {
	Clusters       int     `json:"clusters"`
	PretrainEpochs int     `json:"pretrain_epochs"`
	Alpha          float64 `json:"alpha"`
	AlphaStep      float64 `json:"alpha_step"`
	Beta           float64 `json:"beta"`
	Neighbors      int     `json:"k"`
	Embed          int     `json:"embed,omitempty"`
	LRHalveEvery   int     `json:"lr_halve_every"`
}

// parseUC reads the ucluster arguments into c; other architectures
// reject them.
func parseUC(n *namedArgs, c *trainConfig) error {
	if !strings.EqualFold(strings.TrimSpace(c.Spec.Arch), ucluster.Arch) {
		for _, p := range ucParams {
			if n.get(p.Name) != nil {
				return fmt.Errorf("%s := is an argument of model := 'ucluster', not of %q", p.Name, c.Spec.Arch)
			}
		}
		return n.err
	}
	c.Spec.Arch = ucluster.Arch
	c.UC = &ucOptions{
		Clusters:       n.int("clusters", 3, 2),
		PretrainEpochs: n.int("pretrain_epochs", 6, 0),
		Alpha:          n.float("alpha", 1),
		AlphaStep:      n.float("alpha_step", 2),
		Beta:           n.float("beta", 0.1),
		Neighbors:      n.int("k", 8, 1),
		Embed:          n.int("embed", 0, 1),
		LRHalveEvery:   n.int("lr_halve_every", 8, 1),
	}
	if n.err != nil {
		return n.err
	}
	if c.UC.Beta <= 0 || c.UC.Alpha <= 0 || c.UC.AlphaStep <= 0 {
		return fmt.Errorf("ucluster: alpha, alpha_step and beta must be > 0 (got %g, %g, %g)", c.UC.Alpha, c.UC.AlphaStep, c.UC.Beta)
	}
	if n.get("validation") != nil && c.Validation > 0 {
		return errors.New("ucluster: validation := is not used (the clusters are scored by evaluate on a query with a truth column); leave it out")
	}
	c.Validation = 0
	if n.get("label") == nil {
		c.Label = "aux_label"
	}
	// The schedule measured on `hepsql gen jets` (bench/README.md, "On
	// gen/jets"; ucluster.Options says why it leaves the paper's).
	if n.get("batch") == nil {
		c.Batch = 64
	}
	if n.get("lr") == nil {
		c.LR = 3e-3
	}
	if n.get("epochs") == nil {
		c.Epochs = 3
	}
	return nil
}

// ucSpec is the network a ucluster training builds on the loaded data.
func ucSpec(cfg *trainConfig, l *layout) ucluster.Spec {
	return ucluster.Spec{Classes: l.Classes, Clusters: cfg.UC.Clusters, Neighbors: cfg.UC.Neighbors,
		SeqLen: l.SeqLen, SeqDim: l.SeqDim, Embed: cfg.UC.Embed}
}

// fitUC reads the query into a local cache and trains a ucluster model on
// it (under a world of ranks, on this rank's rows as one rank of the
// data-parallel training: see SetWorld), reporting each epoch as a train.Epoch row (train_loss: the epoch's
// mean focal + β·clustering loss; the validation columns NULL).
func (e *env) fitUC(ctx context.Context, cfg *trainConfig, l0 *layout, onEpoch func(train.Epoch) error) (*ucluster.Result, *layout, int, error) {
	d, err := e.load(ctx, cfg, l0)
	if err != nil {
		return nil, nil, 0, err
	}
	defer d.Close()
	o := cfg.UC
	opt := ucluster.Options{
		PretrainEpochs: o.PretrainEpochs, Epochs: cfg.Epochs, BatchSize: cfg.Batch, LR: cfg.LR, LRHalveEvery: o.LRHalveEvery,
		ScaleLR: cfg.ScaleLR, Beta: o.Beta, Alpha: o.Alpha, AlphaStep: o.AlphaStep, Seed: cfg.Seed, Threads: cfg.Threads,
		MemoryBudget: int64(cfg.MemoryMB) << 20, Reducer: world,
		OnEpoch: func(ep ucluster.Epoch) error {
			if onEpoch == nil {
				return nil
			}
			nan := math.NaN()
			return onEpoch(train.Epoch{Epoch: ep.Epoch, TrainLoss: ep.Loss, ValLoss: nan, ValMacroAUC: nan, ValAccuracy: nan,
				Seconds: ep.Seconds, RowsPerSec: float64(ep.Rows) / ep.Seconds, Rows: ep.Rows, ShuffleRows: ep.ShuffleRows})
		},
	}
	if o.PretrainEpochs == 0 {
		opt.PretrainEpochs = -1 // explicit: none
	}
	res, err := ucluster.Train(ctx, ucSpec(cfg, d.l), d.c.source(false), opt)
	if err != nil {
		return nil, nil, 0, err
	}
	return res, d.l, res.Rows, nil // the job's rows under ranks
}

// storeUC writes a finished ucluster training as the next version of its
// name, made current.
func (e *env) storeUC(cfg *trainConfig, l *layout, res *ucluster.Result, rows int, seconds float64) error {
	if !storesModels() {
		return nil // a rank other than 0 of a data-parallel job
	}
	weights, err := res.Model.MarshalBinary()
	if err != nil {
		return err
	}
	opts := *cfg
	optJSON, err := json.Marshal(struct {
		*trainConfig
		Spec ucluster.Spec `json:"spec"`
	}{&opts, res.Model.Spec})
	if err != nil {
		return err
	}
	met := map[string]any{"inertia": jsonNum(res.Inertia), "kmeans_seconds": res.KMeansSeconds}
	if n := len(res.Epochs); n > 0 {
		last := res.Epochs[n-1]
		met["epoch"], met["train_loss"], met["focal_loss"] = last.Epoch, jsonNum(last.Loss), jsonNum(last.Focal)
		met["cluster_loss"], met["aux_accuracy"], met["alpha"] = jsonNum(last.Cluster), jsonNum(last.AuxAccuracy), last.Alpha
	}
	metJSON, err := json.Marshal(met)
	if err != nil {
		return err
	}
	conn, err := e.connect()
	if err != nil {
		return err
	}
	defer conn.Close()
	defer e.changed()
	_, err = save(conn, &record{Name: cfg.Name, Arch: ucluster.Arch, Options: string(optJSON), Layout: l,
		Metrics: string(metJSON), TrainSeconds: seconds, Rows: int64(rows), Query: cfg.Query, Weights: weights}, true)
	return err
}

// notUC rejects a ucluster model in the functions that need a classifier.
func (m *loaded) notUC(fn string) error {
	if m.uc != nil {
		return fmt.Errorf("%s: model %q is a ucluster model (clusters, not class probabilities); use predict for its clusters and evaluate(name, query, truth := 'column') for its scores", fn, m.rec.Name)
	}
	return nil
}

// ucRows lays rows read by a binding out as the network's dense input.
type ucRows struct {
	r    rows
	seq  []float32
	offs []int
}

func (u *ucRows) dense(s ucluster.Spec) []float32 {
	u.offs = u.offs[:0]
	at := 0
	for _, k := range u.r.lens {
		u.offs = append(u.offs, at)
		at += int(k)
	}
	u.seq = expand(u.seq, &u.r, u.offs, 0, u.r.n, s.SeqLen, s.SeqDim)
	return u.seq
}

// ucPredictColumns are the columns predict adds for a ucluster model.
func ucPredictColumns(s ucluster.Spec) []capi.Column {
	cols := []capi.Column{{Name: "cluster", Type: tBigInt}}
	for j := range s.Clusters {
		cols = append(cols, capi.Column{Name: fmt.Sprintf("dist_%d", j), Type: capi.Scalar(capi.Float)})
	}
	return cols
}

// fillUC writes a chunk's clusters and distances for predict.
func (s *predictScan) fillUC(out capi.Chunk, ch capi.Chunk, n int) error {
	uc := s.t.m.uc
	sp := uc.Spec
	K := sp.Clusters
	s.ucr.r = s.rows
	seq := s.ucr.dense(sp)
	s.probs = grow32(s.probs, n*K)
	s.ucPred.Predict(seq, n, nil, s.probs)
	for i, col := range s.proj {
		v := out.Vector(i)
		switch {
		case col < s.t.qcols:
			v.Reference(ch.Vector(col))
		case col == s.t.qcols:
			d := capi.Slice[int64](v, n)
			for r := range n {
				d[r] = int64(ucluster.Nearest(s.probs[r*K : r*K+K]))
			}
		default:
			j := col - s.t.qcols - 1
			d := capi.Slice[float32](v, n)
			for r := range n {
				d[r] = s.probs[r*K+j]
			}
		}
	}
	return nil
}

func grow32(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

var ucEvaluateColumns = []capi.Column{
	{Name: "rows", Type: tBigInt},
	{Name: "accuracy", Type: tDouble},
	{Name: "contingency", Type: capi.ListOf(tBigInts)},
	{Name: "purity", Type: tDoubles},
	{Name: "matching", Type: tBigInts},
	{Name: "cluster_sizes", Type: tBigInts},
	{Name: "version", Type: tBigInt},
}

// evaluateUC scores m's clusters of query's rows against their truth
// column: the clustering accuracy after the best one-to-one matching of
// clusters to classes (Hungarian), the contingency table (row: true class,
// column: cluster), each cluster's purity, the matching (cluster → class,
// -1 for none) and the clusters' sizes.
func (e *env) evaluateUC(m *loaded, query, truth string) ([][]any, error) {
	conn, err := e.connect()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	st, err := prepare(conn, query)
	if err != nil {
		return nil, fmt.Errorf("the query: %w", err)
	}
	defer st.Close()
	l := *m.rec.Layout
	l.Label, l.Classes, l.OneHot = truth, 0, false
	found := false
	for i, c := range st.Columns() {
		if strings.EqualFold(c.Name, truth) {
			found = true
			if !intIDs[c.Type.ID] {
				return nil, fmt.Errorf("truth column %q is %s; want an integer class", c.Name, st.TypeName(i))
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("no truth column %q among the query's columns (%s); name it with truth := '...'", truth, names(st.Columns()))
	}
	b, err := l.bind(st.Columns(), st.TypeName, true)
	if err != nil {
		return nil, err
	}
	sp := m.uc.Spec
	K := sp.Clusters
	pred := ucluster.NewPredictor(m.uc, capi.Cores())
	defer pred.Close()
	var u ucRows
	var dist []float32
	// The contingency table, [class][cluster], counted chunk by chunk: the
	// rows are not kept, so evaluate's memory does not grow with the query.
	var table [][]int
	rows := 0
	err = each(st, func(ch capi.Chunk, n int) error {
		if err := b.read(ch, n, rows, &u.r); err != nil {
			return err
		}
		dist = grow32(dist, n*K)
		pred.Predict(u.dense(sp), n, nil, dist)
		for r, c := range u.r.labels[:n] {
			for int(c) >= len(table) {
				table = append(table, make([]int, K))
			}
			table[c][ucluster.Nearest(dist[r*K:r*K+K])]++
		}
		rows += n
		return nil
	})
	if err != nil {
		return nil, err
	}
	if rows == 0 {
		return nil, fmt.Errorf("the query returned no rows")
	}
	sc := metrics.ScoreTable(table, K)
	cont := make([][]int64, len(sc.Contingency))
	for i, row := range sc.Contingency {
		for _, x := range row {
			cont[i] = append(cont[i], int64(x))
		}
	}
	match, sizes := make([]int64, K), make([]int64, K)
	for j := range K {
		match[j], sizes[j] = int64(sc.Match[j]), int64(sc.Sizes[j])
	}
	return [][]any{{int64(rows), sc.Accuracy, cont, sc.Purity, match, sizes, m.rec.Version}}, nil
}
