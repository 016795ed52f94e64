// Package tbranchtest is the harness the tests of rootio/tbranch and
// rootscan share: every ROOT file the tests can get, each of their trees
// opened with groot as read_root's parse does, groot's per-entry reader
// as the reference, and key headers read from the bytes.
package tbranchtest

import (
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/root"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/tbranch"
)

// EveryTestFile lists every ROOT file the tests can get: go-hep's
// groot/testdata (with its uproot folder) and ../shared/data (with its
// uproot and rntuple folders; a folder missing outside CI is left out).
func EveryTestFile(t testing.TB) []string {
	t.Helper()
	td := testfiles.GrootTestdata(t)
	var files []string
	for _, pat := range []string{filepath.Join(td, "*.root"), filepath.Join(td, "uproot", "*.root")} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 80 {
		t.Fatalf("only %d files in go-hep's testdata (%s)", len(files), td)
	}
	shared := filepath.Dir(testfiles.CMSSample(t))
	for _, dir := range []string{"", "uproot", "rntuple"} {
		m, err := filepath.Glob(filepath.Join(shared, dir, "*.root"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	return files
}

// GrootTrees opens every tree of file (nested ones by path) with groot,
// as tbranch.ParseTree does (checked layout, guarded streamers, a missing class
// stubbed only when groot failed for it), and calls f with each and the streamer guard it made; a tree
// groot cannot open is skipped: the error tests cover those.
func GrootTrees(t testing.TB, name string, f func(rf *riofs.File, cf *rfile.CountingFile, path string, tree rtree.Tree, guard *tbranch.StreamerGuard)) {
	t.Helper()
	b, err := rfile.BackendFor(name)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rfile.OpenBackend(b, name, rfile.DefaultSourceOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	size, err := raw.Size()
	if err != nil {
		t.Fatal(err)
	}
	cf := &rfile.CountingFile{File: raw, FileSize: size}
	layout, err := rfile.CheckLayout(cf)
	if err != nil || rfile.CheckStreamerRecord(cf, layout) != nil {
		return
	}
	rf, err := openRiofs(cf)
	if err != nil {
		return
	}
	defer rf.Close()
	for _, path := range layout.WalkDirs(cf).Trees() {
		dname, base := rfile.SplitTreePath(path)
		var dir riofs.Directory = rf
		if dname != "" {
			obj, err := riofs.Dir(rf).Get(dname)
			if err != nil {
				continue
			}
			if dir, _ = obj.(riofs.Directory); dir == nil {
				continue
			}
		}
		classes, err := tbranch.CheckTreeKey(dir, base)
		if err != nil {
			continue
		}
		guard, err := tbranch.GuardStreamers(rf, classes, false)
		if err != nil {
			continue
		}
		get := func() (obj root.Object, err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("%v", r)
				}
			}()
			return riofs.Dir(rf).Get(path)
		}
		obj, err := get()
		if err != nil && tbranch.MissingStreamer(err) {
			if guard, err = tbranch.GuardStreamers(rf, classes, true); err == nil {
				obj, err = get()
			}
		}
		if err != nil {
			continue
		}
		if tree, ok := obj.(rtree.Tree); ok {
			f(rf, cf, path, tree, guard)
		}
	}
}

// DiskKey is what a key's header on disk says, read here from the bytes
// without groot or hepsql's own parsers.
type DiskKey struct {
	Nbytes, Objlen int32
	Keylen         int16
	SeekKey        int64
	Class          string
	// The TBasket header that follows a basket's key header.
	Nevbuf, Last int32
	// The first two bytes of the payload: a compression block's magic.
	Magic string
	// IOBits: fNevBufSize is negative, a byte of I/O bits follows.
	IOBits bool
}

func ReadDiskKey(cf *rfile.CountingFile, at int64) (DiskKey, error) {
	var k DiskKey
	buf := make([]byte, 512)
	n, _ := cf.ReadAt(buf, at)
	buf = buf[:n]
	be := binary.BigEndian
	if len(buf) < 26 {
		return k, fmt.Errorf("short key at %d", at)
	}
	k.Nbytes = int32(be.Uint32(buf))
	vers := int16(be.Uint16(buf[4:]))
	k.Objlen = int32(be.Uint32(buf[6:]))
	k.Keylen = int16(be.Uint16(buf[14:]))
	p := 18
	if vers > 1000 {
		k.SeekKey = int64(be.Uint64(buf[p:]))
		p += 16
	} else {
		k.SeekKey = int64(be.Uint32(buf[p:]))
		p += 8
	}
	str := func() string {
		if p >= len(buf) {
			return ""
		}
		l := int(buf[p])
		p++
		if l == 255 {
			l = int(be.Uint32(buf[p:]))
			p += 4
		}
		if p+l > len(buf) {
			p = len(buf)
			return ""
		}
		s := string(buf[p : p+l])
		p += l
		return s
	}
	k.Class = str()
	str() // name
	str() // title
	if k.Class != "TBasket" {
		return k, nil
	}
	if p+19 > len(buf) {
		return k, fmt.Errorf("short basket header at %d", at)
	}
	p += 2 + 4 // version, fBufferSize
	nevsize := int32(be.Uint32(buf[p:]))
	p += 4
	if nevsize < 0 {
		k.IOBits = true
		p++ // one byte of I/O bits follows (TBasket::Streamer)
	}
	k.Nevbuf = int32(be.Uint32(buf[p:]))
	k.Last = int32(be.Uint32(buf[p+4:]))
	if int(k.Keylen)+2 <= len(buf) {
		k.Magic = string(buf[k.Keylen : k.Keylen+2])
	}
	return k, nil
}

// FlatValues appends the scalars of v, a value of groot's reader or of
// decodeEntries, in order, as int64, uint64, float64 (a float32 widened)
// or bool.
func FlatValues(out []any, v reflect.Value) []any {
	switch v.Kind() {
	case reflect.Bool:
		return append(out, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return append(out, v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return append(out, v.Uint())
	case reflect.Float32, reflect.Float64:
		return append(out, v.Float())
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			out = FlatValues(out, v.Index(i))
		}
		return out
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return out
		}
		return FlatValues(out, v.Elem())
	}
	return append(out, fmt.Sprintf("<%v>", v.Type()))
}

func SameValues(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, xf := a[i].(float64)
		y, yf := b[i].(float64)
		if xf && yf && math.IsNaN(x) && math.IsNaN(y) {
			continue
		}
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// GrootEntries reads entries [0, n) of the named top-level branches (a
// leaf of a leaf list as "branch.leaf") with groot's per-entry reader,
// flattened by FlatValues; names groot's reader does not give are absent.
func GrootEntries(tree rtree.Tree, names []string, from, n int) (_ map[string][][]any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("groot's reader: %v", r)
		}
	}()
	vars := rtree.NewReadVars(tree)
	idx := map[string]int{}
	for i, rv := range vars {
		b := tree.Branch(rv.Name)
		if b == nil {
			continue
		}
		key := rv.Name
		if len(b.Leaves()) > 1 && rv.Leaf != "" && rv.Leaf != rv.Name {
			key += "." + rv.Leaf
		}
		idx[key] = i
	}
	want := map[string]int{}
	for _, name := range names {
		if i, ok := idx[name]; ok {
			want[name] = i
		}
	}
	r, err := rtree.NewReader(tree, vars, rtree.WithRange(int64(from), int64(n)))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out := map[string][][]any{}
	err = r.Read(func(rtree.RCtx) error {
		for name, i := range want {
			out[name] = append(out[name], FlatValues(nil, reflect.ValueOf(vars[i].Value)))
		}
		return nil
	})
	return out, err
}

// GrootReaderSkips are entries where groot's per-entry reader is wrong:
// for each, the entries from there on are compared with a reader started
// there. groot v0.40.0 repeats entry 151 of the ttbar sample's
// LHEPdfWeight at 152 and 153, where it switches from the baskets on disk
// to the one kept in the tree record (TestEmbeddedBasketsAgainstGroot).
var GrootReaderSkips = map[string]int{"nanoAOD_2015_CMS_Open_Data_ttbar.root:Events:LHEPdfWeight": 152}

// hasIOBits says whether a basket on disk of one of cols (groot's reader
// reads every branch) carries I/O bits
// (a negative fNevBufSize): groot v0.40.0's reader reads them as an object
// header and panics in its own goroutine, which no test can recover.
func hasIOBits(t *testing.T, cf *rfile.CountingFile, cols []*tbranch.Column) bool {
	for _, c := range cols {
		for i, seek := range c.Baskets.Seek {
			if c.Baskets.EmbeddedAt(i) != nil {
				continue
			}
			if k, err := ReadDiskKey(cf, seek); err != nil || k.IOBits {
				return true
			}
		}
	}
	return false
}

// openRiofs is groot's parse of the file's directory, its panics on
// malformed input turned into errors.
func openRiofs(cf *rfile.CountingFile) (f *riofs.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("groot: %v", r)
		}
	}()
	return riofs.NewReader(&rfile.TrackedFile{CountingFile: cf})
}
