package nn

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/hepsql/hepsql/mlfuncs/internal/team"
)

// predictChunk is the number of rows one goroutine runs through the network
// at a time: large enough that GEMM dominates, small enough that a chunk's
// activations stay in cache.
const predictChunk = 512

// Predictor runs batched inference. It is safe for concurrent use. With
// threads > 1 it keeps a team of threads−1 goroutines that a call hands
// its chunks to, so that a call on a DuckDB vector (2,048 rows, 4 chunks)
// is split without starting goroutines; while the team is busy with one
// call, a concurrent call runs on its own goroutine. Close stops the team.
type Predictor struct {
	m       *Model
	dims    []int
	threads int
	pool    sync.Pool // workspaces of calls run on the caller alone

	mu   sync.Mutex // held by the call that has the team
	team *team.Team
	ws   []*Workspace // per team member
	sub  [][][]float32
	// The call the team is running.
	out     []float32
	inputs  [][]float32
	rows    int
	next    atomic.Int64
	member  func(w int)
	cleanup runtime.Cleanup
}

// NewPredictor returns a predictor over m (which must not change while it
// is used) that splits a call over up to threads goroutines.
func (m *Model) NewPredictor(threads int) *Predictor {
	p := &Predictor{m: m, dims: m.Spec.InputDims(), threads: max(1, threads)}
	p.pool.New = func() any { return m.NewWorkspace() }
	if p.threads > 1 {
		p.team = team.New(p.threads)
		for range p.threads {
			p.ws = append(p.ws, m.NewWorkspace())
			p.sub = append(p.sub, make([][]float32, len(p.dims)))
		}
		p.member = p.runMember
		// Between calls the team holds no reference to p, so a predictor
		// that is dropped without Close still stops its goroutines.
		p.cleanup = runtime.AddCleanup(p, func(t *team.Team) { t.Close() }, p.team)
	}
	return p
}

// Close stops the predictor's goroutines; later calls run on the caller.
func (p *Predictor) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.team != nil {
		p.cleanup.Stop()
		p.team.Close()
		p.team = nil
	}
}

// PredictInto writes class probabilities, [rows×classes] row-major, into
// out.
func (p *Predictor) PredictInto(out []float32, inputs [][]float32, rows int) error {
	s := p.m.Spec
	if err := s.CheckInputs(inputs, rows); err != nil {
		return err
	}
	C := s.Classes
	if len(out) < rows*C {
		return fmt.Errorf("nn: output holds %d values, want %d (%d rows × %d classes)", len(out), rows*C, rows, C)
	}
	nChunks := (rows + predictChunk - 1) / predictChunk
	if nChunks > 1 && p.threads > 1 && p.withTeam(out, inputs, rows) {
		return nil
	}
	ws := p.pool.Get().(*Workspace)
	defer p.pool.Put(ws)
	sub := make([][]float32, len(inputs))
	for c := range nChunks {
		p.chunk(ws, sub, out, inputs, rows, c)
	}
	return nil
}

// withTeam runs a call on the team and reports whether it could: not
// while another call has it, nor after Close.
func (p *Predictor) withTeam(out []float32, inputs [][]float32, rows int) bool {
	if !p.mu.TryLock() {
		return false
	}
	defer p.mu.Unlock()
	if p.team == nil {
		return false
	}
	p.out, p.inputs, p.rows = out, inputs, rows
	p.next.Store(0)
	p.team.Run(p.member)
	p.out, p.inputs = nil, nil
	return true
}

// runMember is team member w's part of a call: chunks are handed out one
// at a time, so a member that starts late does less.
func (p *Predictor) runMember(w int) {
	nChunks := (p.rows + predictChunk - 1) / predictChunk
	for {
		c := int(p.next.Add(1)) - 1
		if c >= nChunks {
			return
		}
		p.chunk(p.ws[w], p.sub[w], p.out, p.inputs, p.rows, c)
	}
}

// chunk predicts chunk c of a call's rows.
func (p *Predictor) chunk(ws *Workspace, sub [][]float32, out []float32, inputs [][]float32, rows, c int) {
	C := p.m.Spec.Classes
	lo := c * predictChunk
	hi := min(rows, lo+predictChunk)
	for i, d := range p.dims {
		sub[i] = inputs[i][lo*d : hi*d]
	}
	copy(out[lo*C:hi*C], p.m.infer(ws, sub, hi-lo))
}

// Predict returns each row's class probabilities. The rows share one
// backing array.
func (p *Predictor) Predict(inputs [][]float32, rows int) ([][]float32, error) {
	C := p.m.Spec.Classes
	flat := make([]float32, rows*C)
	if err := p.PredictInto(flat, inputs, rows); err != nil {
		return nil, err
	}
	out := make([][]float32, rows)
	for r := range out {
		out[r] = flat[r*C : r*C+C : r*C+C]
	}
	return out, nil
}

// Predict is a one-off convenience over a Predictor.
func (m *Model) Predict(inputs [][]float32, rows, threads int) ([][]float32, error) {
	p := m.NewPredictor(threads)
	defer p.Close()
	return p.Predict(inputs, rows)
}
