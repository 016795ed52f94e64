package sqlml

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/mlfuncs/data"
	"github.com/hepsql/hepsql/mlfuncs/nn"
	"github.com/hepsql/hepsql/mlfuncs/train"
	"github.com/hepsql/hepsql/mlfuncs/ucluster"
)

var trainParams = append([]capi.NamedParam{
	{Name: "model", Type: tVarchar},
	{Name: "hidden", Type: tBigInts},
	{Name: "gru_units", Type: tBigInt},
	{Name: "dropout", Type: tDouble},
	{Name: "seq_len", Type: tBigInt},
	{Name: "classes", Type: tBigInt},
	{Name: "epochs", Type: tBigInt},
	{Name: "batch", Type: tBigInt},
	{Name: "lr", Type: tDouble},
	{Name: "scale_lr", Type: capi.Scalar(capi.Boolean)},
	{Name: "seed", Type: tBigInt},
	{Name: "threads", Type: tBigInt},
	{Name: "validation", Type: tDouble},
	{Name: "patience", Type: tBigInt},
	{Name: "memory_mb", Type: tBigInt},
	{Name: "features", Type: capi.ListOf(tVarchar)},
	{Name: "label", Type: tVarchar},
}, ucParams...) // model := 'ucluster''s own (ucluster.go)

// trainConfig is a parsed train(...) call.
type trainConfig struct {
	Name       string    `json:"-"`
	Query      string    `json:"-"`
	Spec       nn.Spec   `json:"spec"`
	Epochs     int       `json:"epochs"`
	Batch      int       `json:"batch"`
	LR         float64   `json:"lr"`
	ScaleLR    bool      `json:"scale_lr,omitempty"`
	Seed       uint64    `json:"seed"`
	Threads    int       `json:"threads"`
	Validation float64   `json:"validation"`
	Patience   int       `json:"patience,omitempty"`
	MemoryMB   int       `json:"memory_mb"`
	Features   []string  `json:"features,omitempty"`
	Label      string    `json:"label"`
	BestEpoch  int       `json:"best_epoch,omitempty"`
	Stopped    string    `json:"stopped,omitempty"`
	Tuned      *tuneInfo `json:"tune,omitempty"` // set when tune chose it
	// UC holds model := 'ucluster''s own options (its network is not an
	// nn.Spec: Spec.Arch only names it).
	UC *ucOptions `json:"ucluster,omitempty"`
}

// namedArgs reads a call's named arguments with their types checked by
// DuckDB at bind (BIGINT → int64, DOUBLE → float64, lists → []any).
type namedArgs struct {
	a   *capi.BindArgs
	err error
}

func (n *namedArgs) get(name string) any {
	if n.err != nil {
		return nil
	}
	v, err := n.a.Named(name)
	if err != nil {
		n.err = fmt.Errorf("%s: %w", name, err)
	}
	return v
}

func (n *namedArgs) int(name string, def, lo int) int {
	v, ok := n.get(name).(int64)
	if !ok {
		return def
	}
	if v < int64(lo) && n.err == nil {
		n.err = fmt.Errorf("%s := %d; want at least %d", name, v, lo)
	}
	return int(v)
}

func (n *namedArgs) float(name string, def float64) float64 {
	if v, ok := n.get(name).(float64); ok {
		return v
	}
	return def
}

func (n *namedArgs) str(name, def string) string {
	if v, ok := n.get(name).(string); ok {
		return v
	}
	return def
}

func (n *namedArgs) ints(name string) []int {
	l, ok := n.get(name).([]any)
	if !ok {
		return nil
	}
	out := make([]int, 0, len(l))
	for _, x := range l {
		v, _ := x.(int64)
		out = append(out, int(v))
	}
	return out
}

func (n *namedArgs) strs(name string) []string {
	l, _ := n.get(name).([]any)
	var out []string
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// nameAndQuery reads the two positional arguments every ML function takes.
func nameAndQuery(a *capi.BindArgs) (string, string, error) {
	var out [2]string
	for i, what := range []string{"model name", "query"} {
		v, err := a.Arg(i)
		if err != nil {
			return "", "", err
		}
		s, _ := v.(string)
		if strings.TrimSpace(s) == "" {
			return "", "", fmt.Errorf("empty %s", what)
		}
		out[i] = s
	}
	return out[0], out[1], nil
}

func parseTrain(a *capi.BindArgs) (*trainConfig, error) {
	name, query, err := nameAndQuery(a)
	if err != nil {
		return nil, err
	}
	if strings.Contains(name, "@") {
		return nil, fmt.Errorf("model name %q: '@' separates a name from a version ('hlf@2'); leave it out of names", name)
	}
	n := &namedArgs{a: a}
	c := &trainConfig{Name: name, Query: query}
	c.Spec = nn.Spec{
		Arch:     n.str("model", nn.MLP),
		Hidden:   n.ints("hidden"),
		GRUUnits: n.int("gru_units", 0, 1),
		Dropout:  float32(n.float("dropout", 0)),
		SeqLen:   n.int("seq_len", 0, 1),
		Classes:  n.int("classes", 0, 2),
	}
	if n.get("dropout") == nil && c.Spec.Arch != nn.MLP {
		c.Spec.Dropout = 0.2
	}
	c.Epochs = n.int("epochs", 5, 1)
	c.Batch = n.int("batch", 128, 1)
	c.LR = n.float("lr", 1e-3)
	c.ScaleLR, _ = n.get("scale_lr").(bool)
	c.Seed = uint64(n.int("seed", 1, 0))
	c.Threads = n.int("threads", capi.Cores(), 1)
	c.Validation = n.float("validation", 0.2)
	c.Patience = n.int("patience", 0, 0)
	c.MemoryMB = n.int("memory_mb", 256, 1)
	c.Features = n.strs("features")
	c.Label = n.str("label", "label")
	if n.err != nil {
		return nil, n.err
	}
	if err := parseUC(n, c); err != nil {
		return nil, err
	}
	if c.LR <= 0 || math.IsNaN(c.LR) {
		return nil, fmt.Errorf("lr := %g; want > 0", c.LR)
	}
	if c.Validation < 0 || c.Validation >= 1 {
		return nil, fmt.Errorf("validation := %g; want a fraction in [0, 1)", c.Validation)
	}
	if c.Patience > 0 && c.Validation == 0 {
		// Early stopping then watches the training loss, which the
		// trainer supports; nothing to reject.
	}
	if c.UC != nil {
		return c, nil
	}
	if _, err := c.Spec.Normalize(); err != nil {
		return nil, err
	}
	return c, nil
}

// checkArch verifies that the query's columns fit the architecture.
func checkArch(arch string, l *layout) error {
	hlf, seq := false, false
	for _, f := range l.Features {
		if f.Kind == kindSequence {
			seq = true
		} else {
			hlf = true
		}
	}
	switch strings.ToLower(arch) {
	case ucluster.Arch:
		if !seq || hlf {
			return errors.New("model 'ucluster' takes exactly one particle column (a list of structs of numbers, or a list of lists), Δη and Δφ first; name it with features := ['col']")
		}
	case nn.MLP:
		if seq {
			return errors.New("model 'mlp' takes numbers and lists of numbers; a list-of-lists (sequence) column needs model := 'gru' or 'inclusive' (or leave it out with features := [...])")
		}
	case nn.GRU:
		if !seq || hlf {
			return errors.New("model 'gru' takes exactly one list-of-lists (sequence) column; name it with features := ['col'] (use 'inclusive' to add high-level features)")
		}
	case nn.Inclusive:
		if !seq || !hlf {
			return errors.New("model 'inclusive' takes one list-of-lists (sequence) column and at least one high-level feature column")
		}
	}
	return nil
}

// trainTable is a bound train(...) call.
type trainTable struct {
	e   *env
	cfg *trainConfig
	l   *layout
}

var epochColumns = []capi.Column{
	{Name: "epoch", Type: tBigInt},
	{Name: "train_loss", Type: tDouble},
	{Name: "val_loss", Type: tDouble},
	{Name: "val_auc_macro", Type: tDouble},
	{Name: "val_auc", Type: tDoubles},
	{Name: "val_accuracy", Type: tDouble},
	{Name: "seconds", Type: tDouble},
	{Name: "rows_per_s", Type: tDouble},
	{Name: "rows", Type: tBigInt},
	// Fewer than rows: the shuffle buffer (memory_mb) holds only part of
	// the data, and batches mix rows near each other in the query's order.
	{Name: "shuffle_rows", Type: tBigInt},
}

func (e *env) bindTrain(a *capi.BindArgs) (capi.Table, error) {
	cfg, err := parseTrain(a)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	l, err := e.planLayout("train", cfg)
	if err != nil {
		return nil, err
	}
	return &trainTable{e: e, cfg: cfg, l: l}, nil
}

// planLayout plans cfg's query and finds its feature and label columns, so
// that a wrong column or model fails when the statement is prepared, before
// anything runs; fn names the SQL function in errors.
func (e *env) planLayout(fn string, cfg *trainConfig) (*layout, error) {
	conn, err := e.connect()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	st, err := prepare(conn, cfg.Query)
	if err != nil {
		return nil, fmt.Errorf("%s %q: the query: %w", fn, cfg.Name, err)
	}
	defer st.Close()
	l, err := newLayout(st.Columns(), st.TypeName, cfg.Features, cfg.Label)
	if err == nil {
		err = checkArch(cfg.Spec.Arch, l)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", fn, cfg.Name, err)
	}
	return l, nil
}

func (t *trainTable) Columns() []capi.Column { return epochColumns }
func (t *trainTable) Cardinality() (int64, bool) {
	if t.cfg.UC != nil {
		return int64(t.cfg.Epochs + t.cfg.UC.PretrainEpochs), false
	}
	return int64(t.cfg.Epochs), false
}

func (t *trainTable) Start(proj []int) (capi.Scan, error) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &trainScan{t: t, proj: proj, ctx: ctx, cancel: cancel,
		epochs: make(chan train.Epoch, t.cfg.Epochs), done: make(chan struct{})}
	go s.run()
	return s, nil
}

// trainScan runs one training in a goroutine and hands its epochs to
// DuckDB one row per Fill. The model is stored by the Fill that finds the
// training finished, so a query abandoned earlier (cancelled, failed,
// LIMITed) stores nothing; Close cancels a training still running.
type trainScan struct {
	t      *trainTable
	proj   []int
	ctx    context.Context
	cancel context.CancelFunc
	epochs chan train.Epoch
	done   chan struct{}

	// Set by run before done is closed.
	res     *train.Result
	ucRes   *ucluster.Result // model := 'ucluster'
	l       *layout
	rows    int
	seconds float64
	err     error
	stored  bool
}

func (s *trainScan) MaxThreads() int                 { return 1 }
func (s *trainScan) NewWorker() (capi.Worker, error) { return s, nil }

func (s *trainScan) Close() error {
	s.cancel()
	<-s.done
	return nil
}

func (s *trainScan) run() {
	defer close(s.done)
	defer close(s.epochs)
	start := time.Now()
	onEpoch := func(e train.Epoch) error {
		select {
		case s.epochs <- e:
			return nil
		case <-s.ctx.Done():
			return s.ctx.Err()
		}
	}
	if s.t.cfg.UC != nil {
		s.ucRes, s.l, s.rows, s.err = s.t.e.fitUC(s.ctx, s.t.cfg, s.t.l, onEpoch)
	} else {
		s.res, s.l, s.rows, s.err = s.t.e.fit(s.ctx, s.t.cfg, s.t.l, onEpoch)
	}
	s.seconds = time.Since(start).Seconds()
}

func (s *trainScan) Fill(out capi.Chunk) (int, error) {
	if e, ok := <-s.epochs; ok {
		row := []any{int64(e.Epoch), e.TrainLoss, e.ValLoss, e.ValMacroAUC, e.ValAUC, e.ValAccuracy, e.Seconds, e.RowsPerSec,
			int64(e.Rows), int64(e.ShuffleRows)}
		if e.ValAUC == nil {
			row[4] = nil
		}
		return 1, writeRows(out, s.proj, epochColumns, [][]any{row})
	}
	<-s.done
	if s.err != nil {
		return 0, fmt.Errorf("train %q: %w", s.t.cfg.Name, s.err)
	}
	if !s.stored && s.ucRes != nil {
		s.stored = true
		if err := s.t.e.storeUC(s.t.cfg, s.l, s.ucRes, s.rows, s.seconds); err != nil {
			return 0, fmt.Errorf("train %q: %w", s.t.cfg.Name, err)
		}
	}
	if !s.stored {
		s.stored = true
		if err := s.t.e.store(s.t.cfg, s.l, s.res, s.rows, s.seconds, promoteAlways, false); err != nil {
			return 0, fmt.Errorf("train %q: %w", s.t.cfg.Name, err)
		}
	}
	return 0, nil
}

// fit reads the query into a local cache and trains on it.
func (e *env) fit(ctx context.Context, cfg *trainConfig, l0 *layout, onEpoch func(train.Epoch) error) (*train.Result, *layout, int, error) {
	d, err := e.load(ctx, cfg, l0)
	if err != nil {
		return nil, nil, 0, err
	}
	defer d.Close()
	res, err := d.fit(ctx, cfg, onEpoch)
	if err != nil {
		return nil, nil, 0, err
	}
	return res, d.l, d.c.rows, nil
}

// trainingData is a query's rows cached for training, with the layout
// completed from them (classes, sequence length).
type trainingData struct {
	c *cache
	l *layout
}

func (d *trainingData) Close() error { return d.c.Close() }

// load runs cfg's query into a cache and checks that it can be trained
// on: some rows, at least two classes.
func (e *env) load(ctx context.Context, cfg *trainConfig, l0 *layout) (*trainingData, error) {
	conn, err := e.connect()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	st, err := prepare(conn, cfg.Query)
	if err != nil {
		return nil, fmt.Errorf("the query: %w", err)
	}
	defer st.Close()
	l := *l0
	l.Features = append([]feature(nil), l0.Features...)
	l.SeqLen, l.Classes = cfg.Spec.SeqLen, cfg.Spec.Classes
	b, err := l.bind(st.Columns(), st.TypeName, true)
	if err != nil {
		return nil, err
	}
	c, err := fillCache(ctx, conn, st, b, "")
	if err != nil {
		return nil, err
	}
	// The checks and the shape from the rows: this rank's, or under a
	// world of ranks the whole job's (agreeData).
	var localErr error
	present := 0
	for _, n := range c.counts {
		if n > 0 {
			present++
		}
	}
	if c.rows == 0 {
		localErr = fmt.Errorf("%w: the query returned no rows", data.ErrEmpty)
	} else if present < 2 && world == nil {
		localErr = fmt.Errorf("%w: all %d rows have label %d; training needs at least two classes", data.ErrOneClass, c.rows, len(c.counts)-1)
	}
	if world != nil {
		if err := agreeData(c, &l, localErr); err != nil {
			c.Close()
			return nil, err
		}
	} else if localErr != nil {
		c.Close()
		return nil, localErr
	}
	if l.Classes == 0 {
		l.Classes = len(c.counts)
	}
	if l.hasSeq() && l.SeqLen == 0 {
		l.SeqLen = max(c.maxLen, 1)
	}
	return &trainingData{c: c, l: &l}, nil
}

// fit trains one model with cfg's options on the cached rows. Several
// fits may run on one trainingData at once.
func (d *trainingData) fit(ctx context.Context, cfg *trainConfig, onEpoch func(train.Epoch) error) (*train.Result, error) {
	l := d.l
	spec := cfg.Spec
	spec.Classes, spec.HLFDim, spec.SeqLen, spec.SeqDim = l.Classes, l.HLFDim, l.SeqLen, l.SeqDim
	if spec.Arch == nn.GRU {
		spec.HLFDim = 0
	}
	spec, err := spec.Normalize()
	if err != nil {
		return nil, err
	}
	var src data.Source = d.c.source(spec.HLFDim > 0)
	opt := train.Options{
		Epochs: cfg.Epochs, BatchSize: cfg.Batch, LR: cfg.LR, ScaleLR: cfg.ScaleLR, Seed: cfg.Seed,
		Threads: cfg.Threads, MemoryBudget: int64(cfg.MemoryMB) << 20, Patience: cfg.Patience,
		OnEpoch: onEpoch, Reducer: world,
	}
	if cfg.Validation > 0 {
		var val data.Source
		src, val, err = data.Split(src, cfg.Validation, cfg.Seed)
		if err != nil {
			return nil, err
		}
		opt.Validation = val
	}
	return train.Train(ctx, spec, src, opt)
}

// Promotion modes: whether a newly stored version becomes its name's
// current one.
const (
	promoteAlways   = "always"    // train's: what was asked for is used
	promoteIfBetter = "if_better" // tune's default: only if its validation figure beats the current version's
	promoteNever    = "never"     // stored for promote_model to choose
)

// store writes a finished training to the model store as the next version
// of its name, current as promote and byAUC say (see better).
func (e *env) store(cfg *trainConfig, l *layout, res *train.Result, rows int, seconds float64, promote string, byAUC bool) error {
	if !storesModels() {
		return nil // a rank other than 0 of a data-parallel job
	}
	weights, err := res.Model.MarshalBinary()
	if err != nil {
		return err
	}
	opts := *cfg
	opts.Spec = res.Model.Spec
	opts.BestEpoch, opts.Stopped = res.BestEpoch, res.Stopped
	optJSON, err := json.Marshal(opts)
	if err != nil {
		return err
	}
	metrics := []byte("{}")
	if len(res.Epochs) > 0 {
		best := res.Epochs[len(res.Epochs)-1]
		for _, ep := range res.Epochs {
			if ep.Epoch == res.BestEpoch {
				best = ep
			}
		}
		metrics, err = json.Marshal(map[string]any{
			"epoch": best.Epoch, "train_loss": jsonNum(best.TrainLoss), "val_loss": jsonNum(best.ValLoss),
			"val_auc_macro": jsonNum(best.ValMacroAUC), "val_auc": jsonNums(best.ValAUC),
			"val_accuracy": jsonNum(best.ValAccuracy),
		})
		if err != nil {
			return err
		}
	}
	conn, err := e.connect()
	if err != nil {
		return err
	}
	defer conn.Close()
	defer e.changed()
	current := promote == promoteAlways
	if promote == promoteIfBetter {
		if current, err = e.beatsCurrent(conn, cfg.Name, metrics, byAUC); err != nil {
			return err
		}
	}
	_, err = save(conn, &record{Name: cfg.Name, Arch: res.Model.Spec.Arch, Options: string(optJSON), Layout: l,
		Metrics: string(metrics), TrainSeconds: seconds, Rows: int64(rows), Query: cfg.Query, Weights: weights}, current)
	return err
}

// beatsCurrent reports whether a new version with the stored metrics
// (JSON) scores better than name's current version by its stored
// validation figures: a lower val_loss, or with byAUC a higher
// val_auc_macro. A figure that was not measured (null) loses to one that
// was; a name without a version is beaten by anything.
func (e *env) beatsCurrent(conn *capi.Conn, name string, metrics []byte, byAUC bool) (bool, error) {
	v, err := currentVersion(conn, name)
	if err != nil || v == 0 {
		return true, err
	}
	recs, err := selectRecords(conn, `SELECT `+listColumns+`, NULL::BLOB FROM hepsql_models WHERE name = $1 AND version = $2`, []any{name, v})
	if err != nil || len(recs) == 0 {
		return true, err
	}
	figure := func(js []byte) float64 {
		var m struct {
			Loss *float64 `json:"val_loss"`
			AUC  *float64 `json:"val_auc_macro"`
		}
		if json.Unmarshal(js, &m) != nil {
			return math.NaN()
		}
		p := m.Loss
		if byAUC {
			p = m.AUC
		}
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	nw, cur := figure(metrics), figure([]byte(recs[0].Metrics))
	switch {
	case math.IsNaN(nw):
		return math.IsNaN(cur), nil
	case math.IsNaN(cur):
		return true, nil
	case byAUC:
		return nw > cur, nil
	}
	return nw < cur, nil
}

// jsonNum maps NaN (not measured) to null, which JSON can hold.
func jsonNum(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}

func jsonNums(xs []float64) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = jsonNum(x)
	}
	return out
}
