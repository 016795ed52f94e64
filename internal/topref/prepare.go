package topref

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Sample is one selected event on its way into the training data.
type Sample struct {
	// ID identifies the event stably across runs (e.g. label, file and
	// entry packed together); the seeded choices are functions of it.
	ID    uint64
	Label int
	HLF   [NumHighLevel]float64
}

// Salts of Key for the two seeded steps of section 6.
const (
	SaltUndersample = 1
	SaltShuffle     = 2
)

// Key is the seeded pseudo-random sort key of an event for one step:
// mix(mix(seed ^ salt) ^ id), with mix the SplitMix64 finaliser. Sorting
// by a key of the event's identity, rather than drawing from a stream,
// makes the result independent of the order events arrive in, so a SQL
// implementation can reproduce it exactly.
func Key(seed, salt, id uint64) uint64 { return mix(mix(seed^salt) ^ id) }

func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Prepared is the outcome of section 6 on the high-level features.
type Prepared struct {
	Train, Test []Sample // HLF min–max scaled
	Min, Max    [NumHighLevel]float64
	PerClass    [NumClasses]int // events of each class before undersampling
	Kept        int             // events per class after undersampling
}

// Prepare balances, shuffles, splits and scales the samples (section 6,
// steps 1–3):
//   - undersampling keeps, in every class, the events with the smallest
//     Key(seed, SaltUndersample, ID), as many as the smallest class has;
//   - the kept events are ordered by Key(seed, SaltShuffle, ID) (ties by
//     ID), and the first n·80/100 (integer division) are the training set;
//   - each feature is scaled as (x − min)/(max − min) with min and max over
//     the training set, or set to 0.5 when max = min; test values outside
//     the training range fall outside [0, 1] and are not clipped.
func Prepare(samples []Sample, seed uint64) (Prepared, error) {
	var p Prepared
	var byClass [NumClasses][]Sample
	for _, s := range samples {
		if s.Label < 0 || s.Label >= NumClasses {
			return p, fmt.Errorf("topref: sample %d has label %d, want 0..%d", s.ID, s.Label, NumClasses-1)
		}
		byClass[s.Label] = append(byClass[s.Label], s)
		p.PerClass[s.Label]++
	}
	p.Kept = slices.Min(p.PerClass[:])

	var kept []Sample
	for _, cls := range byClass {
		byKey(cls, seed, SaltUndersample)
		kept = append(kept, cls[:p.Kept]...)
	}
	byKey(kept, seed, SaltShuffle)
	nTrain := len(kept) * TrainPercentage / 100
	p.Train, p.Test = kept[:nTrain], kept[nTrain:]

	for f := range NumHighLevel {
		p.Min[f], p.Max[f] = math.Inf(1), math.Inf(-1)
		for _, s := range p.Train {
			p.Min[f] = min(p.Min[f], s.HLF[f])
			p.Max[f] = max(p.Max[f], s.HLF[f])
		}
	}
	for _, set := range [][]Sample{p.Train, p.Test} {
		for i := range set {
			for f := range NumHighLevel {
				set[i].HLF[f] = MinMax(set[i].HLF[f], p.Min[f], p.Max[f])
			}
		}
	}
	return p, nil
}

// MinMax scales x from [lo, hi] to [0, 1]; a constant feature maps to 0.5.
func MinMax(x, lo, hi float64) float64 {
	if hi == lo {
		return 0.5
	}
	return (x - lo) / (hi - lo)
}

func byKey(s []Sample, seed, salt uint64) {
	slices.SortFunc(s, func(a, b Sample) int {
		return cmp.Or(cmp.Compare(Key(seed, salt, a.ID), Key(seed, salt, b.ID)), cmp.Compare(a.ID, b.ID))
	})
}

// Sequence is the recurrent models' input (section 6, step 4): the n
// particle rows of m ordered by decreasing ΔR from the lepton (row 0; ties
// keep the matrix order, so the lepton comes after every particle at a
// distance), then standardised column by column over those n rows; the
// padding rows follow, all zeros, with mask false.
//
// Standardisation uses the population standard deviation (divide by n),
// with sums in the matrix's row order and float64 arithmetic; a column
// whose n values are all equal becomes 0 (decided by comparing the values,
// since rounding can leave a tiny nonzero spread).
func Sequence(m *Matrix, n int) (seq *Matrix, mask [Rows]bool) {
	seq = new(Matrix)
	if n == 0 {
		return seq, mask
	}
	order := make([]int, n)
	dr := make([]float64, n)
	lepEta, lepPhi := float64(m[0][ColEta]), float64(m[0][ColPhi])
	for i := range n {
		order[i] = i
		dr[i] = DeltaR(float64(m[i][ColEta]), float64(m[i][ColPhi]), lepEta, lepPhi)
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(dr[b], dr[a]) })

	for c := range Columns {
		var sum float64
		lo, hi := m[0][c], m[0][c]
		for i := range n {
			sum += float64(m[i][c])
			lo, hi = min(lo, m[i][c]), max(hi, m[i][c])
		}
		mean := sum / float64(n)
		var ss float64
		for i := range n {
			d := float64(m[i][c]) - mean
			ss += float64(d * d)
		}
		std := math.Sqrt(ss / float64(n))
		for out, i := range order {
			if lo == hi {
				seq[out][c] = 0
				continue
			}
			seq[out][c] = float32((float64(m[i][c]) - mean) / std)
		}
	}
	for i := range n {
		mask[i] = true
	}
	return seq, mask
}

// OneHot encodes a label (section 6, step 5).
func OneHot(label int) [NumClasses]float32 {
	var v [NumClasses]float32
	v[label] = 1
	return v
}
