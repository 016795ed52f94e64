package sqlfuncs

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteConeSum is coneSum's definition, with no grid: every particle of the
// list, in storage order.
func bruteConeSum(l *isoList, eta, phi float64, skip int, ownTrack bool) float64 {
	sum := 0.0
	for p := range l.pt {
		if p == skip {
			continue
		}
		d := topoDeltaR(eta, phi, l.eta[p], l.phi[p])
		if d < topoConeR && !(ownTrack && d < topoOwnTrackR) {
			sum += l.pt[p]
		}
	}
	return sum
}

// TestConeSumGrid checks the η–φ grid against the all-pairs sum, bit for
// bit, on lists built to stress the binning: particles at the cone's edge,
// across φ = ±π, a turn outside [−π, π], at huge |η|, with NaN and ±Inf
// coordinates, and all in one cell.
func TestConeSumGrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -1e300, 40, -40}
	draw := func(kind int) (eta, phi float64) {
		eta = rng.Float64()*6 - 3
		phi = rng.Float64()*2*math.Pi - math.Pi
		switch kind % 6 {
		case 1: // narrow cluster: many particles per cell
			eta, phi = 0.1+rng.NormFloat64()*0.05, math.Pi-0.01+rng.NormFloat64()*0.05
		case 2: // azimuth given a turn away
			phi += 2 * math.Pi * float64(1-2*rng.IntN(2))
		case 3: // coordinates the grid must leave out or squeeze
			if rng.IntN(2) == 0 {
				eta = special[rng.IntN(len(special))]
			} else {
				phi = special[rng.IntN(3)]
			}
		case 4: // exactly at the cone's edge from a lattice point
			eta, phi = 0.3*float64(rng.IntN(10)-5), 0.3*float64(rng.IntN(20)-10)
		}
		return eta, phi
	}
	var l isoList
	var hits []int32
	for trial := range 300 {
		n := rng.IntN(400)
		pt, eta, phi := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range n {
			pt[i] = 0.5 + rng.ExpFloat64()*5
			eta[i], phi[i] = draw(trial + i)
		}
		loadIsoList(&l, pt, eta, phi, 0)
		for q := range 60 {
			qe, qf := draw(trial + q)
			skip, own := -1, q%3 == 0
			if n > 0 && q%2 == 0 { // a particle of the list, left out of its own sum
				skip = rng.IntN(n)
				qe, qf = l.eta[skip], l.phi[skip]
			}
			got := l.coneSum(qe, qf, skip, own, &hits)
			want := bruteConeSum(&l, qe, qf, skip, own)
			if math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("trial %d query %d at (%v, %v), skip %d: grid %v, all pairs %v", trial, q, qe, qf, skip, got, want)
			}
		}
	}
}
