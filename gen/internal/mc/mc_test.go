package mc

import "testing"

// TestFloat64MatchesRand checks that the shortcut draws what rand.Rand's
// Float64 draws from the same stream, so that no generator's events move.
func TestFloat64MatchesRand(t *testing.T) {
	a, b := NewStream(), NewStream()
	for idx := range int64(20) {
		a.Reseed(7, idx)
		b.Reseed(7, idx)
		for i := range 1000 {
			if x, y := a.Float64(), b.R.Float64(); x != y {
				t.Fatalf("event %d draw %d: %v, rand.Rand gives %v", idx, i, x, y)
			}
		}
	}
}
