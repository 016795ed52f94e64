package main

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/engine"
	"github.com/hepsql/hepsql/gen/topology"
	"github.com/hepsql/hepsql/mlfuncs/synth"
)

// The topology pipeline's data (../shared/specs/topology.md): events from
// hepsql gen topology, selected and turned into features by
// queries/topology/1-features.sql, once, into bench/data/ml-topology-N
// (the ROOT files are deleted afterwards: only features.parquet is kept).
// Every run then prepares the sets in SQL as queries/topology/2-prepare.sql
// does (an 80/20 split on hash_key(seed, 2, id), min–max scaling fitted on
// the training part, the 801 × 19 sequence from topo_sequence). The mlp's
// sets skip the undersampling of the larger classes: the generator's QCD
// sample passes the lepton selection about 15 times less often than the
// others, and balancing down to it would leave too few events to time an
// epoch. The inclusive model's smaller sets are balanced.

const featuresPipeline = "queries/topology/1-features.sql"

// topoPrepare are the preparation statements; ${dir} is the folder.
var topoPrepare = []string{
	`CREATE OR REPLACE TABLE ev AS
	SELECT id, label,
	       [hlf.ht, hlf.met, hlf.met_phi, hlf.mt, hlf.n_jets, hlf.n_bjets,
	        hlf.lep_pt, hlf.lep_eta, hlf.lep_phi,
	        hlf.lep_ch_iso, hlf.lep_gamma_iso, hlf.lep_neu_iso,
	        hlf.lep_charge, hlf.is_electron] AS hlf
	FROM read_parquet('${dir}/features.parquet')`,
	`CREATE OR REPLACE TABLE split AS
	SELECT *, pos < n * 80 // 100 AS is_train
	FROM (SELECT *, row_number() OVER (ORDER BY hash_key(42, 2, id), id) - 1 AS pos, count(*) OVER () AS n FROM ev)`,
	`CREATE OR REPLACE TABLE hlf_range AS
	SELECT list(lo ORDER BY f) AS lo, list(hi ORDER BY f) AS hi
	FROM (SELECT f, min(hlf[f]) AS lo, max(hlf[f]) AS hi FROM split, range(1, 15) r(f) WHERE is_train GROUP BY f)`,
	`CREATE OR REPLACE TABLE prepared AS
	SELECT s.id, s.label, s.pos, s.is_train,
	       list_transform(s.hlf, (x, f) ->
	           CASE WHEN r.hi[f] = r.lo[f] THEN 0.5 ELSE (x - r.lo[f]) / (r.hi[f] - r.lo[f]) END)::FLOAT[] AS hlf
	FROM split s, hlf_range r`,
}

// ensureFeatures runs the pipeline's first step unless dir holds its
// output for these events and seed.
func ensureFeatures(dir string, events int) error {
	recipe := fmt.Sprintf("events=%d seed=1 pipeline=%s\n", events, featuresPipeline)
	return bench.BuildOnce(dir, recipe, func() error {
		roots := filepath.Join(dir, "root")
		log.Printf("generating %d topology events into %s (once; later runs reuse the features)", events, roots)
		t0 := time.Now()
		if _, err := topology.Generate(topology.Options{Events: events, Seed: 1, OutDir: roots, EventsPerFile: 20000}); err != nil {
			return err
		}
		src, err := os.ReadFile(featuresPipeline)
		if err != nil {
			return fmt.Errorf("%w (run mlbench from the repository root)", err)
		}
		stmts, err := engine.ParseScript(featuresPipeline, string(src), map[string]string{"in": roots, "out": dir})
		if err != nil {
			return err
		}
		db, err := hepsql.Open("")
		if err != nil {
			return err
		}
		defer db.Close()
		if err := engine.RunScript(context.Background(), db, stmts, featuresPipeline, func(engine.Result) error { return nil }); err != nil {
			return err
		}
		if err := os.RemoveAll(roots); err != nil {
			return err
		}
		log.Printf("features of %d events in %.0f s", events, time.Since(t0).Seconds())
		return nil
	})
}

// topoData is the prepared topology data, in a database that predict()
// can also read.
type topoData struct {
	db                                   *sql.DB
	hlfTrain, hlfTest, seqTrain, seqTest *synth.Set
	selected                             int
	predReady                            bool // the SQL inference model and table exist
}

// loadTopology prepares the sets and reads them into memory: every
// selected event's HLF for the mlp, and class-balanced subsets of
// seqTrain (seqTest) events of the training (test) part with their
// sequences for the inclusive model.
func loadTopology(c config) (*topoData, error) {
	dir := filepath.Join(filepath.Dir(c.dataDir), fmt.Sprintf("ml-topology-%d", c.events))
	if err := ensureFeatures(dir, c.events); err != nil {
		return nil, fmt.Errorf("topology features: %w", err)
	}
	db, err := hepsql.Open("")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	for _, q := range topoPrepare {
		if _, err := db.Exec(strings.ReplaceAll(q, "${dir}", dir)); err != nil {
			db.Close()
			return nil, fmt.Errorf("preparing the topology sets: %w", err)
		}
	}
	d := &topoData{db: db}
	if err := db.QueryRow(`SELECT count(*) FROM prepared`).Scan(&d.selected); err != nil {
		db.Close()
		return nil, err
	}
	load := func(train bool, seqRows int) (*synth.Set, error) {
		q := fmt.Sprintf(`SELECT label, hlf FROM prepared WHERE is_train = %v ORDER BY pos`, train)
		if seqRows > 0 {
			// The particle rows come first in topo_sequence's output; mask
			// counts them.
			// Balanced as 2-prepare.sql balances: the first seqRows/3
			// events of each class in the split's order; then shuffled
			// again. In pos order the rare QCD events would come last
			// (the other classes' first thousands lie at lower pos), and a
			// shuffle buffer smaller than the set would draw batches of
			// one class at the end of every epoch.
			q = fmt.Sprintf(`SELECT label, hlf, s.seq[1:19 * len(list_filter(s.mask, m -> m))] AS steps
				FROM (SELECT p.*, topo_sequence(f.particles) AS s
				      FROM (SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY label ORDER BY pos) AS k
				                           FROM prepared WHERE is_train = %v)
				            WHERE k <= %d) p
				      JOIN read_parquet('%s/features.parquet') f USING (id))
				ORDER BY hash_key(42, 3, id), id`, train, (seqRows+2)/3, dir)
		}
		return readSet(db, q, seqRows > 0)
	}
	if d.hlfTrain, err = load(true, 0); err == nil {
		if d.hlfTest, err = load(false, 0); err == nil && c.wantModel("inclusive") {
			if d.seqTrain, err = load(true, c.seqRows); err == nil {
				d.seqTest, err = load(false, c.seqTest)
			}
		}
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("reading the topology sets: %w", err)
	}
	return d, nil
}

// readSet reads label, hlf[, steps] rows into a synth.Set (sequences
// packed, SeqLen 801).
func readSet(db *sql.DB, q string, seq bool) (*synth.Set, error) {
	rows, err := db.Query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	s := &synth.Set{}
	if seq {
		s.SeqLen = 801
	}
	for rows.Next() {
		var label int32
		var hlf, steps []any
		dst := []any{&label, &hlf}
		if seq {
			dst = append(dst, &steps)
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, err
		}
		if len(hlf) != synth.HLFDim || len(steps)%synth.SeqDim != 0 {
			return nil, fmt.Errorf("row %d: %d features and %d sequence values", s.Rows, len(hlf), len(steps))
		}
		s.Labels = append(s.Labels, label)
		for _, v := range hlf {
			s.HLF = append(s.HLF, v.(float32))
		}
		if seq {
			s.Start = append(s.Start, int64(len(s.Steps)/synth.SeqDim))
			s.Lens = append(s.Lens, int32(len(steps)/synth.SeqDim))
			for _, v := range steps {
				s.Steps = append(s.Steps, v.(float32))
			}
		}
		s.Rows++
	}
	return s, rows.Err()
}

// describe is the data line of the report.
func (d *topoData) describe(c config) string {
	classes := func(s *synth.Set) string {
		var n [3]int
		for _, l := range s.Labels {
			n[l]++
		}
		return fmt.Sprintf("%d QCD / %d tt̄ / %d W+jets", n[0], n[1], n[2])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the topology pipeline's (`hepsql gen topology --events %d --seed 1`, `queries/topology/1-features.sql`; then 2-prepare.sql's split, scaling and sequences, see bench/cmd/mlbench/topology.go): "+
		"mlp on all %d selected events (not class-balanced), %d training (%s) / %d test rows of 14 HLF",
		c.events, d.selected, d.hlfTrain.Rows, classes(d.hlfTrain), d.hlfTest.Rows)
	if d.seqTrain != nil {
		active := 0
		for _, n := range d.seqTrain.Lens {
			active += int(n)
		}
		fmt.Fprintf(&b, "; inclusive on class-balanced subsets of them (2-prepare.sql's undersampling), %d training (%s) / %d test (%s) events with their 801×19 sequences (%.0f particle rows per event on average, padding skipped)",
			d.seqTrain.Rows, classes(d.seqTrain), d.seqTest.Rows, classes(d.seqTest), float64(active)/float64(d.seqTrain.Rows))
	}
	return b.String()
}

// sqlPredict times the SQL inference path at t threads (DuckDB's and the
// predictor's): SELECT sum(prob_0) FROM predict(...) over a table of
// c.predictRows HLF rows (the test rows repeated), with an mlp of the
// benchmark's architecture that train() fits for one epoch on the
// training rows; the best of 3 runs, in rows per second.
func (d *topoData) sqlPredict(c config, t int) (float64, error) {
	if !d.predReady {
		for _, q := range []string{
			`SELECT count(*) FROM train('mlbench_hlf', 'SELECT label, hlf FROM prepared WHERE is_train', epochs := 1, validation := 0)`,
			fmt.Sprintf(`CREATE OR REPLACE TABLE predset AS
				SELECT hlf FROM (SELECT hlf FROM prepared WHERE NOT is_train), range(%d) LIMIT %d`,
				c.predictRows/d.hlfTest.Rows+1, c.predictRows),
		} {
			if _, err := d.db.Exec(q); err != nil {
				return 0, fmt.Errorf("SQL predict set-up: %w", err)
			}
		}
		d.predReady = true
	}
	if _, err := d.db.Exec(fmt.Sprintf("SET threads = %d", t)); err != nil {
		return 0, err
	}
	best := math.Inf(1)
	for range 3 {
		t0 := time.Now()
		var sum float64
		if err := d.db.QueryRow(fmt.Sprintf(`SELECT sum(prob_0) FROM predict('mlbench_hlf', 'SELECT hlf FROM predset', threads := %d)`, t)).Scan(&sum); err != nil {
			return 0, fmt.Errorf("SQL predict: %w", err)
		}
		best = min(best, time.Since(t0).Seconds())
	}
	return float64(c.predictRows) / best, nil
}
