package adl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"go-hep.org/x/hep/groot"
	"go-hep.org/x/hep/groot/rtree"
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

// Compression names a basket codec and an optional level as "codec" or
// "codec:level": "zlib", "lzma", "zstd" or "none", level 1 to 9 (default 1).
// The empty string means "zlib:1".
//
// LZ4 is refused: groot v0.40.0's LZ4 writer truncates a basket whose
// compressed form is barely smaller than its input (it happens with a few
// hundred bytes of jet floats) and the file then fails to read back.
type Compression string

// writeOption maps c onto groot's tree-writer option.
func (c Compression) writeOption() (rtree.WriteOption, error) {
	codec, lvlText, hasLevel := strings.Cut(string(c), ":")
	level := 1
	if hasLevel {
		n, err := strconv.Atoi(lvlText)
		if err != nil || n < 1 || n > 9 {
			return nil, fmt.Errorf("adlgen: compression %q: level must be an integer in 1..9", string(c))
		}
		level = n
	}
	switch strings.ToLower(codec) {
	case "", "zlib":
		return rtree.WithZlib(level), nil
	case "lz4":
		return nil, fmt.Errorf("adlgen: compression %q: groot's LZ4 writer can truncate barely compressible baskets, making unreadable files; use zlib, lzma or zstd", string(c))
	case "lzma":
		return rtree.WithLZMA(level), nil
	case "zstd":
		return rtree.WithZstd(level), nil
	case "none":
		if hasLevel {
			return nil, fmt.Errorf("adlgen: compression %q: \"none\" takes no level", string(c))
		}
		return rtree.WithoutCompression(), nil
	default:
		return nil, fmt.Errorf("adlgen: unknown compression %q (want zlib, lzma, zstd or none, with an optional :level)", string(c))
	}
}

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
	wopt, err := opts.Compression.writeOption()
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
