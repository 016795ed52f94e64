package engine

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestStreamProgress: a statement running over a second reports DuckDB's
// progress estimate from another goroutine, then a last call with done.
func TestStreamProgress(t *testing.T) {
	conn := mustConn(t)
	ctx := context.Background()
	progressDelay = 0
	defer func() { progressDelay = time.Second }()
	// A parallel table scan: DuckDB estimates no progress for range() alone
	// when it runs on more than one thread.
	if _, err := conn.ExecContext(ctx, "SET enable_progress_bar = true; SET enable_progress_bar_print = false; CREATE TABLE big AS SELECT range AS r FROM range(3000000)"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []float64
	var done bool
	pctx := WithProgress(ctx, func(p float64, d bool) {
		mu.Lock()
		defer mu.Unlock()
		seen, done = append(seen, p), d
	})
	out, err := StreamStatement(pctx, conn, Statement{SQL: "SELECT count(*) FROM big WHERE md5(r::VARCHAR) LIKE 'ab%'"}, func(rows *Rows) error {
		for {
			row, err := rows.Next()
			if row == nil || err != nil {
				return err
			}
		}
	})
	if err != nil || !out.HasRows {
		t.Fatal(err, out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 2 || !done || seen[len(seen)-1] != 100 {
		t.Fatalf("progress reports %v, done %v", seen, done)
	}
	for _, p := range seen[:len(seen)-1] {
		if p < 0 || p > 100 {
			t.Errorf("progress %v out of 0..100", p)
		}
	}
}

// TestCopyStatus: COPY ... TO reports the rows written, other statements
// without rows nothing.
func TestCopyStatus(t *testing.T) {
	conn := mustConn(t)
	file := t.TempDir() + "/x.csv"
	for sql, want := range map[string]string{
		"COPY (SELECT range FROM range(1234)) TO '" + file + "'": "1234 rows written",
		"CREATE TABLE c AS SELECT 1 AS a":                        "",
	} {
		out, err := StreamStatement(context.Background(), conn, Statement{SQL: sql}, func(*Rows) error { return nil })
		if err != nil || out.HasRows || out.Status != want {
			t.Errorf("%s: %+v %v, want status %q", sql, out, err, want)
		}
	}
}

// TestSplitSQLAt: statements of text that starts at line 3, column 5 of
// an input are placed in that input.
func TestSplitSQLAt(t *testing.T) {
	stmts, rest, pending := SplitSQLAt("SELECT 1; SELECT\n  2;\n\tSELECT 3", 3, 5)
	if len(stmts) != 2 || rest != "\n\tSELECT 3" || !pending {
		t.Fatalf("%+v %q %v", stmts, rest, pending)
	}
	for i, want := range [][2]int{{3, 5}, {3, 15}} {
		if stmts[i].Line != want[0] || stmts[i].Col != want[1] {
			t.Errorf("statement %d at %d:%d, want %d:%d", i, stmts[i].Line, stmts[i].Col, want[0], want[1])
		}
	}
	if line, col := stmts[1].position(len("SELECT\n  ")); line != 4 || col != 3 {
		t.Errorf("second line of statement 2 at %d:%d, want 4:3", line, col)
	}
}

// TestTrainingRowsStream: train's epoch rows reach the reader as each epoch
// ends, not all at its end (DuckDB's stream buffer would hold them), and
// the session's buffer setting comes back afterwards.
func TestTrainingRowsStream(t *testing.T) {
	ctx := context.Background()
	conn, err := openHepsql(t).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var arrived []time.Time
	q := `SELECT epoch FROM train('stream_test', 'SELECT (r > 0.5)::INT AS label, [r, random(), random(), random()] AS f
	      FROM (SELECT random() AS r FROM range(60000))', model := 'mlp', hidden := [64, 64], epochs := 4)`
	_, err = StreamStatement(ctx, conn, Statement{SQL: q}, func(rows *Rows) error {
		for {
			row, err := rows.Next()
			if row == nil || err != nil {
				return err
			}
			arrived = append(arrived, time.Now())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(arrived) != 4 {
		t.Fatalf("%d epoch rows, want 4", len(arrived))
	}
	// Rows held to the end arrive within a millisecond of each other;
	// streamed ones an epoch apart.
	if spread := arrived[3].Sub(arrived[0]); spread < 20*time.Millisecond {
		t.Errorf("epoch rows arrived within %v: held to the end of training", spread)
	}
	var setting string
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('streaming_buffer_size')").Scan(&setting); err != nil || setting != "976.5 KiB" {
		t.Errorf("streaming_buffer_size after training: %q %v, want the default back", setting, err)
	}
}
