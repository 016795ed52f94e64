package rootscan_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/internal/rntconform"
	"github.com/hepsql/hepsql/rootio/rntuple"
)

// TestRNTupleMapsEnums: no fixture holds a std::map, a set or an enum.
// The file comes from rootio/rntuple's writer, checked field by field by
// the independent conformance checker (a std::map<K,V> is a collection
// of std::pair<K,V> records, an enum a leaf field over a child _0 of its
// integer type); the values are stated here by hand. read_root gives
// MAP for std::map and std::unordered_map, a list of STRUCT(_0, _1) pairs
// for a multimap (whose keys repeat), a LIST for a set, and an enum's
// integers typed as its underlying type.
func TestRNTupleMapsEnums(t *testing.T) {
	i32 := &rntuple.Type{Kind: rntuple.KindInt32}
	f32 := &rntuple.Type{Kind: rntuple.KindFloat32}
	str := &rntuple.Type{Kind: rntuple.KindString}
	pair := func(k, v *rntuple.Type) *rntuple.Type {
		return &rntuple.Type{Kind: rntuple.KindStruct, Name: "std::pair<>", Names: []string{"_0", "_1"}, Members: []*rntuple.Type{k, v}}
	}
	color := &rntuple.Type{Kind: rntuple.KindInt16, Name: "Color"}
	types := []*rntuple.Type{
		{Kind: rntuple.KindList, Name: "std::map<>", Elem: pair(str, f32)},
		{Kind: rntuple.KindList, Name: "std::unordered_map<>", Elem: pair(i32, str)},
		{Kind: rntuple.KindList, Name: "std::multimap<>", Elem: pair(i32, i32)},
		{Kind: rntuple.KindList, Name: "std::set<>", Elem: i32},
		color,
		{Kind: rntuple.KindList, Elem: color},
		{Kind: rntuple.KindInt32, Name: "std::atomic<std::int32_t>"},
	}
	names := []string{"m", "um", "mm", "s", "e", "ve", "at"}
	// Three entries.
	arr := func(t *rntuple.Type, n int) rntuple.Array { return rntuple.Array{Type: t, Len: n} }
	m := arr(types[0], 3)
	m.Offsets = []int64{0, 2, 2, 3}
	m.Children = []rntuple.Array{{Type: types[0].Elem, Len: 3, Children: []rntuple.Array{
		{Type: str, Len: 3, Strings: []string{"a", "b", "c"}}, {Type: f32, Len: 3, Floats: []float64{1.5, 2.5, -1}}}}}
	um := arr(types[1], 3)
	um.Offsets = []int64{0, 1, 3, 3}
	um.Children = []rntuple.Array{{Type: types[1].Elem, Len: 3, Children: []rntuple.Array{
		{Type: i32, Len: 3, Ints: []int64{7, 8, 9}}, {Type: str, Len: 3, Strings: []string{"x", "y", "z"}}}}}
	mm := arr(types[2], 3)
	mm.Offsets = []int64{0, 2, 2, 2}
	mm.Children = []rntuple.Array{{Type: types[2].Elem, Len: 2, Children: []rntuple.Array{
		{Type: i32, Len: 2, Ints: []int64{1, 1}}, {Type: i32, Len: 2, Ints: []int64{10, 11}}}}}
	set := arr(types[3], 3)
	set.Offsets = []int64{0, 3, 3, 4}
	set.Children = []rntuple.Array{{Type: i32, Len: 4, Ints: []int64{1, 2, 3, 4}}}
	e := arr(color, 3)
	e.Ints = []int64{0, 2, -1}
	ve := arr(types[5], 3)
	ve.Offsets = []int64{0, 1, 1, 3}
	ve.Children = []rntuple.Array{{Type: color, Len: 3, Ints: []int64{1, 2, 3}}}
	at := arr(types[6], 3)
	at.Ints = []int64{100, 200, 300}

	path := filepath.Join(t.TempDir(), "maps.root")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := rntuple.NewWriter(f, "t", names, types, rntuple.WriteOptions{Compression: 505})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteCluster([]rntuple.Array{m, um, mm, set, e, ve, at}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, _ := os.ReadFile(path)
	rep := rntconform.Check(b)
	for _, e := range rep.Errors {
		t.Error(e)
	}
	var fields []string
	for _, f := range rep.NTuples[0].Fields {
		fields = append(fields, f.Name+":"+f.Type)
	}
	wantFields := "m:std::map<std::string,float> _0:std::pair<std::string,float> _0:std::string _1:float " +
		"um:std::unordered_map<std::int32_t,std::string> _0:std::pair<std::int32_t,std::string> _0:std::int32_t _1:std::string " +
		"mm:std::multimap<std::int32_t,std::int32_t> _0:std::pair<std::int32_t,std::int32_t> _0:std::int32_t _1:std::int32_t " +
		"s:std::set<std::int32_t> _0:std::int32_t e:Color _0:std::int16_t ve:std::vector<Color> _0:Color _0:std::int16_t " +
		"at:std::atomic<std::int32_t> _0:std::int32_t"
	if g := strings.Join(fields, " "); g != wantFields {
		t.Errorf("fields\n %s\nwant\n %s", g, wantFields)
	}
	for _, c := range rep.NTuples[0].Columns {
		if f := rep.NTuples[0].Fields[c.Field]; f.Type == "Color" || strings.HasPrefix(f.Type, "std::atomic") || strings.HasPrefix(f.Type, "std::pair") {
			t.Errorf("column on the %s field %q", f.Type, f.Name)
		}
	}

	db := openDB(t)
	got := queryStrings(t, db, "SELECT typeof(m) || ' ' || typeof(um) || ' ' || typeof(mm) || ' ' || typeof(s) || ' ' || typeof(e) || ' ' || typeof(ve) || ' ' || typeof(\"at\") FROM read_root('"+path+"') LIMIT 1")
	wantTypes := `MAP(VARCHAR, FLOAT) MAP(INTEGER, VARCHAR) STRUCT(_0 INTEGER, _1 INTEGER)[] INTEGER[] SMALLINT SMALLINT[] INTEGER`
	if len(got) != 1 || got[0] != wantTypes {
		t.Errorf("types %q, want %q", got, wantTypes)
	}
	got = queryStrings(t, db, "SELECT m::VARCHAR || ' ' || um::VARCHAR || ' ' || mm::VARCHAR || ' ' || s::VARCHAR || ' ' || e || ' ' || ve::VARCHAR || ' ' || \"at\" || ' ' || coalesce(m['b'], -9) FROM read_root('"+path+"') ORDER BY _entry")
	want := []string{
		"{a=1.5, b=2.5} {7=x} [{'_0': 1, '_1': 10}, {'_0': 1, '_1': 11}] [1, 2, 3] 0 [1] 100 2.5",
		"{} {8=y, 9=z} [] [] 2 [] 200 -9.0",
		"{c=-1.0} {} [] [4] -1 [2, 3] 300 -9.0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("values\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
