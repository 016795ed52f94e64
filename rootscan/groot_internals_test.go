package rootscan

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go-hep.org/x/hep/groot/rbytes"
	"go-hep.org/x/hep/groot/rdict"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rmeta"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootio/gohep"
	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/tbranch"
	"github.com/hepsql/hepsql/rootio/tbranch/tbranchtest"
	"github.com/hepsql/hepsql/rootio/ttree"
)

// TestGrootInternalsLayout pins rootio/gohep/internals.go, the one place that
// reads groot's unexported fields, to the go-hep version it was written
// for, and checks what every accessor returns on every test file against
// what is known without them: the basket tables against the keys and
// basket headers on disk and the tree's entry count, kept baskets against
// the tables, element infos against the file's streamers, leaf lengths
// against groot's Len and Shape, packed-float elements against the leaf
// class, and prependFileStreamers against riofs.File's look-ups.
func TestGrootInternalsLayout(t *testing.T) {
	if v := testfiles.ModuleVersion(t, "go-hep.org/x/hep"); v != gohep.Version {
		t.Fatalf("go-hep is %s in this build; rootio/gohep/internals.go was written for %s.\n"+
			"Upgrading go-hep? Re-check in its source: rtree's tbranch fields basketSeek, basketBytes, basketEntry, entries, compress, zipBytes, totBytes, entryOffsetLen, baskets;\n"+
			"rtree.Basket's key, nevbuf, last, offsets (and that UnmarshalROOT still clears the displacement bits); tbranchElement's class, btype, stype, id, streamer, estreamer;\n"+
			"tleaf.len; LeafF16/LeafD32.elm; riofs.File.sinfos (and that StreamerInfo still takes the first of a name).\n"+
			"Then the other seams: TestLeanMatchesGroot (lean.go against groot's parse), streamers.go (groot's look-ups, tbranch.MissingStreamer's error texts),\n"+
			"gohep.AppendStreamerInfos (riofs.File.sinfos, simap; TestLeafStreamersLayout in rootwrite). Then set gohep.Version.",
			v, gohep.Version)
	}
	var branches, baskets, kept, elements, packed, leaves, trees int
	for _, name := range tbranchtest.EveryTestFile(t) {
		base := filepath.Base(name)
		prepended := false
		tbranchtest.GrootTrees(t, name, func(rf *riofs.File, cf *rfile.CountingFile, path string, tree rtree.Tree, _ *tbranch.StreamerGuard) {
			trees++
			what := base + ":" + path
			var walk func(b rtree.Branch)
			walk = func(b rtree.Branch) {
				branches++
				what := what + ":" + b.Name()
				bt, err := gohep.ReadBasketTable(b)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				baskets += len(bt.Seek)
				kept += checkBasketTable(t, what, cf, tree, b, bt)
				for _, l := range b.Leaves() {
					leaves++
					packed += checkLeaf(t, what, b, l)
				}
				if b.Class() == "TBranchElement" {
					elements++
					checkElementInfo(t, what, rf, b)
				}
				for _, sb := range b.Branches() {
					walk(sb)
				}
			}
			for _, b := range tree.Branches() {
				walk(b)
			}
			if !prepended {
				prepended = true
				checkPrependStreamers(t, base, rf)
			}
		})
	}
	t.Logf("%d trees, %d branches (%d elements), %d baskets (%d kept in records), %d leaves (%d packed floats)", trees, branches, elements, baskets, kept, leaves, packed)
	// The accessors must have met every kind of value they read.
	if trees < 80 || baskets < 10000 || kept == 0 || elements < 100 || packed == 0 {
		t.Errorf("too few cases checked: the test files changed?")
	}
}

// entriesDiffer are the branches whose entry count differs from their
// tree's in the file itself (the basket headers on disk agree with the
// branch).
var entriesDiffer = map[string]bool{"string-example.root:Refs:Params": true}

// checkBasketTable checks b's table against the disk and the tree, and
// returns how many of its baskets the record keeps.
func checkBasketTable(t *testing.T, what string, cf *rfile.CountingFile, tree rtree.Tree, b rtree.Branch, bt ttree.BasketTable) (kept int) {
	t.Helper()
	n := len(bt.Seek)
	if len(bt.Bytes) != n || len(bt.First) < n || len(bt.Embedded) > n {
		t.Errorf("%s: table of %d seeks, %d sizes, %d first entries, %d kept", what, n, len(bt.Bytes), len(bt.First), len(bt.Embedded))
		return 0
	}
	if len(b.Branches()) == 0 && bt.Entries != tree.Entries() && !entriesDiffer[what] {
		t.Errorf("%s: branch has %d entries, tree %d", what, bt.Entries, tree.Entries())
	}
	if bt.OffsetLen < 0 || bt.ZipBytes < 0 || bt.TotBytes < 0 {
		t.Errorf("%s: fEntryOffsetLen %d, fZipBytes %d, fTotBytes %d", what, bt.OffsetLen, bt.ZipBytes, bt.TotBytes)
	}
	if n == 0 {
		return 0
	}
	if len(bt.First) != n+1 || bt.First[0] != 0 || bt.First[n] != bt.Entries {
		t.Errorf("%s: first entries %v for %d baskets of %d entries", what, bt.First, n, bt.Entries)
		return 0
	}
	var zip, tot int64
	for i := range n {
		entries := bt.First[i+1] - bt.First[i]
		if entries < 0 {
			t.Errorf("%s: basket %d: first entries %v fall", what, i, bt.First)
			continue
		}
		if e := bt.EmbeddedAt(i); e != nil {
			kept++
			if bt.Seek[i] != 0 || e.Nevbuf != entries || e.Last > int64(len(e.Buf)) || e.Keylen <= 0 || e.Keylen > e.Last ||
				(e.Offsets != nil && len(e.Offsets) < int(e.Nevbuf)) {
				t.Errorf("%s: kept basket %d: seek %d, %d entries in the table; nevbuf %d, keylen %d, fLast %d in %d bytes, %d offsets",
					what, i, bt.Seek[i], entries, e.Nevbuf, e.Keylen, e.Last, len(e.Buf), len(e.Offsets))
			}
			continue
		}
		seek, size := bt.Seek[i], int64(bt.Bytes[i])
		if seek <= 0 || size <= 0 || seek+size > cf.FileSize {
			t.Errorf("%s: basket %d at %d, %d bytes, outside the file's %d", what, i, seek, size, cf.FileSize)
			continue
		}
		k, err := tbranchtest.ReadDiskKey(cf, seek)
		if err != nil {
			t.Errorf("%s: basket %d: %v", what, i, err)
			continue
		}
		if k.Class != "TBasket" || int64(k.Nbytes) != size || k.SeekKey != seek || int64(k.Nevbuf) != entries {
			t.Errorf("%s: basket %d: table says %d bytes at %d with %d entries; the key there: %q, %d bytes, fSeekKey %d, fNevBuf %d",
				what, i, size, seek, entries, k.Class, k.Nbytes, k.SeekKey, k.Nevbuf)
		}
		zip += int64(k.Nbytes)
		tot += int64(k.Objlen) + int64(k.Keylen)
		// Compressed: the payload starts with a block whose algorithm
		// the branch's fCompress names (algorithm*100 + level;
		// algorithm 0 is ROOT's global default, which may be any).
		if int64(k.Nbytes) < int64(k.Objlen)+int64(k.Keylen) {
			alg := bt.Compress / 100
			ok := alg == 0
			switch k.Magic {
			case "ZL", "CS":
				ok = ok || alg == 1 || alg == 3
			case "XZ":
				ok = ok || alg == 2
			case "L4":
				ok = ok || alg == 4
			case "ZS":
				ok = ok || alg == 5
			}
			if !ok || bt.Compress%100 == 0 {
				t.Errorf("%s: basket %d compressed with %q, branch fCompress %d", what, i, k.Magic, bt.Compress)
			}
		}
	}
	// ROOT adds each basket it writes to fZipBytes (its bytes on disk)
	// and fTotBytes (its uncompressed size, key included).
	if zip != bt.ZipBytes || tot != bt.TotBytes {
		t.Errorf("%s: fZipBytes %d, fTotBytes %d; the baskets on disk: %d, %d", what, bt.ZipBytes, bt.TotBytes, zip, tot)
	}
	return kept
}

// checkLeaf checks leafLen against groot's Len (which, for a counted leaf,
// needs the counter's current value, so there against Shape), and
// leafElement on packed floats. It returns 1 for a packed float.
func checkLeaf(t *testing.T, what string, b rtree.Branch, l rtree.Leaf) int {
	t.Helper()
	what += ":" + l.Name()
	n, err := gohep.LeafLen(l)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if l.LeafCount() == nil {
		if n != l.Len() {
			t.Errorf("%s: leafLen %d, groot's Len %d", what, n, l.Len())
		}
	} else {
		// Shape lists a counted leaf's fixed inner dimensions; a packed
		// float's leaf title may omit them, its branch's title has them.
		dims := l.Shape()
		if len(dims) == 0 {
			dims = tbranch.TitleDims(b.Title())
		}
		want := 1
		for _, d := range dims {
			if d > 0 {
				want *= d
			}
		}
		if n != want {
			t.Errorf("%s: counted leaf: leafLen %d, dimensions %v", what, n, dims)
		}
	}
	switch l.(type) {
	case *rtree.LeafF16, *rtree.LeafD32:
	default:
		return 0
	}
	elm, err := gohep.LeafElement(l)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if elm == nil {
		return 1 // a leaf without range: full precision
	}
	want := rmeta.Double32
	if _, ok := l.(*rtree.LeafF16); ok {
		want = rmeta.Float16
	}
	if typ := elm.Type() % rmeta.OffsetL; typ != want && !strings.Contains(elm.TypeName(), want.String()) {
		t.Errorf("%s: %s's element is %v (%s), want %v", what, l.Class(), elm.Type(), elm.TypeName(), want)
	}
	return 1
}

// checkElementInfo checks readElementInfo against the file's streamers:
// the class's streamer is the one groot looks up for it, the element is
// one of the parent class's members, named like the branch, and a member's
// streamer type is that element's.
func checkElementInfo(t *testing.T, what string, rf *riofs.File, b rtree.Branch) {
	t.Helper()
	info, err := gohep.ReadElementInfo(b)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if info.Class == "" {
		t.Errorf("%s: TBranchElement without fClassName", what)
	}
	if !slices.Contains([]int32{-1, 0, 1, 2, 3, 4, 31, 41}, info.BType) {
		t.Errorf("%s: fType %d is none of ROOT's", what, info.BType)
	}
	// A split collection's master names its elements' class.
	if (info.BType == 3 || info.BType == 4) && info.Clones == "" {
		t.Errorf("%s: split collection (fType %d) without fClonesName", what, info.BType)
	}
	if info.ClassVersion < 0 || info.ClassVersion > 0xffff {
		t.Errorf("%s: fClassVersion %d", what, info.ClassVersion)
	}
	if info.Streamer != nil {
		// The streamer of a container with a custom allocator is the
		// plain container's ("vector<float>" for vector<float,A>).
		if n := info.Streamer.Name(); n != info.Class && !strings.HasPrefix(info.Class, strings.TrimSuffix(n, ">")+",") {
			if si, err := rf.StreamerInfo(info.Class, -1); err != nil || si != info.Streamer {
				t.Errorf("%s: streamer %q for class %q", what, info.Streamer.Name(), info.Class)
			}
		}
	}
	if info.Element == nil {
		return
	}
	member := b.Name()
	if i := strings.LastIndexByte(member, '.'); i >= 0 {
		member = member[i+1:]
	}
	if i := strings.IndexByte(member, '['); i >= 0 {
		member = member[:i]
	}
	// A top-level branch of a container or object has ROOT's element
	// "This".
	if name := info.Element.Name(); name != member && !strings.HasSuffix(b.Name(), name) && name != "This" {
		t.Errorf("%s: streamer element %q", what, name)
	}
	// A member of a basic type: fStreamerType is its element's type (STL
	// and object members differ: 300 against 500, kSTL and kStreamer).
	if info.BType == 0 && info.SType >= 0 && info.SType < int32(rmeta.Object) && info.SType != int32(info.Element.Type()) {
		t.Errorf("%s: fStreamerType %d, element %q type %d", what, info.SType, info.Element.Name(), info.Element.Type())
	}
}

// checkPrependStreamers puts a stand-in ahead of the file's first class
// and checks that groot's look-up now finds it, and the list holds both.
func checkPrependStreamers(t *testing.T, what string, rf *riofs.File) {
	t.Helper()
	old := rf.StreamerInfos()
	if len(old) == 0 {
		return
	}
	name := old[0].Name()
	stub := rdict.NewCxxStreamerInfo(name, int32(old[0].ClassVersion()), uint32(old[0].CheckSum()), nil)
	if err := gohep.PrependFileStreamers(rf, []rbytes.StreamerInfo{stub}); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	got := rf.StreamerInfos()
	if len(got) != len(old)+1 || got[0] != stub || !reflect.DeepEqual(got[1:], old) {
		t.Errorf("%s: prependFileStreamers: %d streamers, first %v", what, len(got), got[0].Name())
	}
	if si, err := rf.StreamerInfo(name, -1); err != nil || si != stub {
		t.Errorf("%s: groot's look-up of %q does not take the prepended streamer: %v", what, name, err)
	}
}
