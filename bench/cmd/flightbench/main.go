// Command flightbench measures hepsql serve's SQL door: a 10 M-value
// result (Jet_pt of the CMS sample read 594 times, unnested) fetched
// through Arrow Flight SQL by a Go client (arrow-go's database/sql driver,
// and its plain Flight SQL client reading Arrow batches), against the same
// query run in process through database/sql. Server and client share the
// machine (one process, the server on a loopback port).
//
//	go run ./bench/cmd/flightbench [-readme bench/README.md] [-runs 3]
//
// It prints a table and, with -readme, rewrites the block between its
// markers in that file.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	_ "github.com/apache/arrow-go/v18/arrow/flight/flightsql/driver"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/serve/sqlflight"
)

func main() {
	readme := flag.String("readme", "", "Markdown `FILE` whose flightbench block is rewritten; empty: print only")
	sample := flag.String("sample", "../shared/data/Run2012B_SingleMu_10000.root", "the CMS sample")
	copies := flag.Int("copies", 594, "times the sample is read (594: 10.0 M jets)")
	runs := flag.Int("runs", 3, "runs of each way; the best is reported")
	batchRows := flag.Int("batch-rows", 0, "the gathering server's sqlflight.Options.BatchRows (0: its default)")
	flag.Parse()
	if err := run(*readme, *sample, *copies, *runs, *batchRows); err != nil {
		log.Fatal(err)
	}
}

// way is one way of fetching the result: it returns the values read and
// their sum (to check that every way read the same).
type way struct {
	name  string
	fetch func(ctx context.Context, query string) (n int64, sum float64, err error)
	best  time.Duration
	n     int64
	sum   float64
}

func run(readme, sample string, copies, runs, batchRows int) error {
	ctx := context.Background()
	machine, err := bench.DescribeMachine(ctx)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(sample)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("flightbench: the CMS sample: %w", err)
	}
	names := make([]string, copies)
	for i := range names {
		names[i] = "'" + strings.ReplaceAll(abs, "'", "''") + "'"
	}
	query := "SELECT unnest(Jet_pt) AS pt FROM read_root([" + strings.Join(names, ", ") + "])"

	db, err := hepsql.Open("")
	if err != nil {
		return err
	}
	defer db.Close()
	serveWith := func(batchRows int) (string, func(), error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", nil, err
		}
		gs := grpc.NewServer()
		sqlflight.New(db, sqlflight.Options{BatchRows: batchRows}).Register(gs)
		go gs.Serve(ln)
		return ln.Addr().String(), gs.Stop, nil
	}
	addr, stop, err := serveWith(batchRows)
	if err != nil {
		return err
	}
	defer stop()
	addr2048, stop2048, err := serveWith(2048)
	if err != nil {
		return err
	}
	defer stop2048()

	viaSQL := func(db *sql.DB) func(ctx context.Context, query string) (int64, float64, error) {
		return func(ctx context.Context, query string) (int64, float64, error) {
			rows, err := db.QueryContext(ctx, query)
			if err != nil {
				return 0, 0, err
			}
			defer rows.Close()
			var n int64
			var sum float64
			var pt float32
			for rows.Next() {
				if err := rows.Scan(&pt); err != nil {
					return 0, 0, err
				}
				n++
				sum += float64(pt)
			}
			return n, sum, rows.Err()
		}
	}
	remote, err := sql.Open("flightsql", "flightsql://"+addr)
	if err != nil {
		return err
	}
	defer remote.Close()
	remote2048, err := sql.Open("flightsql", "flightsql://"+addr2048)
	if err != nil {
		return err
	}
	defer remote2048.Close()
	arrowClient := func(addr string) (func(ctx context.Context, query string) (int64, float64, error), func(), error) {
		cl, err := flightsql.NewClient(addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, nil, err
		}
		return func(ctx context.Context, query string) (int64, float64, error) { return fetchArrow(ctx, cl, query) }, func() { cl.Close() }, nil
	}
	arrowGathered, close1, err := arrowClient(addr)
	if err != nil {
		return err
	}
	defer close1()
	arrow2048, close2, err := arrowClient(addr2048)
	if err != nil {
		return err
	}
	defer close2()
	ways := []*way{
		{name: "in process, database/sql (hepsql driver)", fetch: viaSQL(db)},
		{name: "Flight SQL, database/sql (arrow-go flightsql driver)", fetch: viaSQL(remote)},
		{name: "Flight SQL, database/sql, batches of 2,048 rows (no gathering)", fetch: viaSQL(remote2048)},
		{name: "Flight SQL, arrow-go client reading Arrow batches", fetch: arrowGathered},
		{name: "Flight SQL, arrow-go client, batches of 2,048 rows (no gathering)", fetch: arrow2048},
	}
	// Warm the file cache and read_root's metadata cache first.
	if _, _, err := ways[0].fetch(ctx, query); err != nil {
		return err
	}
	start := time.Now()
	for r := range runs {
		for _, w := range ways {
			t0 := time.Now()
			n, sum, err := w.fetch(ctx, query)
			d := time.Since(t0)
			if err != nil {
				return fmt.Errorf("%s: %w", w.name, err)
			}
			if r == 0 || d < w.best {
				w.best = d
			}
			w.n, w.sum = n, sum
			fmt.Fprintf(os.Stderr, "%s: %s values in %.3fs\n", w.name, bench.Thousands(n), d.Seconds())
		}
	}
	for _, w := range ways[1:] {
		if w.n != ways[0].n || w.sum != ways[0].sum {
			return fmt.Errorf("%s read %d values summing to %g; in process %d summing to %g", w.name, w.n, w.sum, ways[0].n, ways[0].sum)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s (%d cores), commit %s; load %s; %s in all.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), machine.CPU, machine.Cores, machine.Commit, bench.LoadAverage(),
		time.Since(start).Round(time.Second))
	fmt.Fprintf(&b, "Query: `SELECT unnest(Jet_pt) AS pt FROM read_root([sample × %d])`, %s FLOAT values; best of %d runs each.\n\n", copies, bench.Thousands(ways[0].n), runs)
	b.WriteString("| client | seconds | M values/s | speed vs in process |\n|---|--:|--:|--:|\n")
	for _, w := range ways {
		fmt.Fprintf(&b, "| %s | %.3f | %.2f | %.0f %% |\n", w.name, w.best.Seconds(), float64(w.n)/w.best.Seconds()/1e6,
			100*ways[0].best.Seconds()/w.best.Seconds())
	}
	fmt.Print(b.String())
	if readme != "" {
		return bench.WriteSectionUnder(readme, "## SQL over Arrow Flight SQL (flightbench)", "<!-- flightbench begin -->", "<!-- flightbench end -->", b.String())
	}
	return nil
}

// fetchArrow runs query through cl and sums its Arrow batches.
func fetchArrow(ctx context.Context, cl *flightsql.Client, query string) (int64, float64, error) {
	info, err := cl.Execute(ctx, query)
	if err != nil {
		return 0, 0, err
	}
	rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		return 0, 0, err
	}
	defer rdr.Release()
	var n int64
	var sum float64
	for rdr.Next() {
		col := rdr.RecordBatch().Column(0).(*array.Float32)
		for _, v := range col.Float32Values() {
			sum += float64(v)
		}
		n += int64(col.Len())
	}
	if err := rdr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return 0, 0, err
	}
	return n, sum, nil
}
