package serve

import (
	"errors"
	"sync"
	"time"

	"github.com/hepsql/hepsql/mlfuncs/nn"
)

// batcher gathers concurrent requests for one model version into one
// batch for the network: the first request waits at most wait for others,
// and a batch holds at most maxRows rows. One goroutine runs the batches,
// so a model's requests share its GEMMs rather than its cores.
type batcher struct {
	pred    *nn.Predictor
	width   int // inputs per row
	classes int
	maxRows int
	wait    time.Duration

	queue chan *job
	quit  chan struct{}
	done  chan struct{}

	mu     sync.RWMutex // held shared while queueing, so that close sees no job arrive after it
	closed bool
}

// job is one request's rows and, once run, its probabilities.
type job struct {
	x     []float32
	rows  int
	probs []float32
	err   error
	ready chan struct{}
}

var errClosed = errors.New("the model was unloaded or the server is shutting down")

func newBatcher(pred *nn.Predictor, width, classes, maxRows int, wait time.Duration) *batcher {
	b := &batcher{pred: pred, width: width, classes: classes, maxRows: max(1, maxRows), wait: wait,
		queue: make(chan *job, 1024), quit: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	return b
}

// predict returns the class probabilities of rows rows of x,
// [rows×classes] row-major. Requests of half maxRows rows or more run
// alone, on the caller's goroutine: such a request already fills the
// network's chunks (512 rows a thread), so joining a batch would gain it
// little and cost a hand-off to the batcher's goroutine, a copy of its
// rows into the batch and of its probabilities out; and concurrent large
// requests then run side by side rather than one after the other.
func (b *batcher) predict(x []float32, rows int) ([]float32, error) {
	if 2*rows >= b.maxRows {
		out := make([]float32, rows*b.classes)
		return out, b.pred.PredictInto(out, [][]float32{x}, rows)
	}
	j := &job{x: x, rows: rows, ready: make(chan struct{})}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return nil, errClosed
	}
	b.queue <- j // the loop runs until close, which waits for this
	b.mu.RUnlock()
	<-j.ready
	return j.probs, j.err
}

// close stops the batcher after the batches it holds.
func (b *batcher) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.quit)
	}
	b.mu.Unlock()
	<-b.done
}

func (b *batcher) loop() {
	defer close(b.done)
	var (
		batch []*job
		x     []float32
		out   []float32
		timer = time.NewTimer(time.Hour)
	)
	timer.Stop()
	for {
		var first *job
		select {
		case first = <-b.queue:
		case <-b.quit:
			b.drain()
			return
		}
		batch = append(batch[:0], first)
		rows := first.rows
		// Whatever is queued already joins at once; then the batch waits
		// up to b.wait for more while it has room.
	gather:
		for rows < b.maxRows {
			select {
			case j := <-b.queue:
				batch, rows = b.add(batch, j, rows)
				continue
			default:
			}
			if b.wait <= 0 {
				break
			}
			timer.Reset(b.wait)
			for rows < b.maxRows {
				select {
				case j := <-b.queue:
					batch, rows = b.add(batch, j, rows)
				case <-timer.C:
					break gather
				}
			}
			if !timer.Stop() {
				<-timer.C
			}
			break
		}
		x, out = b.run(batch, rows, x, out)
	}
}

// add appends j to the batch; a job that would overflow it runs alone
// first, so that the batch keeps its room.
func (b *batcher) add(batch []*job, j *job, rows int) ([]*job, int) {
	if rows+j.rows > b.maxRows {
		b.run([]*job{j}, j.rows, nil, nil)
		return batch, rows
	}
	return append(batch, j), rows + j.rows
}

// run predicts a batch and hands each job its rows; x and out are reused
// buffers, returned grown.
func (b *batcher) run(batch []*job, rows int, x, out []float32) ([]float32, []float32) {
	x = x[:0]
	for _, j := range batch {
		x = append(x, j.x...)
	}
	need := rows * b.classes
	if cap(out) < need {
		out = make([]float32, need)
	}
	out = out[:need]
	err := b.pred.PredictInto(out, [][]float32{x}, rows)
	at := 0
	for _, j := range batch {
		n := j.rows * b.classes
		if err != nil {
			j.err = err
		} else {
			j.probs = append([]float32(nil), out[at:at+n]...)
		}
		at += n
		close(j.ready)
	}
	return x, out
}

// drain answers the jobs queued at shutdown.
func (b *batcher) drain() {
	for {
		select {
		case j := <-b.queue:
			j.err = errClosed
			close(j.ready)
		default:
			return
		}
	}
}
