package rntuple_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootio/rntuple"
)

// streamValues reads n entries of s into the plain values Array.Value
// gives, each leaf read at its own width (as a scan reads into DuckDB's
// vectors).
func streamValues(s *rntuple.Stream, n int) ([]any, error) {
	out := make([]any, n)
	var err error
	switch t := s.Type; t.Kind {
	case rntuple.KindBool:
		v := make([]bool, n)
		err = s.ReadBools(v)
		for i := range v {
			out[i] = v[i]
		}
	case rntuple.KindInt8:
		err = widen(s, out, func(v int8) any { return int64(v) })
	case rntuple.KindInt16:
		err = widen(s, out, func(v int16) any { return int64(v) })
	case rntuple.KindInt32:
		err = widen(s, out, func(v int32) any { return int64(v) })
	case rntuple.KindInt64:
		err = widen(s, out, func(v int64) any { return v })
	case rntuple.KindUint8:
		err = widen(s, out, func(v uint8) any { return uint64(v) })
	case rntuple.KindUint16:
		err = widen(s, out, func(v uint16) any { return uint64(v) })
	case rntuple.KindUint32:
		err = widen(s, out, func(v uint32) any { return uint64(v) })
	case rntuple.KindUint64:
		err = widen(s, out, func(v uint64) any { return v })
	case rntuple.KindFloat32:
		err = widen(s, out, func(v float32) any { return float64(v) })
	case rntuple.KindFloat64:
		err = widen(s, out, func(v float64) any { return v })
	case rntuple.KindString, rntuple.KindList:
		lens := make([]uint64, n)
		items, err := s.ReadLengths(lens)
		if err != nil {
			return nil, err
		}
		var chars []byte
		var vals []any
		if t.Kind == rntuple.KindString {
			chars = make([]byte, items)
			err = s.ReadChars(chars)
		} else {
			vals, err = streamValues(s.Children[0], items)
		}
		if err != nil {
			return nil, err
		}
		at := 0
		for i, l := range lens {
			if t.Kind == rntuple.KindString {
				out[i] = string(chars[at : at+int(l)])
			} else {
				out[i] = append([]any{}, vals[at:at+int(l)]...)
			}
			at += int(l)
		}
	case rntuple.KindArray:
		vals, err := streamValues(s.Children[0], n*t.Size)
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i] = append([]any{}, vals[i*t.Size:(i+1)*t.Size]...)
		}
	case rntuple.KindStruct:
		for i := range out {
			out[i] = map[string]any{}
		}
		for m, name := range t.Names {
			vals, err := streamValues(s.Children[m], n)
			if err != nil {
				return nil, err
			}
			for i := range out {
				out[i].(map[string]any)[name] = vals[i]
			}
		}
	default:
		return nil, fmt.Errorf("%v not streamed", t.Kind)
	}
	return out, err
}

func widen[T rntuple.Number](s *rntuple.Stream, out []any, as func(T) any) error {
	v := make([]T, len(out))
	if err := rntuple.ReadValues(s, v); err != nil {
		return err
	}
	for i := range v {
		out[i] = as(v[i])
	}
	return nil
}

// TestStream reads every streamable field of the test files through
// Streams, from several first entries and in steps of several sizes, and
// checks the values against the Array the field's cluster reads as.
func TestStream(t *testing.T) {
	dir := filepath.Dir(testfiles.Shared(t, "rntuple/test_bit_rntuple_v1-0-0-0.root"))
	files, _ := filepath.Glob(filepath.Join(dir, "*.root"))
	streamed := 0
	for _, name := range files {
		fh, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := fh.Stat()
		names, _ := rntuple.NTuples(fh, st.Size())
		for _, n := range names {
			nt, err := rntuple.Open(fh, st.Size(), n)
			if err != nil {
				t.Fatal(err)
			}
			for i, f := range nt.Fields {
				ty, err := nt.TypeOf(i)
				if !f.TopLevel() || err != nil || !rntuple.Streamable(ty) {
					continue
				}
				streamed++
				for ci, c := range nt.Clusters {
					whole, err := nt.ReadType(ty, ci)
					if err != nil {
						t.Fatal(err)
					}
					for _, from := range []int64{0, 1, c.Entries / 2, c.Entries - 1} {
						for _, step := range []int64{1, 3, 7, 2048, c.Entries} {
							if from < 0 || step <= 0 {
								continue
							}
							// Small steps: 40 entries from each start; large
							// ones: 10,000 (a million-entry cluster's start).
							end := min(c.Entries, from+10000)
							if step < 2048 {
								end = min(end, from+40)
							}
							s, err := nt.NewStream(ty, ci, from)
							if err != nil {
								t.Fatalf("%s: %s cluster %d from %d: %v", filepath.Base(name), f.Name, ci, from, err)
							}
							for at := from; at < end; at += step {
								k := min(step, end-at)
								got, err := streamValues(s, int(k))
								if err != nil {
									t.Fatalf("%s: %s cluster %d entries %d+%d: %v", filepath.Base(name), f.Name, ci, at, k, err)
								}
								for j := range got {
									if want := whole.Value(int(at) + j); !sameValue(got[j], want) {
										t.Fatalf("%s: %s cluster %d entry %d (from %d in steps of %d): %v, Array: %v", filepath.Base(name), f.Name, ci, int(at)+j, from, step, got[j], want)
									}
								}
							}
							s.Close()
						}
					}
				}
			}
		}
		fh.Close()
	}
	if streamed < 50 {
		t.Errorf("%d fields streamed, want at least 50", streamed)
	}
	if !strings.Contains(dir, "rntuple") {
		t.Errorf("fixtures in %s", dir)
	}
}

// sameValue is reflect.DeepEqual with a NaN equal to a NaN.
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case float64:
		b, ok := b.(float64)
		return ok && (a == b || (a != a && b != b))
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameValue(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if w, ok := b[k]; !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// TestStreamsSideBySide writes collections whose index columns are
// copies of one another (as a NanoAOD's Muon_pt, Muon_eta, ... are), in
// pages of 37 elements over several clusters, and reads them side by
// side with NewStreams in steps that start and end inside pages: the
// pages one Stream copies from another give the values the Array gives.
func TestStreamsSideBySide(t *testing.T) {
	f32 := &rntuple.Type{Kind: rntuple.KindFloat32}
	i32 := &rntuple.Type{Kind: rntuple.KindInt32}
	types := []*rntuple.Type{
		{Kind: rntuple.KindList, Elem: f32}, {Kind: rntuple.KindList, Elem: f32},
		{Kind: rntuple.KindList, Elem: i32}, f32, {Kind: rntuple.KindString},
	}
	names := []string{"Muon_pt", "Muon_eta", "Muon_charge", "MET_pt", "tag"}
	for _, comp := range []int{0, 505, 101} {
		var f memFile
		w, err := rntuple.NewWriter(&f, "Events", names, types, rntuple.WriteOptions{Compression: comp, PageElements: 37})
		if err != nil {
			t.Fatal(err)
		}
		for cl := range 3 {
			n := 500 + 100*cl
			arrays := make([]rntuple.Array, len(types))
			for k, ty := range types {
				arrays[k] = rntuple.Array{Type: ty, Len: n}
			}
			offs := []int64{0}
			for i := range n {
				offs = append(offs, offs[i]+int64((i*7+cl)%4))
			}
			items := int(offs[n])
			pt, eta, q := make([]float64, items), make([]float64, items), make([]int64, items)
			for j := range items {
				pt[j], eta[j], q[j] = float64(j%97)+0.5, float64(j%13)-6.25, int64(j%2*2-1)
			}
			for k, vals := range [][]float64{pt, eta} {
				arrays[k].Offsets = offs
				arrays[k].Children = []rntuple.Array{{Type: f32, Len: items, Floats: vals}}
			}
			arrays[2].Offsets = offs
			arrays[2].Children = []rntuple.Array{{Type: i32, Len: items, Ints: q}}
			arrays[3].Floats = make([]float64, n)
			arrays[4].Strings = make([]string, n)
			for i := range n {
				arrays[3].Floats[i] = float64(i) * 1.5
				arrays[4].Strings[i] = strings.Repeat("x", i%5)
			}
			if err := w.WriteCluster(arrays); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		nt, err := rntuple.Open(bytes.NewReader(f.b), int64(len(f.b)), "Events")
		if err != nil {
			t.Fatal(err)
		}
		var rt []*rntuple.Type
		for i, fl := range nt.Fields {
			if fl.TopLevel() {
				ty, err := nt.TypeOf(i)
				if err != nil {
					t.Fatal(err)
				}
				rt = append(rt, ty)
			}
		}
		for ci, c := range nt.Clusters {
			for _, from := range []int64{0, 5, 333} {
				whole := make([]rntuple.Array, len(rt))
				for k, ty := range rt {
					if whole[k], err = nt.ReadType(ty, ci); err != nil {
						t.Fatal(err)
					}
				}
				streams, err := nt.NewStreams(rt, ci, from)
				if err != nil {
					t.Fatal(err)
				}
				for at := from; at < c.Entries; at += 41 {
					k := min(41, c.Entries-at)
					for fi, s := range streams {
						got, err := streamValues(s, int(k))
						if err != nil {
							t.Fatalf("compression %d: %s cluster %d entries %d+%d: %v", comp, names[fi], ci, at, k, err)
						}
						for j := range got {
							if want := whole[fi].Value(int(at) + j); !sameValue(got[j], want) {
								t.Fatalf("compression %d: %s cluster %d entry %d (from %d): %v, Array: %v", comp, names[fi], ci, int(at)+j, from, got[j], want)
							}
						}
					}
				}
				for _, s := range streams {
					s.Close()
				}
			}
		}
	}
}
