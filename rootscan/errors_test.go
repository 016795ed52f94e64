package rootscan_test

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go-hep.org/x/hep/groot"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/gen/adl"
)

// mustFail runs q and checks that it fails with an error containing every
// one of wants, and that the database still answers afterwards.
func mustFail(t *testing.T, db *sql.DB, q string, wants ...string) {
	t.Helper()
	rows, err := db.Query(q)
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if err == nil {
		t.Fatalf("%s: no error", q)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not mention %q", q, err, w)
		}
	}
	var one int
	if err := db.QueryRow(`SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("database unusable after error: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	db := openDB(t)
	dir := t.TempDir()
	cms := cmsSample(t)
	td := grootTestdata(t)

	missing := filepath.Join(dir, "nope.root")
	mustFail(t, db, fmt.Sprintf(`SELECT * FROM read_root(%s)`, quote(missing)), missing, "no such file")
	mustFail(t, db, fmt.Sprintf(`SELECT * FROM read_root(%s)`, quote(filepath.Join(dir, "*.root"))), "no file matches")

	text := filepath.Join(dir, "text.root")
	os.WriteFile(text, []byte("this is not a ROOT file\n"), 0o644)
	mustFail(t, db, fmt.Sprintf(`SELECT * FROM read_root(%s)`, quote(text)), text, "not a readable ROOT file")

	mustFail(t, db, fmt.Sprintf(`SELECT * FROM read_root(%s, tree := 'Nope')`, quote(cms)), `no tree "Nope"`, "Events")
	mustFail(t, db, fmt.Sprintf(`SELECT Nope_pt FROM read_root(%s)`, quote(cms)), "Nope_pt")
	g4 := filepath.Join(td, "g4-hist.root")
	mustFail(t, db, fmt.Sprintf(`SELECT * FROM read_root(%s)`, quote(g4)), "several trees", "HitStrips", "tree :=")

	// A chain whose second file lacks the first file's tree.
	flat := filepath.Join(td, "small-flat-tree.root")
	mustFail(t, db, fmt.Sprintf(`SELECT MET_pt FROM read_root([%s, %s])`, quote(cms), quote(flat)), flat, `no tree "Events"`)
	// Same tree, a branch missing in the second file.
	gen, err := adl.Generate(adl.Options{Events: 100, Seed: 1, OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustFail(t, db, fmt.Sprintf(`SELECT Photon_pt FROM read_root([%s, %s])`, quote(cms), quote(gen[0])), gen[0], `branch "Photon_pt"`, "is missing")
	var n int64
	if err := db.QueryRow(fmt.Sprintf(`SELECT count(MET_pt) FROM read_root([%s, %s])`, quote(cms), quote(gen[0]))).Scan(&n); err != nil || n != 10100 {
		t.Errorf("chain on common branches: %d rows, %v", n, err)
	}
	// Same tree, a branch with another type in the second file.
	other := writeTree(t, filepath.Join(dir, "double.root"))
	mustFail(t, db, fmt.Sprintf(`SELECT MET_pt FROM read_root([%s, %s])`, quote(other), quote(gen[0])), gen[0], `branch "MET_pt" is FLOAT`, "DOUBLE")
}

// writeTree writes a tree "Events" whose MET_pt is a double.
func writeTree(t *testing.T, name string) string {
	f, err := groot.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	var met float64
	w, err := rtree.NewWriter(f, "Events", []rtree.WriteVar{{Name: "MET_pt", Value: &met}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		met = float64(i)
		if _, err := w.Write(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestTruncatedAndCorrupt cuts the CMS sample at many offsets and flips
// bytes inside it: every query must end with a clear error or a result,
// never a crash, and the engine stays usable.
func TestTruncatedAndCorrupt(t *testing.T) {
	db := openDB(t)
	cms := cmsSample(t)
	data, err := os.ReadFile(cms)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const q = `SELECT count(*), sum(MET_pt), sum(list_sum(Jet_pt)), sum(len(Muon_charge)) FROM read_root(%s)`
	rng := rand.New(rand.NewPCG(1, 2))
	var errs, oks int
	run := func(name string) {
		rows, err := db.Query(fmt.Sprintf(q, quote(name)))
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		if err != nil {
			errs++
			if !strings.Contains(err.Error(), name) && !strings.Contains(err.Error(), "read_root") {
				t.Errorf("error without file or function name: %v", err)
			}
			return
		}
		oks++
	}
	for i := range 40 {
		cut := 1 + rng.IntN(len(data)-1)
		if i == 0 {
			cut = len(data) - 1
		}
		name := filepath.Join(dir, fmt.Sprintf("cut-%d.root", cut))
		os.WriteFile(name, data[:cut], 0o644)
		run(name)
	}
	for i := range 40 {
		bad := append([]byte(nil), data...)
		for range 1 + i%8 {
			pos := rng.IntN(len(bad))
			bad[pos] ^= byte(1 + rng.IntN(255))
		}
		name := filepath.Join(dir, fmt.Sprintf("flip-%d.root", i))
		os.WriteFile(name, bad, 0o644)
		run(name)
	}
	t.Logf("%d queries failed cleanly, %d returned results", errs, oks)
	if errs == 0 {
		t.Fatal("no corruption was detected at all")
	}
}
