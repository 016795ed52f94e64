package sqlml

import (
	"fmt"
	"strings"
	"sync"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/mlfuncs/nn"
	"github.com/hepsql/hepsql/mlfuncs/ucluster"
)

// inputsOf lays a block of rows out as the network's inputs; sequences are
// expanded into seqBuf.
func inputsOf(spec nn.Spec, l *layout, r *rows, seqBuf *[]float32, offs *[]int) [][]float32 {
	var in [][]float32
	if spec.HLFDim > 0 {
		in = append(in, r.hlf)
	}
	if spec.SeqLen > 0 {
		*offs = (*offs)[:0]
		at := 0
		for _, k := range r.lens {
			*offs = append(*offs, at)
			at += int(k)
		}
		*seqBuf = expand(*seqBuf, r, *offs, 0, r.n, spec.SeqLen, spec.SeqDim)
		in = append(in, *seqBuf)
	}
	return in
}

// predictTable is a bound predict(name, query).
type predictTable struct {
	e       *env
	m       *loaded
	query   string
	qcols   int
	cols    []capi.Column
	threads int
}

var predictParams = []capi.NamedParam{{Name: "threads", Type: tBigInt}, versionParam[0]}

func (e *env) bindPredict(a *capi.BindArgs) (capi.Table, error) {
	name, version, query, err := modelArgs(a)
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	n := &namedArgs{a: a}
	threads := n.int("threads", capi.Cores(), 1)
	if n.err != nil {
		return nil, fmt.Errorf("predict: %w", n.err)
	}
	m, err := e.model(name, version)
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	conn, err := e.connect()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	st, err := prepare(conn, query)
	if err != nil {
		return nil, fmt.Errorf("predict %q: the query: %w", name, err)
	}
	defer st.Close()
	if _, err := m.rec.Layout.bind(st.Columns(), st.TypeName, false); err != nil {
		return nil, fmt.Errorf("predict %q: %w", name, err)
	}
	t := &predictTable{e: e, m: m, query: query, threads: threads}
	taken := map[string]bool{}
	for i, c := range st.Columns() {
		if c.Type.ID == capi.Invalid {
			return nil, fmt.Errorf("predict %q: column %q is %s, which predict cannot pass through; cast it (e.g. to VARCHAR) or leave it out", name, c.Name, st.TypeName(i))
		}
		taken[strings.ToLower(c.Name)] = true
		t.cols = append(t.cols, c)
	}
	t.qcols = len(t.cols)
	if m.uc != nil {
		for _, c := range ucPredictColumns(m.uc.Spec) {
			if taken[c.Name] {
				return nil, fmt.Errorf("predict %q: the query already has a column %q; rename it", name, c.Name)
			}
			t.cols = append(t.cols, c)
		}
		return t, nil
	}
	for k := range m.model.Spec.Classes {
		t.cols = append(t.cols, capi.Column{Name: fmt.Sprintf("prob_%d", k), Type: capi.Scalar(capi.Float)})
	}
	t.cols = append(t.cols, capi.Column{Name: "predicted", Type: tBigInt})
	for _, c := range t.cols[t.qcols:] {
		if taken[c.Name] {
			return nil, fmt.Errorf("predict %q: the query already has a column %q; rename it", name, c.Name)
		}
	}
	return t, nil
}

func (t *predictTable) Columns() []capi.Column     { return t.cols }
func (t *predictTable) Cardinality() (int64, bool) { return -1, false }

func (t *predictTable) Start(proj []int) (capi.Scan, error) {
	conn, err := t.e.connect()
	if err != nil {
		return nil, err
	}
	s := &predictScan{t: t, proj: proj, conn: conn}
	if t.m.uc != nil {
		s.ucPred = ucluster.NewPredictor(t.m.uc, t.threads)
	} else {
		s.pred = t.m.model.NewPredictor(t.threads)
	}
	if err := s.start(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// predictScan streams the query's chunks through the network. One worker:
// the query's result is one stream; the predictor fans each chunk out over
// its threads.
type predictScan struct {
	t    *predictTable
	proj []int
	conn *capi.Conn
	st   *capi.Stmt
	res  *capi.Result
	b    *binding
	pred *nn.Predictor
	// a ucluster model's instead of pred
	ucPred *ucluster.Predictor
	ucr    ucRows
	rows   rows
	probs  []float32
	seq    []float32
	offs   []int
	done   int
}

func (s *predictScan) start() error {
	name := s.t.m.rec.Name
	st, err := prepare(s.conn, s.t.query)
	if err != nil {
		return fmt.Errorf("predict %q: the query: %w", name, err)
	}
	s.st = st
	if s.b, err = s.t.m.rec.Layout.bind(st.Columns(), st.TypeName, false); err != nil {
		return fmt.Errorf("predict %q: %w", name, err)
	}
	if s.res, err = st.Stream(); err != nil {
		return fmt.Errorf("predict %q: the query: %w", name, err)
	}
	return nil
}

func (s *predictScan) MaxThreads() int                 { return 1 }
func (s *predictScan) NewWorker() (capi.Worker, error) { return s, nil }

func (s *predictScan) Close() error {
	if s.pred != nil {
		s.pred.Close()
	}
	if s.ucPred != nil {
		s.ucPred.Close()
	}
	if s.res != nil {
		s.res.Close()
	}
	if s.st != nil {
		s.st.Close()
	}
	return s.conn.Close()
}

func (s *predictScan) Fill(out capi.Chunk) (int, error) {
	name := s.t.m.rec.Name
	ch, n, err := s.res.Next()
	if err != nil {
		return 0, fmt.Errorf("predict %q: the query: %w", name, err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := s.b.read(ch, n, s.done, &s.rows); err != nil {
		return 0, fmt.Errorf("predict %q: %w", name, err)
	}
	if s.ucPred != nil {
		if err := s.fillUC(out, ch, n); err != nil {
			return 0, fmt.Errorf("predict %q: %w", name, err)
		}
		s.done += n
		return n, nil
	}
	spec := s.t.m.model.Spec
	in := inputsOf(spec, s.b.l, &s.rows, &s.seq, &s.offs)
	k := spec.Classes
	if cap(s.probs) < n*k {
		s.probs = make([]float32, n*k)
	}
	probs := s.probs[:n*k]
	if err := s.pred.PredictInto(probs, in, n); err != nil {
		return 0, fmt.Errorf("predict %q: %w", name, err)
	}
	for i, col := range s.proj {
		v := out.Vector(i)
		switch {
		case col < s.t.qcols:
			v.Reference(ch.Vector(col))
		case col < s.t.qcols+k:
			c := col - s.t.qcols
			d := capi.Slice[float32](v, n)
			for r := range n {
				d[r] = probs[r*k+c]
			}
		default:
			d := capi.Slice[int64](v, n)
			for r := range n {
				best := 0
				p := probs[r*k : r*k+k]
				for c := range p {
					if p[c] > p[best] {
						best = c
					}
				}
				d[r] = int64(best)
			}
		}
	}
	s.done += n
	return n, nil
}

// predictProba is the scalar predict_proba(name, hlf[, sequence]): class
// probabilities of each row, a whole chunk through the network at once.
func (e *env) predictProba() []*capi.ScalarFunction {
	f := capi.ListOf(capi.Scalar(capi.Float))
	d := tDoubles
	dd := capi.ListOf(tDoubles)
	mk := func(params ...capi.Type) *capi.ScalarFunction {
		return &capi.ScalarFunction{Name: "predict_proba", Params: append([]capi.Type{tVarchar}, params...), Returns: f,
			Exec: func(in capi.Args, out capi.Vector) error { return e.execProba(in, out, params) }}
	}
	return []*capi.ScalarFunction{mk(d), mk(dd), mk(d, dd)}
}

type argVectors capi.Args

func (a argVectors) Vector(i int) capi.Vector { return capi.Args(a).Arg(i) }

// probaScratch is one predict_proba call's buffers. DuckDB runs the
// scalar on several threads at once, so they are pooled rather than
// shared; a thread's buffers settle at a vector's size and are reused.
type probaScratch struct {
	r    rows
	seq  []float32
	offs []int
}

var probaPool = sync.Pool{New: func() any { return new(probaScratch) }}

func (e *env) execProba(in capi.Args, out capi.Vector, params []capi.Type) error {
	n := in.Rows()
	if n == 0 {
		return nil
	}
	nameVec := in.Arg(0)
	if err := noNulls(nameVec, n, nil, "name", 0); err != nil {
		return err
	}
	ref := string(nameVec.Bytes(0))
	// A row whose 16-byte duckdb_string_t equals row 1's (same length and
	// inline bytes, or same length, prefix and pointer) names the same
	// model: that is every row when the name is a constant, which DuckDB
	// flattens by copying the struct. Only other rows are read as strings,
	// so the check does not cross into C once per row.
	heads := capi.Slice[[2]uint64](nameVec, n)
	for r := 1; r < n; r++ {
		if heads[r] == heads[0] {
			continue
		}
		if s := string(nameVec.Bytes(r)); s != ref {
			return fmt.Errorf("one model per call: both %q and %q are named", ref, s)
		}
	}
	name, version, err := parseRef(ref)
	if err != nil {
		return err
	}
	m, err := e.model(name, version)
	if err != nil {
		return err
	}
	if err := m.notUC("predict_proba"); err != nil {
		return err
	}
	spec := m.model.Spec
	// The arguments form a layout of their own: the high-level features
	// as one list, the sequence as a list of lists.
	l := &layout{HLFDim: spec.HLFDim, SeqLen: spec.SeqLen, SeqDim: spec.SeqDim, Classes: spec.Classes}
	b := &binding{l: l, settled: true, trained: true, scalar: true}
	for i, p := range params {
		c := column{col: i + 1, typ: p}
		if p.Elem.ID == capi.List {
			c.feature = feature{Name: "sequence", Kind: kindSequence, Width: spec.SeqDim}
		} else {
			c.feature = feature{Name: "features", Kind: kindVector, Width: spec.HLFDim}
		}
		b.cols = append(b.cols, c)
	}
	if want := len(spec.InputDims()); len(params) != want || (spec.Arch == nn.GRU) != (params[0].Elem.ID == capi.List) {
		return fmt.Errorf("model %q (%s) takes %s", name, spec.Arch, probaUsage(spec))
	}
	sc := probaPool.Get().(*probaScratch)
	defer probaPool.Put(sc)
	if err := b.read(argVectors(in), n, 0, &sc.r); err != nil {
		return fmt.Errorf("model %q: %w", ref, err)
	}
	inputs := inputsOf(spec, l, &sc.r, &sc.seq, &sc.offs)
	k := spec.Classes
	if err := out.ListReserve(n * k); err != nil {
		return err
	}
	entries := capi.Slice[capi.ListEntry](out, n)
	for i := range entries {
		entries[i] = capi.ListEntry{Offset: uint64(i * k), Length: uint64(k)}
	}
	if err := m.pred.PredictInto(capi.Slice[float32](out.ListChild(), n*k), inputs, n); err != nil {
		return err
	}
	return out.ListSetSize(n * k)
}

func probaUsage(s nn.Spec) string {
	switch s.Arch {
	case nn.GRU:
		return fmt.Sprintf("(name, sequence DOUBLE[][]) with steps of %d values", s.SeqDim)
	case nn.Inclusive:
		return fmt.Sprintf("(name, features DOUBLE[%d], sequence DOUBLE[][]) with steps of %d values", s.HLFDim, s.SeqDim)
	}
	return fmt.Sprintf("(name, features DOUBLE[%d]), the features in training order", s.HLFDim)
}
