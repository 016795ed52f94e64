package sqlflight_test

import (
	"context"
	"database/sql"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	_ "github.com/apache/arrow-go/v18/arrow/flight/flightsql/driver"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/serve/sqlflight"
)

// serveOn runs a Flight SQL server over db on a loopback port and
// returns a database/sql client of it (arrow-go's driver).
func serveOn(t *testing.T, db *sql.DB, opts sqlflight.Options) *sql.DB {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	sqlflight.New(db, opts).Register(gs)
	go gs.Serve(ln)
	t.Cleanup(gs.Stop)
	c, err := sql.Open("flightsql", "flightsql://"+ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestCancel: a client's cancellation interrupts the server's query. The
// server's pool has one connection, so the next query can only run once
// the cancelled one (a sum over 10^12 numbers: hours) has let go of it.
func TestCancel(t *testing.T) {
	db, err := hepsql.Open("?threads=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	c := serveOn(t, db, sqlflight.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		var v any
		errc <- c.QueryRowContext(ctx, "SELECT sum(range) FROM range(1000000000000)").Scan(&v)
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("a cancelled query returned no error")
	}
	qctx, qcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer qcancel()
	var n int64
	if err := c.QueryRowContext(qctx, "SELECT 41 + 1").Scan(&n); err != nil || n != 42 {
		t.Fatalf("the next query: %d, %v (the cancelled one still holds the connection?)", n, err)
	}
}

// TestDisconnect: a client that goes away in the middle of a stream
// (after its first batch, of a result of hours) frees the server's one
// connection for the next client, and a request over the gRPC message
// limit is refused without harm.
func TestDisconnect(t *testing.T) {
	db, err := hepsql.Open("?threads=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(4096))
	sqlflight.New(db, sqlflight.Options{}).Register(gs)
	go gs.Serve(ln)
	defer gs.Stop()
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	cl, err := flightsql.NewClient(addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	info, err := cl.Execute(ctx, "SELECT range FROM range(1000000000000)")
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if !rdr.Next() {
		t.Fatalf("no first batch: %v", rdr.Err())
	}
	cancel()
	cl.Close() // the connection goes, mid-stream
	c, err := sql.Open("flightsql", "flightsql://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Exec("SELECT '" + strings.Repeat("x", 10000) + "'"); err == nil || !strings.Contains(err.Error(), "ResourceExhausted") {
		t.Errorf("a request over the message limit: %v", err)
	}
	qctx, qcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer qcancel()
	var n int64
	if err := c.QueryRowContext(qctx, "SELECT 41 + 1").Scan(&n); err != nil || n != 42 {
		t.Fatalf("the next query: %d, %v (the abandoned stream still holds the connection?)", n, err)
	}
}

// TestTimeout: a statement over Options.QueryTimeout ends with an error
// that says so.
func TestTimeout(t *testing.T) {
	db, err := hepsql.Open("?threads=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := serveOn(t, db, sqlflight.Options{QueryTimeout: 200 * time.Millisecond})
	var v any
	err = c.QueryRowContext(context.Background(), "SELECT sum(range) FROM range(1000000000000)").Scan(&v)
	if err == nil || !strings.Contains(err.Error(), "time limit") {
		t.Fatalf("a statement over the time limit: %v", err)
	}
}

// TestBatches: a result larger than a batch arrives whole and in order,
// NULLs and strings included, and an error in the middle of a stream
// reaches the client.
func TestBatches(t *testing.T) {
	db, err := hepsql.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := serveOn(t, db, sqlflight.Options{BatchRows: 5000, Hide: []string{"/secret/place"}})
	rows, err := c.Query("SELECT range AS i, CASE WHEN range % 7 = 0 THEN NULL ELSE 'r' || range END AS s FROM range(100000) ORDER BY i")
	if err != nil {
		t.Fatal(err)
	}
	want := int64(0)
	for rows.Next() {
		var i int64
		var s sql.NullString
		if err := rows.Scan(&i, &s); err != nil {
			t.Fatal(err)
		}
		if i != want || s.Valid != (i%7 != 0) || s.Valid && s.String != "r"+itoa(i) {
			t.Fatalf("row %d: %d %v", want, i, s)
		}
		want++
	}
	if err := rows.Err(); err != nil || want != 100000 {
		t.Fatalf("%d rows, %v", want, err)
	}
	rows.Close()
	// An error raised after rows have streamed.
	rows, err = c.Query("SELECT CASE WHEN range = 90000 THEN error('bad row at /secret/place/x') ELSE range END FROM range(100000)")
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "bad row") || strings.Contains(err.Error(), "/secret/place") {
		t.Fatalf("an error in the stream: %v", err)
	}
}

func itoa(n int64) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

// TestWideBatches: batches of wide rows stay under the 4 MiB a gRPC
// client accepts by default (arrow-go's clients do not raise it), and a
// single DuckDB chunk wider than that is split into row slices.
func TestWideBatches(t *testing.T) {
	db, err := hepsql.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := serveOn(t, db, sqlflight.Options{})
	// 65,536 rows of 16 doubles would be 8 MiB in one gathered batch.
	rows, err := c.Query("SELECT " + strings.Repeat("range::DOUBLE + 0.5 AS x, ", 15) + "range AS i FROM range(200000)")
	if err != nil {
		t.Fatal(err)
	}
	n := int64(0)
	vals := make([]any, 16)
	ptrs := make([]any, 16)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		if vals[15] != n || vals[0] != float64(n)+0.5 {
			t.Fatalf("row %d: %v", n, vals)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != 200000 {
		t.Fatalf("wide rows: %d rows, %v", n, err)
	}
	rows.Close()

	// 2,048 rows of a 600-double list: 10 MiB in one DuckDB chunk. The
	// database/sql driver reads no LIST: read Arrow batches.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	sqlflight.New(db, sqlflight.Options{}).Register(gs)
	go gs.Serve(ln)
	defer gs.Stop()
	cl, err := flightsql.NewClient(ln.Addr().String(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	info, err := cl.Execute(ctx, "SELECT range AS i, list_transform(range(600), x -> x + range) AS l FROM range(10000)")
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	// The FlightInfo's schema, from planning, is the stream's.
	if sc, err := flight.DeserializeSchema(info.Schema, memory.DefaultAllocator); err != nil || !sc.Equal(rdr.Schema()) {
		t.Errorf("FlightInfo schema %v (%v), stream schema %v", sc, err, rdr.Schema())
	}
	n = 0
	for rdr.Next() {
		rec := rdr.RecordBatch()
		is := rec.Column(0).(*array.Int64)
		ls := rec.Column(1).(*array.List)
		vs := ls.ListValues().(*array.Int64)
		for r := range int(rec.NumRows()) {
			start, end := ls.ValueOffsets(r)
			if is.Value(r) != n || end-start != 600 || vs.Value(int(start)+599) != n+599 {
				t.Fatalf("row %d wrong", n)
			}
			n++
		}
	}
	if err := rdr.Err(); err != nil || n != 10000 {
		t.Fatalf("wide lists: %d rows, %v", n, err)
	}
}
