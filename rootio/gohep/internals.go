package gohep

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"unsafe"

	"github.com/hepsql/hepsql/rootio/ttree"
	"go-hep.org/x/hep/groot/rbytes"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rtree"
)

// groot parses TTree metadata for us but keeps the basket tables of a branch
// (fBasketSeek, fBasketBytes, fBasketEntry), the branch-element type codes and
// the leaves' streamer elements unexported, because its own reader never needs
// to hand them out. The vectorised reader needs exactly those, so this file is
// the one audited place that reads them, by field name through reflection.
// It is pinned to go-hep Version by TestGrootInternalsLayout
// (rootscan/groot_internals_test.go, which walks every test file through
// rootscan's openers), which fails on any other go-hep version and
// checks every accessor's values on real files against what the bytes on
// disk and groot's exported API say; if a field is renamed or retyped the
// accessors return an error naming it instead of the scan misreading data.
//
// Every reach into groot's unexported state by the reader (rootscan) is in
// this file, and so is the writer's (rootwrite's registerLeafStreamers
// appends to riofs.File's streamer list through AppendStreamerInfos).
// rootscan also relies on groot's behaviour through its exported API, and
// those seams have tests of their own: rootio/ttree's lean.go (mapped by
// rootio/tbranch's lean.go) re-parses
// what groot parses (TestLeanMatchesGroot, on every test file),
// streamers.go mirrors groot's class look-ups and matches its "no streamer"
// error texts (missingStreamer; missing_streamer_test.go, hostile tests),
// and rootio/ttree's embedded.go reads kept baskets as groot's Basket.UnmarshalROOT
// leaves them (TestLeanKeptBaskets).

// Version is the go-hep version this file was written
// against and checked with.
const Version = "v0.40.0"

// fieldKey names one field of one struct type; fieldIndexes caches where
// reflect.Type.FieldByName found it, because that search (through embedded
// structs) cost more than the rest of mapping a tree's branches to columns.
type fieldKey struct {
	typ  reflect.Type
	name string
}

var fieldIndexes sync.Map // fieldKey → []int

func unexportedField(v reflect.Value, name string) (reflect.Value, error) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return reflect.Value{}, fmt.Errorf("rootscan: groot layout: nil value looking for field %q", name)
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return reflect.Value{}, fmt.Errorf("rootscan: groot layout: %v is not a struct looking for field %q", v.Type(), name)
	}
	key := fieldKey{v.Type(), name}
	idx, ok := fieldIndexes.Load(key)
	if !ok {
		sf, found := v.Type().FieldByName(name)
		if !found {
			return reflect.Value{}, fmt.Errorf("rootscan: groot layout changed: %v has no field %q (update rootio/gohep/internals.go)", v.Type(), name)
		}
		idx, _ = fieldIndexes.LoadOrStore(key, sf.Index)
	}
	f, err := v.FieldByIndexErr(idx.([]int))
	if err != nil {
		return reflect.Value{}, fmt.Errorf("rootscan: groot layout: field %q of %v: %w", name, v.Type(), err)
	}
	if !f.CanAddr() {
		return reflect.Value{}, fmt.Errorf("rootscan: groot layout: field %q of %v is not addressable", name, v.Type())
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem(), nil
}

func fieldAs[T any](v any, name string) (T, error) {
	var zero T
	f, err := unexportedField(reflect.ValueOf(v), name)
	if err != nil {
		return zero, err
	}
	if f.Type() != reflect.TypeFor[T]() {
		return zero, fmt.Errorf("rootscan: groot layout changed: field %q is %v, want %T (update rootio/gohep/internals.go)", name, f.Type(), zero)
	}
	// Read in place: f.Interface() would box (allocate) every slice header.
	return *(*T)(unsafe.Pointer(f.UnsafeAddr())), nil
}

func ReadBasketTable(b rtree.Branch) (ttree.BasketTable, error) {
	var t ttree.BasketTable
	var err error
	if t.Seek, err = fieldAs[[]int64](b, "basketSeek"); err != nil {
		return t, err
	}
	if t.Bytes, err = fieldAs[[]int32](b, "basketBytes"); err != nil {
		return t, err
	}
	if t.First, err = fieldAs[[]int64](b, "basketEntry"); err != nil {
		return t, err
	}
	if t.Entries, err = fieldAs[int64](b, "entries"); err != nil {
		return t, err
	}
	if t.Compress, err = fieldAs[int](b, "compress"); err != nil {
		return t, err
	}
	if t.ZipBytes, err = fieldAs[int64](b, "zipBytes"); err != nil {
		return t, err
	}
	if t.TotBytes, err = fieldAs[int64](b, "totBytes"); err != nil {
		return t, err
	}
	if t.OffsetLen, err = fieldAs[int](b, "entryOffsetLen"); err != nil {
		return t, err
	}
	baskets, err := fieldAs[[]rtree.Basket](b, "baskets")
	if err != nil {
		return t, err
	}
	t.TrimUnwritten()
	for i := range baskets {
		e, err := grootEmbedded(&baskets[i])
		if err != nil {
			return t, err
		}
		if e != nil {
			t.AddEmbedded(e)
		}
	}
	return t, nil
}

// grootEmbedded reads a basket groot unmarshalled from a branch's fBaskets
// array in the tree record, or nil for one without entries (groot leaves
// the array's empty slots as zero Baskets).
func grootEmbedded(bk *rtree.Basket) (*ttree.EmbeddedBasket, error) {
	nevbuf, err := fieldAs[int](bk, "nevbuf")
	if err != nil || nevbuf == 0 {
		return nil, err
	}
	last, err := fieldAs[int](bk, "last")
	if err != nil {
		return nil, err
	}
	offsets, err := fieldAs[[]int32](bk, "offsets")
	if err != nil {
		return nil, err
	}
	kv, err := unexportedField(reflect.ValueOf(bk), "key")
	if err != nil {
		return nil, err
	}
	key, ok := kv.Addr().Interface().(*riofs.Key)
	if !ok {
		return nil, fmt.Errorf("rootscan: groot layout changed: Basket.key is %v, want riofs.Key (update rootio/gohep/internals.go)", kv.Type())
	}
	e := &ttree.EmbeddedBasket{Keylen: int64(key.KeyLen()), Nevbuf: int64(nevbuf), Last: int64(last), Buf: key.Buffer()}
	if len(offsets) > 0 {
		// groot has cleared the displacement bits (flag 21–39).
		e.Offsets = slices.Clone(offsets)
	}
	return e, nil
}

// ElementInfo is what a TBranchElement says about the C++ type it stores.
type ElementInfo struct {
	Class        string                 // fClassName: the class of the branch's object
	BType        int32                  // fType: 0 top-level/member, 3/31 TClonesArray, 4/41 STL
	SType        int32                  // fStreamerType
	ID           int32                  // fID: the member's index in its class's streamer (negative for a whole object)
	ClassVersion int                    // fClassVersion: the version of class's streamer the branch was written with
	Clones       string                 // fClonesName: the class of a collection's elements (fType 3/4)
	Element      rbytes.StreamerElement // streamer element of a member branch, or nil
	Streamer     rbytes.StreamerInfo    // streamer of the class, or nil
}

func ReadElementInfo(b rtree.Branch) (ElementInfo, error) {
	var e ElementInfo
	var err error
	if e.Class, err = fieldAs[string](b, "class"); err != nil {
		return e, err
	}
	if e.BType, err = fieldAs[int32](b, "btype"); err != nil {
		return e, err
	}
	if e.SType, err = fieldAs[int32](b, "stype"); err != nil {
		return e, err
	}
	if e.ID, err = fieldAs[int32](b, "id"); err != nil {
		return e, err
	}
	clsver, err := fieldAs[uint16](b, "clsver")
	if err != nil {
		return e, err
	}
	e.ClassVersion = int(clsver)
	if e.Clones, err = fieldAs[string](b, "clones"); err != nil {
		return e, err
	}
	f, err := unexportedField(reflect.ValueOf(b), "estreamer")
	if err != nil {
		return e, err
	}
	if !f.IsNil() {
		e.Element = f.Interface().(rbytes.StreamerElement)
	}
	f, err = unexportedField(reflect.ValueOf(b), "streamer")
	if err != nil {
		return e, err
	}
	if !f.IsNil() {
		e.Streamer = f.Interface().(rbytes.StreamerInfo)
	}
	return e, nil
}

// LeafElement returns the streamer element that carries a Float16/Double32
// leaf's range and precision, or nil when the leaf has none.
func LeafElement(l rtree.Leaf) (rbytes.StreamerElement, error) {
	f, err := unexportedField(reflect.ValueOf(l), "elm")
	if err != nil {
		return nil, err
	}
	if f.IsNil() {
		return nil, nil
	}
	return f.Interface().(rbytes.StreamerElement), nil
}

// LeafLen is the number of fixed elements per entry of a leaf (the product
// of its dimensions); groot's Len() dereferences the count leaf, which is not
// loaded outside its own reader.
func LeafLen(l rtree.Leaf) (int, error) {
	return fieldAs[int](l, "len")
}

// PrependFileStreamers puts sinfos ahead of a file's own streamers in
// groot's look-ups (riofs.File.StreamerInfo takes the first of a name),
// for guardStreamers' copies of classes whose types groot could not build.
func PrependFileStreamers(rf *riofs.File, sinfos []rbytes.StreamerInfo) error {
	f, err := unexportedField(reflect.ValueOf(rf), "sinfos")
	if err != nil {
		return err
	}
	if f.Type() != reflect.TypeFor[[]rbytes.StreamerInfo]() {
		return fmt.Errorf("rootscan: groot layout changed: field %q is %v, want []rbytes.StreamerInfo (update rootio/gohep/internals.go)", "sinfos", f.Type())
	}
	old := f.Interface().([]rbytes.StreamerInfo)
	f.Set(reflect.ValueOf(append(append([]rbytes.StreamerInfo(nil), sinfos...), old...)))
	return nil
}

// AppendStreamerInfos adds sis to the streamer infos file f will write,
// each once, even for classes groot's global registry knows (which
// riofs.File.RegisterStreamer skips): it appends to the file's unexported
// list (sinfos, deduplicated through simap). A changed layout of
// riofs.File is an error naming the fields, not a misuse of memory;
// rootwrite's TestLeafStreamersLayout pins the behaviour to Version.
func AppendStreamerInfos(f *riofs.File, sis []rbytes.StreamerInfo) error {
	rv := reflect.ValueOf(f).Elem()
	list, set := rv.FieldByName("sinfos"), rv.FieldByName("simap")
	if !list.IsValid() || list.Type() != reflect.TypeFor[[]rbytes.StreamerInfo]() ||
		!set.IsValid() || set.Type() != reflect.TypeFor[map[rbytes.StreamerInfo]struct{}]() {
		return fmt.Errorf("go-hep's riofs.File layout changed (fields sinfos, simap) from go-hep %s; update gohep.AppendStreamerInfos", Version)
	}
	sinfos := (*[]rbytes.StreamerInfo)(unsafe.Pointer(list.UnsafeAddr()))
	simap := *(*map[rbytes.StreamerInfo]struct{})(unsafe.Pointer(set.UnsafeAddr()))
	for _, si := range sis {
		if _, dup := simap[si]; dup {
			continue
		}
		simap[si] = struct{}{}
		*sinfos = append(*sinfos, si)
	}
	return nil
}
