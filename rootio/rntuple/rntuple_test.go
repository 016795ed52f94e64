package rntuple_test

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootio/rntuple"
)

// The expected values below are facts about scikit-hep-testdata's files
// as uproot's tests (tests/test_*rntuple*.py) and the macros that wrote the
// files (scikit-hep-testdata dev/make-root/) state them, transcribed here.

func openNT(t *testing.T, file, name string) *rntuple.NTuple {
	t.Helper()
	path := testfiles.Shared(t, "rntuple/"+file)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	nt, err := rntuple.Open(f, st.Size(), name)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return nt
}

func fieldID(t *testing.T, nt *rntuple.NTuple, name string) int {
	t.Helper()
	for i, f := range nt.Fields {
		if f.TopLevel() && f.Name == name {
			return i
		}
	}
	t.Fatalf("no top-level field %q", name)
	return -1
}

// values reads every entry of a top-level field, cluster by cluster.
func values(t *testing.T, nt *rntuple.NTuple, name string) []any {
	t.Helper()
	ty, err := nt.TypeOf(fieldID(t, nt, name))
	if err != nil {
		t.Fatalf("field %q: %v", name, err)
	}
	var out []any
	for ci := range nt.Clusters {
		a, err := nt.ReadType(ty, ci)
		if err != nil {
			t.Fatal(err)
		}
		for i := range a.Len {
			out = append(out, a.Value(i))
		}
	}
	if int64(len(out)) != nt.Entries {
		t.Fatalf("field %q: %d values for %d entries", name, len(out), nt.Entries)
	}
	return out
}

func ints(vs ...int64) []any {
	out := []any{}
	for _, v := range vs {
		out = append(out, v)
	}
	return out
}

func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func TestFlatNumbers(t *testing.T) {
	nt := openNT(t, "test_int_float_rntuple_v1-0-0-0.root", "ntuple")
	is, fs := values(t, nt, "one_integers"), values(t, nt, "two_floats")
	for i := range 10 {
		check(t, "one_integers", is[i], int64(9-i))
		want := float64(float32(9.9 - 1.1*float64(i)))
		if got := fs[i].(float64); math.Abs(got-want) > 1e-5 {
			t.Errorf("two_floats[%d] = %v, want %v", i, got, want)
		}
	}

	nt = openNT(t, "test_int_5e4_rntuple_v1-0-0-0.root", "ntuple")
	vs := values(t, nt, "one_integers")
	if len(vs) != 50000 {
		t.Fatalf("%d entries", len(vs))
	}
	for i, v := range vs {
		if v != int64(50000-i) {
			t.Fatalf("one_integers[%d] = %v", i, v)
		}
	}

	nt = openNT(t, "test_bit_rntuple_v1-0-0-0.root", "ntuple")
	check(t, "one_bit", values(t, nt, "one_bit"), []any{true, false, false, true, false, false, true, false, false, true})

	// Split + zigzag at the integer types' extremes.
	nt = openNT(t, "test_splitint_rntuple_v1-0-1-0.root", "ntuple")
	check(t, "int16", values(t, nt, "int16")[:7], ints(0, 1, -1, 1<<14, -(1<<14), 1<<15-1, -(1<<15)))
	check(t, "int32", values(t, nt, "int32")[:7], ints(0, 1, -1, 1<<30, -(1<<30), 1<<31-1, -(1<<31)))
	check(t, "int64", values(t, nt, "int64")[:7], ints(0, 1, -1, 1<<62, -(1<<62), math.MaxInt64, math.MinInt64))
}

func TestStaff(t *testing.T) {
	// ROOT's staff tutorial reads cernstaff.dat, whose first line is
	// "202 15 58 28 0 10 13 40 11975 PS DE"; the 1.0.1.0 file's footer
	// ends with attribute sets.
	for _, file := range []string{"ntpl001_staff_rntuple_v1-0-0-0.root", "ntpl001_staff_rntuple_v1-0-1-0.root"} {
		nt := openNT(t, file, "Staff")
		if nt.Entries != 3354 {
			t.Errorf("%s: %d entries, want 3354", file, nt.Entries)
		}
		for name, want := range map[string]any{"Category": int64(202), "Flag": uint64(15), "Age": int64(58), "Service": int64(28),
			"Children": int64(0), "Grade": int64(10), "Step": int64(13), "Hrweek": int64(40), "Cost": int64(11975),
			"Division": "PS", "Nation": "DE"} {
			check(t, file+" "+name, values(t, nt, name)[0], want)
		}
	}
}

func TestCollections(t *testing.T) {
	nt := openNT(t, "test_stl_containers_rntuple_v1-0-0-0.root", "ntuple")
	words := []any{"one", "two", "three", "four", "five"}
	check(t, "string", values(t, nt, "string"), words)
	vi, vs, af := values(t, nt, "vector_int32"), values(t, nt, "vector_string"), values(t, nt, "array_float")
	for i := range 5 {
		want := []any{}
		for k := range i + 1 {
			want = append(want, int64(k+1))
		}
		check(t, "vector_int32", vi[i], want)
		check(t, "vector_string", vs[i], words[:i+1])
		f := float64(i + 1)
		check(t, "array_float", af[i], []any{f, f, f})
	}
	check(t, "vector_vector_int32[1]", values(t, nt, "vector_vector_int32")[1], []any{ints(1), ints(2)})
	lv := values(t, nt, "array_lv")
	for i, e := range lv {
		for _, m := range e.([]any) {
			check(t, "array_lv.pt", m.(map[string]any)["pt"], float64(i+1))
		}
	}
	tu := values(t, nt, "tuple_int32_string")
	check(t, "tuple_int32_string[2]", tu[2], map[string]any{"_0": int64(3), "_1": "three"})
	check(t, "variant_int32_string", values(t, nt, "variant_int32_string")[:2], []any{int64(1), "two"})

	nt = openNT(t, "test_1jag_int_float_rntuple_v1-0-0-0.root", "ntuple")
	for i, v := range values(t, nt, "one_v_integers") {
		if l := len(v.([]any)); l != i%10 && l != i {
			t.Fatalf("one_v_integers[%d] has %d items", i, l)
		}
	}

	// The page boundary of the SplitIndex64 column falls at element 64:
	// the delta encoding restarts in each page and each cluster.
	nt = openNT(t, "test_index_multicluster_rntuple_v1-0-0-0.root", "ntuple")
	if len(nt.Clusters) < 2 {
		t.Errorf("%d clusters", len(nt.Clusters))
	}
	iv := values(t, nt, "int_vector")
	for j := range 2 {
		for i := range 100 {
			check(t, "int_vector", iv[i+100*j], ints(int64(i), int64(i+j)))
		}
	}

	nt = openNT(t, "test_nested_structs_rntuple_v1-0-0-0.root", "ntuple")
	s := values(t, nt, "my_struct")
	for i, v := range s {
		want := map[string]any{"i": int64(i), "sub_struct": map[string]any{"i": int64(i + 1),
			"sub_sub_struct": map[string]any{"i": int64(i + 2), "v": ints(int64(i), int64(i+1))}}}
		check(t, "my_struct", v, want)
	}

	nt = openNT(t, "test_atomic_bitset_rntuple_v1-0-0-0.root", "ntuple")
	check(t, "atomic_int", values(t, nt, "atomic_int"), ints(1, 2, 3))
	// bitset<42>(42), then |= 0b1010101010101010, then &= 0b1100110011001100.
	bits := []uint64{42, 42 | 0b1010101010101010, (42 | 0b1010101010101010) & 0b1100110011001100}
	for i, v := range values(t, nt, "bitset") {
		b := v.([]any)
		if len(b) != 42 {
			t.Fatalf("bitset of %d", len(b))
		}
		for k, x := range b {
			if x != (bits[i]>>k&1 == 1) {
				t.Fatalf("bitset[%d] bit %d = %v", i, k, x)
			}
		}
	}

	nt = openNT(t, "test_emptystruct_invalidvar_rntuple_v1-0-0-0.root", "ntuple")
	if nt.Entries != 3 {
		t.Errorf("%d entries", nt.Entries)
	}
	check(t, "empty_struct", values(t, nt, "empty_struct"), []any{map[string]any{}, map[string]any{}, map[string]any{}})
	if v := values(t, nt, "variant")[1]; v != nil {
		t.Errorf("the invalid variant read as %v", v)
	}
}

func TestFloatTypes(t *testing.T) {
	nt := openNT(t, "test_float_types_rntuple_v1-0-0-0.root", "ntuple")
	truncate := func(v float64, bits uint) float64 {
		return float64(math.Float32frombits(math.Float32bits(float32(v)) & (0xffffffff << (32 - bits))))
	}
	quantize := func(v float64, bits uint) float64 {
		q := math.Round((v + 2) * float64(uint64(1)<<bits-1) / 5)
		return float64(float32(-2 + q*5/float64(uint64(1)<<bits-1)))
	}
	const truth = 1.23456789
	for _, b := range []uint{10, 16, 24, 31} {
		check(t, "trunc", values(t, nt, "trunc"+itoa(b))[0], truncate(truth, b))
	}
	for _, b := range []uint{1, 8, 16, 20, 24, 25, 32} {
		got, want := values(t, nt, "quant"+itoa(b))[0].(float64), quantize(truth, b)
		if math.Abs(got-want) > 1e-6*math.Abs(want) {
			t.Errorf("quant%d = %v, want %v", b, got, want)
		}
	}
	check(t, "quant1", values(t, nt, "quant1")[:3], []any{3.0, 3.0, -2.0})
}

func itoa(b uint) string { return strconv.Itoa(int(b)) }

func TestSchemaEvolution(t *testing.T) {
	// Fields added after 200 and 400 entries (the footer's schema
	// extension, deferred columns): zeros and empty vectors before.
	nt := openNT(t, "test_extension_columns_rntuple_v1-0-0-0.root", "ntuple")
	ff, iv := values(t, nt, "float_field"), values(t, nt, "intvec_field")
	if len(ff) != 600 {
		t.Fatalf("%d entries", len(ff))
	}
	for i := range 600 {
		switch {
		case i < 200:
			check(t, "float_field", ff[i], 0.0)
		default:
			check(t, "float_field", ff[i], float64(i%200)+0.5) // filled i+0.5 for i < 200, twice
		}
		if i < 400 {
			check(t, "intvec_field", iv[i], []any{})
		}
	}
	check(t, "intvec_field[400]", iv[400], ints(0, 1))
	check(t, "intvec_field[599]", iv[599], ints(199, 200))

	nt = openNT(t, "test_multiple_representations_rntuple_v1-0-0-0.root", "ntuple")
	check(t, "real", values(t, nt, "real"), []any{1.0, 2.0, 3.0})

	nt = openNT(t, "test_multiple_cluster_groups_rntuple_v1-0-0-0.root", "ntuple")
	if nt.Entries != 1000 || len(nt.Clusters) != 12 {
		t.Errorf("%d entries in %d clusters, want 1000 in 5+4+3", nt.Entries, len(nt.Clusters))
	}
	one, vec := values(t, nt, "one"), values(t, nt, "int_vector")
	for i := range 1000 {
		check(t, "one", one[i], int64(i))
		check(t, "int_vector", vec[i], ints(int64(i), int64(i+1)))
	}
}

func TestCMSMuons(t *testing.T) {
	nt := openNT(t, "Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root", "Events")
	pt, charge, n := values(t, nt, "Muon_pt"), values(t, nt, "Muon_charge"), values(t, nt, "nMuon")
	check(t, "Muon_pt[0]", pt[0], []any{10.763696670532227, 15.736522674560547})
	check(t, "Muon_charge[0]", charge[0], ints(-1, -1))
	coll := values(t, nt, "_collection0")
	for i := range pt {
		check(t, "nMuon", n[i], uint64(len(pt[i].([]any))))
		for k, m := range coll[i].([]any) {
			// The projected field reads the same bytes as its source.
			check(t, "Muon_pt vs _collection0", m.(map[string]any)["Muon_pt"], pt[i].([]any)[k])
		}
	}
}

// TestEveryFile reads every field of every RNTuple of every test file, or
// checks that it is refused with a reason.
func TestEveryFile(t *testing.T) {
	dir := filepath.Dir(testfiles.Shared(t, "rntuple/test_bit_rntuple_v1-0-0-0.root"))
	files, _ := filepath.Glob(filepath.Join(dir, "*.root"))
	if len(files) < 24 {
		t.Fatalf("%d test files", len(files))
	}
	for _, name := range files {
		if strings.Contains(name, "int_multicluster") {
			continue // 1e8 entries: TestLargeCluster
		}
		fh, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := fh.Stat()
		names, err := rntuple.NTuples(fh, st.Size())
		if err != nil || len(names) == 0 {
			t.Fatalf("%s: %v %v", name, names, err)
		}
		for _, n := range names {
			nt, err := rntuple.Open(fh, st.Size(), n)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			for i, f := range nt.Fields {
				if !f.TopLevel() {
					continue // read with its parent
				}
				ty, err := nt.TypeOf(i)
				if err != nil {
					if !strings.Contains(err.Error(), f.Name) {
						t.Errorf("%s: field %q refused without naming it: %v", name, f.Name, err)
					}
					continue
				}
				for ci := range nt.Clusters {
					if _, err := nt.ReadType(ty, ci); err != nil {
						t.Errorf("%s: %v", name, err)
					}
				}
			}
		}
		fh.Close()
	}
}

func TestLargeCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 1e8 entries")
	}
	nt := openNT(t, "test_int_multicluster_rntuple_v1-0-0-0.root", "ntuple")
	if nt.Entries != 100_000_000 {
		t.Fatalf("%d entries", nt.Entries)
	}
	// uproot: the first half is 2, the second half 1.
	ty, _ := nt.TypeOf(fieldID(t, nt, "one_integers"))
	var first, last int64
	var n int64
	for ci, c := range nt.Clusters {
		for from := int64(0); from < c.Entries; from += 1 << 22 {
			a, err := nt.ReadRange(ty, ci, from, min(1<<22, c.Entries-from))
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range a.Ints {
				if n == 0 {
					first = v
				}
				if (n < nt.Entries/2 && v != 2) || (n > nt.Entries/2 && v != 1) {
					t.Fatalf("one_integers[%d] = %d", n, v)
				}
				last = v
				n++
			}
		}
	}
	if first != 2 || last != 1 {
		t.Errorf("first %d, last %d", first, last)
	}
}

// TestReadRange reads every field of every test file in parts of 1, 3 and
// 7 entries and checks them against the whole cluster read at once: the
// offsets of collections, strings and variants are rebased per part.
func TestReadRange(t *testing.T) {
	dir := filepath.Dir(testfiles.Shared(t, "rntuple/test_bit_rntuple_v1-0-0-0.root"))
	files, _ := filepath.Glob(filepath.Join(dir, "*.root"))
	for _, name := range files {
		if strings.Contains(name, "int_multicluster") || strings.Contains(name, "NANOAOD") {
			continue
		}
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
				if !f.TopLevel() || err != nil {
					continue
				}
				// reused carries one Array's memory from part to part and
				// cluster to cluster, as a scan does (ReadRangeInto).
				var reused rntuple.Array
				for ci, c := range nt.Clusters {
					whole, err := nt.ReadType(ty, ci)
					if err != nil {
						t.Fatal(err)
					}
					for _, step := range []int64{1, 3, 7} {
						for from := int64(0); from < c.Entries; from += step {
							if from >= 40 && from < c.Entries-40 {
								continue // the first and last 40 entries of each cluster
							}
							part, err := nt.ReadRange(ty, ci, from, min(step, c.Entries-from))
							if err != nil {
								t.Fatalf("%s: %s entries %d+%d: %v", filepath.Base(name), f.Name, from, step, err)
							}
							if reused, err = nt.ReadRangeInto(ty, ci, from, min(step, c.Entries-from), &reused); err != nil {
								t.Fatalf("%s: %s entries %d+%d, reusing memory: %v", filepath.Base(name), f.Name, from, step, err)
							}
							for k := range part.Len {
								if got, want := part.Value(k), whole.Value(int(from)+k); !reflect.DeepEqual(got, want) {
									t.Fatalf("%s: %s entry %d (part from %d): %v, whole: %v", filepath.Base(name), f.Name, int(from)+k, from, got, want)
								}
								if got, want := reused.Value(k), whole.Value(int(from)+k); !reflect.DeepEqual(got, want) {
									t.Fatalf("%s: %s entry %d (part from %d, reusing memory): %v, whole: %v", filepath.Base(name), f.Name, int(from)+k, from, got, want)
								}
							}
						}
					}
				}
			}
		}
		fh.Close()
	}
}
