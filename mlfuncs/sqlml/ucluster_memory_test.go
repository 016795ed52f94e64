package sqlml_test

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hepsql/hepsql/mlfuncs/data"
)

// heapPeaks samples the heap every millisecond while f runs and returns
// the high-water marks of the live heap (as marked by the last GC cycle:
// what the program holds) and of all heap objects (live, and dead but
// not yet swept: what the collector lets it reach).
func heapPeaks(f func()) (live, objects uint64) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		live, objects = max(live, sample[0].Value.Uint64()), max(objects, sample[1].Value.Uint64())
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			read()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	f()
	close(stop)
	wg.Wait()
	read()
	return live, objects
}

// TestUClusterTrainingStreams checks issue 21's memory bar: a ucluster
// training streams its batches from the query (through the local cache
// file, one block at a time, and the memory_mb shuffle buffer) instead of
// holding the data set, so a query of 6 × memory_mb of rows, in the
// network's float32 form, trains in the heap of one of 1 × memory_mb,
// and within a bound made of the budget and fixed buffers. The GC target
// is lowered to 10 % so that the collector marks often and the sampled
// live heap follows what training holds.
func TestUClusterTrainingStreams(t *testing.T) {
	db := open(t, "")
	const (
		memMB     = 2  // 2,175 rows: the 1 × run fills a whole DuckDB chunk too
		particles = 30 // per jet, all present: SeqLen 30
		features  = 8
		batch     = 64
		chunk     = 2048 // rows of a DuckDB chunk: one cache block
	)
	budget := int64(memMB) << 20
	rowBytes := data.RowBytes([]int{particles * features}) // 964 B
	if int64(chunk)*rowBytes > budget {
		t.Fatal("the 1 × run must fill the buffers sized by a DuckDB chunk")
	}
	rows1 := int(budget / rowBytes)
	// Deterministic, finite, non-zero particles: no padding, every row
	// the full SeqLen.
	query := func(rows int) string {
		return fmt.Sprintf(`SELECT list_transform(range(%d), p -> list_transform(range(%d),
			f -> (1.5 + sin(0.37 * i + 0.11 * p + 0.7 * f))::FLOAT)) AS particles, (i %% 3)::INTEGER AS aux_label
			FROM range(%d) t(i) ORDER BY hash(i)`, particles, features, rows)
	}
	type run struct {
		rows                      int
		base, live, objects, grew uint64
	}
	train := func(name string, rows int) run {
		q := fmt.Sprintf(`SELECT count(*) FROM train('%s', '%s', model := 'ucluster', memory_mb := %d,
			clusters := 3, pretrain_epochs := 0, epochs := 1, k := 4, embed := 16, batch := %d, threads := 2, seed := 1)`,
			name, strings.ReplaceAll(query(rows), "'", "''"), memMB, batch)
		runtime.GC()
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(sample)
		r := run{rows: rows, base: sample[0].Value.Uint64()}
		var n int
		start := time.Now()
		r.live, r.objects = heapPeaks(func() {
			if err := db.QueryRow(q).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		})
		if n != 1 {
			t.Fatalf("%s: %d epoch rows, want 1", name, n)
		}
		r.grew = r.live - min(r.base, r.live)
		t.Logf("%s: %d rows (%.1f MiB as float32, %.1f × memory_mb): live heap before %.1f MiB, peak %.1f MiB (+%.1f); heap objects' peak %.1f MiB; %.1fs",
			name, rows, mib(uint64(int64(rows)*rowBytes)), float64(int64(rows)*rowBytes)/float64(budget),
			mib(r.base), mib(r.live), mib(r.grew), mib(r.objects), time.Since(start).Seconds())
		return r
	}
	old := debug.SetGCPercent(10)
	defer debug.SetGCPercent(old)
	r1 := train("uc1", rows1)
	r6 := train("uc6", 6*rows1)
	added := int64(r6.rows-r1.rows) * rowBytes
	// Not growing with the data: 5 × memory_mb more rows may raise the
	// live heap's peak by at most 2 × memory_mb, where holding the extra
	// rows would take 5 ×. What legitimately grows is the k-means'
	// embeddings of the extra rows (80 B a jet here: 0.8 MiB, up to
	// kmeansCap), and the longer run's GC cycles catch more of the
	// transient buffers (regrown blocks) at their peak (up to 2.6 MiB in
	// total under -race).
	if d := int64(r6.grew) - int64(r1.grew); d > 2*budget {
		t.Errorf("%.1f MiB more rows raised the live heap's peak by %.1f MiB (%.1f against %.1f MiB): training holds rows beyond its budget",
			mib(uint64(added)), mib(uint64(d)), mib(r6.grew), mib(r1.grew))
	}
	// Within a bound: the shuffle buffer (memory_mb) and the k-means'
	// embeddings (at most memory_mb, kmeansCap), three blocks of a
	// DuckDB chunk (the query's converted rows while the cache is written;
	// the cache block and its expanded batch while it is read), the
	// cache's two 1 MiB buffers, and 6 MiB for the model, its Adam moments,
	// the workers' gradients and the four network workspaces of 64 jets
	// at most (the trainer's two, the k-means pass's two).
	bound := 2*budget + 3*chunk*rowBytes + 2<<20 + 6<<20
	for _, r := range []run{r1, r6} {
		if int64(r.grew) > bound {
			t.Errorf("training %.1f MiB of rows raised the live heap by %.1f MiB; bound %.1f MiB", mib(uint64(int64(r.rows)*rowBytes)), mib(r.grew), mib(uint64(bound)))
		}
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
