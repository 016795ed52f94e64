package rootscan_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/rootscan"
)

// starRows reads SELECT <cols> of src ordered by entry, canonical.
func starRows(t *testing.T, q string) [][]any {
	t.Helper()
	db := openDB(t)
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]any, len(cols))
		for i, v := range vals {
			row[i] = canon(reflect.ValueOf(v))
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBasketsWithoutOffsets: uproot's small-dy file written without entry
// offsets (its baskets' headers carry ROOT's kGenerateOffsetMap I/O bit
// after a negative fNevBufSize, and no offset table) reads, every column
// and entry equal to its -withoffsets twin's: alone, with units of 1 to 7
// entries (reads start inside baskets), and as a chain of two copies
// reading a jagged column without its counter (whose values give the
// offsets).
func TestBasketsWithoutOffsets(t *testing.T) {
	no := sharedUproot(t, "uproot-small-dy-nooffsets.root")
	with := sharedUproot(t, "uproot-small-dy-withoffsets.root")
	cols := "nJet, nMuon, Jet_jetId, Jet_pt, MET_pt, Muon_charge, Muon_pt, event"
	q := func(src string) string {
		return fmt.Sprintf("SELECT %s FROM read_root(%s) ORDER BY _file, _entry", cols, src)
	}
	want := starRows(t, q(quote(with)))
	if len(want) != 501 {
		t.Fatalf("withoffsets: %d rows", len(want))
	}
	check := func(label string, got, want [][]any) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d rows, want %d", label, len(got), len(want))
		}
		for i := range got {
			if !equalCanon(got[i], want[i]) {
				t.Fatalf("%s: entry %d: %v, withoffsets %v", label, i, got[i], want[i])
			}
		}
	}
	check("alone", starRows(t, q(quote(no))), want)
	restore := rootscan.SetUnitSizes(1, 7)
	check("units of 7", starRows(t, q(quote(no))), want)
	restore()
	chain := "[" + quote(no) + ", " + quote(no) + "]"
	got := starRows(t, fmt.Sprintf("SELECT Jet_pt, Muon_charge FROM read_root(%s) ORDER BY _file, _entry", chain))
	wantPair := starRows(t, fmt.Sprintf("SELECT Jet_pt, Muon_charge FROM read_root(%s) ORDER BY _file, _entry", "["+quote(with)+", "+quote(with)+"]"))
	check("chain", got, wantPair)
}

// TestBasketIOBitsChecked: a basket whose I/O bits set a bit ROOT does
// not define (here 0x81) is a corrupt-basket error naming the branch and
// basket, not a misread.
func TestBasketIOBitsChecked(t *testing.T) {
	no := sharedUproot(t, "uproot-small-dy-nooffsets.root")
	data, err := os.ReadFile(no)
	if err != nil {
		t.Fatal(err)
	}
	// nJet's first basket: key at 424, keylen 72; after the key's strings
	// come version, fBufferSize and fNevBufSize = -4, then the I/O bits.
	const at = 0x1e6
	if data[at-4] != 0xff || data[at-1] != 0xfc || data[at] != 1 {
		t.Fatalf("unexpected bytes % x around the I/O bits", data[at-4:at+1])
	}
	data[at] = 0x81
	bad := filepath.Join(t.TempDir(), "iobits.root")
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	var n int64
	err = db.QueryRow(fmt.Sprintf("SELECT sum(nJet) FROM read_root(%s)", quote(bad))).Scan(&n)
	if err == nil || !strings.Contains(err.Error(), "I/O bits") || !strings.Contains(err.Error(), `branch "nJet", basket 0`) {
		t.Errorf("sum(nJet) = %d, %v; want a corrupt-basket error on the I/O bits", n, err)
	}
}
