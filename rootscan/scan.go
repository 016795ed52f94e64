package rootscan

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/tbranch"
)

// Names of the provenance columns every read_root table carries after its
// branches: the file a row came from and the row's entry number in it.
const (
	FileColumn  = "_file"
	EntryColumn = "_entry"
)

// unitEntries is the smallest number of entries handed to a thread at a
// time; baskets are merged into units at least this large so that the
// per-unit bookkeeping stays negligible next to decoding.
var unitEntries int64 = 8192

// maxUnitEntries, when positive, cuts units further; tests use it to start
// units in the middle of every basket.
var maxUnitEntries int64

// rootTable is a bound read_root call: the names of a chain's files and
// the schema of the first, which alone is opened at bind. The others are
// opened by the scan's threads as they reach them (see rootScan), so that
// binding costs one file's metadata whatever the chain's length, and the
// parsing of the rest is spread over the threads.
//
// The table's columns are the supported branches only, then _file and
// _entry. Unsupported branches are left out of the schema, so that
// SELECT * and count(*) work on every tree; the bind records them in the
// database's Notes, from which the engine makes a notice and explains
// DuckDB's "column not found" when a query names one.
type rootTable struct {
	names   []string
	tree    string            // the chain's tree, as chosen in the first file
	first   *openFile         // names[0]; owned by the table
	cols    []*tbranch.Column // schema: the first file's supported columns
	out     []output          // the table's branch columns, each one or more of cols (nest.go)
	leftOut []*tbranch.Column // the first file's unsupported columns
	opts    rfile.SourceOptions
	spans   []entrySpan // per file, the entries a shard reads; nil: all (shard.go)
}

// bindReadRoot binds read_root; what the table leaves out goes to notes
// (nil: nowhere), under the calling connection.
func bindReadRoot(args *capi.BindArgs, notes *Notes, shard Shard) (capi.Table, error) {
	t, err := bindChain(args, shard)
	if err != nil {
		// No TTree answered: the file may hold an RNTuple (rntuple.go).
		nt, ok, nerr := bindRNTuple(args, err)
		if !ok {
			return nil, err
		}
		if nerr != nil {
			return nil, nerr
		}
		if len(nt.leftOut) > 0 && notes != nil {
			if conn, ok := args.ConnectionID(); ok {
				notes.add(conn, nt.leftOutNote())
			}
		}
		return nt, nil
	}
	if len(t.leftOut) > 0 && notes != nil {
		if conn, ok := args.ConnectionID(); ok {
			notes.add(conn, t.leftOutNote())
		}
	}
	return t, nil
}

func bindChain(args *capi.BindArgs, shard Shard) (*rootTable, error) {
	src, err := args.Arg(0)
	if err != nil {
		return nil, fmt.Errorf("read_root: source: %w", err)
	}
	tree, err := stringArg(args, "tree")
	if err != nil {
		return nil, err
	}
	nest, err := boolArg(args, "nest")
	if err != nil {
		return nil, err
	}
	opts, err := sourceOptions(args)
	if err != nil {
		return nil, err
	}
	names, err := expandSources(src, opts)
	if err != nil {
		return nil, err
	}
	var spans []entrySpan
	if sharded, err := shardArg(args, shard); err != nil {
		return nil, err
	} else if sharded {
		if names, spans, tree, err = shard.split(names, tree, opts); err != nil {
			return nil, err
		}
	}
	t, err := openChain(names, tree, nest, opts)
	if t != nil {
		t.spans = spans
	}
	return t, err
}

func stringArg(args *capi.BindArgs, name string) (string, error) {
	v, err := args.Named(name)
	if err != nil {
		return "", fmt.Errorf("read_root: %s: %w", name, err)
	}
	if v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("read_root: %s must be a string, got %v", name, v)
	}
	return s, nil
}

// boolArg reads a BOOLEAN named argument; false when the call does not
// set it.
func boolArg(args *capi.BindArgs, name string) (bool, error) {
	v, err := args.Named(name)
	if err != nil {
		return false, fmt.Errorf("read_root: %s: %w", name, err)
	}
	if v == nil {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("read_root: %s must be true or false, got %v", name, v)
	}
	return b, nil
}

// openChain opens the first file of a chain, which fixes the tree (when
// not named) and the schema of the whole chain (TChain semantics). nest
// groups NanoAOD collections into lists of structs (nest.go).
func openChain(names []string, tree string, nest bool, opts rfile.SourceOptions) (*rootTable, error) {
	first, err := openTreeWith(names[0], tree, opts)
	if err != nil {
		return nil, err
	}
	t := &rootTable{names: names, tree: first.Name, first: first, opts: opts}
	for _, c := range first.Cols {
		switch why := provenanceClash(c.Name); {
		case !c.Supported():
			t.leftOut = append(t.leftOut, c)
		case why != "":
			clash := *c // the cached schema keeps the branch as it is
			clash.Why = why
			t.leftOut = append(t.leftOut, &clash)
		default:
			t.cols = append(t.cols, c)
		}
	}
	t.out = outputs(t.cols, nest)
	return t, nil
}

// provenanceClash says why a branch or field named like one of read_root's
// own columns (_file, _entry; DuckDB's names ignore case) is left out of
// the table, or "" when its name is free. A skim written with
// COPY (SELECT * FROM read_root(...)) carries the columns of the files it
// was read from; left in, the table would have two columns of one name,
// which DuckDB refuses, and the file could not be read at all.
func provenanceClash(name string) string {
	for _, own := range []string{FileColumn, EntryColumn} {
		if strings.EqualFold(name, own) {
			return fmt.Sprintf("named like read_root's own column %s, which takes the name (a file written with SELECT * FROM read_root(...) keeps the column of the files it came from: write it with SELECT * EXCLUDE (_file, _entry), or rename it with AS)", own)
		}
	}
	return ""
}

// leftOutNote describes the unsupported columns the table left out.
func (t *rootTable) leftOutNote() LeftOut {
	l := LeftOut{File: t.names[0], Tree: t.tree}
	for _, c := range t.leftOut {
		l.Columns = append(l.Columns, Unsupported{Name: c.Name, Branch: c.Path, RootType: c.RootType, Why: c.Why})
	}
	return l
}

// checkFile applies TChain semantics to the columns a query reads, for a
// file other than the first: each must exist with the same type. Branches
// the query does not read may differ.
func (t *rootTable) checkFile(f *openFile, proj []projection) error {
	first := t.names[0]
	for _, p := range proj {
		for _, ci := range p.cols {
			c := t.cols[ci]
			other, ok := f.ByName[c.Name]
			switch {
			case !ok:
				return fmt.Errorf("read_root: %s: branch %q (in %s) is missing", f.path, c.Path, first)
			case sqlType(other.Type).String() != sqlType(c.Type).String() || other.Layout != c.Layout:
				return fmt.Errorf("read_root: %s: branch %q is %s (%s), but %s in %s", f.path, c.Path, sqlType(other.Type), other.RootType, sqlType(c.Type), first)
			}
		}
	}
	return nil
}

func (t *rootTable) Close() error {
	if t.first == nil {
		return nil
	}
	err := t.first.Close()
	t.first = nil
	return err
}

func (t *rootTable) Columns() []capi.Column {
	out := make([]capi.Column, 0, len(t.out)+2)
	for _, o := range t.out {
		out = append(out, capi.Column{Name: o.name, Type: o.typ})
	}
	return append(out,
		capi.Column{Name: FileColumn, Type: capi.Scalar(capi.Varchar)},
		capi.Column{Name: EntryColumn, Type: capi.Scalar(capi.BigInt)})
}

// Cardinality is exact for one file; a chain's is estimated from its first
// file, the only one opened at bind.
func (t *rootTable) Cardinality() (int64, bool) {
	if t.spans != nil {
		lo, hi := t.span(0, t.first)
		return (hi - lo) * int64(len(t.names)), len(t.names) == 1
	}
	return t.first.Entries * int64(len(t.names)), len(t.names) == 1
}

// unit is a range of entries of one file that one thread reads at a time.
type unit struct {
	file       int
	start, end int64
}

// projection says what each output vector holds: the columns it reads
// (indexes into cols: one for a branch, a collection's members when
// nested, none for a provenance or row-id column).
type projection struct {
	cols    []int
	nested  bool // a LIST of STRUCTs, one field per column of cols
	virtual string
}

// rootScan hands out units to the threads. Files are opened in chain order,
// each by the first thread that finds no unit left in the files already
// open; meanwhile the other threads keep reading those. A file is planned
// into units when opened, and closed when its last unit is done, so a long
// chain never holds all its files open. Remote files are opened ahead of
// the threads, a bounded number at a time (see lookahead.go); the thread
// that reaches one then takes it instead of opening it.
type rootScan struct {
	t          *rootTable
	schema     *fileMeta // the first file's; files opened ahead may outlive t.first
	proj       []projection
	member     *leanWant // the first file's metadata and proj's columns, for the other files
	maxThreads int

	mu        sync.Mutex
	ready     *sync.Cond  // a file finished opening, or the scan failed
	files     []*scanFile // per file of the chain; nil until opened
	claimed   int         // files [0, claimed) are open or being opened
	opening   int         // files being opened right now
	lowest    int         // files before it have handed out every unit
	err       error       // the first failure, which ends every thread
	closed    bool
	cancelled <-chan struct{} // the query's, taken at Start (SourceOptions.queryDone)

	ahead      []*aheadFile // per file: being opened or opened ahead, not yet claimed
	aheadNext  int          // files before it were considered for opening ahead
	aheadBytes int64        // basket bytes fetched for the files in ahead
}

// scanFile is one opened file of a scan and its units.
type scanFile struct {
	f      *openFile
	owned  bool // opened by the scan (closed by it), not the table's first file
	units  []unit
	next   int // next unit to hand out
	active int // units handed out and not finished
}

func (t *rootTable) Start(projected []int) (capi.Scan, error) {
	s := &rootScan{t: t, schema: t.first.fileMeta, files: make([]*scanFile, len(t.names)), ahead: make([]*aheadFile, len(t.names))}
	s.ready = sync.NewCond(&s.mu)
	s.cancelled = t.opts.QueryDone()
	// DuckDB's C API lets a table function declare no zero-width column for
	// queries that need none (count(*), EXISTS), so DuckDB asks for column 0
	// there: the first supported branch, or _file when there is none.
	for _, idx := range projected {
		switch {
		case idx >= 0 && idx < len(t.out):
			s.proj = append(s.proj, projection{cols: t.out[idx].cols, nested: t.out[idx].nested})
		case idx == len(t.out):
			s.proj = append(s.proj, projection{virtual: FileColumn})
		case idx == len(t.out)+1:
			s.proj = append(s.proj, projection{virtual: EntryColumn})
		default:
			// A row id (older DuckDBs asked for one for count(*)): nothing to read.
			s.proj = append(s.proj, projection{})
		}
	}
	var wanted []*tbranch.Column
	for _, p := range s.proj {
		for _, ci := range p.cols {
			wanted = append(wanted, t.cols[ci])
		}
	}
	s.member = newLeanWant(s.schema, wanted)
	// The first file is open already: plan it now, and guess from it how
	// many units the chain holds, which bounds the useful threads.
	units := t.planUnits(0, t.first, s.proj)
	s.files[0] = &scanFile{f: t.first, units: units}
	s.claimed = 1
	s.maxThreads = max(1, len(units)) * len(t.names)
	s.mu.Lock()
	s.startAhead()
	s.mu.Unlock()
	return s, nil
}

// planUnits splits file fi into units on the basket boundaries of the
// projected column with the fewest (largest) baskets: those baskets are then
// decompressed exactly once, and only smaller baskets straddling a unit edge
// may be decoded by two threads.
// maxRowOnlyUnits bounds the units of a scan that reads no branch.
const maxRowOnlyUnits = 1024

func (t *rootTable) planUnits(fi int, f *openFile, proj []projection) []unit {
	lo, hi := t.span(fi, f)
	if hi <= lo {
		return nil
	}
	var units []unit
	var bounds []int64
	for _, p := range proj {
		for _, ci := range p.cols {
			c := f.ByName[t.cols[ci].Name]
			if bounds == nil || len(c.Baskets.First) < len(bounds) {
				bounds = c.Baskets.First[:len(c.Baskets.Seek)]
			}
		}
	}
	start := lo
	for _, b := range bounds {
		if b-start >= unitEntries && b < hi {
			units = append(units, unit{fi, start, b})
			start = b
		}
	}
	if bounds == nil {
		// No basket to follow: even slices, at most maxRowOnlyUnits of them,
		// so that an entry count no branch vouches for (a tree without
		// branches) cannot make the plan itself exhaust memory.
		step := max(8*unitEntries, (hi-lo)/maxRowOnlyUnits+1)
		for ; hi-start > step; start += step {
			units = append(units, unit{fi, start, start + step})
		}
	}
	units = append(units, unit{fi, start, hi})
	if maxUnitEntries <= 0 {
		return units
	}
	var cut []unit
	for _, u := range units {
		for s := u.start; s < u.end; s += maxUnitEntries {
			cut = append(cut, unit{u.file, s, min(s+maxUnitEntries, u.end)})
		}
	}
	return cut
}

func (s *rootScan) MaxThreads() int { return s.maxThreads }

func (s *rootScan) NewWorker() (capi.Worker, error) {
	return &rootWorker{s: s, fileIdx: -1}, nil
}

// take finishes the calling thread's unit of file done (-1 if none) and
// returns its next unit, with its file and the units of that file from it
// on (to prefetch); ok is false when none is left.
func (s *rootScan) take(done int) (u unit, f *openFile, ahead []unit, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if done >= 0 {
		sf := s.files[done]
		sf.active--
		s.closeIfDone(sf)
	}
	for {
		if s.err != nil {
			return unit{}, nil, nil, false, s.err
		}
		// A unit of a file already open, the earliest first.
		for i := s.lowest; i < s.claimed; i++ {
			sf := s.files[i]
			if sf == nil {
				continue // being opened
			}
			if sf.next < len(sf.units) {
				ahead := sf.units[sf.next:]
				sf.next++
				sf.active++
				return ahead[0], sf.f, ahead, true, nil
			}
			if i == s.lowest {
				s.lowest++
			}
		}
		if s.claimed < len(s.files) {
			// DuckDB checks for an interrupt only between task quanta, so a
			// thread could open file after file of a long chain once its
			// query is cancelled: the scan stops at the next file itself.
			if err := cancelledErr(s.cancelled); err != nil {
				s.err = err
				continue
			}
			fi := s.claimed
			s.claimed++
			s.opening++
			a := s.ahead[fi]
			s.ahead[fi] = nil // the file is this thread's from here on
			s.startAhead()
			s.mu.Unlock()
			var sf *scanFile
			var err error
			if a != nil {
				<-a.done
				sf, err = a.sf, a.err
			} else {
				sf, err = s.open(fi)
			}
			s.mu.Lock()
			if a != nil {
				s.aheadBytes -= a.reserved
			}
			s.opening--
			s.ready.Broadcast()
			switch {
			case err != nil:
				if s.err == nil {
					s.err = err
				}
			case s.closed:
				sf.f.Close()
			default:
				s.files[fi] = sf
				s.closeIfDone(sf)
			}
			continue
		}
		if s.opening == 0 {
			return unit{}, nil, nil, false, nil
		}
		s.ready.Wait() // for another thread's file, which may bring units
	}
}

// open opens file fi of the chain for this scan, checks it against the
// first file and plans its units; it runs without the lock.
func (s *rootScan) open(fi int) (*scanFile, error) {
	t := s.t
	f, err := openMember(t.names[fi], t.tree, s.member, t.opts)
	if err != nil {
		return nil, err
	}
	if err := t.checkFile(f, s.proj); err != nil {
		f.Close()
		return nil, err
	}
	return &scanFile{f: f, owned: true, units: t.planUnits(fi, f, s.proj)}, nil
}

// closeIfDone closes a file of the scan once its units are all read.
func (s *rootScan) closeIfDone(sf *scanFile) {
	if sf.owned && sf.f != nil && sf.next == len(sf.units) && sf.active == 0 {
		sf.f.Close()
		sf.f = nil
	}
}

// Close closes the files the scan opened and has not closed yet, as when
// the query was cancelled or failed, those opened ahead included. It does
// not wait for files still being opened ahead: their goroutines close them.
func (s *rootScan) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var errs []error
	for _, sf := range s.files {
		if sf != nil && sf.owned && sf.f != nil {
			errs = append(errs, sf.f.Close())
			sf.f = nil
		}
	}
	errs = append(errs, s.closeAhead())
	return errors.Join(errs...)
}

// rootWorker reads units on one DuckDB thread.
type rootWorker struct {
	s       *rootScan
	u       unit
	pos     int64 // next entry of u to emit
	have    bool
	fileIdx int
	file    *openFile
	readers [][]*tbranch.Reader // per projected column, one per column it reads, for fileIdx
}

func (w *rootWorker) Fill(out capi.Chunk) (int, error) {
	if !w.have || w.pos >= w.u.end {
		done := -1
		if w.have {
			done = w.u.file
		}
		w.have = false
		u, f, ahead, ok, err := w.s.take(done)
		if err != nil || !ok {
			return 0, err
		}
		w.s.prefetch(f, ahead)
		w.u, w.pos, w.have = u, u.start, true
		if u.file != w.fileIdx {
			w.switchFile(u.file, f)
		}
	}
	n := int(min(int64(capi.VectorSize), w.u.end-w.pos))
	f := w.file
	for i, p := range w.s.proj {
		v := out.Vector(i)
		switch {
		case p.nested:
			if err := tbranch.FillNested(w.readers[i], vector{v}, w.pos, n); err != nil {
				return 0, err
			}
		case len(p.cols) == 1:
			if err := w.readers[i][0].Fill(vector{v}, w.pos, n); err != nil {
				return 0, err
			}
		case p.virtual == FileColumn:
			v.SetConstantString(f.path)
		case p.virtual == EntryColumn:
			d := capi.Slice[int64](v, n)
			for r := range d {
				d[r] = w.pos + int64(r)
			}
		}
	}
	w.pos += int64(n)
	return n, nil
}

func (w *rootWorker) switchFile(fi int, f *openFile) {
	w.fileIdx, w.file = fi, f
	if w.readers == nil {
		w.readers = make([][]*tbranch.Reader, len(w.s.proj))
		for i, p := range w.s.proj {
			w.readers[i] = make([]*tbranch.Reader, len(p.cols))
		}
	}
	for i, p := range w.s.proj {
		for j, ci := range p.cols {
			c := f.ByName[w.s.t.cols[ci].Name]
			if w.readers[i][j] == nil {
				w.readers[i][j] = tbranch.NewReader(c, f.dec)
			} else {
				w.readers[i][j].Reset(c, f.dec) // keeps its buffers from file to file
			}
		}
	}
}
