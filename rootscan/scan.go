package rootscan

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hepsql/hepsql/internal/capi"
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

// rootTable is a bound read_root call: the files of a chain, opened, with
// the schema of the first file checked against the others.
type rootTable struct {
	files []*openFile
	cols  []*column // schema, from the first file
}

func bindReadRoot(args *capi.BindArgs) (capi.Table, error) {
	src, err := args.Arg(0)
	if err != nil {
		return nil, fmt.Errorf("read_root: source: %w", err)
	}
	tree, err := stringArg(args, "tree")
	if err != nil {
		return nil, err
	}
	names, err := expandSources(src)
	if err != nil {
		return nil, err
	}
	return openChain(names, tree)
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

// openChain opens every file and checks that they form one table (TChain
// semantics): every branch of the first file exists in the others with the
// same type.
func openChain(names []string, tree string) (*rootTable, error) {
	// The first file fixes the tree for the whole chain.
	first, err := openTree(names[0], tree)
	if err != nil {
		return nil, err
	}
	t := &rootTable{files: make([]*openFile, len(names)), cols: first.cols}
	t.files[0] = first
	if tree == "" {
		tree = first.tree.Name()
	}
	// Parsing a file's TTree metadata costs about a millisecond per file, so
	// the rest of the chain is opened in parallel.
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := 1; i < len(names); i++ {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			t.files[i], errs[i] = openTree(names[i], tree)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// checkChain applies TChain semantics to the columns a query reads: each
// must exist with the same type in every file of the chain. Branches the
// query does not read may differ.
func (t *rootTable) checkChain(proj []projection) error {
	first := t.files[0].path
	for _, f := range t.files[1:] {
		for _, p := range proj {
			if p.col < 0 {
				continue
			}
			c := t.cols[p.col]
			other, ok := f.byName[c.name]
			switch {
			case !ok:
				return fmt.Errorf("read_root: %s: branch %q (in %s) is missing", f.path, c.path, first)
			case other.typ.String() != c.typ.String() || other.layout != c.layout:
				return fmt.Errorf("read_root: %s: branch %q is %s (%s), but %s in %s", f.path, c.path, other.typ, other.rootType, c.typ, first)
			}
		}
	}
	return nil
}

func (t *rootTable) Close() error {
	var errs []error
	for _, f := range t.files {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	t.files = nil
	return errors.Join(errs...)
}

func (t *rootTable) Columns() []capi.Column {
	out := make([]capi.Column, 0, len(t.cols)+2)
	for _, c := range t.cols {
		typ := c.typ
		if !c.supported() {
			typ = capi.Scalar(capi.Varchar) // never filled: selecting it is an error
		}
		out = append(out, capi.Column{Name: c.name, Type: typ})
	}
	return append(out,
		capi.Column{Name: FileColumn, Type: capi.Scalar(capi.Varchar)},
		capi.Column{Name: EntryColumn, Type: capi.Scalar(capi.BigInt)})
}

func (t *rootTable) Cardinality() (int64, bool) {
	var n int64
	for _, f := range t.files {
		n += f.entries
	}
	return n, true
}

// unit is a range of entries of one file that one thread reads at a time.
type unit struct {
	file       int
	start, end int64
}

// projection says what each output vector holds.
type projection struct {
	col     int // index into cols, or -1 for a provenance/row-id column
	virtual string
}

type rootScan struct {
	t     *rootTable
	proj  []projection
	units []unit
	next  atomic.Int64
}

func (t *rootTable) Start(projected []int) (capi.Scan, error) {
	s := &rootScan{t: t}
	var bad []string
	for _, idx := range projected {
		switch {
		case idx >= 0 && idx < len(t.cols):
			c := t.cols[idx]
			if !c.supported() {
				bad = append(bad, fmt.Sprintf("%q (%s: %s)", c.name, c.rootType, c.why))
			}
			s.proj = append(s.proj, projection{col: idx})
		case idx == len(t.cols):
			s.proj = append(s.proj, projection{col: -1, virtual: FileColumn})
		case idx == len(t.cols)+1:
			s.proj = append(s.proj, projection{col: -1, virtual: EntryColumn})
		default:
			// DuckDB asks for a row id (e.g. for count(*)): nothing to read.
			s.proj = append(s.proj, projection{col: -1})
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("read_root: cannot read branch %s; leave it out of the query (SELECT * EXCLUDE (...)) or see root_branches()", strings.Join(bad, ", "))
	}
	if err := t.checkChain(s.proj); err != nil {
		return nil, err
	}
	s.units = t.planUnits(s.proj)
	return s, nil
}

// planUnits splits every file into units on the basket boundaries of the
// projected column with the fewest (largest) baskets: those baskets are then
// decompressed exactly once, and only smaller baskets straddling a unit edge
// may be decoded by two threads.
func (t *rootTable) planUnits(proj []projection) []unit {
	var units []unit
	for fi, f := range t.files {
		if f.entries == 0 {
			continue
		}
		var bounds []int64
		for _, p := range proj {
			if p.col < 0 {
				continue
			}
			c := f.byName[t.cols[p.col].name]
			if bounds == nil || len(c.baskets.first) < len(bounds) {
				bounds = c.baskets.first[:len(c.baskets.seek)]
			}
		}
		start := int64(0)
		for _, b := range bounds {
			if b-start >= unitEntries && b < f.entries {
				units = append(units, unit{fi, start, b})
				start = b
			}
		}
		if bounds == nil {
			for ; f.entries-start > 8*unitEntries; start += 8 * unitEntries {
				units = append(units, unit{fi, start, start + 8*unitEntries})
			}
		}
		units = append(units, unit{fi, start, f.entries})
	}
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

func (s *rootScan) MaxThreads() int { return max(1, len(s.units)) }

func (s *rootScan) NewWorker() (capi.Worker, error) {
	return &rootWorker{s: s, fileIdx: -1}, nil
}

// rootWorker reads units on one DuckDB thread.
type rootWorker struct {
	s       *rootScan
	u       unit
	pos     int64 // next entry of u to emit
	have    bool
	fileIdx int
	readers []*columnReader // per projected column, for fileIdx
}

func (w *rootWorker) Fill(out capi.Chunk) (int, error) {
	if !w.have || w.pos >= w.u.end {
		i := w.s.next.Add(1) - 1
		if i >= int64(len(w.s.units)) {
			return 0, nil
		}
		w.u, w.pos, w.have = w.s.units[i], w.s.units[i].start, true
		if w.u.file != w.fileIdx {
			w.switchFile(w.u.file)
		}
	}
	n := int(min(int64(capi.VectorSize), w.u.end-w.pos))
	f := w.s.t.files[w.fileIdx]
	for i, p := range w.s.proj {
		v := out.Vector(i)
		switch {
		case p.col >= 0:
			if err := w.readers[i].fill(v, w.pos, n); err != nil {
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

func (w *rootWorker) switchFile(fi int) {
	w.fileIdx = fi
	f := w.s.t.files[fi]
	w.readers = make([]*columnReader, len(w.s.proj))
	for i, p := range w.s.proj {
		if p.col >= 0 {
			w.readers[i] = newColumnReader(f.byName[w.s.t.cols[p.col].name], f)
		}
	}
}
