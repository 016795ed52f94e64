package rootscan_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootscan"
)

// TestProjectionPushdown proves that a query reads only the baskets of the
// branches it references: the bytes read for one branch stay within its
// compressed size plus the file's metadata, far below the file's size.
func TestProjectionPushdown(t *testing.T) {
	db := openDB(t)
	cms := cmsSample(t)
	st, _ := os.Stat(cms)
	var zip, metaOnly int64
	if err := db.QueryRow(fmt.Sprintf(`SELECT sum(compressed_bytes) FROM root_branches(%s) WHERE name = 'MET_pt'`, quote(cms))).Scan(&zip); err != nil {
		t.Fatal(err)
	}
	before := rfile.BytesRead()
	if _, err := db.Exec(fmt.Sprintf(`SELECT count(*) FROM read_root(%s) WHERE false`, quote(cms))); err != nil {
		t.Fatal(err)
	}
	metaOnly = rfile.BytesRead() - before

	before = rfile.BytesRead()
	var sum float64
	if err := db.QueryRow(fmt.Sprintf(`SELECT sum(MET_pt) FROM read_root(%s)`, quote(cms))).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	read := rfile.BytesRead() - before
	baskets := read - metaOnly
	t.Logf("file %d bytes, metadata %d, one-branch query %d (branch compressed size %d)", st.Size(), metaOnly, read, zip)
	// Basket keys add about 100 bytes each to the compressed payload.
	if baskets < zip || baskets > zip+zip/10+4096 {
		t.Errorf("MET_pt query read %d basket bytes; branch holds %d compressed", baskets, zip)
	}
	if read > st.Size()/4 {
		t.Errorf("one-branch query read %d of %d bytes", read, st.Size())
	}
}

// TestChainProvenanceAndThreads reads a chain of copies of the CMS sample
// at 1 and 2 threads; the provenance columns name each row's file and entry
// and results do not depend on the thread count or on how units are cut.
func TestChainProvenanceAndThreads(t *testing.T) {
	cms := cmsSample(t)
	data, err := os.ReadFile(cms)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i := range 3 {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("part-%d.root", i)), data, 0o644)
	}
	glob := filepath.Join(dir, "*.root")
	db := openDB(t)
	type result struct {
		n, files, maxEntry int64
		met, jets          float64
	}
	var ref result
	for _, threads := range []int{1, 2} {
		for _, unit := range []int64{0, 1000} {
			if unit > 0 {
				defer rootscan.SetUnitSizes(1, unit)()
			}
			if _, err := db.Exec(fmt.Sprintf("SET threads = %d", threads)); err != nil {
				t.Fatal(err)
			}
			var r result
			q := fmt.Sprintf(`SELECT count(*), count(DISTINCT _file), max(_entry), sum(MET_pt), sum(list_sum(Jet_pt)) FROM %s`, quote(glob))
			if err := db.QueryRow(q).Scan(&r.n, &r.files, &r.maxEntry, &r.met, &r.jets); err != nil {
				t.Fatal(err)
			}
			if r.n != 30000 || r.files != 3 || r.maxEntry != 9999 {
				t.Fatalf("threads %d: %+v", threads, r)
			}
			if ref.n == 0 {
				ref = r
			} else if r.met != ref.met && (r.met-ref.met)/ref.met > 1e-12 || (r.jets-ref.jets)/ref.jets > 1e-12 {
				t.Errorf("threads %d unit %d: %+v, want %+v", threads, unit, r, ref)
			}
		}
	}
	// The entry number and file of a row point back at the same event.
	var f string
	var e int64
	var evt uint64
	if err := db.QueryRow(fmt.Sprintf(`SELECT _file, _entry, event FROM read_root(%s) WHERE event = (SELECT event FROM read_root(%s) WHERE _entry = 4321)`, quote(filepath.Join(dir, "part-1.root")), quote(cms))).Scan(&f, &e, &evt); err != nil {
		t.Fatal(err)
	}
	if e != 4321 || filepath.Base(f) != "part-1.root" {
		t.Errorf("provenance: %s entry %d", f, e)
	}
}
