package topology

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"go-hep.org/x/hep/groot"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/gen/internal/mc"
)

// TreeName is the name of the tree written into every file.
const TreeName = "Events"

// Class is one of the three samples of the topology classifier.
type Class int

// The classes, numbered by their label in the training data.
const (
	QCD Class = iota
	TTbar
	WJets
	NumClasses = 3
)

// Classes lists the classes in label order.
var Classes = [NumClasses]Class{QCD, TTbar, WJets}

// Label is the class's training label (0, 1 or 2).
func (c Class) Label() int { return int(c) }

// Name is the class's file-name prefix: "qcd", "ttbar" or "wjets".
func (c Class) Name() string {
	switch c {
	case QCD:
		return "qcd"
	case TTbar:
		return "ttbar"
	case WJets:
		return "wjets"
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// FileName returns the base name of the class's i-th output file (0-based),
// e.g. "ttbar_0003.root".
func FileName(c Class, i int) string { return fmt.Sprintf("%s_%04d.root", c.Name(), i) }

// ClassOf returns the class of a file Generate wrote, from its base name.
func ClassOf(path string) (Class, error) {
	base := filepath.Base(path)
	for _, c := range Classes {
		if strings.HasPrefix(base, c.Name()+"_") {
			return c, nil
		}
	}
	return 0, fmt.Errorf("topogen: %s: file name starts with none of qcd_, ttbar_, wjets_", path)
}

// PerClass returns how many of a total of events Generate writes for class
// c: an equal share, the remainder going to the lowest labels.
func PerClass(events int, c Class) int {
	n := events / NumClasses
	if int(c) < events%NumClasses {
		n++
	}
	return n
}

// Options configures Generate.
type Options struct {
	// Events is the total number of events, split equally between the
	// three classes (see PerClass); it must be at least 3.
	Events int
	// Seed selects the pseudo-random event stream.
	Seed int64
	// OutDir is the folder receiving the files; it is created if missing.
	OutDir string
	// EventsPerFile splits each class's events into files of at most that
	// many events; 0 writes one file per class.
	EventsPerFile int
	// Compression selects the basket codec; the zero value is zlib level 1.
	Compression Compression
}

// Compression names a basket codec and level, as "zlib", "lzma:9",
// "zstd" or "none" (see mc.Compression); the empty string means zlib level 1.
type Compression = mc.Compression

// fileJob is one output file: events [beg, end) of a class.
type fileJob struct {
	path     string
	class    Class
	beg, end int64
}

// Generate writes opts.Events synthetic events into ROOT files under
// opts.OutDir, one set of files per class, and returns their paths: the
// QCD files, then tt̄, then W+jets, each set in event order.
//
// Files are written concurrently (at most GOMAXPROCS at a time); every
// event depends only on the seed, its class and its index within the
// class, so neither the scheduling nor the split into files changes it.
func Generate(opts Options) ([]string, error) {
	if opts.Events < NumClasses {
		return nil, fmt.Errorf("topogen: Events must be at least %d (one per class), got %d", NumClasses, opts.Events)
	}
	if opts.EventsPerFile < 0 {
		return nil, fmt.Errorf("topogen: EventsPerFile must be >= 0, got %d", opts.EventsPerFile)
	}
	if opts.OutDir == "" {
		return nil, errors.New("topogen: OutDir is empty")
	}
	wopt, err := opts.Compression.WriteOption("topogen")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("topogen: create output folder: %w", err)
	}

	var jobs []fileJob
	for _, c := range Classes {
		n := int64(PerClass(opts.Events, c))
		perFile := int64(opts.EventsPerFile)
		if perFile == 0 || perFile > n {
			perFile = n
		}
		for i, beg := 0, int64(0); beg < n; i, beg = i+1, beg+perFile {
			jobs = append(jobs, fileJob{
				path:  filepath.Join(opts.OutDir, FileName(c, i)),
				class: c,
				beg:   beg,
				end:   min(beg+perFile, n),
			})
		}
	}

	errs := make([]error, len(jobs))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = writeFile(job, opts.Seed, wopt)
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

// writeFile writes one file's events.
func writeFile(job fileJob, seed int64, wopt rtree.WriteOption) (err error) {
	f, err := groot.Create(job.path)
	if err != nil {
		return fmt.Errorf("topogen: create %s: %w", job.path, err)
	}
	// A failure to close a completely written file still loses data.
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("topogen: close %s: %w", job.path, cerr)
		}
	}()

	var evt event
	w, err := rtree.NewWriter(f, TreeName, evt.writeVars(), wopt, rtree.WithTitle(TreeName), rtree.WithBasketSize(basketSize))
	if err != nil {
		return fmt.Errorf("topogen: create tree in %s: %w", job.path, err)
	}
	g := newGenerator(seed, job.class)
	for i := job.beg; i < job.end; i++ {
		g.fill(&evt, i)
		if _, err := w.Write(); err != nil {
			_ = w.Close()
			return fmt.Errorf("topogen: %s: write %s event %d: %w", job.path, job.class.Name(), i, err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("topogen: %s: close tree: %w", job.path, err)
	}
	return nil
}

// basketSize is larger than groot's 32 kB default: groot builds a fresh
// compressor for every basket, which dominated the generation time with
// events of a thousand particles.
var basketSize = 256 << 10
