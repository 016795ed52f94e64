package sqlml_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// tune's rows are the trainings train runs with the same options: every
// point's validation figures equal those of train() on that point, bit for
// bit (each of the 2 parallel trainings has 1 thread, as the train() calls
// do), and the stored model is the point with the lowest validation loss.
func TestTuneMatchesTrain(t *testing.T) {
	db := open(t, "")
	exec(t, db, createData)
	const query = `SELECT label, a, b, v FROM d`
	rows, err := db.Query(`SELECT config, params, val_loss, val_auc_macro, val_accuracy, best_epoch, epochs, threads
		FROM tune('t', '` + query + `', grid := '{"hidden": [[8], [16, 8]], "lr": [0.01, 0.003]}',
			epochs := 3, threads := 2, parallel := 2)`)
	if err != nil {
		t.Fatal(err)
	}
	type point struct {
		params              string
		loss, auc, accuracy float64
	}
	var got []point
	for rows.Next() {
		var cfg, best, epochs, threads int
		var p point
		if err := rows.Scan(&cfg, &p.params, &p.loss, &p.auc, &p.accuracy, &best, &epochs, &threads); err != nil {
			t.Fatal(err)
		}
		if cfg != len(got)+1 || best != 3 || epochs != 3 || threads != 1 {
			t.Errorf("row %d: config %d, best epoch %d of %d, %d thread(s); want %d, 3 of 3, 1", len(got)+1, cfg, best, epochs, threads, len(got)+1)
		}
		got = append(got, p)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// The first key varies slowest.
	want := []string{`{"hidden":[8],"lr":0.01}`, `{"hidden":[8],"lr":0.003}`, `{"hidden":[16,8],"lr":0.01}`, `{"hidden":[16,8],"lr":0.003}`}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	best := 0
	for i, p := range got {
		if p.params != want[i] {
			t.Errorf("config %d: params %s, want %s", i+1, p.params, want[i])
		}
		var opt struct {
			Hidden []int   `json:"hidden"`
			LR     float64 `json:"lr"`
		}
		if err := json.Unmarshal([]byte(p.params), &opt); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("x%d", i+1)
		var loss, auc, acc float64
		if err := db.QueryRow(fmt.Sprintf(`SELECT val_loss, val_auc_macro, val_accuracy FROM train('%s', '%s',
			hidden := %v, lr := %v, epochs := 3, threads := 1) WHERE epoch = 3`,
			name, query, strings.Join(strings.Fields(fmt.Sprint(opt.Hidden)), ", "), opt.LR)).Scan(&loss, &auc, &acc); err != nil {
			t.Fatal(err)
		}
		if loss != p.loss || auc != p.auc || acc != p.accuracy {
			t.Errorf("config %d %s: tune %g / %g / %g, train %g / %g / %g (loss / AUC / accuracy)",
				i+1, p.params, p.loss, p.auc, p.accuracy, loss, auc, acc)
		}
		if p.loss < got[best].loss {
			best = i
		}
	}
	// The stored model is the best point's: same weights as train() gave.
	tuned, trained := loadModel(t, db, "t"), loadModel(t, db, fmt.Sprintf("x%d", best+1))
	if len(tuned.Params) != len(trained.Params) {
		t.Fatalf("stored %v, want the best point's %v", tuned.Spec, trained.Spec)
	}
	for i := range tuned.Params {
		if math.Float32bits(tuned.Params[i]) != math.Float32bits(trained.Params[i]) {
			t.Fatalf("stored weight %d is %g; the best point (config %d) trained to %g", i, tuned.Params[i], best+1, trained.Params[i])
		}
	}
	var options string
	if err := db.QueryRow(`SELECT options FROM models() WHERE name = 't'`).Scan(&options); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(options, fmt.Sprintf(`"config":%d,"of":4`, best+1)) {
		t.Errorf("stored options %s do not name config %d of 4", options, best+1)
	}

	// metric := 'auc' picks the highest macro AUC instead.
	exec(t, db, `SELECT count(*) FROM tune('t', '`+query+`', grid := '{"lr": [0.01, 0.003]}', epochs := 2, metric := 'auc', threads := 1)`)
	if n := count(t, db, `SELECT max(version) FROM models() WHERE name = 't'`); n != 2 {
		t.Errorf("second tune stored version %d, want 2", n)
	}
}

func TestTuneErrors(t *testing.T) {
	db := open(t, "")
	exec(t, db, createData)
	for _, c := range []struct{ args, want string }{
		{``, "no grid"},
		{`, grid := '[1, 2]'`, "want a JSON object"},
		{`, grid := '{"hiden": [[8]]}'`, `"hiden" cannot be tuned`},
		{`, grid := '{"lr": []}'`, `"lr" has no candidates`},
		{`, grid := '{"lr": [0.01, -1]}'`, "want > 0"},
		{`, grid := '{"lr": 0.01}'`, "want a list of candidates"},
		{`, grid := '{"hidden": [[8, 0]]}'`, "hidden layer 1 has 0 units"},
		{`, grid := '{"lr": [0.01]}', validation := 0`, "nothing to score"},
		{`, grid := '{"lr": [0.01]}', metric := 'f1'`, "metric := \"f1\""},
		{`, grid := '{"epochs": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], "seed": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "batch": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}'`, "more than 1024"},
	} {
		_, err := db.Exec(`SELECT * FROM tune('t', 'SELECT label, a, b FROM d'` + c.args + `)`)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("tune(...%s): error %v, want one containing %q", c.args, err, c.want)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM models()`); n != 0 {
		t.Errorf("%d models stored by failed tunings", n)
	}
}

// Cancelling stops a tuning once the configuration its next row waits for
// has finished (DuckDB sees the interrupt between rows), and nothing is
// stored.
func TestTuneCancelStoresNothing(t *testing.T) {
	db := open(t, "")
	exec(t, db, createData)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := db.ExecContext(ctx, `SELECT count(*) FROM tune('t', 'SELECT label, a, b, v FROM d',
		grid := '{"lr": [0.01, 0.003, 0.001, 0.0003]}', epochs := 150, parallel := 1, threads := 1)`)
	if err == nil {
		t.Fatalf("four 150-epoch trainings finished in %v, before their deadline", time.Since(start))
	}
	if n := count(t, db, `SELECT count(*) FROM models()`); n != 0 {
		t.Errorf("%d models stored by a cancelled tuning", n)
	}
}
