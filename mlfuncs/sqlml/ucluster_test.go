package sqlml_test

import (
	"bufio"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/mlfuncs/metrics"
	"github.com/hepsql/hepsql/mlfuncs/synth"
	"github.com/hepsql/hepsql/mlfuncs/ucluster"
)

// loadJets writes a generated jet set to CSV files and builds table name
// from them: jet, aux_label, truth, and particles as a list of
// STRUCT(deta FLOAT, …, pid FLOAT), the generator's column type.
func loadJets(t *testing.T, db *sql.DB, name string, s *synth.JetSet) {
	t.Helper()
	dir := t.TempDir()
	jf, pf := filepath.Join(dir, name+"_jets.csv"), filepath.Join(dir, name+"_parts.csv")
	write := func(path string, fill func(w *bufio.Writer)) {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		fill(w)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	write(jf, func(w *bufio.Writer) {
		fmt.Fprintln(w, "jet,aux_label,truth")
		for r := range s.Jets {
			fmt.Fprintf(w, "%d,%d,%d\n", r, s.Aux[r], s.Truth[r])
		}
	})
	F := synth.JetFeatures
	write(pf, func(w *bufio.Writer) {
		fmt.Fprintln(w, "jet,idx,deta,dphi,log_pt,log_e,log_pt_rel,log_e_rel,dr,pid")
		for r := range s.Jets {
			for i := range s.Counts[r] {
				fmt.Fprintf(w, "%d,%d", r, i)
				for _, v := range s.Particles[(r*s.MaxParticles+i)*F : (r*s.MaxParticles+i+1)*F] {
					fmt.Fprintf(w, ",%v", v) // shortest float32 text: reads back bit for bit as FLOAT
				}
				fmt.Fprintln(w)
			}
		}
	})
	fields := []string{"deta", "dphi", "log_pt", "log_e", "log_pt_rel", "log_e_rel", "dr", "pid"}
	var pack []string
	for _, f := range fields {
		pack = append(pack, fmt.Sprintf("%s := p.%s::FLOAT", f, f))
	}
	exec(t, db, fmt.Sprintf(`CREATE TABLE %s AS SELECT j.jet, j.aux_label::INTEGER AS aux_label, j.truth::INTEGER AS truth,
		list(struct_pack(%s) ORDER BY p.idx) AS particles
		FROM read_csv('%s') j JOIN read_csv('%s', columns = {'jet': 'INTEGER', 'idx': 'INTEGER', %s}) p USING (jet)
		GROUP BY j.jet, j.aux_label, j.truth`, name, strings.Join(pack, ", "), jf, pf,
		"'"+strings.Join(fields, "': 'FLOAT', '")+"': 'FLOAT'"))
}

// TestUClusterFromSQL trains UCluster from SQL on clearly separated jets,
// then checks predict against the stored model run directly on the
// generated particles, and evaluate against a brute-force scoring of
// predict's clusters.
func TestUClusterFromSQL(t *testing.T) {
	db := open(t, "")
	train := synth.Jets(synth.JetOptions{Jets: 2000, Seed: 1, MaxParticles: 40, Separated: true})
	test := synth.Jets(synth.JetOptions{Jets: 600, Seed: 2, MaxParticles: 40, Separated: true})
	loadJets(t, db, "jets", train)
	loadJets(t, db, "held", test)
	if got := count(t, db, `SELECT count(*) FROM jets`); got != 2000 {
		t.Fatalf("%d jets loaded", got)
	}
	n := count(t, db, `SELECT count(*) FROM train('uc', 'SELECT particles, aux_label FROM jets ORDER BY hash(jet)', model := 'ucluster',
		clusters := 3, pretrain_epochs := 20, epochs := 4, alpha := 1, beta := 1, k := 8, embed := 32, lr := 0.003,
		lr_halve_every := 8, batch := 64, threads := 2, seed := 3)`)
	if n != 24 {
		t.Fatalf("%d epoch rows, want 20 + 4", n)
	}
	var arch string
	var w []byte
	if err := db.QueryRow(`SELECT architecture, weights FROM hepsql_models WHERE name = 'uc'`).Scan(&arch, &w); err != nil {
		t.Fatal(err)
	}
	m, err := ucluster.Unmarshal(w)
	if err != nil || arch != "ucluster" {
		t.Fatalf("stored model: %q, %v", arch, err)
	}
	if s := m.Spec; s.SeqLen != 40 || s.SeqDim != 8 || s.Classes != 3 || s.Clusters != 3 || s.Embed != 32 {
		t.Fatalf("stored spec %+v", s)
	}
	// predict against the network run on the generator's own arrays.
	p := ucluster.NewPredictor(m, 1)
	defer p.Close()
	K := 3
	want := make([]float32, test.Jets*K)
	p.Predict(test.Particles, test.Jets, nil, want)
	rows, err := db.Query(`SELECT jet, truth, cluster, dist_0, dist_1, dist_2 FROM predict('uc', 'SELECT * FROM held') ORDER BY jet`)
	if err != nil {
		t.Fatal(err)
	}
	var truth, clusters []int32
	for rows.Next() {
		var jet, tr, c int32
		var d [3]float32
		if err := rows.Scan(&jet, &tr, &c, &d[0], &d[1], &d[2]); err != nil {
			t.Fatal(err)
		}
		for j := range K {
			if math.Abs(float64(d[j]-want[int(jet)*K+j])) > 1e-5*(1+math.Abs(float64(d[j]))) {
				t.Fatalf("jet %d: dist_%d %g, model %g", jet, j, d[j], want[int(jet)*K+j])
			}
		}
		if int(c) != ucluster.Nearest(d[:]) {
			t.Fatalf("jet %d: cluster %d, distances %v", jet, c, d)
		}
		truth, clusters = append(truth, tr), append(clusters, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(truth) != test.Jets {
		t.Fatalf("predict gave %d rows", len(truth))
	}
	// The same particles as a list of FLOAT[8] give the same distances.
	var same int
	if err := db.QueryRow(`WITH a AS (SELECT jet, dist_0, dist_1, dist_2 FROM predict('uc', 'SELECT jet, particles FROM held')),
		b AS (SELECT jet, dist_0, dist_1, dist_2 FROM predict('uc', 'SELECT jet, list_transform(particles,
			p -> [p.deta, p.dphi, p.log_pt, p.log_e, p.log_pt_rel, p.log_e_rel, p.dr, p.pid]::FLOAT[]) AS particles FROM held'))
		SELECT count(*) FROM a JOIN b USING (jet) WHERE a.dist_0 = b.dist_0 AND a.dist_1 = b.dist_1 AND a.dist_2 = b.dist_2`).Scan(&same); err != nil {
		t.Fatal(err)
	}
	if same != test.Jets {
		t.Errorf("lists of FLOAT[] and lists of STRUCTs agree on %d of %d jets", same, test.Jets)
	}
	// Brute force over the 3! matchings.
	best := 0
	for _, perm := range [][3]int32{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
		hit := 0
		for i := range truth {
			if perm[clusters[i]] == truth[i] {
				hit++
			}
		}
		best = max(best, hit)
	}
	var acc float64
	var cont, purity, match string
	if err := db.QueryRow(`SELECT accuracy, contingency::VARCHAR, purity::VARCHAR, matching::VARCHAR FROM evaluate('uc', 'SELECT * FROM held', truth := 'truth')`).Scan(&acc, &cont, &purity, &match); err != nil {
		t.Fatal(err)
	}
	if wantAcc := float64(best) / float64(len(truth)); math.Abs(acc-wantAcc) > 1e-12 {
		t.Errorf("evaluate accuracy %g, brute force %g", acc, wantAcc)
	}
	sc, _ := metrics.ScoreClusters(truth, clusters, 3, 3)
	t.Logf("accuracy %.3f contingency %s purity %s matching %s", acc, cont, purity, match)
	if want := fmt.Sprint(sc.Contingency); strings.ReplaceAll(strings.ReplaceAll(cont, ",", ""), "[", "[") != want {
		t.Errorf("contingency %s, want %s", cont, want)
	}
	if acc < 0.9 {
		t.Errorf("clustering accuracy %.3f on separated jets; want ≥ 0.9", acc)
	}

	// The classifier-only functions refuse it with a message that says why.
	for _, q := range []string{
		`SELECT * FROM roc('uc', 'SELECT * FROM held', 0)`,
		`SELECT * FROM tune('t', 'SELECT particles, aux_label FROM jets', model := 'ucluster', grid := '{}')`,
		`SELECT * FROM train('x', 'SELECT particles, aux_label FROM jets', model := 'mlp', clusters := 3)`,
		`SELECT * FROM evaluate('uc', 'SELECT * FROM held', truth := 'nope')`,
	} {
		if _, err := db.Exec(q); err == nil {
			t.Errorf("%s: no error", q)
		} else {
			t.Logf("%s: %v", q, err)
		}
	}
}
