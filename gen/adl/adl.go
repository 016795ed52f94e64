package adl

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

// TreeName is the name of the tree written into every file, as in the CMS
// sample.
const TreeName = "Events"

// Options configures Generate.
type Options struct {
	// Events is the total number of events to write; it must be positive.
	Events int
	// Seed selects the pseudo-random event stream.
	Seed int64
	// OutDir is the folder receiving the files; it is created if missing.
	OutDir string
	// EventsPerFile splits the output into files of at most that many
	// events; 0 writes a single file.
	EventsPerFile int
	// Compression selects the basket codec; the zero value is zlib level 1,
	// the setting of the CMS sample.
	Compression Compression
}

// Compression names a basket codec and level, as "zlib", "lzma:9",
// "zstd" or "none" (see mc.Compression); the empty string means zlib level 1.
type Compression = mc.Compression

// FileName returns the base name of the i-th output file (0-based).
func FileName(i int) string { return fmt.Sprintf("adl_%04d.root", i) }

// Generate writes opts.Events synthetic events into one or more ROOT files
// under opts.OutDir and returns their paths in event order.
//
// Files are written concurrently (one goroutine per file, at most
// GOMAXPROCS at a time); because every event depends only on the seed and
// its global index, the content does not depend on that scheduling.
func Generate(opts Options) ([]string, error) {
	if opts.Events <= 0 {
		return nil, fmt.Errorf("adlgen: Events must be positive, got %d", opts.Events)
	}
	if opts.EventsPerFile < 0 {
		return nil, fmt.Errorf("adlgen: EventsPerFile must be >= 0, got %d", opts.EventsPerFile)
	}
	if opts.OutDir == "" {
		return nil, errors.New("adlgen: OutDir is empty")
	}
	wopt, err := opts.Compression.WriteOption("adlgen")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("adlgen: create output folder: %w", err)
	}

	perFile := opts.EventsPerFile
	if perFile == 0 || perFile > opts.Events {
		perFile = opts.Events
	}
	nfiles := (opts.Events + perFile - 1) / perFile

	paths := make([]string, nfiles)
	errs := make([]error, nfiles)
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range nfiles {
		paths[i] = filepath.Join(opts.OutDir, FileName(i))
		beg := int64(i) * int64(perFile)
		end := min(beg+int64(perFile), int64(opts.Events))
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = writeFile(paths[i], opts.Seed, beg, end, wopt)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return paths, nil
}

// writeFile writes the events with global indices [beg, end) into path.
func writeFile(path string, seed, beg, end int64, wopt rtree.WriteOption) (err error) {
	f, err := groot.Create(path)
	if err != nil {
		return fmt.Errorf("adlgen: create %s: %w", path, err)
	}
	// The file must be closed even when writing fails, but a failure to
	// close a file we wrote completely still loses data, so report it.
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("adlgen: close %s: %w", path, cerr)
		}
	}()

	var evt event
	w, err := rtree.NewWriter(f, TreeName, evt.writeVars(), wopt, rtree.WithTitle(TreeName))
	if err != nil {
		return fmt.Errorf("adlgen: create tree in %s: %w", path, err)
	}
	g := newGenerator(seed)
	for i := beg; i < end; i++ {
		g.fill(&evt, i)
		if _, err := w.Write(); err != nil {
			_ = w.Close()
			return fmt.Errorf("adlgen: %s: write event %d: %w", path, i, err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("adlgen: %s: close tree: %w", path, err)
	}
	return nil
}
