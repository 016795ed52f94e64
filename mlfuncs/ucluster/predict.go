package ucluster

import (
	"github.com/hepsql/hepsql/mlfuncs/internal/team"
)

// Predictor runs the encoder over blocks of jets on a team of goroutines,
// each with its own workspace. Not safe for concurrent use.
type Predictor struct {
	m    *Model
	team *team.Team
	own  bool
	ws   []*Workspace
	// the call's arguments, for the members
	seq     []float32
	rows    int
	z, dist []float32
	runW    func(w int)
}

// NewPredictor makes a predictor with threads goroutines; Close stops them.
func NewPredictor(m *Model, threads int) *Predictor {
	p := newPredictor(m, team.New(max(threads, 1)))
	p.own = true
	return p
}

func newPredictor(m *Model, tm *team.Team) *Predictor {
	p := &Predictor{m: m, team: tm}
	for range tm.Size() {
		p.ws = append(p.ws, m.NewWorkspace())
	}
	p.runW = p.member
	return p
}

// Close stops the predictor's goroutines.
func (p *Predictor) Close() {
	if p.own {
		p.team.Close()
	}
}

// Predict writes the embeddings (rows × Embed) into z and the squared
// distances to the centroids (rows × Clusters) into dist; either may be
// nil. seq is rows × SeqLen × SeqDim.
func (p *Predictor) Predict(seq []float32, rows int, z, dist []float32) {
	p.run(seq, rows, z, dist)
}

func (p *Predictor) run(seq []float32, rows int, z, dist []float32) {
	p.seq, p.rows, p.z, p.dist = seq, rows, z, dist
	if rows < 64 || p.team.Size() == 1 {
		p.block(0, 0, rows)
		return
	}
	p.team.Run(p.runW)
}

func (p *Predictor) member(w int) {
	W := p.team.Size()
	p.block(w, p.rows*w/W, p.rows*(w+1)/W)
}

// block runs member w over rows [lo, hi) in pieces of embedBlockRows: a
// jet's embedding does not depend on the other jets of its piece, and a
// workspace sized for a piece (about 70 kB a jet at the default spec)
// stays small however many rows a call brings (a DuckDB chunk of 2,048
// in predict and evaluate).
func (p *Predictor) block(w, lo, hi int) {
	for ; lo < hi; lo += embedBlockRows {
		p.piece(w, lo, min(lo+embedBlockRows, hi))
	}
}

func (p *Predictor) piece(w, lo, hi int) {
	s := p.m.Spec
	d, E, K := s.SeqLen*s.SeqDim, s.Embed, s.Clusters
	ws := p.ws[w]
	z := p.m.Embed(ws, p.seq[lo*d:hi*d], hi-lo)
	if p.z != nil {
		copy(p.z[lo*E:hi*E], z)
	}
	if p.dist != nil {
		p.m.distances(ws, hi-lo)
		copy(p.dist[lo*K:hi*K], ws.dist)
	}
}

// Nearest is the index of the smallest of d.
func Nearest(d []float32) int {
	best := 0
	for j, v := range d {
		if v < d[best] {
			best = j
		}
	}
	return best
}
