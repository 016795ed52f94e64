package team

import (
	"sync"
	"testing"
	"time"
)

func TestRunSyncClose(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5} {
		tm := New(n)
		out := make([]int, n)
		sums := make([]int, n)
		for step := 1; step <= 300; step++ {
			tm.Run(func(w int) {
				out[w] = step * (w + 1)
				tm.Sync()
				// After Sync every member sees every other's write.
				s := 0
				for _, v := range out {
					s += v
				}
				sums[w] = s
			})
			want := step * n * (n + 1) / 2
			for w, s := range sums {
				if s != want {
					t.Fatalf("n=%d step %d: member %d summed %d, want %d", n, step, w, s, want)
				}
			}
		}
		tm.Close()
		tm.Close() // idempotent
	}
}

// Members that wait longer than the polling window park and are woken.
func TestParkedMembersWake(t *testing.T) {
	tm := New(3)
	defer tm.Close()
	var mu sync.Mutex
	seen := map[int]int{}
	for step := 0; step < 5; step++ {
		time.Sleep(3 * spinFor)
		tm.Run(func(w int) {
			if w == 0 {
				time.Sleep(2 * spinFor)
			}
			mu.Lock()
			seen[w]++
			mu.Unlock()
		})
	}
	for w := range 3 {
		if seen[w] != 5 {
			t.Errorf("member %d ran %d times, want 5", w, seen[w])
		}
	}
}

func TestBarrierManyRounds(t *testing.T) {
	const n, rounds = 4, 500
	b := NewBarrier(n)
	counts := make([]int, n)
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			for r := range rounds {
				counts[g] = r + 1
				b.Wait()
				for o := range n {
					if c := counts[o]; c < r+1 {
						t.Errorf("round %d: goroutine %d saw %d at %d", r, g, c, o)
						return
					}
				}
				b.Wait()
			}
		})
	}
	wg.Wait()
}
