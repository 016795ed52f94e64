package sqlml

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/mlfuncs/train"
)

// tune(name, query, grid := '{"lr": [...], "hidden": [[...], ...]}', ...)
// is a grid search: one training per point of the grid (the Cartesian
// product of the candidate lists, the first key varying slowest), each
// with train's other options as given, scored on the validation split.
// The query runs once into a cache that every training reads; trainings
// run side by side, parallel := P at a time with threads/P threads each,
// so that a small model keeps every core busy where its own data
// parallelism would not (the seed's Spark grid search). One row per point,
// in grid order, each as soon as it and the points before it are done;
// once all are, the point with the best validation figure is stored as
// the next version of name, as train stores its model, and becomes the
// current version as promote := says: 'if_better' (the default) when its
// validation figure (metric) beats the current version's as stored in its
// metrics, 'always', or 'never'. DuckDB sees an
// interrupt between rows, so a cancelled tuning stops once the point its
// next row waits for has finished (a train call, once its epoch has).
var tuneParams = append(slices.Clone(trainParams),
	capi.NamedParam{Name: "grid", Type: tVarchar},
	capi.NamedParam{Name: "metric", Type: tVarchar},
	capi.NamedParam{Name: "parallel", Type: tBigInt},
	capi.NamedParam{Name: "promote", Type: tVarchar},
)

// maxGridPoints bounds a grid, so that a typo in a list cannot start
// thousands of trainings.
const maxGridPoints = 1024

// tunable names the options a grid may vary, with the JSON each takes.
var tunable = map[string]string{
	"hidden": "a list of layer sizes", "gru_units": "an integer", "dropout": "a number",
	"epochs": "an integer", "batch": "an integer", "lr": "a number", "scale_lr": "true or false",
	"seed": "an integer", "patience": "an integer",
}

var tuneColumns = []capi.Column{
	{Name: "config", Type: tBigInt},
	{Name: "params", Type: tVarchar},
	{Name: "val_loss", Type: tDouble},
	{Name: "val_auc_macro", Type: tDouble},
	{Name: "val_auc", Type: tDoubles},
	{Name: "val_accuracy", Type: tDouble},
	{Name: "best_epoch", Type: tBigInt},
	{Name: "epochs", Type: tBigInt},
	{Name: "seconds", Type: tDouble},
	{Name: "threads", Type: tBigInt},
}

// gridPoint is one configuration of a grid: its options and the values
// that made it, as JSON text in the grid's key order.
type gridPoint struct {
	cfg    *trainConfig
	params string
}

// parseGrid expands grid over base's options.
func parseGrid(base *trainConfig, grid string) ([]gridPoint, error) {
	type axis struct {
		key    string
		values []json.RawMessage
	}
	var axes []axis
	dec := json.NewDecoder(strings.NewReader(grid))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf(`grid := %q: want a JSON object of candidate lists, e.g. '{"lr": [0.001, 0.01], "hidden": [[50, 20, 10], [32]]}'`, grid)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("grid: %w", err)
		}
		key := strings.ToLower(t.(string))
		if _, ok := tunable[key]; !ok {
			return nil, fmt.Errorf("grid: %q cannot be tuned; the grid may vary %s", t, tunableNames())
		}
		if slices.ContainsFunc(axes, func(a axis) bool { return a.key == key }) {
			return nil, fmt.Errorf("grid: %q given twice", key)
		}
		var values []json.RawMessage
		if err := dec.Decode(&values); err != nil {
			return nil, fmt.Errorf("grid: %q: want a list of candidates, each %s: %w", key, tunable[key], err)
		}
		if len(values) == 0 {
			return nil, fmt.Errorf("grid: %q has no candidates", key)
		}
		axes = append(axes, axis{key, values})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("grid: %w", err)
	}
	if len(axes) == 0 {
		return nil, errors.New("grid: no options to vary")
	}
	n := 1
	for _, a := range axes {
		if n *= len(a.values); n > maxGridPoints {
			return nil, fmt.Errorf("grid: more than %d configurations", maxGridPoints)
		}
	}
	points := make([]gridPoint, n)
	for i := range points {
		cfg := *base
		cfg.Spec.Hidden = slices.Clone(base.Spec.Hidden)
		var params bytes.Buffer
		params.WriteByte('{')
		// Point i's index along each axis, the last axis varying fastest.
		rest := i
		idx := make([]int, len(axes))
		for k := len(axes) - 1; k >= 0; k-- {
			idx[k] = rest % len(axes[k].values)
			rest /= len(axes[k].values)
		}
		for k, a := range axes {
			raw := a.values[idx[k]]
			if err := cfg.set(a.key, raw); err != nil {
				return nil, fmt.Errorf("grid: %q candidate %s: %w", a.key, raw, err)
			}
			if k > 0 {
				params.WriteByte(',')
			}
			fmt.Fprintf(&params, "%q:", a.key)
			if err := json.Compact(&params, raw); err != nil {
				return nil, fmt.Errorf("grid: %q: %w", a.key, err)
			}
		}
		params.WriteByte('}')
		if _, err := cfg.Spec.Normalize(); err != nil {
			return nil, fmt.Errorf("grid: configuration %s: %w", params.String(), err)
		}
		points[i] = gridPoint{cfg: &cfg, params: params.String()}
	}
	return points, nil
}

func tunableNames() string {
	keys := make([]string, 0, len(tunable))
	for k := range tunable {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ", ")
}

// set applies one grid value to the options.
func (c *trainConfig) set(key string, raw json.RawMessage) error {
	var err error
	integer := func(lo int) int {
		var v int
		if err = json.Unmarshal(raw, &v); err == nil && v < lo {
			err = fmt.Errorf("want at least %d", lo)
		}
		return v
	}
	number := func() float64 {
		var v float64
		if err = json.Unmarshal(raw, &v); err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
			err = errors.New("not a finite number")
		}
		return v
	}
	switch key {
	case "hidden":
		var h []int
		if err = json.Unmarshal(raw, &h); err == nil {
			c.Spec.Hidden = h
		}
	case "gru_units":
		c.Spec.GRUUnits = integer(1)
	case "dropout":
		c.Spec.Dropout = float32(number())
	case "epochs":
		c.Epochs = integer(1)
	case "batch":
		c.Batch = integer(1)
	case "lr":
		if c.LR = number(); err == nil && c.LR <= 0 {
			err = errors.New("want > 0")
		}
	case "scale_lr":
		err = json.Unmarshal(raw, &c.ScaleLR)
	case "seed":
		c.Seed = uint64(integer(0))
	case "patience":
		c.Patience = integer(0)
	}
	if err != nil {
		return fmt.Errorf("want %s: %w", tunable[key], err)
	}
	return nil
}

// tuneTable is a bound tune(...) call.
type tuneTable struct {
	e        *env
	base     *trainConfig
	grid     string
	points   []gridPoint
	l        *layout
	byAUC    bool
	parallel int
	promote  string
}

func (e *env) bindTune(a *capi.BindArgs) (capi.Table, error) {
	base, err := parseTrain(a)
	if err != nil {
		return nil, fmt.Errorf("tune: %w", err)
	}
	if base.UC != nil {
		return nil, fmt.Errorf("tune: model := 'ucluster' is not tuned yet; train it with train(...) and score it with evaluate(name, query, truth := ...)")
	}
	n := &namedArgs{a: a}
	grid := n.str("grid", "")
	metric := strings.ToLower(n.str("metric", "loss"))
	parallel := n.int("parallel", 0, 1)
	promote := strings.ToLower(n.str("promote", promoteIfBetter))
	if n.err != nil {
		return nil, fmt.Errorf("tune: %w", n.err)
	}
	if grid == "" {
		return nil, errors.New(`tune: no grid; give one as grid := '{"lr": [0.001, 0.01], "hidden": [[50, 20, 10], [32]]}'`)
	}
	if metric != "loss" && metric != "auc" {
		return nil, fmt.Errorf("tune: metric := %q; want 'loss' (lowest validation log-loss) or 'auc' (highest validation macro AUC)", metric)
	}
	if promote != promoteIfBetter && promote != promoteAlways && promote != promoteNever {
		return nil, fmt.Errorf("tune: promote := %q; want 'if_better' (the default: the best point becomes current only if it beats the current version), 'always' or 'never'", promote)
	}
	if base.Validation == 0 {
		return nil, errors.New("tune: validation := 0 leaves nothing to score the configurations on; give a fraction such as 0.2")
	}
	points, err := parseGrid(base, grid)
	if err != nil {
		return nil, fmt.Errorf("tune: %w", err)
	}
	if parallel == 0 {
		parallel = base.Threads
	}
	if world != nil {
		// The ranks' collectives must come in the same order on every
		// rank: one trial at a time.
		parallel = 1
	}
	parallel = min(parallel, len(points))
	for _, p := range points {
		p.cfg.Threads = max(1, base.Threads/parallel)
	}
	l, err := e.planLayout("tune", base)
	if err != nil {
		return nil, err
	}
	return &tuneTable{e: e, base: base, grid: grid, points: points, l: l, byAUC: metric == "auc", parallel: parallel, promote: promote}, nil
}

func (t *tuneTable) Columns() []capi.Column     { return tuneColumns }
func (t *tuneTable) Cardinality() (int64, bool) { return int64(len(t.points)), true }

func (t *tuneTable) Start(proj []int) (capi.Scan, error) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &tuneScan{t: t, proj: proj, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		results: make([]tuneResult, len(t.points)), finished: make([]chan struct{}, len(t.points))}
	for i := range s.finished {
		s.finished[i] = make(chan struct{})
	}
	go s.run()
	return s, nil
}

// tuneResult is one point's training.
type tuneResult struct {
	res     *train.Result
	best    train.Epoch
	seconds float64
	err     error
}

// tuneScan runs the trainings in the background; Fill hands out their
// rows in grid order and, after the last, stores the best model. As with
// train, a query abandoned before the end stores nothing, and Close
// cancels what still runs.
type tuneScan struct {
	t        *tuneTable
	proj     []int
	ctx      context.Context
	cancel   context.CancelFunc
	results  []tuneResult
	finished []chan struct{} // closed when point i's result is set
	done     chan struct{}   // closed when every training has returned

	// Set by run before done is closed.
	data    *trainingData
	loadErr error

	next   int // the next point to emit
	stored bool
}

func (s *tuneScan) MaxThreads() int                 { return 1 }
func (s *tuneScan) NewWorker() (capi.Worker, error) { return s, nil }

func (s *tuneScan) Close() error {
	s.cancel()
	<-s.done
	if s.data != nil {
		s.data.Close()
	}
	return nil
}

func (s *tuneScan) run() {
	defer close(s.done)
	d, err := s.t.e.load(s.ctx, s.t.base, s.t.l)
	if err != nil {
		s.loadErr = err
		for _, f := range s.finished {
			close(f)
		}
		return
	}
	s.data = d
	var next atomic.Int64
	var wg sync.WaitGroup
	for range s.t.parallel {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(s.t.points) {
					return
				}
				r := &s.results[i]
				start := time.Now()
				r.res, r.err = d.fit(s.ctx, s.t.points[i].cfg, nil)
				r.seconds = time.Since(start).Seconds()
				if world != nil && r.err == nil {
					// Every rank reports rank 0's time (the others add
					// zero), so that all print the same rows.
					t := []float64{0}
					if world.Rank() == 0 {
						t[0] = r.seconds
					}
					if err := world.AllReduceSum(t); err != nil {
						r.err = err
					}
					r.seconds = t[0]
				}
				if r.err == nil {
					// The epoch whose weights the result holds; a training
					// whose monitored loss never improved keeps its last.
					k := r.res.BestEpoch
					if k < 1 {
						k = len(r.res.Epochs)
					}
					r.best = r.res.Epochs[k-1]
				}
				close(s.finished[i])
			}
		})
	}
	wg.Wait()
}

func (s *tuneScan) Fill(out capi.Chunk) (int, error) {
	name := s.t.base.Name
	var rows [][]any
	for s.next < len(s.t.points) && len(rows) < capi.VectorSize {
		if len(rows) > 0 {
			// Hand out what is ready rather than wait for the next point.
			select {
			case <-s.finished[s.next]:
			default:
				return len(rows), writeRows(out, s.proj, tuneColumns, rows)
			}
		}
		<-s.finished[s.next]
		if s.loadErr != nil {
			return 0, fmt.Errorf("tune %q: %w", name, s.loadErr)
		}
		p, r := s.t.points[s.next], &s.results[s.next]
		if r.err != nil {
			return 0, fmt.Errorf("tune %q: configuration %d %s: %w", name, s.next+1, p.params, r.err)
		}
		e := r.best
		var auc any
		if e.ValAUC != nil {
			auc = e.ValAUC
		}
		rows = append(rows, []any{int64(s.next + 1), p.params, e.ValLoss, e.ValMacroAUC, auc, e.ValAccuracy,
			int64(e.Epoch), int64(len(r.res.Epochs)), r.seconds, int64(p.cfg.Threads)})
		s.next++
	}
	if len(rows) > 0 {
		return len(rows), writeRows(out, s.proj, tuneColumns, rows)
	}
	<-s.done
	if !s.stored {
		s.stored = true
		if err := s.storeBest(); err != nil {
			return 0, fmt.Errorf("tune %q: %w", name, err)
		}
	}
	return 0, nil
}

// storeBest stores the point with the best validation figure (the first
// of equals) as the next version of the name.
func (s *tuneScan) storeBest() error {
	best := -1
	for i, r := range s.results {
		if best < 0 || s.better(r.best, s.results[best].best) {
			best = i
		}
	}
	p, r := s.t.points[best], &s.results[best]
	cfg := *p.cfg
	cfg.Tuned = &tuneInfo{Grid: s.t.grid, Config: best + 1, Of: len(s.t.points), Params: p.params}
	return s.t.e.store(&cfg, s.data.l, r.res, s.data.c.rows, r.seconds, s.t.promote, s.t.byAUC)
}

// better reports whether epoch a scores better than b; NaN (a metric that
// could not be computed) never wins.
func (s *tuneScan) better(a, b train.Epoch) bool {
	if s.t.byAUC {
		return a.ValMacroAUC > b.ValMacroAUC || (math.IsNaN(b.ValMacroAUC) && !math.IsNaN(a.ValMacroAUC))
	}
	return a.ValLoss < b.ValLoss || (math.IsNaN(b.ValLoss) && !math.IsNaN(a.ValLoss))
}

// tuneInfo records in a stored model's options which grid point it is.
type tuneInfo struct {
	Grid   string `json:"grid"`
	Config int    `json:"config"`
	Of     int    `json:"of"`
	Params string `json:"params"`
}
