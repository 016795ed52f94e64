package sqlml_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/mlfuncs/data"
	"github.com/hepsql/hepsql/mlfuncs/metrics"
	"github.com/hepsql/hepsql/mlfuncs/nn"
)

// The data: three classes separated along a, b and a 2-vector v, with
// deterministic noise from hash() so that every run sees the same rows.
const createData = `CREATE TABLE d AS
	SELECT (i % 3)::INTEGER AS label,
		(i % 3) + u1 AS a,
		2 * u2 - (i % 3) AS b,
		[u3, 0.5 * (i % 3) + u1 * u2]::DOUBLE[] AS v,
		i
	FROM (SELECT i, (hash(i) % 1000003) / 1000003.0 AS u1,
		(hash(i + 7777777) % 1000003) / 1000003.0 AS u2,
		(hash(i + 3333333) % 1000003) / 1000003.0 AS u3 FROM range(3000) t(i))`

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := hepsql.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func count(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// loadModel reads the stored weights of name's latest version back with
// plain SQL, independently of the ML functions.
func loadModel(t *testing.T, db *sql.DB, name string) *nn.Model {
	t.Helper()
	var w []byte
	if err := db.QueryRow(`SELECT weights FROM hepsql_models WHERE name = ? ORDER BY version DESC LIMIT 1`, name).Scan(&w); err != nil {
		t.Fatal(err)
	}
	m, err := nn.Unmarshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// features reads the rows' HLF inputs (a, b, v[1], v[2], the order train
// lays them out) and labels, ordered by i.
func features(t *testing.T, db *sql.DB) ([]float32, []int32) {
	t.Helper()
	rows, err := db.Query(`SELECT a, b, v[1], v[2], label FROM d ORDER BY i`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var x []float32
	var y []int32
	for rows.Next() {
		var a, b, v1, v2 float64
		var l int32
		if err := rows.Scan(&a, &b, &v1, &v2, &l); err != nil {
			t.Fatal(err)
		}
		x = append(x, float32(a), float32(b), float32(v1), float32(v2))
		y = append(y, l)
	}
	return x, y
}

// TestTrainReportsShuffleWindow checks the rows and shuffle_rows columns:
// the whole set when it fits memory_mb, what the budget holds when not.
func TestTrainReportsShuffleWindow(t *testing.T) {
	db := open(t, "")
	exec(t, db, createData)
	const width, batch = 16384, 4
	for _, tc := range []struct {
		query            string
		wantRows, window int
	}{
		{`SELECT label, a, b, v FROM d LIMIT 200`, 200, 200},
		// Rows of 16,384 floats and a label: 1 MiB holds 15, less two
		// output batches.
		{fmt.Sprintf(`SELECT label, list_transform(range(%d), x -> a)::FLOAT[] AS big FROM d LIMIT 64`, width), 64,
			int((1<<20)/data.RowBytes([]int{width})) - 2*batch},
	} {
		var rows, window int
		q := fmt.Sprintf(`SELECT rows, shuffle_rows FROM train('w', '%s', epochs := 1, batch := %d, memory_mb := 1, validation := 0, hidden := [2], threads := 1)`,
			strings.ReplaceAll(tc.query, "'", "''"), batch)
		if err := db.QueryRow(q).Scan(&rows, &window); err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if rows != tc.wantRows || window != tc.window {
			t.Errorf("%s: rows %d, shuffle_rows %d; want %d, %d", tc.query, rows, window, tc.wantRows, tc.window)
		}
	}
}

func TestTrainPredictEvaluate(t *testing.T) {
	db := open(t, "")
	exec(t, db, createData)
	rows, err := db.Query(`SELECT epoch, train_loss, val_loss, val_auc_macro, len(val_auc) FROM
		train('m', 'SELECT label, a, b, v FROM d', epochs := 4, threads := 2, hidden := [16, 8], lr := 0.01)`)
	if err != nil {
		t.Fatal(err)
	}
	epochs := 0
	for rows.Next() {
		var e, k int
		var tl, vl, auc float64
		if err := rows.Scan(&e, &tl, &vl, &auc, &k); err != nil {
			t.Fatal(err)
		}
		epochs++
		if e != epochs || k != 3 || !(tl > 0) || !(vl > 0) {
			t.Errorf("epoch row %d: epoch %d, loss %g/%g, %d AUCs", epochs, e, tl, vl, k)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if epochs != 4 {
		t.Fatalf("%d epoch rows, want 4", epochs)
	}

	// predict() against the network run directly on the same rows.
	m := loadModel(t, db, "m")
	if got := m.Spec; got.Arch != nn.MLP || got.HLFDim != 4 || got.Classes != 3 {
		t.Fatalf("stored spec %+v", got)
	}
	x, y := features(t, db)
	want, err := m.Predict([][]float32{x}, len(y), 1)
	if err != nil {
		t.Fatal(err)
	}
	prows, err := db.Query(`SELECT i, prob_0, prob_1, prob_2, predicted FROM predict('m', 'SELECT * FROM d') ORDER BY i`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for prows.Next() {
		var i, pred int
		var p [3]float32
		if err := prows.Scan(&i, &p[0], &p[1], &p[2], &pred); err != nil {
			t.Fatal(err)
		}
		best := 0
		for c := range 3 {
			if math.Abs(float64(p[c]-want[i][c])) > 1e-6 {
				t.Fatalf("row %d class %d: predict %g, nn %g", i, c, p[c], want[i][c])
			}
			if want[i][c] > want[i][best] {
				best = c
			}
		}
		if pred != best {
			t.Fatalf("row %d: predicted %d, arg-max %d", i, pred, best)
		}
		n++
	}
	if n != len(y) {
		t.Fatalf("predict gave %d rows, want %d", n, len(y))
	}

	// predict_proba, the scalar, gives the same numbers.
	var maxDiff float64
	srows, err := db.Query(`SELECT i, predict_proba('m', [a, b, v[1], v[2]]) FROM d ORDER BY i`)
	if err != nil {
		t.Fatal(err)
	}
	for srows.Next() {
		var i int
		var p []any
		if err := srows.Scan(&i, &p); err != nil {
			t.Fatal(err)
		}
		for c := range 3 {
			maxDiff = max(maxDiff, math.Abs(float64(p[c].(float32)-want[i][c])))
		}
	}
	if maxDiff > 1e-6 {
		t.Errorf("predict_proba differs from nn by %g", maxDiff)
	}
	// The name may come from a column, as long as every row names the
	// same model.
	if n := count(t, db, `SELECT count(predict_proba(nm, [a, b, v[1], v[2]])) FROM (SELECT *, CASE WHEN i >= 0 THEN 'm' ELSE 'x' END AS nm FROM d)`); n != len(y) {
		t.Errorf("predict_proba with the name from a column: %d rows, want %d", n, len(y))
	}
	if _, err := db.Exec(`SELECT predict_proba(CASE WHEN i < 2000 THEN 'm' ELSE 'mm' END, [a, b, v[1], v[2]]) FROM d`); err == nil ||
		!strings.Contains(err.Error(), "one model per call") {
		t.Errorf("two model names in one call: error %v, want one model per call", err)
	}

	// evaluate() against package metrics on the direct predictions.
	flat := make([]float32, 0, 3*len(y))
	for _, p := range want {
		flat = append(flat, p...)
	}
	wantAUC, wantMacro := metrics.OneVsRestAUC(flat, y, 3)
	var rowsN int
	var acc, logLoss, macro float64
	var auc, conf []any
	if err := db.QueryRow(`SELECT rows, accuracy, log_loss, auc_macro, auc, confusion FROM evaluate('m', 'SELECT * FROM d')`).
		Scan(&rowsN, &acc, &logLoss, &macro, &auc, &conf); err != nil {
		t.Fatal(err)
	}
	if rowsN != len(y) || math.Abs(macro-wantMacro) > 1e-12 || math.Abs(acc-metrics.Accuracy(flat, y, 3)) > 1e-12 ||
		math.Abs(logLoss-metrics.LogLoss(flat, y, 3)) > 1e-12 {
		t.Errorf("evaluate: rows %d acc %g logloss %g macro %g; want %d, %g, %g, %g", rowsN, acc, logLoss, macro,
			len(y), metrics.Accuracy(flat, y, 3), metrics.LogLoss(flat, y, 3), wantMacro)
	}
	for c := range 3 {
		if math.Abs(auc[c].(float64)-wantAUC[c]) > 1e-12 {
			t.Errorf("class %d AUC %g, want %g", c, auc[c], wantAUC[c])
		}
	}
	if macro < 0.9 {
		t.Errorf("macro AUC %g; the classes are well separated, want > 0.9", macro)
	}
	total := int64(0)
	for _, r := range conf {
		for _, v := range r.([]any) {
			total += v.(int64)
		}
	}
	if total != int64(len(y)) {
		t.Errorf("confusion matrix sums to %d, want %d", total, len(y))
	}

	// roc(): ends at (1, 1), one point more than the distinct scores.
	var points int
	var lastF, lastT float64
	if err := db.QueryRow(`SELECT count(*), max(fpr), max(tpr) FROM roc('m', 'SELECT * FROM d', 2)`).Scan(&points, &lastF, &lastT); err != nil {
		t.Fatal(err)
	}
	scores, _ := metrics.Column(flat, y, 3, 2)
	distinct := map[float32]bool{}
	for _, s := range scores {
		distinct[s] = true
	}
	if points != len(distinct)+1 || lastF != 1 || lastT != 1 {
		t.Errorf("roc: %d points ending at (%g, %g); want %d ending at (1, 1)", points, lastF, lastT, len(distinct)+1)
	}
}

func TestVersionsReopenDrop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "models.db")
	db := open(t, path)
	exec(t, db, createData)
	exec(t, db, `SELECT count(*) FROM train('m', 'SELECT label, a, b FROM d', epochs := 1, threads := 1)`)
	exec(t, db, `SELECT count(*) FROM train('m', 'SELECT label, a, b, v FROM d', epochs := 1, threads := 1)`)
	if n := count(t, db, `SELECT max(version) FROM models() WHERE name = 'm'`); n != 2 {
		t.Fatalf("latest version %d after two trainings, want 2", n)
	}
	before := count(t, db, `SELECT sum(predicted) FROM predict('m', 'SELECT * FROM d')`)
	db.Close()

	db = open(t, path)
	if n := count(t, db, `SELECT count(*) FROM models()`); n != 2 {
		t.Fatalf("%d stored versions after reopening, want 2", n)
	}
	var feats []any
	if err := db.QueryRow(`SELECT features FROM models() WHERE version = 2`).Scan(&feats); err != nil {
		t.Fatal(err)
	}
	if len(feats) != 3 || feats[2] != "v" {
		t.Errorf("version 2 features %v, want [a b v]", feats)
	}
	// The reopened model predicts as before (the latest version, 4 inputs).
	if after := count(t, db, `SELECT sum(predicted) FROM predict('m', 'SELECT * FROM d')`); after != before {
		t.Errorf("sum of predicted classes %d after reopening, %d before", after, before)
	}
	if n := count(t, db, `SELECT dropped FROM drop_model('m')`); n != 2 {
		t.Errorf("drop_model dropped %d versions, want 2", n)
	}
	if n := count(t, db, `SELECT count(*) FROM models()`); n != 0 {
		t.Errorf("%d models after drop", n)
	}
	if _, err := db.Exec(`SELECT * FROM predict('m', 'SELECT * FROM d')`); err == nil || !strings.Contains(err.Error(), "no such model") {
		t.Errorf("predict after drop: %v", err)
	}
}

func TestTrainErrors(t *testing.T) {
	db := open(t, "")
	exec(t, db, createData)
	for _, c := range []struct{ call, want string }{
		{`train('m', 'SELECT * FROM d', model := 'transformer')`, `unknown model architecture "transformer"`},
		{`train('m', '  ')`, "empty query"},
		{`train('m', 'SELECT * FROM d WHERE false')`, "no rows"},
		{`train('m', 'SELECT label, CASE WHEN i = 7 THEN ''NaN''::DOUBLE ELSE a END AS a FROM d')`, "NaN or infinite"},
		// Rows and values count from 1 (i counts from 0).
		{`train('m', 'SELECT label, CASE WHEN i = 7 THEN [a, ''inf''::DOUBLE] ELSE [a, b] END AS v FROM d')`, "+Inf at value 2 in row 8"},
		{`train('m', 'SELECT label, CASE WHEN i = 7 THEN [a, NULL] ELSE [a, b] END AS v FROM d')`, `column "v element" is NULL`},
		{`train('m', 'SELECT 1 AS label, a FROM d')`, "only one class"},
		{`train('m', 'SELECT label, CASE WHEN i = 5 THEN [a] ELSE [a, b] END AS v FROM d')`, `column "v" has 1 values in row 6`},
		{`train('m', 'SELECT a, b FROM d')`, `no label column "label"`},
		{`train('m', 'SELECT label AS y, a FROM d', label := 'class')`, `no label column "class"`},
		{`train('m', 'SELECT label, a, ''x'' AS s FROM d')`, `feature column "s" is VARCHAR`},
		{`train('m', 'SELECT label, a FROM d', model := 'gru')`, "model 'gru' takes exactly one list-of-lists"},
		{`train('m', 'SELECT label, a FROM d', validation := 1.5)`, "validation := 1.5"},
		{`train('m', 'SELECT label, a FROM nowhere')`, "nowhere"},
	} {
		_, err := db.Exec(`SELECT * FROM ` + c.call)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.call, err, c.want)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM models()`); n != 0 {
		t.Errorf("%d models stored by failed trainings", n)
	}
}

func TestCancelStoresNothing(t *testing.T) {
	db := open(t, "")
	exec(t, db, createData)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := db.ExecContext(ctx, `SELECT count(*) FROM train('m', 'SELECT label, a, b, v FROM d', epochs := 100000, threads := 1)`)
	if err == nil {
		t.Fatal("a 100000-epoch training finished before its deadline")
	}
	if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "nterrupt") {
		t.Logf("cancelled training: %v", err)
	}
	if n := count(t, db, `SELECT count(*) FROM models()`); n != 0 {
		t.Errorf("%d models stored by a cancelled training", n)
	}
}

// A sequence model: each row's particles are a list of [x, y] steps whose
// count and values depend on the class.
func TestGRUSequences(t *testing.T) {
	db := open(t, "")
	exec(t, db, `CREATE TABLE s AS SELECT i, (i % 2)::BIGINT AS label,
		[[(i % 2) + (hash(i * 31 + j) % 100) / 100.0, j / 4.0] FOR j IN range(1 + (i % 2) * 2 + i % 3)]::FLOAT[][] AS parts
		FROM range(600) t(i)`)
	exec(t, db, `SELECT count(*) FROM train('g', 'SELECT label, parts FROM s', model := 'gru', gru_units := 6, epochs := 2, threads := 1, validation := 0)`)
	m := loadModel(t, db, "g")
	if m.Spec.SeqLen != 5 || m.Spec.SeqDim != 2 || m.Spec.Classes != 2 {
		t.Fatalf("stored spec %+v; want the longest sequence (5) of 2-value steps, 2 classes", m.Spec)
	}
	rows, err := db.Query(`SELECT i, p.parts, p.prob_1 FROM predict('g', 'SELECT * FROM s') p ORDER BY i`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var i int
		var parts []any
		var p1 float32
		if err := rows.Scan(&i, &parts, &p1); err != nil {
			t.Fatal(err)
		}
		seq := make([]float32, m.Spec.SeqLen*m.Spec.SeqDim)
		for j, st := range parts {
			for k, v := range st.([]any) {
				seq[j*2+k] = v.(float32)
			}
		}
		want, err := m.Predict([][]float32{seq}, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(float64(p1-want[0][1])) > 1e-6 {
			t.Fatalf("row %d: predict %g, nn %g", i, p1, want[0][1])
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// One-hot labels and fixed-size arrays train like integer labels and lists.
func TestOneHotAndArrays(t *testing.T) {
	db := open(t, "")
	exec(t, db, createData)
	exec(t, db, `SELECT count(*) FROM train('o', 'SELECT [label = 0, label = 1, label = 2]::FLOAT[3] AS y, [a, b]::FLOAT[2] AS ab FROM d',
		label := 'y', epochs := 2, threads := 1)`)
	m := loadModel(t, db, "o")
	if m.Spec.Classes != 3 || m.Spec.HLFDim != 2 {
		t.Fatalf("stored spec %+v; want 3 classes from the one-hot width, 2 features", m.Spec)
	}
	var acc float64
	if err := db.QueryRow(`SELECT accuracy FROM evaluate('o', 'SELECT [label = 0, label = 1, label = 2]::FLOAT[3] AS y, [a, b]::FLOAT[2] AS ab FROM d')`).Scan(&acc); err != nil {
		t.Fatal(err)
	}
	if acc < 0.6 {
		t.Errorf("accuracy %g with one-hot labels; want > 0.6", acc)
	}
}
