package rntuple_test

import (
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
