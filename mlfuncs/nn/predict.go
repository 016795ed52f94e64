package nn

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// predictChunk is the number of rows one goroutine runs through the network
// at a time: large enough that GEMM dominates, small enough that a chunk's
// activations stay in cache.
const predictChunk = 512

// Predictor runs batched inference with up to Threads goroutines. It is
// safe for concurrent use; each call borrows workspaces from a pool.
type Predictor struct {
	m       *Model
	threads int
	pool    sync.Pool
}

// NewPredictor returns a predictor over m (which must not change while it
// is used) with threads goroutines per call (≥ 1).
func (m *Model) NewPredictor(threads int) *Predictor {
	p := &Predictor{m: m, threads: max(1, threads)}
	p.pool.New = func() any { return m.NewWorkspace() }
	return p
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
	dims := s.InputDims()
	nChunks := (rows + predictChunk - 1) / predictChunk
	var next atomic.Int64
	run := func() {
		ws := p.pool.Get().(*Workspace)
		defer p.pool.Put(ws)
		sub := make([][]float32, len(inputs))
		for {
			c := int(next.Add(1)) - 1
			if c >= nChunks {
				return
			}
			lo := c * predictChunk
			hi := min(rows, lo+predictChunk)
			for i, d := range dims {
				sub[i] = inputs[i][lo*d : hi*d]
			}
			probs := p.m.Forward(ws, sub, hi-lo, false, nil)
			copy(out[lo*C:hi*C], probs)
		}
	}
	workers := min(p.threads, nChunks)
	if workers <= 1 {
		run()
		return nil
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(run)
	}
	wg.Wait()
	return nil
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
	return m.NewPredictor(threads).Predict(inputs, rows)
}
