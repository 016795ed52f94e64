package jets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"go-hep.org/x/hep/groot"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/gen/internal/mc"
)

// TreeName is the name of the tree written into every file: one entry per
// jet.
const TreeName = "Jets"

// MaxParticles is the most constituents a jet keeps (the hardest ones), as
// in the HLS4ML data set.
const MaxParticles = 100

// Class is a jet's origin, its truth label.
type Class int32

// The classes, numbered by their truth label.
const (
	W Class = iota
	Z
	Top
	QCD
)

// Name is the class's name: "W", "Z", "top" or "QCD".
func (c Class) Name() string {
	switch c {
	case W:
		return "W"
	case Z:
		return "Z"
	case Top:
		return "top"
	case QCD:
		return "QCD"
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Options configures Generate.
type Options struct {
	// Jets is the number of jets (tree entries), at least one.
	Jets int
	// Seed selects the pseudo-random jet stream.
	Seed int64
	// QCD adds light-quark and gluon jets (truth 3) as a fourth class.
	QCD bool
	// OutDir is the folder receiving the files; it is created if missing.
	OutDir string
	// JetsPerFile splits the jets into files of at most that many; 0
	// writes one file.
	JetsPerFile int
	// Compression selects the basket codec; the zero value is zlib level 1.
	Compression Compression
}

// Compression names a basket codec and level (see mc.Compression).
type Compression = mc.Compression

// NumClasses is the number of classes a sample with or without QCD holds.
func NumClasses(qcd bool) int {
	if qcd {
		return 4
	}
	return 3
}

// ClassOf is the class of jet idx (0-based, over the whole sample): the
// classes take turns, so every prefix of a sample is balanced.
func ClassOf(idx int64, qcd bool) Class { return Class(idx % int64(NumClasses(qcd))) }

// FileName returns the base name of the i-th output file (0-based).
func FileName(i int) string { return fmt.Sprintf("jets_%04d.root", i) }

// ballastBytes is the size of Generate's GC ballast.
const ballastBytes = 64 << 20

type fileJob struct {
	path     string
	beg, end int64
}

// Generate writes opts.Jets jets into ROOT files under opts.OutDir and
// returns their paths in jet order.
//
// Files are written concurrently (at most GOMAXPROCS at a time), each by
// one writer fed by GOMAXPROCS/files drawers, so that a single file too
// keeps every core busy; jet i depends only on (Seed, i), so neither the
// scheduling nor the split into files changes it.
func Generate(opts Options) ([]string, error) {
	if opts.Jets < 1 {
		return nil, fmt.Errorf("jetgen: Jets must be at least 1, got %d", opts.Jets)
	}
	if opts.JetsPerFile < 0 {
		return nil, fmt.Errorf("jetgen: JetsPerFile must be >= 0, got %d", opts.JetsPerFile)
	}
	if opts.OutDir == "" {
		return nil, errors.New("jetgen: OutDir is empty")
	}
	wopt, err := opts.Compression.WriteOption("jetgen")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("jetgen: create output folder: %w", err)
	}
	n := int64(opts.Jets)
	perFile := int64(opts.JetsPerFile)
	if perFile == 0 || perFile > n {
		perFile = n
	}
	var jobs []fileJob
	for i, beg := 0, int64(0); beg < n; i, beg = i+1, beg+perFile {
		jobs = append(jobs, fileJob{path: filepath.Join(opts.OutDir, FileName(i)), beg: beg, end: min(beg+perFile, n)})
	}
	// groot allocates fresh buffers for every basket it flushes while the
	// live heap stays at a few MiB, so the collector would run every few
	// MiB allocated and preempt the drawers each time (~6% of the CPU
	// time). A ballast raises the heap goal while Generate runs: pointer-
	// free and never written, it costs no scanning and, fresh from the
	// OS, no physical memory.
	ballast := make([]byte, ballastBytes)
	defer runtime.KeepAlive(ballast)
	errs := make([]error, len(jobs))
	procs := runtime.GOMAXPROCS(0)
	files := min(procs, len(jobs))
	// Drawing costs about twice what groot's encoding and compression of
	// a jet cost: each file has its writer and procs/files drawers, so
	// that one file alone keeps every core busy.
	drawers := max(1, procs/files)
	sem := make(chan struct{}, files)
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = writeFile(job, opts.Seed, opts.QCD, wopt, drawers)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	paths := make([]string, len(jobs))
	for i, job := range jobs {
		paths[i] = job.path
	}
	return paths, nil
}

func writeFile(job fileJob, seed int64, qcd bool, wopt rtree.WriteOption, drawers int) (err error) {
	f, err := groot.Create(job.path)
	if err != nil {
		return fmt.Errorf("jetgen: create %s: %w", job.path, err)
	}
	// A failure to close a completely written file still loses data.
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("jetgen: close %s: %w", job.path, cerr)
		}
	}()
	var j Jet
	w, err := rtree.NewWriter(f, TreeName, j.writeVars(), wopt, rtree.WithTitle(TreeName), rtree.WithBasketSize(256<<10))
	if err != nil {
		return fmt.Errorf("jetgen: create tree in %s: %w", job.path, err)
	}
	// Drawers fill batches in parallel while this goroutine writes them
	// in jet order (groot's writer is sequential).
	done := make(chan struct{})
	defer close(done)
	batches := drawBatches(job, seed, qcd, drawers, done)
	i := job.beg
	for b := range batches {
		<-b.ready
		for k := range b.jets {
			j = b.jets[k]
			if _, err := w.Write(); err != nil {
				_ = w.Close()
				return fmt.Errorf("jetgen: %s: write jet %d: %w", job.path, i, err)
			}
			i++
		}
		b.free <- b.jets
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("jetgen: %s: close tree: %w", job.path, err)
	}
	return nil
}

// batchJets is the number of jets drawn ahead in one batch.
const batchJets = 512

// batch is a run of consecutive jets, drawn by one drawer.
type batch struct {
	beg   int64
	jets  []Jet
	ready chan struct{} // closed once jets are drawn
	free  chan<- []Jet  // where the writer returns the batch's storage
}

// drawBatches hands the job's batches, in jet order, to the writer, and
// has drawers goroutines fill them in parallel; storage is recycled, two
// batches per drawer in flight plus the one being written. Each jet
// depends only on (seed, index), so the drawers' scheduling does not
// change the file. It stops early when done is closed.
func drawBatches(job fileJob, seed int64, qcd bool, drawers int, done <-chan struct{}) <-chan *batch {
	inFlight := 2 * drawers
	out := make(chan *batch, inFlight)
	work := make(chan *batch, inFlight)
	free := make(chan []Jet, inFlight+1)
	for range cap(free) {
		free <- make([]Jet, batchJets)
	}
	for range drawers {
		go func() {
			g := NewGenerator(seed, qcd)
			for b := range work {
				for k := range b.jets {
					g.Fill(&b.jets[k], b.beg+int64(k))
				}
				close(b.ready)
			}
		}()
	}
	go func() {
		defer close(out)
		defer close(work)
		for beg := job.beg; beg < job.end; beg += batchJets {
			var js []Jet
			select {
			case js = <-free:
			case <-done:
				return
			}
			b := &batch{beg: beg, jets: js[:min(int64(batchJets), job.end-beg)], ready: make(chan struct{}), free: free}
			// work has room for every batch whose storage is out: this
			// send never waits on the writer.
			work <- b
			select {
			case out <- b:
			case <-done:
				return
			}
		}
	}()
	return out
}
