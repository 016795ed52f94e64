package rootscan_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go-hep.org/x/hep/groot"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/rootscan"
)

// cmsCollections are the CMS sample's NanoAOD collections, each counted by
// n<Name>.
var cmsCollections = []string{"Muon", "Electron", "Tau", "Photon", "Jet"}

// describe returns a table expression's column names and types, in order.
func describe(t *testing.T, db *sql.DB, from string) (names, types []string) {
	t.Helper()
	rows, err := db.Query("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM " + from + ")")
	if err != nil {
		t.Fatalf("DESCRIBE %s: %v", from, err)
	}
	defer rows.Close()
	for rows.Next() {
		var n, ty string
		if err := rows.Scan(&n, &ty); err != nil {
			t.Fatal(err)
		}
		names, types = append(names, n), append(types, ty)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names, types
}

// members returns, per collection, the flat columns that nest := true
// should make its fields, found from root_branches: the branches whose
// leaf title is X_y[nX].
func members(t *testing.T, db *sql.DB, file string) map[string][]string {
	t.Helper()
	rows, err := db.Query(fmt.Sprintf(`SELECT name, root_type FROM root_branches(%s)`, quote(file)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	title := regexp.MustCompile(`^TLeaf\w+ (\w+?)_\w+\[n(\w+)\]$`)
	for rows.Next() {
		var name, rootType string
		if err := rows.Scan(&name, &rootType); err != nil {
			t.Fatal(err)
		}
		if m := title.FindStringSubmatch(rootType); m != nil && m[1] == m[2] && strings.HasPrefix(name, m[1]+"_") {
			out[m[1]] = append(out[m[1]], name)
		}
	}
	return out
}

// TestNestCMSSchema: nest := true on the CMS sample replaces each
// collection's X_y columns by one X STRUCT(y ...)[] column where X_y
// stood first, keeps the counters and every other column in place.
func TestNestCMSSchema(t *testing.T) {
	cms := cmsSample(t)
	db := openDB(t)
	flatNames, flatTypes := describe(t, db, fmt.Sprintf("read_root(%s)", quote(cms)))
	names, types := describe(t, db, fmt.Sprintf("read_root(%s, nest := true)", quote(cms)))
	mem := members(t, db, cms)
	if len(mem) != len(cmsCollections) {
		t.Fatalf("collections found by root_branches: %v", mem)
	}
	// Build the expected layout from the flat one.
	var wantNames, wantTypes []string
	memberOf := map[string]string{}
	for x, ms := range mem {
		for _, m := range ms {
			memberOf[m] = x
		}
	}
	for i, n := range flatNames {
		x, ok := memberOf[n]
		if !ok {
			wantNames, wantTypes = append(wantNames, n), append(wantTypes, flatTypes[i])
			continue
		}
		if mem[x][0] != n {
			continue
		}
		var fields []string
		for _, m := range mem[x] {
			j := indexOf(flatNames, m)
			fields = append(fields, strings.TrimPrefix(m, x+"_")+" "+strings.TrimSuffix(flatTypes[j], "[]"))
		}
		wantNames = append(wantNames, x)
		wantTypes = append(wantTypes, "STRUCT("+strings.Join(fields, ", ")+")[]")
	}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("nested columns\n%v\nwant\n%v", names, wantNames)
	}
	if !reflect.DeepEqual(types, wantTypes) {
		t.Errorf("nested types\n%v\nwant\n%v", types, wantTypes)
	}
	for _, x := range cmsCollections {
		if indexOf(names, x) < 0 || indexOf(names, "n"+x) < 0 {
			t.Errorf("collection %s or its counter missing: %v", x, names)
		}
	}
	// nest := false is the flat table.
	n2, _ := describe(t, db, fmt.Sprintf("read_root(%s, nest := false)", quote(cms)))
	if !reflect.DeepEqual(n2, flatNames) {
		t.Errorf("nest := false gives %v", n2)
	}
}

func indexOf(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return -1
}

// TestNestCMSValues compares every field of every collection, entry by
// entry, with groot's per-entry reader of the flat branch, and in SQL with
// the flat column (list_transform(X, e -> e.y) = X_y on every row);
// unnest(X) gives sum(nX) rows.
func TestNestCMSValues(t *testing.T) {
	cms := cmsSample(t)
	db := openDB(t)
	mem := members(t, db, cms)
	var all []string
	for _, x := range cmsCollections {
		all = append(all, mem[x]...)
	}
	f, err := groot.Open(cms)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	obj, err := riofs.Dir(f).Get("Events")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := grootColumns(t, obj.(rtree.Tree), all)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range all {
		if len(ref[n]) != 10000 {
			t.Fatalf("groot gave %d entries of %s", len(ref[n]), n)
		}
	}

	rows, err := db.Query(fmt.Sprintf(`SELECT _entry, %s FROM read_root(%s, nest := true) ORDER BY _entry`, strings.Join(cmsCollections, ", "), quote(cms)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen, bad := 0, 0
	for rows.Next() {
		dest := make([]any, 1+len(cmsCollections))
		ptrs := make([]any, len(dest))
		for i := range dest {
			ptrs[i] = &dest[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		e := dest[0].(int64)
		for ci, x := range cmsCollections {
			list, _ := dest[1+ci].([]any)
			for _, m := range mem[x] {
				field := strings.TrimPrefix(m, x+"_")
				got := make([]any, 0, len(list))
				for _, el := range list {
					got = append(got, canon(reflect.ValueOf(el.(map[string]any)[field])))
				}
				if want := ref[m][e]; !equalCanon(got, want) {
					if bad++; bad < 10 {
						t.Errorf("entry %d: %s.%s = %v, groot's %s = %v", e, x, field, got, m, want)
					}
				}
			}
		}
		seen++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != 10000 {
		t.Errorf("%d rows", seen)
	}

	// The same in SQL against the flat columns, and unnest's row counts.
	var conds []string
	for _, x := range cmsCollections {
		for _, m := range mem[x] {
			conds = append(conds, fmt.Sprintf("list_transform(n.%s, e -> e.%s) IS DISTINCT FROM f.%s", x, strings.TrimPrefix(m, x+"_"), m))
		}
	}
	var diff, rowsJoined int64
	q := fmt.Sprintf(`SELECT count(*) FILTER (WHERE %s), count(*) FROM read_root(%s, nest := true) n JOIN read_root(%s) f USING (_entry)`,
		strings.Join(conds, " OR "), quote(cms), quote(cms))
	if err := db.QueryRow(q).Scan(&diff, &rowsJoined); err != nil {
		t.Fatal(err)
	}
	if diff != 0 || rowsJoined != 10000 {
		t.Errorf("%d of %d rows differ between nested and flat columns", diff, rowsJoined)
	}
	for _, x := range cmsCollections {
		var unnested, sum int64
		q := fmt.Sprintf(`SELECT (SELECT count(*) FROM (SELECT unnest(%[1]s) FROM read_root(%[2]s, nest := true))),
			(SELECT sum(n%[1]s)::BIGINT FROM read_root(%[2]s, nest := true))`, x, quote(cms))
		if err := db.QueryRow(q).Scan(&unnested, &sum); err != nil {
			t.Fatal(err)
		}
		var grootSum int64
		for _, l := range ref[mem[x][0]] {
			grootSum += int64(len(l.([]any)))
		}
		if unnested != sum || sum != grootSum || sum == 0 {
			t.Errorf("%s: unnest gives %d rows, sum(n%s) %d, groot %d elements", x, unnested, x, sum, grootSum)
		}
	}
}

// TestNestSyntax runs the forms the issue names on the CMS sample:
// list_filter over structs, Jet[1].pt, unnest(Jet) with fields, each
// against the flat columns.
func TestNestSyntax(t *testing.T) {
	cms := cmsSample(t)
	db := openDB(t)
	src := quote(cms)
	checks := []struct{ nested, flat string }{
		{`SELECT sum(len(list_filter(Jet, j -> j.pt > 30))) FROM read_root(%s, nest := true)`,
			`SELECT sum(len(list_filter(Jet_pt, pt -> pt > 30))) FROM read_root(%s)`},
		{`SELECT sum(Jet[1].pt)::DOUBLE, count(Jet[1].pt) FROM read_root(%s, nest := true)`,
			`SELECT sum(Jet_pt[1])::DOUBLE, count(Jet_pt[1]) FROM read_root(%s)`},
		{`SELECT sum(j.pt * j.eta)::DOUBLE, count(*) FROM (SELECT unnest(Jet) AS j FROM read_root(%s, nest := true))`,
			`SELECT sum(pt * eta)::DOUBLE, count(*) FROM (SELECT unnest(Jet_pt) AS pt, unnest(Jet_eta) AS eta FROM read_root(%s))`},
		{`SELECT sum(list_sum(list_transform(list_filter(Muon, m -> m.tightId), m -> m.charge))) FROM read_root(%s, nest := true)`,
			`SELECT sum(list_sum(list_filter(Muon_charge, (c, i) -> Muon_tightId[i]))) FROM read_root(%s)`},
	}
	for _, c := range checks {
		var a1, a2, b1, b2 sql.NullFloat64
		na, nb := []any{&a1}, []any{&b1}
		if strings.Contains(c.nested, "count(") {
			na, nb = append(na, &a2), append(nb, &b2)
		}
		if err := db.QueryRow(fmt.Sprintf(c.nested, src)).Scan(na...); err != nil {
			t.Fatalf("%s: %v", c.nested, err)
		}
		if err := db.QueryRow(fmt.Sprintf(c.flat, src)).Scan(nb...); err != nil {
			t.Fatalf("%s: %v", c.flat, err)
		}
		if a1 != b1 || a2 != b2 || !a1.Valid || a1.Float64 == 0 {
			t.Errorf("%s: %v %v; flat %v %v", c.nested, a1, a2, b1, b2)
		}
	}
}

// TestNestChain reads a chain of two files (the CMS sample twice) nested
// at two threads, with units cut inside baskets, and compares each row
// with the flat columns of the same file and entry.
func TestNestChain(t *testing.T) {
	cms := cmsSample(t)
	data, err := os.ReadFile(cms)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i := range 2 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("part-%d.root", i)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	glob := quote(filepath.Join(dir, "*.root"))
	db := openDB(t)
	mem := members(t, db, cms)
	defer rootscan.SetUnitSizes(1, 777)()
	if _, err := db.Exec("SET threads = 2"); err != nil {
		t.Fatal(err)
	}
	var conds []string
	for _, x := range cmsCollections {
		for _, m := range mem[x] {
			conds = append(conds, fmt.Sprintf("list_transform(n.%s, e -> e.%s) IS DISTINCT FROM f.%s", x, strings.TrimPrefix(m, x+"_"), m))
		}
	}
	var diff, n, files, jets int64
	q := fmt.Sprintf(`SELECT count(*) FILTER (WHERE %s), count(*), count(DISTINCT _file), sum(len(n.Jet))
		FROM read_root(%s, nest := true) n JOIN read_root(%s) f USING (_file, _entry)`, strings.Join(conds, " OR "), glob, glob)
	if err := db.QueryRow(q).Scan(&diff, &n, &files, &jets); err != nil {
		t.Fatal(err)
	}
	if diff != 0 || n != 20000 || files != 2 {
		t.Errorf("%d of %d rows differ (%d files)", diff, n, files)
	}
	var flatJets int64
	if err := db.QueryRow(fmt.Sprintf(`SELECT sum(nJet) FROM read_root(%s)`, glob)).Scan(&flatJets); err != nil {
		t.Fatal(err)
	}
	if jets != flatJets {
		t.Errorf("%d jets nested, %d flat", jets, flatJets)
	}
}

// TestNestNoCollections: on trees without NanoAOD collections, nest :=
// true is the flat table: go-hep's small-flat-tree (counted slices, but
// counter N, not n<Name>), its std::vector tree x-flat-tree, and a leaf
// list tree.
func TestNestNoCollections(t *testing.T) {
	db := openDB(t)
	for _, name := range []string{"small-flat-tree.root", "x-flat-tree.root", "leaves.root"} {
		file := quote(filepath.Join(grootTestdata(t), name))
		flatNames, flatTypes := describe(t, db, fmt.Sprintf("read_root(%s)", file))
		names, types := describe(t, db, fmt.Sprintf("read_root(%s, nest := true)", file))
		if !reflect.DeepEqual(names, flatNames) || !reflect.DeepEqual(types, flatTypes) {
			t.Errorf("%s: nest := true gives %v %v, flat %v %v", name, names, types, flatNames, flatTypes)
			continue
		}
		var diff int64
		q := fmt.Sprintf(`SELECT count(*) FROM (SELECT * FROM read_root(%[1]s) EXCEPT ALL SELECT * FROM read_root(%[1]s, nest := true))`, file)
		if err := db.QueryRow(q).Scan(&diff); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff != 0 {
			t.Errorf("%s: %d rows differ", name, diff)
		}
	}
}

// TestNestArgument: nest takes a boolean.
func TestNestArgument(t *testing.T) {
	cms := cmsSample(t)
	db := openDB(t)
	_, err := db.Exec(fmt.Sprintf(`SELECT * FROM read_root(%s, nest := 'maybe') LIMIT 1`, quote(cms)))
	if err == nil {
		t.Fatal("nest := 'maybe' accepted")
	}
}

// writeMisaligned writes a tree whose branches X_a and X_b both say they
// are counted by nX (their leaf titles), while X_b holds nY's count: at
// entry 1, X_a has 1 element and X_b 3. groot writes a counted slice by
// its counter's value, so X_b is written counted by nY and the file,
// uncompressed, has the titles' "[nY]" rewritten to "[nX]" (as many
// bytes).
func writeMisaligned(t *testing.T) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "misaligned.root")
	var nX, nY int32
	var a, b []float32
	counts := [][2]int32{{2, 2}, {1, 3}, {0, 0}}
	data := testfiles.WriteTree(t, name, "Events", []rtree.WriteVar{
		{Name: "nX", Value: &nX}, {Name: "X_a", Value: &a, Count: "nX"},
		{Name: "nY", Value: &nY}, {Name: "X_b", Value: &b, Count: "nY"},
	}, len(counts), func(e int) {
		nX, nY = counts[e][0], counts[e][1]
		a, b = make([]float32, nX), make([]float32, nY)
		for i := range b {
			b[i] = float32(i + 1)
		}
	})
	n := strings.Count(string(data), "X_b[nY]")
	if n == 0 {
		t.Fatal("no X_b[nY] title in the file")
	}
	data = []byte(strings.ReplaceAll(string(data), "X_b[nY]", "X_b[nX]"))
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestNestMisaligned: members of a collection whose element counts differ
// in an entry are an error naming the file, both branches and the entry,
// never rows whose fields do not line up; the flat table reads the file.
func TestNestMisaligned(t *testing.T) {
	name := writeMisaligned(t)
	db := openDB(t)
	names, types := describe(t, db, fmt.Sprintf("read_root(%s, nest := true)", quote(name)))
	if want := []string{"nX", "X", "nY", "_file", "_entry"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("columns %v %v, want %v", names, types, want)
	}
	var s string
	err := db.QueryRow(fmt.Sprintf(`SELECT X::VARCHAR FROM read_root(%s, nest := true) WHERE _entry = 1`, quote(name))).Scan(&s)
	if err == nil {
		t.Fatalf("misaligned collection read: %s", s)
	}
	t.Log(err)
	for _, want := range []string{name, `branch "X_b"`, "entry 1", `"X_a"`, "3 elements", "has 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	var b string
	if err := db.QueryRow(fmt.Sprintf(`SELECT X_b::VARCHAR FROM read_root(%s) WHERE _entry = 1`, quote(name))).Scan(&b); err != nil || b != "[1.0, 2.0, 3.0]" {
		t.Errorf("flat X_b at entry 1: %q, %v", b, err)
	}
}

// TestNestRoundTrip: COPY ... (FORMAT root) writes a list of structs as
// NanoAOD does (counter nX, one branch X_y per field), so nest := true
// reads back the column that was written.
func TestNestRoundTrip(t *testing.T) {
	cms := cmsSample(t)
	db := openDB(t)
	out := filepath.Join(t.TempDir(), "jets.root")
	if _, err := db.Exec(fmt.Sprintf(`COPY (SELECT MET_pt, Jet, Muon FROM read_root(%s, nest := true) ORDER BY _entry) TO %s (FORMAT root)`, quote(cms), quote(out))); err != nil {
		t.Fatal(err)
	}
	names, _ := describe(t, db, fmt.Sprintf("read_root(%s, nest := true)", quote(out)))
	if want := []string{"MET_pt", "nJet", "Jet", "nMuon", "Muon", "_file", "_entry"}; !reflect.DeepEqual(names, want) {
		t.Errorf("columns %v, want %v", names, want)
	}
	var diff, n int64
	q := fmt.Sprintf(`SELECT count(*) FILTER (WHERE a.Jet IS DISTINCT FROM b.Jet OR a.Muon IS DISTINCT FROM b.Muon OR a.MET_pt IS DISTINCT FROM b.MET_pt), count(*)
		FROM read_root(%s, nest := true) a JOIN read_root(%s, nest := true) b USING (_entry)`, quote(cms), quote(out))
	if err := db.QueryRow(q).Scan(&diff, &n); err != nil {
		t.Fatal(err)
	}
	if diff != 0 || n != 10000 {
		t.Errorf("%d of %d rows differ after writing and reading back", diff, n)
	}
}
