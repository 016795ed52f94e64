package rootwrite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/rootio/rntuple"
)

// COPY ... TO 'f.root' (FORMAT rntuple) writes the query's rows as an
// RNTuple (format 1.0, ROOT 6.34 and later) through rootio/rntuple: one
// top-level field per column, lists as std::vector, fixed arrays as
// std::array, STRUCTs as records, MAPs as std::map, UNIONs as
// std::variant. A column, list item, STRUCT member, MAP value or UNION
// member with NULLs is written as std::optional<T> (the writer settles it
// at the end: one without NULLs stays T). Pages and clusters are sized in
// bytes as ROOT sizes them (rootio/rntuple/sizing.go): a column's page
// holds PAGE_SIZE uncompressed bytes of elements, and a cluster is written
// once its uncompressed bytes are expected to compress to CLUSTER_SIZE
// (or reach ten times that), or once it holds CLUSTER_ROWS rows if set,
// whichever comes first. Options: TREE (the RNTuple's name, default
// Events), COMPRESSION (zstd, zlib, lz4, lzma or none; default zstd),
// LEVEL (1–9, default 5), PAGE_SIZE (bytes, default 1048576, ROOT's),
// CLUSTER_SIZE (approximate compressed bytes, default 128 MiB, ROOT's),
// MAX_UNZIPPED_CLUSTER_SIZE (default ten times CLUSTER_SIZE, as ROOT's),
// CLUSTER_ROWS (no cap by default). Sizes are plain byte counts.
//
// Memory: the writer seals each column's page as it fills (encoded and
// compressed at once, as ROOT's buffered page sink does), so a cluster
// waits compressed, plus one open page per column and one DuckDB chunk
// in the Arrays' 64-bit form: about CLUSTER_SIZE (twice that for the
// first cluster's estimate) whatever the uncompressed size. Measured on
// 500,000 events of the CMS sample (86 branches; bench/README.md), ROOT's
// defaults take 0.5 GB of peak RSS, reading included, where gathering
// the cluster uncompressed in 64-bit arrays took 2.7 GB (and the 64 MiB
// cap COPY then had by default 0.85 GB).

// ntupleOptions are COPY (FORMAT rntuple)'s options.
type ntupleOptions struct {
	name        string
	compression int // ROOT's settings
	clusterRows int // 0: no row cap
	pageSize    int64
	clusterSize int64
	maxUnzipped int64 // 0: ROOT's ten times CLUSTER_SIZE
}

func parseNTupleOptions(m map[string]any) (ntupleOptions, error) {
	o := ntupleOptions{name: "Events", pageSize: rntuple.DefaultPageSize, clusterSize: rntuple.DefaultClusterSize}
	_, sized := m["CLUSTER_SIZE"]
	alg, level := "zstd", int64(5)
	for k, v := range m {
		bad := func(want string) error {
			return fmt.Errorf("COPY (FORMAT rntuple): option %s must be %s, got %v", k, want, v)
		}
		switch k {
		case "TREE":
			s, ok := v.(string)
			if !ok || rntuple.ValidName(s) != nil {
				return o, bad("an RNTuple name (no '.', ' ', '\\', '/' or control codes)")
			}
			o.name = s
		case "COMPRESSION":
			s, ok := v.(string)
			if !ok {
				return o, bad("zstd, zlib, lz4, lzma or none")
			}
			alg = strings.ToLower(s)
		case "LEVEL":
			n, ok := v.(int64)
			if !ok || n < 1 || n > 9 {
				return o, bad("an integer from 1 to 9")
			}
			level = n
		case "CLUSTER_ROWS":
			n, ok := v.(int64)
			if !ok || n < 1 || n > 1<<30 {
				return o, bad("a positive number of rows")
			}
			o.clusterRows = int(n)
		case "PAGE_SIZE":
			// ROOT's pages hold at least one element; one element of the
			// widest column (a 12-byte variant switch) must fit a page
			// no larger than a locator can address.
			n, ok := v.(int64)
			if !ok || n < 1 || n > 1<<30 {
				return o, bad("a number of bytes from 1 to 1073741824")
			}
			o.pageSize = n
		case "CLUSTER_SIZE":
			n, ok := v.(int64)
			if !ok || n < 1 || n > 1<<40 {
				return o, bad("a positive number of bytes")
			}
			o.clusterSize = n
		case "MAX_UNZIPPED_CLUSTER_SIZE":
			n, ok := v.(int64)
			if !ok || n < 1 || n > 1<<40 {
				return o, bad("a positive number of bytes")
			}
			o.maxUnzipped = n
		default:
			return o, fmt.Errorf("COPY (FORMAT rntuple): unknown option %s (TREE, COMPRESSION, LEVEL, PAGE_SIZE, CLUSTER_SIZE, MAX_UNZIPPED_CLUSTER_SIZE, CLUSTER_ROWS)", k)
		}
	}
	algs := map[string]int{"none": 0, "zlib": 1, "lzma": 2, "lz4": 4, "zstd": 5}
	a, ok := algs[alg]
	if !ok {
		return o, fmt.Errorf("COPY (FORMAT rntuple): COMPRESSION %q: zstd, zlib, lz4, lzma or none", alg)
	}
	if a != 0 {
		o.compression = a*100 + int(level)
	}
	if o.maxUnzipped != 0 && !sized {
		o.clusterSize = min(o.clusterSize, o.maxUnzipped) // a lower cap alone lowers the default target with it
	} else if o.maxUnzipped != 0 && o.maxUnzipped < o.clusterSize {
		return o, fmt.Errorf("COPY (FORMAT rntuple): MAX_UNZIPPED_CLUSTER_SIZE %d is below CLUSTER_SIZE %d", o.maxUnzipped, o.clusterSize)
	}
	return o, nil
}

// BindRNTuple checks the options and columns of COPY (FORMAT rntuple).
func BindRNTuple(b *capi.CopyBind) (capi.CopyTarget, error) {
	opts, err := parseNTupleOptions(b.Options)
	if err != nil {
		return nil, err
	}
	t := &ntupleTarget{opts: opts}
	seen := map[string]string{}
	for _, c := range b.Columns {
		if err := rntuple.ValidName(c.Name); err != nil {
			return nil, fmt.Errorf("COPY (FORMAT rntuple): column %q is not a field name (%v): name it with AS", c.Name, err)
		}
		if other, ok := seen[strings.ToLower(c.Name)]; ok {
			return nil, fmt.Errorf("COPY (FORMAT rntuple): columns %q and %q differ only in case", other, c.Name)
		}
		seen[strings.ToLower(c.Name)] = c.Name
		rt, err := ntupleType(c.Type, c.Name, true)
		if err != nil {
			return nil, fmt.Errorf("COPY (FORMAT rntuple): column %q has type %s, which RNTuple output does not support (%v)", c.Name, c.TypeName, err)
		}
		t.names = append(t.names, c.Name)
		// Every column (and value in it) may be NULL: the writer stores
		// it as std::optional<T> only if one is.
		t.types = append(t.types, orNull(rt))
		t.sql = append(t.sql, c.Type)
	}
	if len(t.names) == 0 {
		return nil, errors.New("COPY (FORMAT rntuple): no columns to write")
	}
	return t, nil
}

// orNull wraps the type of a value DuckDB may give as NULL: an optional
// the writer leaves out when no value is NULL.
func orNull(t *rntuple.Type) *rntuple.Type {
	return &rntuple.Type{Kind: rntuple.KindOptional, Elem: t, Elide: true}
}

// ntupleType maps a DuckDB type to the RNTuple type it is written as.
// Records get a type name of their own (nested ones must have one).
func ntupleType(t capi.Type, path string, top bool) (*rntuple.Type, error) {
	kinds := map[capi.TypeID]rntuple.Kind{
		capi.Boolean: rntuple.KindBool, capi.TinyInt: rntuple.KindInt8, capi.SmallInt: rntuple.KindInt16,
		capi.Integer: rntuple.KindInt32, capi.BigInt: rntuple.KindInt64, capi.UTinyInt: rntuple.KindUint8,
		capi.USmallInt: rntuple.KindUint16, capi.UInteger: rntuple.KindUint32, capi.UBigInt: rntuple.KindUint64,
		capi.Float: rntuple.KindFloat32, capi.Double: rntuple.KindFloat64, capi.Varchar: rntuple.KindString,
	}
	if k, ok := kinds[t.ID]; ok {
		return &rntuple.Type{Kind: k}, nil
	}
	switch t.ID {
	case capi.List, capi.Array:
		et, err := ntupleType(*t.Elem, path+"_item", false)
		if err != nil {
			return nil, err
		}
		et = orNull(et)
		if t.ID == capi.List {
			return &rntuple.Type{Kind: rntuple.KindList, Elem: et}, nil
		}
		return &rntuple.Type{Kind: rntuple.KindArray, Elem: et, Size: t.Size}, nil
	case capi.Map: // std::map<K,V>: a collection of std::pair<K,V>
		kt, err := ntupleType(t.Fields[0].Type, path+"_key", false)
		if err != nil {
			return nil, err
		}
		vt, err := ntupleType(t.Fields[1].Type, path+"_value", false)
		if err != nil {
			return nil, err
		}
		vt = orNull(vt) // keys are never NULL
		pair := &rntuple.Type{Kind: rntuple.KindStruct, Name: "std::pair<>", Names: []string{"_0", "_1"}, Members: []*rntuple.Type{kt, vt}}
		return &rntuple.Type{Kind: rntuple.KindList, Name: "std::map<>", Elem: pair}, nil
	case capi.Union: // std::variant<T0,...>: alternatives _0, _1, ...
		vt := &rntuple.Type{Kind: rntuple.KindVariant}
		for k, f := range t.Fields {
			mt, err := ntupleType(f.Type, path+"_"+f.Name, false)
			if err != nil {
				return nil, err
			}
			vt.Names = append(vt.Names, fmt.Sprintf("_%d", k))
			vt.Members = append(vt.Members, orNull(mt))
		}
		return vt, nil
	case capi.Struct:
		if len(t.Fields) == 0 {
			return nil, errors.New("an empty STRUCT")
		}
		rt := &rntuple.Type{Kind: rntuple.KindStruct, Name: "hepsql::" + path}
		for _, f := range t.Fields {
			if err := rntuple.ValidName(f.Name); err != nil {
				return nil, fmt.Errorf("STRUCT member %q is not a field name (%v)", f.Name, err)
			}
			mt, err := ntupleType(f.Type, path+"_"+f.Name, false)
			if err != nil {
				return nil, err
			}
			rt.Names = append(rt.Names, f.Name)
			rt.Members = append(rt.Members, orNull(mt))
		}
		return rt, nil
	}
	return nil, errors.New("no RNTuple field type for it")
}

type ntupleTarget struct {
	opts  ntupleOptions
	names []string
	types []*rntuple.Type
	sql   []capi.Type
}

func (t *ntupleTarget) Open(path string) (capi.CopyWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("COPY (FORMAT rntuple): %w", err)
	}
	w, err := rntuple.NewWriter(f, t.opts.name, t.names, t.types, rntuple.WriteOptions{
		Compression: t.opts.compression, FileName: filepath.Base(path),
		PageSize: t.opts.pageSize, ClusterSize: t.opts.clusterSize, MaxUnzippedClusterSize: t.opts.maxUnzipped,
	})
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("COPY (FORMAT rntuple): %w", err)
	}
	nw := &ntupleWriter{t: t, path: path, f: f, w: w}
	nw.newArrays()
	return nw, nil
}

// ntupleWriter hands each chunk's rows to the writer, which puts them in
// its columns' pages and seals (compresses) each page as it fills, and
// writes a cluster when the writer finds its bytes enough (ClusterFull)
// or it holds CLUSTER_ROWS rows. Only one chunk is held in the Arrays'
// 64-bit form; a cluster waits compressed.
type ntupleWriter struct {
	t        *ntupleTarget
	path     string
	f        *os.File
	w        *rntuple.Writer
	arrays   []rntuple.Array // one chunk's rows
	rows     int             // in the current cluster
	bytes    int64           // the current cluster's uncompressed bytes (rntuple.UnzippedBytes)
	idx      []int
	finished bool
}

// newArrays makes the chunk's arrays, empty (truncate empties them again
// for each chunk).
func (nw *ntupleWriter) newArrays() {
	nw.arrays = make([]rntuple.Array, len(nw.t.types))
	for i, t := range nw.t.types {
		nw.arrays[i] = emptyArray(t)
	}
}

// truncate empties a chunk's array (and its children), keeping their
// room for the next chunk.
func truncate(a *rntuple.Array) {
	a.Len = 0
	a.Bools, a.Ints, a.Uints, a.Floats = a.Bools[:0], a.Ints[:0], a.Uints[:0], a.Floats[:0]
	clear(a.Strings) // let the last chunk's strings go
	a.Strings, a.Tags, a.Index = a.Strings[:0], a.Tags[:0], a.Index[:0]
	if a.Offsets != nil {
		a.Offsets = a.Offsets[:1]
	}
	for i := range a.Children {
		truncate(&a.Children[i])
	}
}

// emptyArray is an Array of no rows of type t, with its children.
func emptyArray(t *rntuple.Type) rntuple.Array {
	a := rntuple.Array{Type: t}
	switch t.Kind {
	case rntuple.KindList, rntuple.KindOptional:
		a.Offsets = []int64{0}
		a.Children = []rntuple.Array{emptyArray(t.Elem)}
	case rntuple.KindArray:
		a.Children = []rntuple.Array{emptyArray(t.Elem)}
	case rntuple.KindStruct, rntuple.KindVariant:
		for _, m := range t.Members {
			a.Children = append(a.Children, emptyArray(m))
		}
	}
	return a
}

func (nw *ntupleWriter) Write(in capi.Args) error {
	n := in.Rows()
	// CLUSTER_ROWS is a cap: a chunk that would pass it is split.
	for from := 0; from < n; {
		to := n
		if c := nw.t.opts.clusterRows; c > 0 {
			to = min(n, from+c-nw.rows)
		}
		nw.idx = nw.idx[:0]
		for r := from; r < to; r++ {
			nw.idx = append(nw.idx, r)
		}
		for i := range nw.arrays {
			truncate(&nw.arrays[i])
			if err := gather(&nw.arrays[i], in.Arg(i), nw.t.sql[i], nw.idx, n, nw.t.names[i]); err != nil {
				return err
			}
			nw.bytes += rntuple.UnzippedBytes(&nw.arrays[i], 0)
		}
		if err := nw.w.Append(nw.arrays); err != nil {
			return fmt.Errorf("COPY (FORMAT rntuple): %s: %w", nw.path, err)
		}
		nw.rows += to - from
		from = to
		if nw.w.ClusterFull(nw.bytes) || nw.rows == nw.t.opts.clusterRows {
			if err := nw.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (nw *ntupleWriter) flush() error {
	if nw.rows == 0 {
		return nil
	}
	if err := nw.w.CommitCluster(); err != nil {
		return fmt.Errorf("COPY (FORMAT rntuple): %s: %w", nw.path, err)
	}
	nw.rows, nw.bytes = 0, 0
	return nil
}

// gather appends rows idx of vector v (of size rows, type t) to a.
func gather(a *rntuple.Array, v capi.Vector, t capi.Type, idx []int, rows int, name string) error {
	if a.Type.Kind == rntuple.KindOptional && a.Type.Elide {
		// A value that may be NULL: present where v is valid.
		valid := idx
		if mask := v.ReadValidity(rows); mask != nil {
			valid = make([]int, 0, len(idx))
			for _, r := range idx {
				if capi.IsValid(mask, r) {
					valid = append(valid, r)
				}
			}
		}
		last, k := a.Offsets[len(a.Offsets)-1], 0
		for _, r := range idx {
			if k < len(valid) && valid[k] == r {
				last++
				k++
			}
			a.Offsets = append(a.Offsets, last)
		}
		a.Len += len(idx)
		return gather(&a.Children[0], v, t, valid, rows, name)
	}
	if mask := v.ReadValidity(rows); mask != nil {
		for _, r := range idx {
			if !capi.IsValid(mask, r) {
				return fmt.Errorf("COPY (FORMAT rntuple): column %q has a NULL where RNTuple holds none (a MAP key)", name)
			}
		}
	}
	a.Len += len(idx)
	switch t.ID {
	case capi.Boolean:
		d := capi.Slice[bool](v, rows)
		for _, i := range idx {
			a.Bools = append(a.Bools, d[i])
		}
	case capi.TinyInt:
		a.Ints = appendInts(a.Ints, capi.Slice[int8](v, rows), idx)
	case capi.SmallInt:
		a.Ints = appendInts(a.Ints, capi.Slice[int16](v, rows), idx)
	case capi.Integer:
		a.Ints = appendInts(a.Ints, capi.Slice[int32](v, rows), idx)
	case capi.BigInt:
		a.Ints = appendInts(a.Ints, capi.Slice[int64](v, rows), idx)
	case capi.UTinyInt:
		a.Uints = appendInts(a.Uints, capi.Slice[uint8](v, rows), idx)
	case capi.USmallInt:
		a.Uints = appendInts(a.Uints, capi.Slice[uint16](v, rows), idx)
	case capi.UInteger:
		a.Uints = appendInts(a.Uints, capi.Slice[uint32](v, rows), idx)
	case capi.UBigInt:
		a.Uints = appendInts(a.Uints, capi.Slice[uint64](v, rows), idx)
	case capi.Float:
		d := capi.Slice[float32](v, rows)
		for _, i := range idx {
			a.Floats = append(a.Floats, float64(d[i]))
		}
	case capi.Double:
		d := capi.Slice[float64](v, rows)
		for _, i := range idx {
			a.Floats = append(a.Floats, d[i])
		}
	case capi.Varchar:
		for _, i := range idx {
			a.Strings = append(a.Strings, v.StringAt(i))
		}
	case capi.List, capi.Map:
		elem := t.Elem
		if t.ID == capi.Map { // its entries: STRUCT(key, value)
			elem = &capi.Type{ID: capi.Struct, Fields: t.Fields}
		}
		entries := capi.Slice[capi.ListEntry](v, rows)
		var child []int
		last := a.Offsets[len(a.Offsets)-1]
		for _, i := range idx {
			e := entries[i]
			for k := range e.Length {
				child = append(child, int(e.Offset+k))
			}
			last += int64(e.Length)
			a.Offsets = append(a.Offsets, last)
		}
		return gather(&a.Children[0], v.ListChild(), *elem, child, v.ListSize(), name)
	case capi.Array:
		child := make([]int, 0, len(idx)*t.Size)
		for _, i := range idx {
			for k := range t.Size {
				child = append(child, i*t.Size+k)
			}
		}
		return gather(&a.Children[0], v.ArrayChild(), *t.Elem, child, rows*t.Size, name)
	case capi.Struct:
		for k, f := range t.Fields {
			if err := gather(&a.Children[k], v.StructChild(k), f.Type, idx, rows, name+"."+f.Name); err != nil {
				return err
			}
		}
	case capi.Union:
		// Child 0: each row's member (tag); child k+1: member k, valid in
		// the rows of that tag.
		tags := capi.Slice[uint8](v.StructChild(0), rows)
		subsets := make([][]int, len(t.Fields))
		for _, i := range idx {
			k := int(tags[i])
			if k >= len(t.Fields) {
				return fmt.Errorf("COPY (FORMAT rntuple): column %q: UNION tag %d of %d members", name, k, len(t.Fields))
			}
			a.Tags = append(a.Tags, int32(k+1))
			a.Index = append(a.Index, int64(a.Children[k].Len+len(subsets[k])))
			subsets[k] = append(subsets[k], i)
		}
		for k, f := range t.Fields {
			if len(subsets[k]) == 0 {
				continue
			}
			if err := gather(&a.Children[k], v.StructChild(k+1), f.Type, subsets[k], rows, name+"."+f.Name); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("COPY (FORMAT rntuple): column %q: type %s not written", name, t)
	}
	return nil
}

func appendInts[S int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64, D int64 | uint64](dst []D, src []S, idx []int) []D {
	for _, i := range idx {
		dst = append(dst, D(src[i]))
	}
	return dst
}

func (nw *ntupleWriter) Finish() error {
	nw.finished = true
	err := nw.flush()
	if err == nil {
		err = nw.w.Close()
	}
	if cerr := nw.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(nw.path)
		return fmt.Errorf("COPY (FORMAT rntuple): %s: %w", nw.path, err)
	}
	return nil
}

// Close runs when DuckDB drops the COPY: without Finish (an error or an
// interrupt), the partial file is removed.
func (nw *ntupleWriter) Close() error {
	if !nw.finished {
		nw.finished = true
		nw.f.Close()
		os.Remove(nw.path)
	}
	return nil
}
