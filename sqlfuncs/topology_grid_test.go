package sqlfuncs

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// bruteConeSum is a cone sum by its definition, with no grid: every particle of the
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

// sameIso reports whether a and b are the same bits.
func sameIso(a, b iso) bool {
	return math.Float64bits(a.ch) == math.Float64bits(b.ch) && math.Float64bits(a.gamma) == math.Float64bits(b.gamma) &&
		math.Float64bits(a.neu) == math.Float64bits(b.neu)
}

// TestConeSumGrid checks the η–φ grid's three cone sums against all pairs, bit for
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
	var w topoWork
	for trial := range 300 {
		var pt, eta, phi [numLists][]float64
		for li := range numLists {
			n := rng.IntN(300)
			for i := range n {
				e, f := draw(trial + i + li)
				pt[li], eta[li], phi[li] = append(pt[li], 1.5+rng.ExpFloat64()*5), append(eta[li], e), append(phi[li], f)
			}
		}
		loadLists(&w, pt[0], eta[0], phi[0], pt[1], eta[1], phi[1], pt[2], eta[2], phi[2])
		for q := range 60 {
			qe, qf := draw(trial + q)
			qpt := 10 + rng.Float64()
			self, own := int32(-1), q%3 == 0
			skip := [numLists]int{-1, -1, -1}
			if li := rng.IntN(numLists); q%2 == 0 && len(w.lists[li].pt) > 0 { // a particle of a list, left out of its own sum
				k := rng.IntN(len(w.lists[li].pt))
				qpt, qe, qf = w.lists[li].pt[k], w.lists[li].eta[k], w.lists[li].phi[k]
				self, skip[li], own = w.builtGrid().first[li]+int32(k), k, false
			}
			got := w.isoAt(qpt, qe, qf, self, own)
			want := iso{
				ch:    bruteConeSum(&w.lists[listCh], qe, qf, skip[listCh], own) / qpt,
				gamma: bruteConeSum(&w.lists[listGamma], qe, qf, skip[listGamma], false) / qpt,
				neu:   bruteConeSum(&w.lists[listNeu], qe, qf, skip[listNeu], false) / qpt,
			}
			if !sameIso(got, want) {
				t.Fatalf("trial %d query %d at (%v, %v), self %d: grid %+v, all pairs %+v", trial, q, qe, qf, self, got, want)
			}
			if self < 0 && own { // a lepton: leptonIso scans the lists
				if got := w.leptonIso(qpt, qe, qf); !sameIso(got, want) {
					t.Fatalf("trial %d query %d at (%v, %v): leptonIso %+v, all pairs %+v", trial, q, qe, qf, got, want)
				}
			}
		}
		// Every particle's isolation at once (coneSums), as particleIso
		// gives it, against all pairs.
		for li := range numLists {
			l := &w.lists[li]
			for k := range l.pt {
				skip := [numLists]int{-1, -1, -1}
				skip[li] = k
				got := w.particleIso(li, k)
				want := iso{
					ch:    bruteConeSum(&w.lists[listCh], l.eta[k], l.phi[k], skip[listCh], false) / l.pt[k],
					gamma: bruteConeSum(&w.lists[listGamma], l.eta[k], l.phi[k], skip[listGamma], false) / l.pt[k],
					neu:   bruteConeSum(&w.lists[listNeu], l.eta[k], l.phi[k], skip[listNeu], false) / l.pt[k],
				}
				if !sameIso(got, want) {
					t.Fatalf("trial %d particle %d of list %d at (%v, %v): cone sums %+v, all pairs %+v", trial, k, li, l.eta[k], l.phi[k], got, want)
				}
			}
		}
	}
}

// TestSqrtBound checks the square-root-free cone tests at their bounds and
// around them: x < bound must hold exactly when math.Sqrt(x) < r.
func TestSqrtBound(t *testing.T) {
	for _, c := range []struct{ r, bound float64 }{{topoConeR, coneR2}, {topoOwnTrackR, ownTrackR2}} {
		x := c.bound
		for range 4 {
			x = math.Nextafter(x, 0)
		}
		for range 9 {
			if (x < c.bound) != (math.Sqrt(x) < c.r) {
				t.Errorf("r = %v, bound %v: x = %v gives x < bound %v but sqrt(x) < r %v", c.r, c.bound, x, x < c.bound, math.Sqrt(x) < c.r)
			}
			x = math.Nextafter(x, math.Inf(1))
		}
		for _, x := range []float64{0, math.Copysign(0, -1), c.r * c.r, math.Inf(1), math.NaN()} {
			if (x < c.bound) != (math.Sqrt(x) < c.r) {
				t.Errorf("r = %v: x = %v disagrees", c.r, x)
			}
		}
	}
}

// TestRankKeys checks rank's integer keys and bucket sort against its
// general case (rankPairs) on float32 pT with many ties, +Inf and subsets
// (keep).
func TestRankKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	var w topoWork
	for trial := range 200 {
		var l isoList
		n := rng.IntN(600)
		for range n {
			pt := float64(float32(0.5 + rng.ExpFloat64()*3))
			switch rng.IntN(8) {
			case 0:
				if trial%4 == 0 { // +Inf crowds the finite keys into few buckets
					pt = math.Inf(1)
				}
			case 1, 2:
				pt = float64(1 + rng.IntN(4)) // ties
			}
			l.pt = append(l.pt, pt)
		}
		var keep []int32
		if trial%2 == 1 {
			for k := range n {
				if rng.IntN(3) > 0 {
					keep = append(keep, int32(k))
				}
			}
		}
		limit := rng.IntN(n + 2)
		got := slices.Clone(w.rank(&l, slices.Clone(keep), limit))
		want := w.rankPairs(&l, keep, limit)
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: rank %v, want %v", trial, got, want)
		}
	}
}
