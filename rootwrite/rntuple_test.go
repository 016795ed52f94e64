package rootwrite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/internal/rntconform"
	"github.com/hepsql/hepsql/internal/testfiles"
)

// checkConforms runs the independent RNTuple conformance checker (written
// from the specification, validated on ROOT's files) over a written file.
func checkConforms(t *testing.T, path string) *rntconform.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rep := rntconform.Check(b)
	for _, e := range rep.Errors {
		t.Errorf("%s: %s", filepath.Base(path), e)
	}
	for _, w := range rep.Warnings {
		t.Errorf("%s: ROOT's practice: %s", filepath.Base(path), w)
	}
	if len(rep.NTuples) != 1 {
		t.Fatalf("%s: %d RNTuples", filepath.Base(path), len(rep.NTuples))
	}
	return rep
}

// The fields of the RNTuple the test writes, and what each must hold, as
// an expression over the CMS sample.
var ntupleFields = []struct{ field, want string }{
	{"run", "run"}, {"event", "event"}, {"HLT_IsoMu24", "HLT_IsoMu24"}, {"PV_npvs", "PV_npvs"},
	{"MET_pt", "MET_pt"}, {"nMuon", "nMuon"}, {"Muon_pt", "Muon_pt"}, {"Muon_charge", "Muon_charge"},
	{"Muon_tightId", "Muon_tightId"}, {"Jet_pt", "Jet_pt"}, {"label", "'run' || run"},
}

const copyNTuple = `COPY (SELECT run, event, HLT_IsoMu24, PV_npvs, MET_pt, nMuon, Muon_pt, Muon_charge,
	Muon_tightId, Jet_pt, 'run' || run AS label, [PV_x, PV_y, PV_z]::FLOAT[3] AS PV_xyz,
	list_transform(range(1, nMuon::BIGINT + 1), i -> {'pt': Muon_pt[i], 'charge': Muon_charge[i]}) AS Mu
	FROM read_root('%s')) TO '%s' (FORMAT rntuple, COMPRESSION '%s', CLUSTER_ROWS 3000)`

// TestJSROOTReadsRNTuple writes the CMS sample's numbers, booleans,
// jagged lists, strings, fixed arrays and lists of structs as an RNTuple
// (four clusters) and reads it back with read_root and, for the fields
// jsroot reads, with jsroot (an independent RNTuple reader): every value
// equals the source's, row by row, for each compression.
func TestJSROOTReadsRNTuple(t *testing.T) {
	cms := testfiles.CMSSample(t)
	db := openDB(t)
	var exprs, names []string
	for _, f := range ntupleFields {
		exprs = append(exprs, f.want)
		names = append(names, f.field)
	}
	want := queryRows(t, db, fmt.Sprintf("SELECT %s, [PV_x, PV_y, PV_z]::FLOAT[3], list_transform(Muon_pt, x -> x * 2) FROM read_root('%s') ORDER BY _entry", strings.Join(exprs, ", "), cms))
	if len(want) != 10000 {
		t.Fatalf("%d source rows", len(want))
	}
	for _, comp := range []string{"zstd", "zlib", "lz4", "lzma", "none"} {
		t.Run(comp, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.root")
			if _, err := db.Exec(fmt.Sprintf(copyNTuple, cms, out, comp)); err != nil {
				t.Fatal(err)
			}
			checkConforms(t, out)
			got := queryRows(t, db, fmt.Sprintf(`SELECT "%s", PV_xyz, list_transform(Mu, m -> m.pt * 2) FROM read_root('%s') ORDER BY _entry`, strings.Join(names, `", "`), out))
			compareRows(t, "read_root", append(names, "PV_xyz", "Mu.pt"), want, got)

			var res struct {
				Entries int
				Rows    []map[string]any
			}
			jsrootDump(t, &res, append([]string{out, "rntuple", "Events"}, names...)...)
			if res.Entries != len(want) {
				t.Fatalf("jsroot: %d entries, want %d", res.Entries, len(want))
			}
			rows := make([][]any, len(res.Rows))
			for r, row := range res.Rows {
				for _, name := range names {
					rows[r] = append(rows[r], norm(row[name]))
				}
			}
			sub := make([][]any, len(want))
			for r := range want {
				sub[r] = want[r][:len(names)]
			}
			compareRows(t, "jsroot", names, sub, rows)
		})
		if testing.Short() {
			break
		}
	}
}

// TestRNTupleNulls: columns with NULLs become std::optional fields (and
// read back as NULLs), columns without stay plain, whichever cluster the
// NULLs fall in; NULLs inside lists, STRUCTs and MAPs likewise.
func TestRNTupleNulls(t *testing.T) {
	db := openDB(t)
	out := filepath.Join(t.TempDir(), "nulls.root")
	// Clusters of 4 rows: x is NULL only in the second cluster, s in the
	// first, v every third row; k never.
	src := `SELECT i AS k, CASE WHEN i IN (5, 6) THEN NULL ELSE i * 10 END AS x,
		CASE WHEN i = 0 THEN NULL ELSE 's' || i END AS s,
		CASE WHEN i % 3 = 2 THEN NULL ELSE [i, i + 1] END AS v,
		CASE WHEN i = 9 THEN NULL ELSE {'a': i, 'b': 'b' || i} END AS r,
		CASE WHEN i < 4 THEN NULL ELSE i::REAL END AS z
		FROM range(10) t(i) ORDER BY i`
	if _, err := db.Exec(fmt.Sprintf(`COPY (%s) TO '%s' (FORMAT rntuple, CLUSTER_ROWS 4)`, src, out)); err != nil {
		t.Fatal(err)
	}
	rep := checkConforms(t, out)
	types := map[string]string{}
	for _, f := range rep.NTuples[0].Fields {
		types[f.Name] = f.Type
	}
	for name, want := range map[string]string{"k": "std::int64_t", "x": "std::optional<std::int64_t>", "s": "std::optional<std::string>",
		"v": "std::optional<std::vector<std::int64_t>>", "r": "std::optional<hepsql::r>", "z": "std::optional<float>"} {
		if types[name] != want {
			t.Errorf("field %s: %s, want %s", name, types[name], want)
		}
	}
	want := queryRows(t, db, "SELECT k, x, s, v, r, z FROM ("+src+")")
	got := queryRows(t, db, fmt.Sprintf("SELECT k, x, s, v, r, z FROM read_root('%s') ORDER BY _entry", out))
	compareRows(t, "read_root", []string{"k", "x", "s", "v", "r", "z"}, want, got)
	var nulls int
	if err := db.QueryRow(fmt.Sprintf("SELECT count(*) FROM read_root('%s') WHERE x IS NULL OR s IS NULL OR v IS NULL OR r IS NULL OR z IS NULL", out)).Scan(&nulls); err != nil || nulls != 8 {
		t.Errorf("%d rows with a NULL (%v), want 8", nulls, err)
	}
	// NULLs inside: list items, STRUCT members, MAP values, UNION
	// members become optionals where they occur (here in the second
	// cluster only), and read back.
	out2 := filepath.Join(t.TempDir(), "inner.root")
	src2 := `SELECT i AS k, [i, CASE WHEN i = 5 THEN NULL ELSE i END] AS l,
		{'a': CASE WHEN i = 6 THEN NULL ELSE i END, 'b': i} AS st,
		MAP {'x': CASE WHEN i = 4 THEN NULL ELSE i * 2 END} AS m,
		[[i], CASE WHEN i = 7 THEN NULL ELSE [i, i] END] AS ll
		FROM range(10) t(i) ORDER BY i`
	if _, err := db.Exec(fmt.Sprintf(`COPY (%s) TO '%s' (FORMAT rntuple, CLUSTER_ROWS 4)`, src2, out2)); err != nil {
		t.Fatal(err)
	}
	rep = checkConforms(t, out2)
	var fields []string
	for _, f := range rep.NTuples[0].Fields {
		fields = append(fields, f.Name+":"+f.Type)
	}
	wantFields := "k:std::int64_t l:std::vector<std::optional<std::int64_t>> _0:std::optional<std::int64_t> _0:std::int64_t " +
		"st:hepsql::st a:std::optional<std::int64_t> _0:std::int64_t b:std::int64_t " +
		"m:std::map<std::string,std::optional<std::int64_t>> _0:std::pair<std::string,std::optional<std::int64_t>> _0:std::string _1:std::optional<std::int64_t> _0:std::int64_t " +
		"ll:std::vector<std::optional<std::vector<std::int64_t>>> _0:std::optional<std::vector<std::int64_t>> _0:std::vector<std::int64_t> _0:std::int64_t"
	if g := strings.Join(fields, " "); g != wantFields {
		t.Errorf("fields\n %s\nwant\n %s", g, wantFields)
	}
	want = queryRows(t, db, "SELECT k, l::VARCHAR, st::VARCHAR, m::VARCHAR, ll::VARCHAR FROM ("+src2+")")
	got = queryRows(t, db, fmt.Sprintf("SELECT k, l::VARCHAR, st::VARCHAR, m::VARCHAR, ll::VARCHAR FROM read_root('%s') ORDER BY _entry", out2))
	compareRows(t, "read_root", []string{"k", "l", "st", "m", "ll"}, want, got)
}

// TestRNTupleMaps: MAP columns become std::map<K,V> fields (collections
// of std::pair<K,V>, as the conformance checker demands) and read back
// as the same MAPs; types with no RNTuple field are refused, naming the
// column.
func TestRNTupleMaps(t *testing.T) {
	db := openDB(t)
	out := filepath.Join(t.TempDir(), "maps.root")
	src := `SELECT i AS k, map_from_entries(list_transform(range(i % 4), j -> {'k': 'key' || j, 'v': j / 2})) AS m,
		MAP {i: [i, i + 1], i + 100: []} AS mi
		FROM range(50) t(i) ORDER BY i`
	if _, err := db.Exec(fmt.Sprintf(`COPY (%s) TO '%s' (FORMAT rntuple, CLUSTER_ROWS 16, COMPRESSION 'zlib')`, src, out)); err != nil {
		t.Fatal(err)
	}
	rep := checkConforms(t, out)
	var fields []string
	for _, f := range rep.NTuples[0].Fields {
		fields = append(fields, f.Name+":"+f.Type)
	}
	if g, w := strings.Join(fields, " "), "k:std::int64_t m:std::map<std::string,double> _0:std::pair<std::string,double> _0:std::string _1:double "+
		"mi:std::map<std::int64_t,std::vector<std::int64_t>> _0:std::pair<std::int64_t,std::vector<std::int64_t>> _0:std::int64_t _1:std::vector<std::int64_t> _0:std::int64_t"; g != w {
		t.Errorf("fields\n %s\nwant\n %s", g, w)
	}
	want := queryRows(t, db, "SELECT k, m::VARCHAR, mi::VARCHAR, typeof(m), typeof(mi) FROM ("+src+")")
	got := queryRows(t, db, fmt.Sprintf("SELECT k, m::VARCHAR, mi::VARCHAR, typeof(m), typeof(mi) FROM read_root('%s') ORDER BY _entry", out))
	compareRows(t, "read_root", []string{"k", "m", "mi", "typeof(m)", "typeof(mi)"}, want, got)

	// The specification's naming rules: no '.', ' ', '\\' or '/'.
	if _, err := db.Exec(fmt.Sprintf(`COPY (SELECT 1 AS "a.b") TO '%s' (FORMAT rntuple)`, out)); err == nil || !strings.Contains(err.Error(), `column "a.b" is not a field name`) {
		t.Errorf("a field name with a full stop: %v", err)
	}
	if _, err := db.Exec(fmt.Sprintf(`COPY (SELECT {'x y': 1} AS s) TO '%s' (FORMAT rntuple)`, out)); err == nil || !strings.Contains(err.Error(), `STRUCT member "x y" is not a field name`) {
		t.Errorf("a member name with a space: %v", err)
	}
	if _, err := db.Exec(fmt.Sprintf(`COPY (SELECT 1 AS a) TO '%s' (FORMAT rntuple, TREE 'ev/x')`, out)); err == nil || !strings.Contains(err.Error(), "option TREE") {
		t.Errorf("an RNTuple name with a slash: %v", err)
	}
	for typ, expr := range map[string]string{"TIMESTAMP": "now()::TIMESTAMP", "DECIMAL(18,3)": "1.5::DECIMAL(18,3)", "UNION of DATE": "union_value(d := current_date)"} {
		_, err := db.Exec(fmt.Sprintf(`COPY (SELECT %s AS c_%d) TO '%s' (FORMAT rntuple)`, expr, len(typ), out))
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf(`column "c_%d" has type`, len(typ))) {
			t.Errorf("%s: %v", typ, err)
		}
	}
}

// TestRNTupleUnions: UNION columns become std::variant fields, nested in
// lists too, and read back as read_root gives variants: a STRUCT(_0, _1)
// of which only the held member is not NULL.
func TestRNTupleUnions(t *testing.T) {
	db := openDB(t)
	out := filepath.Join(t.TempDir(), "unions.root")
	const u = "UNION(a INTEGER, b VARCHAR)"
	src := `SELECT i AS k,
		CASE WHEN i % 5 = 4 THEN NULL WHEN i % 2 = 0 THEN i::INTEGER::` + u + ` ELSE ('s' || i)::` + u + ` END AS u,
		list_transform(range(i % 3), j -> CASE WHEN j = 1 THEN (j * 1.5)::DOUBLE::UNION(x DOUBLE, y BIGINT[]) ELSE [i, j]::BIGINT[]::UNION(x DOUBLE, y BIGINT[]) END) AS lu
		FROM range(30) t(i) ORDER BY i`
	if _, err := db.Exec(fmt.Sprintf(`COPY (%s) TO '%s' (FORMAT rntuple, CLUSTER_ROWS 7)`, src, out)); err != nil {
		t.Fatal(err)
	}
	rep := checkConforms(t, out)
	var fields []string
	for _, f := range rep.NTuples[0].Fields {
		fields = append(fields, f.Name+":"+f.Type)
	}
	if g, w := strings.Join(fields, " "), "k:std::int64_t u:std::optional<std::variant<std::int32_t,std::string>> _0:std::variant<std::int32_t,std::string> _0:std::int32_t _1:std::string "+
		"lu:std::vector<std::variant<double,std::vector<std::int64_t>>> _0:std::variant<double,std::vector<std::int64_t>> _0:double _1:std::vector<std::int64_t> _0:std::int64_t"; g != w {
		t.Errorf("fields\n %s\nwant\n %s", g, w)
	}
	want := queryRows(t, db, `SELECT k, CASE WHEN u IS NULL THEN NULL ELSE {'_0': union_extract(u, 'a'), '_1': union_extract(u, 'b')} END::VARCHAR,
		list_transform(lu, e -> {'_0': union_extract(e, 'x'), '_1': union_extract(e, 'y')})::VARCHAR FROM (`+src+`)`)
	got := queryRows(t, db, fmt.Sprintf("SELECT k, u::VARCHAR, lu::VARCHAR FROM read_root('%s') ORDER BY _entry", out))
	compareRows(t, "read_root", []string{"k", "u", "lu"}, want, got)
}

// TestRNTupleSizes: PAGE_SIZE and CLUSTER_SIZE size pages and clusters in
// bytes as ROOT does, and CLUSTER_ROWS caps a cluster's rows: the
// independent checker finds pages of PAGE_SIZE/width elements (a byte
// column eight times a double column's), clusters' compressed bytes near
// CLUSTER_SIZE after the first, and read_root reads back the query's rows.
func TestRNTupleSizes(t *testing.T) {
	db := openDB(t)
	src := `SELECT i::INTEGER AS i, (hash(i) % 256)::UTINYINT AS b, hash(i * 7 + 1) / 18446744073709551616.0 AS d
		FROM range(60000) r(i)`
	want := queryRows(t, db, src+" ORDER BY i")
	for _, c := range []struct {
		opts              string
		page, cluster     int64
		rows, minClusters int
	}{
		{"PAGE_SIZE 2048, CLUSTER_SIZE 150000", 2048, 150_000, 0, 3},
		{"PAGE_SIZE 1024, CLUSTER_SIZE 300000, CLUSTER_ROWS 7000", 1024, 300_000, 7000, 9},
		{"", 1 << 20, 128 << 20, 0, 1},
	} {
		t.Run(c.opts, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "sizes.root")
			opts := ""
			if c.opts != "" {
				opts = ", " + c.opts
			}
			if _, err := db.Exec(fmt.Sprintf(`COPY (%s) TO '%s' (FORMAT rntuple%s)`, src, out, opts)); err != nil {
				t.Fatal(err)
			}
			nt := checkConforms(t, out).NTuples[0]
			if nt.Clusters < c.minClusters {
				t.Errorf("%d clusters, want at least %d", nt.Clusters, c.minClusters)
			}
			for ci, cols := range nt.PageElements {
				rows := int64(0)
				for col, pages := range cols {
					width := int64(nt.Columns[col].Bits) / 8
					per := c.page / width
					for p, n := range pages {
						if n > per || (p < len(pages)-1 && n != per) {
							t.Fatalf("cluster %d column %d page %d: %d elements of %d bytes, want %d", ci, col, p, n, width, per)
						}
						if col == 0 {
							rows += n
						}
					}
				}
				if c.rows > 0 && rows > int64(c.rows) {
					t.Errorf("cluster %d: %d rows, CLUSTER_ROWS %d", ci, rows, c.rows)
				}
				if b, d := cols[1], cols[2]; len(d) > 1 && b[0] != 8*d[0] {
					t.Errorf("cluster %d: pages of %d bytes but %d doubles", ci, b[0], d[0])
				}
			}
			if c.rows == 0 && nt.Clusters > 2 {
				// Rows come in DuckDB chunks of 2048 (26 KB here): the
				// middle clusters land within a chunk of the target.
				for ci, z := range nt.ClusterZipped[1 : nt.Clusters-1] {
					if z < c.cluster*8/10 || z > c.cluster*13/10 {
						t.Errorf("cluster %d: %d bytes compressed, CLUSTER_SIZE %d", ci+1, z, c.cluster)
					}
				}
			}
			got := queryRows(t, db, fmt.Sprintf("SELECT i, b, d FROM read_root('%s') ORDER BY i", out))
			compareRows(t, "read_root", []string{"i", "b", "d"}, want, got)
		})
	}
	// MAX_UNZIPPED_CLUSTER_SIZE alone caps the clusters (780 KB of
	// values here, uncompressed: at least 4 clusters of 200 KB).
	capped := filepath.Join(t.TempDir(), "capped.root")
	if _, err := db.Exec(fmt.Sprintf(`COPY (%s) TO '%s' (FORMAT rntuple, MAX_UNZIPPED_CLUSTER_SIZE 200000)`, src, capped)); err != nil {
		t.Fatal(err)
	}
	if nt := checkConforms(t, capped).NTuples[0]; nt.Clusters < 4 {
		t.Errorf("MAX_UNZIPPED_CLUSTER_SIZE 200000: %d clusters of 780 KB, want at least 4", nt.Clusters)
	}
	compareRows(t, "read_root (capped)", []string{"i", "b", "d"}, want, queryRows(t, db, fmt.Sprintf("SELECT i, b, d FROM read_root('%s') ORDER BY i", capped)))
	_, err := db.Exec(fmt.Sprintf(`COPY (SELECT 1 AS x) TO '%s' (FORMAT rntuple, CLUSTER_SIZE 300000, MAX_UNZIPPED_CLUSTER_SIZE 1000)`, filepath.Join(t.TempDir(), "x.root")))
	if err == nil || !strings.Contains(err.Error(), "MAX_UNZIPPED_CLUSTER_SIZE 1000 is below CLUSTER_SIZE 300000") {
		t.Errorf("a cap below the cluster size: %v", err)
	}
	for _, bad := range []string{"PAGE_SIZE 0", "PAGE_SIZE 'big'", "PAGE_SIZE 2000000000", "CLUSTER_SIZE -1", "CLUSTER_SIZE 1.5", "MAX_UNZIPPED_CLUSTER_SIZE 0"} {
		out := filepath.Join(t.TempDir(), "bad.root")
		_, err := db.Exec(fmt.Sprintf(`COPY (SELECT 1 AS x) TO '%s' (FORMAT rntuple, %s)`, out, bad))
		if name := strings.Fields(bad)[0]; err == nil || !strings.Contains(err.Error(), "option "+name) {
			t.Errorf("%s: %v, want an error naming %s", bad, err, name)
		}
	}
}
