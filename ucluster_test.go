package hepsql_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/hepsql/hepsql/engine"
	"github.com/hepsql/hepsql/gen/jets"
)

// genJetsPIDCode is jet_particles' documented pid code (photon 1, neutral
// hadron 2, charged hadron ±3 by its charge) for the PDG ids that gen/jets
// emits, written out here rather than taken from sqlfuncs.
var genJetsPIDCode = map[int32]float32{22: 1, 130: 2, 2112: 2, 211: 3, -211: -3, 321: 3, -321: -3, 2212: 3, -2212: -3}

// TestUClusterFeatures runs queries/ucluster/1-features.sql on a generated
// sample and checks its Parquet sets against the generator's own jets:
// every jet once, an 80/20 split, the truth, the mass class computed here
// from the mass, and the particles' features recomputed in Go.
func TestUClusterFeatures(t *testing.T) {
	const n, perFile = 1500, 400
	in, out := t.TempDir(), t.TempDir()
	if _, err := jets.Generate(jets.Options{Jets: n, Seed: 5, OutDir: in, JetsPerFile: perFile}); err != nil {
		t.Fatal(err)
	}
	g := jets.NewGenerator(5, false)
	want := make([]jets.Jet, n)
	for i := range want {
		g.Fill(&want[i], int64(i))
	}

	path := filepath.Join("queries", "ucluster", "1-features.sql")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := engine.ParseScript(path, string(src), map[string]string{"in": in, "out": out})
	if err != nil {
		t.Fatal(err)
	}
	db := open(t, "?threads=2")
	if err := engine.RunScript(context.Background(), db, stmts, path, func(engine.Result) error { return nil }); err != nil {
		t.Fatal(err)
	}

	seen := map[int]bool{}
	for set, frac := range map[string]float64{"train": 0.8, "test": 0.2} {
		rows, err := db.Query(fmt.Sprintf(`SELECT id, truth, jet_mass, n_particles, aux_label,
			[p.log_pt FOR p IN particles], [p.dphi FOR p IN particles], [p.pid FOR p IN particles]
			FROM read_parquet('%s/%s.parquet')`, out, set))
		if err != nil {
			t.Fatal(err)
		}
		count := 0
		for rows.Next() {
			var (
				id                uint64
				truth, nPart, aux int32
				mass              float32
				logPt, dphi, pid  []any
			)
			if err := rows.Scan(&id, &truth, &mass, &nPart, &aux, &logPt, &dphi, &pid); err != nil {
				t.Fatal(err)
			}
			idx := int(id>>32)*perFile + int(id&0xffffffff)
			if idx >= n || seen[idx] {
				t.Fatalf("%s: id %#x: jet %d out of range or seen twice", set, id, idx)
			}
			seen[idx] = true
			j := &want[idx]
			wantAux := min(int32(float64(j.Mass)/20), 14)
			if truth != j.Truth || mass != j.Mass || int(nPart) != len(j.PartPt) || aux != wantAux || len(logPt) != len(j.PartPt) {
				t.Fatalf("%s: jet %d: truth %d mass %v n %d aux %d, want %d %v %d %d", set, idx, truth, mass, nPart, aux, j.Truth, j.Mass, len(j.PartPt), wantAux)
			}
			for k := range j.PartPt {
				d := math.Mod(float64(j.PartPhi[k])-float64(j.Phi)+3*math.Pi, 2*math.Pi) - math.Pi
				if logPt[k] != float32(math.Log(float64(j.PartPt[k]))) || math.Abs(float64(dphi[k].(float32))-d) > 1e-6 || pid[k] != genJetsPIDCode[j.PartPID[k]] {
					t.Fatalf("%s: jet %d particle %d: log_pt %v dphi %v pid %v, want %v %v %v", set, idx, k, logPt[k], dphi[k], pid[k],
						math.Log(float64(j.PartPt[k])), d, genJetsPIDCode[j.PartPID[k]])
				}
			}
			count++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if count != int(frac*n) {
			t.Errorf("%s: %d jets, want %d", set, count, int(frac*n))
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct jets in the sets, want %d", len(seen), n)
	}
}
