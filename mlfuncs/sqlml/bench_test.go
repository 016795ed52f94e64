package sqlml_test

import (
	"fmt"
	"testing"

	"github.com/hepsql/hepsql"
)

// The SQL inference path on the topology mlp's shape (14 high-level
// features as DOUBLE[], 1 M rows), at DuckDB's 1 and 2 threads: the table
// function predict (one stream, each chunk fanned out over the threads)
// and the scalar predict_proba (run by DuckDB on its own threads).
func BenchmarkPredictSQL(b *testing.B) {
	const rows = 1 << 20
	for _, threads := range []int{1, 2} {
		db, err := hepsql.Open(fmt.Sprintf("?threads=%d", threads))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		for _, q := range []string{
			fmt.Sprintf(`CREATE TABLE p AS SELECT (i %% 3)::INTEGER AS label,
				list_transform(range(14), j -> (hash(i * 14 + j) %% 1000) / 1000.0 + 0.3 * (i %% 3))::DOUBLE[] AS hlf
				FROM range(%d) t(i)`, rows),
			`SELECT count(*) FROM train('m', 'SELECT label, hlf FROM p LIMIT 20000', epochs := 1, hidden := [50, 20, 10])`,
		} {
			if _, err := db.Exec(q); err != nil {
				b.Fatalf("%s: %v", q, err)
			}
		}
		for _, c := range []struct{ name, query string }{
			{"predict", fmt.Sprintf(`SELECT sum(prob_0) FROM predict('m', 'SELECT hlf FROM p', threads := %d)`, threads)},
			{"predict_proba", `SELECT sum(predict_proba('m', hlf)[1]) FROM p`},
		} {
			b.Run(fmt.Sprintf("%s/threads=%d", c.name, threads), func(b *testing.B) {
				for b.Loop() {
					var s float64
					if err := db.QueryRow(c.query).Scan(&s); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
			})
		}
	}
}
