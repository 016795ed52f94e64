package rootwrite

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go-hep.org/x/hep/groot/rbytes"
	"go-hep.org/x/hep/groot/rdict"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/root"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/rootio/gohep"
)

// Register registers the COPY formats `root` and `rntuple` (rntuple.go)
// on conn (DuckDB's system catalog: every connection of the database sees
// them).
func Register(conn *capi.Conn) error {
	if err := conn.RegisterCopyFunction(&capi.CopyFunction{Name: "root", Bind: Bind}); err != nil {
		return err
	}
	return conn.RegisterCopyFunction(&capi.CopyFunction{Name: "rntuple", Bind: BindRNTuple})
}

// branchName is what ROOT, TTree::Draw and NanoAOD tools accept as a
// branch or object name.
var branchName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

// Bind checks the options and the columns and plans the output: a tree or
// histograms. Every refusal happens here, before the file is created.
func Bind(b *capi.CopyBind) (capi.CopyTarget, error) {
	opts, err := parseOptions(b.Options)
	if err != nil {
		return nil, err
	}
	var hists, names, tree []capi.CopyColumn
	var histIdx, nameIdx []int
	for i, c := range b.Columns {
		if !branchName.MatchString(c.Name) {
			return nil, fmt.Errorf("COPY (FORMAT root): column name %q is not a ROOT branch name (letters, digits, _ and .): name it with AS", c.Name)
		}
		switch {
		case IsHist(c.Type):
			hists, histIdx = append(hists, c), append(histIdx, i)
		case c.Type.ID == capi.Varchar:
			names, nameIdx = append(names, c), append(nameIdx, i)
		default:
			tree = append(tree, c)
		}
	}
	if len(hists) > 0 {
		if len(tree) > 0 {
			return nil, fmt.Errorf("COPY (FORMAT root): HIST column %q is written as a TH1D and column %q as a branch; one COPY writes either a tree or histograms (besides HIST columns, only VARCHAR columns naming them)", hists[0].Name, tree[0].Name)
		}
		return &histTarget{opts: opts, hists: hists, histIdx: histIdx, names: names, nameIdx: nameIdx}, nil
	}
	t := &treeTarget{opts: opts}
	seen := map[string]string{}
	for _, c := range b.Columns {
		col, err := newColumn(c)
		if err != nil {
			return nil, err
		}
		for _, v := range col.vars() {
			key := strings.ToLower(v.Name)
			if other, ok := seen[key]; ok {
				return nil, fmt.Errorf("COPY (FORMAT root): branch %q (from column %q) clashes with the branch from column %q; rename one with AS", v.Name, c.Name, other)
			}
			seen[key] = c.Name
		}
		t.cols = append(t.cols, col)
	}
	if len(t.cols) == 0 {
		return nil, errors.New("COPY (FORMAT root): no columns to write")
	}
	return t, nil
}

// leafClasses are the leaf classes a tree of ours may hold.
var leafClasses = []string{"TLeaf", "TLeafO", "TLeafB", "TLeafS", "TLeafI", "TLeafL", "TLeafF", "TLeafD", "TLeafC"}

// registerLeafStreamers lists the TLeaf classes' streamer infos in the
// file. groot (v0.40.0) leaves them out, as TBranch holds its leaves in an
// untyped TObjArray; ROOT and uproot carry those streamers built in, but
// jsroot reads leaves through the file's own list and, without it, misreads
// every leaf (a jagged branch loses its counter).
//
// riofs.File.RegisterStreamer cannot add them: it skips any class that
// groot's global streamer database knows, which includes every TLeaf. So
// rootio/gohep, the one adapter to go-hep's unexported state, appends them
// to the file's list; TestLeafStreamersLayout checks what it adds through
// groot's exported API, on the file and once reopened, and
// TestJSROOTReadsTree that jsroot then reads the leaves.
func registerLeafStreamers(f *riofs.File) error {
	sis := make([]rbytes.StreamerInfo, 0, len(leafClasses))
	for _, name := range leafClasses {
		si, ok := rdict.StreamerInfos.Get(name, -1)
		if !ok {
			return fmt.Errorf("no streamer info for %s in groot", name)
		}
		sis = append(sis, si)
	}
	return gohep.AppendStreamerInfos(f, sis)
}

// treeTarget writes a TTree.
type treeTarget struct {
	opts options
	cols []column
}

func (t *treeTarget) Open(path string) (capi.CopyWriter, error) {
	f, err := riofs.Create(path, t.opts.fileOption())
	if err != nil {
		return nil, fmt.Errorf("COPY (FORMAT root): %w", err)
	}
	if err := registerLeafStreamers(f); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("COPY (FORMAT root): %w", err)
	}
	var vars []rtree.WriteVar
	for _, c := range t.cols {
		vars = append(vars, c.vars()...)
	}
	topts := []rtree.WriteOption{rtree.WithTitle(t.opts.title)}
	w, err := rtree.NewWriter(f, t.opts.tree, vars, topts...)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("COPY (FORMAT root): %w", err)
	}
	return &treeWriter{path: path, f: f, w: w, cols: t.cols}, nil
}

type treeWriter struct {
	path     string
	f        *riofs.File
	w        rtree.Writer
	cols     []column
	finished bool
}

// Write writes one chunk's rows, entry by entry.
func (tw *treeWriter) Write(in capi.Args) error {
	n := in.Rows()
	defer func() {
		for _, c := range tw.cols {
			c.release()
		}
	}()
	for i, c := range tw.cols {
		if err := c.load(in.Arg(i), n); err != nil {
			return err
		}
	}
	for r := range n {
		for _, c := range tw.cols {
			c.set(r)
		}
		if _, err := tw.w.Write(); err != nil {
			return fmt.Errorf("COPY (FORMAT root): %s: %w", tw.path, err)
		}
	}
	return nil
}

func (tw *treeWriter) Finish() error {
	tw.finished = true
	if err := tw.w.Close(); err != nil {
		tw.f.Close()
		os.Remove(tw.path)
		return fmt.Errorf("COPY (FORMAT root): %s: %w", tw.path, err)
	}
	if err := tw.f.Close(); err != nil {
		os.Remove(tw.path)
		return fmt.Errorf("COPY (FORMAT root): %s: %w", tw.path, err)
	}
	return nil
}

// Close runs when DuckDB drops the COPY: without Finish (an error or an
// interrupt), the partial file is removed.
func (tw *treeWriter) Close() error {
	if !tw.finished {
		tw.finished = true
		tw.f.Close()
		os.Remove(tw.path)
	}
	return nil
}

// histTarget writes one TH1D per HIST column and row.
type histTarget struct {
	opts             options
	hists, names     []capi.CopyColumn
	histIdx, nameIdx []int
}

func (t *histTarget) Open(path string) (capi.CopyWriter, error) {
	f, err := riofs.Create(path, t.opts.fileOption())
	if err != nil {
		return nil, fmt.Errorf("COPY (FORMAT root): %w", err)
	}
	return &histWriter{t: t, path: path, f: f}, nil
}

type namedHist struct {
	col  int // index into t.hists
	row  int
	name string // from the name columns; "" without
	h    *Hist
}

type histWriter struct {
	t        *histTarget
	path     string
	f        *riofs.File
	rows     int
	got      []namedHist
	finished bool
}

func (hw *histWriter) Write(in capi.Args) error {
	n := in.Rows()
	labels := RowLabels(in, hw.t.nameIdx, "_")
	for k, i := range hw.t.histIdx {
		for r, h := range ReadHists(in.Arg(i), n) {
			if h == nil {
				return fmt.Errorf("COPY (FORMAT root): HIST column %q is NULL in row %d (hist() of no rows?)", hw.t.hists[k].Name, hw.rows+r+1)
			}
			hw.got = append(hw.got, namedHist{col: k, row: hw.rows + r, name: labels[r], h: h})
		}
	}
	hw.rows += n
	return nil
}

func (hw *histWriter) Finish() error {
	hw.finished = true
	fail := func(err error) error {
		hw.f.Close()
		os.Remove(hw.path)
		return fmt.Errorf("COPY (FORMAT root): %s: %w", hw.path, err)
	}
	seen := map[string]bool{}
	for _, g := range hw.got {
		name := hw.t.hists[g.col].Name
		switch {
		case len(hw.t.names) > 0:
			name += "_" + objectName(g.name)
		case hw.rows > 1:
			name += "_" + strconv.Itoa(g.row)
		}
		if seen[name] {
			return fail(fmt.Errorf("two histograms would be named %q: make the name columns unique", name))
		}
		seen[name] = true
		th, err := g.h.TH1D(name)
		if err != nil {
			return fail(err)
		}
		if err := hw.f.Put(name, root.Object(th)); err != nil {
			return fail(err)
		}
	}
	if err := hw.f.Close(); err != nil {
		os.Remove(hw.path)
		return fmt.Errorf("COPY (FORMAT root): %s: %w", hw.path, err)
	}
	return nil
}

// objectName makes a name value usable in a ROOT object name: characters
// other than letters, digits, '_', '.' and '-' become '_' (a '/' would
// name a directory).
func objectName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			return r
		}
		return '_'
	}, s)
}

func (hw *histWriter) Close() error {
	if !hw.finished {
		hw.finished = true
		hw.f.Close()
		os.Remove(hw.path)
	}
	return nil
}
