package sqlml_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestModelVersions trains two versions of one name with different
// settings, and checks which is current, that each can be used by number
// (version := N and 'name@N' giving the same figures), that promote_model
// and drop_model act on one version, and that tune keeps a better current
// version unless promote := 'always'.
func TestModelVersions(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "models.db"))
	exec(t, db, createData)
	// Version 1 learns the classes; version 2, one epoch at a tiny rate,
	// does not.
	exec(t, db, `SELECT count(*) FROM train('m', 'SELECT label, a, b FROM d', hidden := [16], epochs := 5, lr := 0.01, threads := 1)`)
	if c := count(t, db, `SELECT version FROM models() WHERE name = 'm' AND current`); c != 1 {
		t.Fatalf("current version %d after the first training, want 1", c)
	}
	exec(t, db, `SELECT count(*) FROM train('m', 'SELECT label, a, b FROM d', hidden := [4], epochs := 1, lr := 0.00001, threads := 1)`)
	if c := count(t, db, `SELECT version FROM models() WHERE name = 'm' AND current`); c != 2 {
		t.Fatalf("current version %d after the second training, want 2 (train makes its version current)", c)
	}
	if n := count(t, db, `SELECT count(*) FROM models() WHERE current`); n != 1 {
		t.Fatalf("%d current versions, want 1", n)
	}

	accuracy := func(call string) (int, float64) {
		t.Helper()
		var v int
		var acc float64
		if err := db.QueryRow(`SELECT version, accuracy FROM `+call).Scan(&v, &acc); err != nil {
			t.Fatalf("%s: %v", call, err)
		}
		return v, acc
	}
	const test = `'SELECT label, a, b FROM d'`
	vCur, accCur := accuracy(`evaluate('m', ` + test + `)`)
	v1, acc1 := accuracy(`evaluate('m', ` + test + `, version := 1)`)
	v1at, acc1at := accuracy(`evaluate('m@1', ` + test + `)`)
	v2, acc2 := accuracy(`evaluate('m@2', ` + test + `)`)
	if vCur != 2 || v1 != 1 || v1at != 1 || v2 != 2 {
		t.Fatalf("evaluated versions %d, %d, %d, %d; want 2 (current), 1, 1, 2", vCur, v1, v1at, v2)
	}
	if acc1 != acc1at || accCur != acc2 {
		t.Errorf("the same version scored differently: v1 %g / %g, current %g / v2 %g", acc1, acc1at, accCur, acc2)
	}
	if acc1 < 0.8 || acc2 > 0.6 {
		t.Errorf("accuracy %g (version 1), %g (version 2); want the trained one >= 0.8, the untrained one <= 0.6", acc1, acc2)
	}

	// predict and predict_proba by version: version 1's probabilities are
	// predict's for version 1, and differ from the current version's.
	var p1, pAt1, pCur, pPred1 float64
	if err := db.QueryRow(`SELECT predict_proba('m@1', [a, b])[1], predict_proba('m', [a, b])[1] FROM d WHERE i = 3`).Scan(&p1, &pCur); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT prob_0 FROM predict('m', 'SELECT a, b FROM d WHERE i = 3', version := 1)`).Scan(&pPred1); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT prob_0 FROM predict('m@1', 'SELECT a, b FROM d WHERE i = 3')`).Scan(&pAt1); err != nil {
		t.Fatal(err)
	}
	if float32(p1) != float32(pPred1) || pAt1 != pPred1 {
		t.Errorf("version 1's P(class 0) for row i=3: predict_proba %g, predict version := 1 %g, predict 'm@1' %g", p1, pPred1, pAt1)
	}
	if p1 < 0.6 || pCur > 0.5 {
		t.Errorf("P(class 0) of a class-0 row: %g under version 1, %g under version 2; want > 0.6 and < 0.5", p1, pCur)
	}

	// promote_model makes version 1 current, and every function follows.
	var name string
	var version, previous int
	if err := db.QueryRow(`SELECT * FROM promote_model('m', 1)`).Scan(&name, &version, &previous); err != nil {
		t.Fatal(err)
	}
	if name != "m" || version != 1 || previous != 2 {
		t.Errorf("promote_model returned %s, %d, %d; want m, 1, 2", name, version, previous)
	}
	if v, acc := accuracy(`evaluate('m', ` + test + `)`); v != 1 || acc != acc1 {
		t.Errorf("after promoting 1, evaluate used version %d (accuracy %g), want 1 (%g)", v, acc, acc1)
	}
	var pNow float64
	if err := db.QueryRow(`SELECT predict_proba('m', [a, b])[1] FROM d WHERE i = 3`).Scan(&pNow); err != nil || pNow != p1 {
		t.Errorf("after promoting 1, predict_proba('m') gives %g (%v), want version 1's %g", pNow, err, p1)
	}

	// tune keeps the better current version by default ...
	exec(t, db, `SELECT count(*) FROM tune('m', 'SELECT label, a, b FROM d', grid := '{"lr": [0.00001]}', hidden := [4], epochs := 1, threads := 1)`)
	if c := count(t, db, `SELECT version FROM models() WHERE name = 'm' AND current`); c != 1 {
		t.Errorf("after a worse tune, current version %d, want 1 kept", c)
	}
	if n := count(t, db, `SELECT max(version) FROM models() WHERE name = 'm'`); n != 3 {
		t.Errorf("the tuned model was stored as version %d, want 3", n)
	}
	// ... and replaces it with promote := 'always'.
	exec(t, db, `SELECT count(*) FROM tune('m', 'SELECT label, a, b FROM d', grid := '{"lr": [0.00001]}', hidden := [4], epochs := 1, threads := 1, promote := 'always')`)
	if c := count(t, db, `SELECT version FROM models() WHERE name = 'm' AND current`); c != 4 {
		t.Errorf("after tune with promote := 'always', current version %d, want 4", c)
	}
	// A better tune than the current version is promoted by default.
	exec(t, db, `SELECT count(*) FROM tune('m', 'SELECT label, a, b FROM d', grid := '{"lr": [0.01]}', hidden := [16], epochs := 5, threads := 1)`)
	if c := count(t, db, `SELECT version FROM models() WHERE name = 'm' AND current`); c != 5 {
		t.Errorf("after a better tune, current version %d, want 5", c)
	}

	// drop_model drops one version; dropping the current one makes the
	// newest left current.
	if n := count(t, db, `SELECT dropped FROM drop_model('m', version := 2)`); n != 1 {
		t.Errorf("drop_model version := 2 dropped %d, want 1", n)
	}
	if n := count(t, db, `SELECT dropped FROM drop_model('m@5')`); n != 1 {
		t.Errorf("drop_model('m@5') dropped %d, want 1", n)
	}
	var left []any
	if err := db.QueryRow(`SELECT list(version ORDER BY version) FROM models() WHERE name = 'm'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if len(left) != 3 || left[0] != int64(1) || left[1] != int64(3) || left[2] != int64(4) {
		t.Errorf("versions left %v, want [1 3 4]", left)
	}
	if c := count(t, db, `SELECT version FROM models() WHERE name = 'm' AND current`); c != 4 {
		t.Errorf("after dropping the current version 5, current version %d, want 4 (the newest left)", c)
	}

	// A number dropped alone is not reused.
	exec(t, db, `SELECT count(*) FROM train('m', 'SELECT label, a, b FROM d', hidden := [4], epochs := 1, threads := 1)`)
	if n := count(t, db, `SELECT max(version) FROM models() WHERE name = 'm'`); n != 6 {
		t.Errorf("a training after dropping version 5 stored version %d, want 6", n)
	}
	exec(t, db, `SELECT * FROM drop_model('m', version := 6)`)

	for _, c := range []struct{ q, want string }{
		{`SELECT * FROM evaluate('m@2', ` + test + `)`, `no such model "m" version 2; it has versions 1, 3, 4`},
		{`SELECT * FROM evaluate('m', ` + test + `, version := 9)`, `version 9`},
		{`SELECT * FROM evaluate('m@1', ` + test + `, version := 3)`, `two different versions`},
		{`SELECT * FROM evaluate('m@x', ` + test + `)`, `name@version`},
		{`SELECT predict_proba('m@7', [a, b]) FROM d`, `version 7`},
		{`SELECT * FROM promote_model('m', 2)`, `no such model "m" version 2`},
		{`SELECT * FROM promote_model('nope', 1)`, `no such model "nope"`},
		{`SELECT * FROM drop_model('m', version := 2)`, `no such model "m" version 2`},
		{`SELECT * FROM train('m@2', 'SELECT label, a FROM d')`, `'@' separates a name from a version`},
		{`SELECT * FROM tune('m', 'SELECT label, a FROM d', grid := '{"lr": [0.1]}', promote := 'maybe')`, `promote := "maybe"`},
	} {
		_, err := db.Exec(c.q)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.q, err, c.want)
		}
	}

	// The current version survives reopening the database file.
	var path string
	if err := db.QueryRow(`SELECT path FROM duckdb_databases() WHERE database_name = current_database()`).Scan(&path); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, path)
	if c := count(t, db, `SELECT version FROM models() WHERE name = 'm' AND current`); c != 4 {
		t.Errorf("after reopening, current version %d, want 4", c)
	}
}

// TestModelInputErrors: a wrong number of features says what the model
// expects, and DECIMAL features (a literal such as 1.5 is one) are read as
// numbers.
func TestModelInputErrors(t *testing.T) {
	db := open(t, "")
	exec(t, db, createData)
	exec(t, db, `SELECT count(*) FROM train('m', 'SELECT label, v FROM d', epochs := 1, threads := 1)`)
	for _, c := range []struct{ q, want string }{
		{`SELECT predict_proba('m', [1.0, 2.0, 3.0])`, `model "m": data: wrong shape: the model expects 2 features in argument "features", got 3`},
		{`SELECT * FROM predict('m', 'SELECT [0.5, 1.0, 2.0] AS v')`, `the model expects 2 features in column "v", got 3 in row 1`},
		// A scalar function's rows are chunk positions: no row is named.
		{`SELECT predict_proba(CASE WHEN x = 3 THEN 'n' ELSE 'm' END, [1.0, 2.0]) FROM range(5) t(x)`, `one model per call: both "m" and "n" are named`},
		{`SELECT predict_proba('m', CASE WHEN x = 3 THEN [1.0, 'nan'::DOUBLE] ELSE [1.0, 2.0] END) FROM range(5) t(x)`, `NaN at value 2`},
		{`SELECT * FROM train('x', 'SELECT label, ''2020-01-01''::DATE AS day FROM d')`, `feature column "day" is DATE`},
		{`SELECT * FROM train('x', 'SELECT label, [{''a'': 1.5}] AS s FROM d')`, `feature column "s" is STRUCT`},
	} {
		_, err := db.Exec(c.q)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.q, err, c.want)
		}
		if strings.HasPrefix(c.q, "SELECT predict_proba") && err != nil && strings.Contains(err.Error(), " row ") {
			t.Errorf("%s: error %v names a chunk's row", c.q, err)
		}
	}
	// DECIMAL lists and scalars: the same probabilities as DOUBLE ones.
	var dec, dbl string
	if err := db.QueryRow(`SELECT p.prob_0::VARCHAR FROM predict('m', 'SELECT [0.25, 1.5] AS v') p`).Scan(&dec); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT p.prob_0::VARCHAR FROM predict('m', 'SELECT [0.25, 1.5]::DOUBLE[] AS v') p`).Scan(&dbl); err != nil {
		t.Fatal(err)
	}
	if dec != dbl {
		t.Errorf("DECIMAL[] features give P(class 0) %s, DOUBLE[] %s", dec, dbl)
	}
	exec(t, db, `SELECT count(*) FROM train('dec', 'SELECT label, round(a, 2)::DECIMAL(6,2) AS a, [round(b, 3)::DECIMAL(18,3)] AS b FROM d', epochs := 1, threads := 1)`)
	if n := count(t, db, `SELECT count(*) FROM evaluate('dec', 'SELECT label, round(a, 2)::DECIMAL(6,2) AS a, [round(b, 3)::DECIMAL(18,3)] AS b FROM d')`); n != 1 {
		t.Errorf("evaluate on DECIMAL features: %d rows", n)
	}
}
