// Package team runs a function on a fixed set of goroutines at once, for
// the trainer's data-parallel steps and the predictor's chunks: the caller
// is member 0 and the other members are persistent goroutines, so a step
// costs no goroutine start, and members wait for each other by polling
// briefly before they park.
//
// Why poll: a parked goroutine is woken through a futex, which took 70–80
// µs per wake-up on the 2-core VM the benchmarks run on (seen in an
// execution trace), against 150–450 µs for a whole mlp batch; two such
// wake-ups per batch were what kept 2 threads from being faster than 1.
// Polling a little longer than the serial work between two steps
// (shuffling a batch, reading a chunk) keeps every rendezvous of a busy
// loop off the futex, while a member that waits longer (validation between
// epochs, an idle predictor) still parks instead of burning a core.
package team

import (
	"sync"
	"sync/atomic"
	"time"
)

// spinFor is how long a waiting member polls before it parks.
const spinFor = 200 * time.Microsecond

// Team is n members. Run and Close must not be called concurrently.
type Team struct {
	n          int
	f          func(w int)
	stop       bool
	start, end *Barrier
	sync       *Barrier
	exited     sync.WaitGroup
}

// New starts a team of n ≥ 1 members (n−1 goroutines). Close stops them.
func New(n int) *Team {
	n = max(n, 1)
	t := &Team{n: n, start: NewBarrier(n), end: NewBarrier(n), sync: NewBarrier(n)}
	for w := 1; w < n; w++ {
		t.exited.Add(1)
		go func() {
			defer t.exited.Done()
			for {
				t.start.Wait()
				if t.stop {
					return
				}
				t.f(w)
				t.end.Wait()
			}
		}()
	}
	return t
}

// Size is the number of members.
func (t *Team) Size() int { return t.n }

// Run calls f(w) for every member w at once, f(0) on the calling
// goroutine, and returns when all have returned. Everything written before
// Run is visible to every f, and everything every f wrote is visible after
// Run.
func (t *Team) Run(f func(w int)) {
	if t.n == 1 {
		f(0)
		return
	}
	t.f = f
	t.start.Wait()
	f(0)
	t.end.Wait()
	t.f = nil
}

// Sync is a barrier across the members inside Run: every member must
// call it the same number of times.
func (t *Team) Sync() {
	if t.n > 1 {
		t.sync.Wait()
	}
}

// Close stops the members' goroutines.
func (t *Team) Close() {
	if t.n > 1 && !t.stop {
		t.stop = true
		t.start.Wait()
		t.exited.Wait()
	}
}

// Barrier is a reusable rendezvous of n goroutines: Wait returns once all
// n have called it, and everything written before any goroutine's Wait is
// visible after every goroutine's return.
type Barrier struct {
	n        int32
	arrived  atomic.Int32
	phase    atomic.Uint32
	sleepers atomic.Int32
	mu       sync.Mutex
	cond     *sync.Cond
}

// NewBarrier returns a barrier for n goroutines.
func NewBarrier(n int) *Barrier {
	b := &Barrier{n: int32(n)}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// Wait blocks until all n goroutines have called Wait.
func (b *Barrier) Wait() {
	ph := b.phase.Load()
	if b.arrived.Add(1) == b.n {
		b.arrived.Store(0)
		b.phase.Add(1)
		// A waiter registers as a sleeper before it re-checks the phase
		// under mu, so either it sees the new phase or this sees it.
		if b.sleepers.Load() > 0 {
			b.mu.Lock()
			b.cond.Broadcast()
			b.mu.Unlock()
		}
		return
	}
	deadline := time.Now().Add(spinFor)
	for i := 1; ; i++ {
		if b.phase.Load() != ph {
			return
		}
		// Reading the clock costs about as much as 50 polls.
		if i%256 == 0 && time.Now().After(deadline) {
			break
		}
	}
	b.mu.Lock()
	b.sleepers.Add(1)
	for b.phase.Load() == ph {
		b.cond.Wait()
	}
	b.sleepers.Add(-1)
	b.mu.Unlock()
}
