package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/hepsql/hepsql/internal/capi"
)

// Rows is a statement's result while it streams: DuckDB computes the rows
// as Next asks for them, so a consumer that does not keep them (CSV to a
// file) runs in memory independent of the result's size.
type Rows struct {
	Columns []string  // column names, in order
	Types   []string  // DuckDB type names, as in Result.Types
	Stmt    Statement // the statement that produced them

	start  time.Time
	peeked []any
	next   func() ([]any, error) // nil, nil at the end
	fetch  *func()               // where SetBeforeFetch puts its hook
	count  int64
}

// Next returns the next row, a fresh slice the caller may keep, or nil at
// the end of the result.
func (r *Rows) Next() ([]any, error) {
	if r.peeked != nil {
		row := r.peeked
		r.peeked = nil
		r.count++
		return row, nil
	}
	row, err := r.next()
	if row != nil {
		r.count++
	}
	return row, err
}

// Count is the number of rows Next has returned so far.
func (r *Rows) Count() int64 { return r.count }

// Elapsed is the time since the statement started: once Next has returned
// nil, the time it took to run and read it whole.
func (r *Rows) Elapsed() time.Duration { return time.Since(r.start) }

// SetBeforeFetch sets f to be called before each wait for DuckDB to compute
// more rows, so that a buffered writer can flush what it has: rows that
// arrive slowly (one per training epoch) are then seen as they come.
func (r *Rows) SetBeforeFetch(f func()) {
	if r.fetch != nil {
		*r.fetch = f
	}
}

// RowsOf streams the collected rows of res, for printing code written for
// streams.
func RowsOf(res Result) *Rows {
	i := 0
	return &Rows{Columns: res.Columns, Types: res.Types, Stmt: res.Stmt, start: time.Now().Add(-res.Elapsed),
		next: func() ([]any, error) {
			if i >= len(res.Rows) {
				return nil, nil
			}
			i++
			return res.Rows[i-1], nil
		}}
}

// Outcome is what StreamStatement tells about a statement besides its rows.
type Outcome struct {
	// HasRows is true when the statement returned rows to show (then
	// consume was called), false for statements that only report a status
	// (DDL, SET, INSERT without RETURNING, COPY).
	HasRows bool
	// Status is a line worth telling about a statement without rows:
	// "N rows written" for COPY ... TO.
	Status string
	// Notices are the engine's notices about the statement (see Notices),
	// also when it fails.
	Notices []string
	Elapsed time.Duration
}

type progressKey struct{}

// progressDelay is how long a statement runs before its progress is
// reported (tests shorten it).
var progressDelay = time.Second

// WithProgress returns a context under which StreamStatement calls report
// about every 100 ms with DuckDB's estimate (0 to 100) of a statement's
// progress, from another goroutine, once the statement has run for a
// second; done is true on the last call, when the statement has finished.
// DuckDB estimates progress only on a session with SET
// enable_progress_bar = true (and enable_progress_bar_print = false, so
// that it does not draw its own bar).
func WithProgress(ctx context.Context, report func(percent float64, done bool)) context.Context {
	return context.WithValue(ctx, progressKey{}, report)
}

// StreamStatement runs one statement on conn. If it returns rows, consume
// is called with them while they stream and must read them (or return an
// error) before returning; the statement ends when consume returns. Errors
// are the database's, unwrapped, except where Notices explains them better.
//
// Rows are read with DuckDB's streaming result on conn's own session,
// converted by internal/capi; a result column of a type that reader does not
// know (BIT, TIME WITH TIME ZONE, ...) makes the statement run through
// duckdb-go instead, which holds the whole result in memory.
func StreamStatement(ctx context.Context, conn *sql.Conn, st Statement, consume func(*Rows) error) (out Outcome, err error) {
	Notices(conn, nil) // what earlier statements run on conn left: not this one's
	start := time.Now()
	err = conn.Raw(func(dc any) error {
		var rows *Rows
		var closeRows func()
		h, herr := capi.ConnHandle(dc)
		if herr == nil {
			stop := watchProgress(ctx, h)
			if slowRows.MatchString(st.SQL) {
				restore := smallStreamBuffer(ctx, h)
				stopProgress := stop
				stop = func() { stopProgress(); restore() }
			}
			cr, qerr := capi.Query(ctx, h, st.SQL)
			switch {
			case errors.Is(qerr, capi.ErrUnsupportedType):
				stop()
			case qerr != nil:
				stop()
				return qerr
			default:
				var fetch func()
				cr.BeforeFetch = func() {
					if fetch != nil {
						fetch()
					}
				}
				rows = &Rows{Columns: cr.Columns(), Types: cr.Types(), fetch: &fetch}
				n := len(rows.Columns)
				rows.next = func() ([]any, error) {
					row := make([]any, n)
					ok, err := cr.Next(row)
					if !ok {
						return nil, err
					}
					return row, nil
				}
				closeRows = func() { cr.Close(); stop() }
			}
		}
		if rows == nil {
			var derr error
			if rows, closeRows, derr = driverRows(ctx, dc, st.SQL); derr != nil {
				return derr
			}
		}
		defer closeRows()
		rows.Stmt, rows.start = st, start
		if mayBeStatus(rows) {
			// Only a lone Success or Count column needs its first row
			// looked at; others go to consume at once, so that a header
			// shows before slow rows.
			first, err := rows.next()
			if err != nil {
				return err
			}
			if status, ok := statusOf(st.SQL, rows, first); ok {
				out.Status = status
				_, err := rows.next() // to the end: a streaming result finishes its statement there
				return err
			}
			rows.peeked = first
		}
		out.HasRows = true
		return consume(rows)
	})
	out.Elapsed = time.Since(start)
	out.Notices, err = Notices(conn, err)
	return out, err
}

// driverRows runs query through duckdb-go's own driver connection.
func driverRows(ctx context.Context, dc any, query string) (*Rows, func(), error) {
	q, ok := dc.(driver.QueryerContext)
	if !ok {
		return nil, nil, fmt.Errorf("engine: %T cannot run queries", dc)
	}
	dr, err := q.QueryContext(ctx, query, nil)
	if err != nil {
		return nil, nil, err
	}
	rows := &Rows{Columns: dr.Columns()}
	for i := range rows.Columns {
		name := ""
		if ct, ok := dr.(driver.RowsColumnTypeDatabaseTypeName); ok {
			name = ct.ColumnTypeDatabaseTypeName(i)
		}
		rows.Types = append(rows.Types, name)
	}
	rows.next = func() ([]any, error) {
		vals := make([]driver.Value, len(rows.Columns))
		if err := dr.Next(vals); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, nil
			}
			return nil, err
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			row[i] = v
		}
		return row, nil
	}
	return rows, func() { dr.Close() }, nil
}

func mayBeStatus(rows *Rows) bool {
	return len(rows.Columns) == 1 && (rows.Columns[0] == "Success" && rows.Types[0] == "BOOLEAN" ||
		rows.Columns[0] == "Count" && rows.Types[0] == "BIGINT")
}

// statusOf tells whether a result is a status report rather than data, and
// the line worth printing for it.
func statusOf(sqlText string, rows *Rows, first []any) (string, bool) {
	if len(rows.Columns) != 1 {
		return "", false
	}
	switch {
	case rows.Columns[0] == "Success" && rows.Types[0] == "BOOLEAN":
		return "", first == nil
	case rows.Columns[0] == "Count" && rows.Types[0] == "BIGINT":
		kw := firstKeyword(sqlText)
		if queryKeywords[kw] {
			return "", false
		}
		if kw == "COPY" && first != nil {
			if n, ok := first[0].(int64); ok {
				if n == 1 {
					return "1 row written", true
				}
				return fmt.Sprintf("%d rows written", n), true
			}
		}
		return "", true
	}
	return "", false
}

// watchProgress reports the progress of the statement about to run on h to
// ctx's progress reporter, if any; stop ends it (and waits for it).
func watchProgress(ctx context.Context, h capi.Handle) (stop func()) {
	report, _ := ctx.Value(progressKey{}).(func(float64, bool))
	if report == nil {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		shown := false
		select {
		case <-quit:
			return
		case <-time.After(progressDelay):
		}
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if p := capi.QueryProgress(h); p.Percent >= 0 {
				report(p.Percent, false)
				shown = true
			}
			select {
			case <-quit:
				if shown {
					report(100, true)
				}
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(quit); wg.Wait() })
	}
}

// slowRows matches statements that call a table function whose rows come
// slowly, one per training epoch: train and tune.
var slowRows = regexp.MustCompile(`(?i)\b(train|tune)\s*\(`)

// smallStreamBuffer makes DuckDB hand each row of a streaming result to
// its reader as soon as it exists, until restore is called. DuckDB fills a
// stream's buffer (streaming_buffer_size, about 1 MB) before the reader
// sees a row, so a training's epoch rows, a few bytes each, would all
// arrive at its end. A small buffer costs big results about a third of
// their speed (hepsql --mode csv of SELECT range, range*0.5 FROM
// range(5000000), twice each way on 2026-12-05: 3.3–4.4 s → 5.0–5.6 s), so
// only statements that train get it. '1B' and not 0: DuckDB 1.5 returns no rows at 0.
func smallStreamBuffer(ctx context.Context, h capi.Handle) (restore func()) {
	old, err := queryString(ctx, h, "SELECT current_setting('streaming_buffer_size')")
	if err != nil {
		return func() {}
	}
	if _, err := queryString(ctx, h, "SET streaming_buffer_size = '1B'"); err != nil {
		return func() {}
	}
	return func() {
		queryString(context.Background(), h, "SET streaming_buffer_size = '"+strings.ReplaceAll(old, "'", "''")+"'")
	}
}

// queryString runs query on h and returns its first value as text ("" for
// a statement without rows).
func queryString(ctx context.Context, h capi.Handle, query string) (string, error) {
	r, err := capi.Query(ctx, h, query)
	if err != nil {
		return "", err
	}
	defer r.Close()
	row := make([]any, len(r.Columns()))
	ok, err := r.Next(row)
	if err != nil || !ok || len(row) == 0 {
		return "", err
	}
	return fmt.Sprint(row[0]), nil
}
