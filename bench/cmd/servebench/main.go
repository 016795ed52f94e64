// Command servebench measures hepsql serve's inference over HTTP the way
// TFaaS's benchmark did: a dense network 42 × 128 × 128 × 128 × 64 × 64
// (and its output layer), trained briefly on generated data, one row per
// request, 1,000 requests from 100 concurrent clients and 5,000 from 200,
// in TFaaS's /json form and in the Open Inference Protocol (its JSON and
// its binary tensor extension); then requests of 1,000 rows each, in JSON
// and in binary. Server and load generator share the machine (one
// process, the server on a loopback port), as the bar asks.
//
//	go run ./bench/cmd/servebench [-readme bench/README.md] [-epochs 1]
//
// It prints a table and, with -readme, rewrites the block between its
// markers in that file.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/serve"
)

func main() {
	readme := flag.String("readme", "", "Markdown `FILE` whose servebench block is rewritten; empty: print only")
	epochs := flag.Int("epochs", 1, "training epochs (the figures are about serving, not the model)")
	rows := flag.Int("rows", 20000, "generated training rows")
	flag.Parse()
	if err := run(*readme, *epochs, *rows); err != nil {
		log.Fatal(err)
	}
}

type result struct {
	name             string
	requests, rowsPR int
	clients          int
	wall             time.Duration
	lat              []time.Duration
	failed           int64
}

func run(readme string, epochs, rows int) error {
	ctx := context.Background()
	machine, err := bench.DescribeMachine(ctx)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "servebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := hepsql.Open(filepath.Join(dir, "models.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	// 42 features, two classes that depend on a few of them.
	if _, err := db.Exec(fmt.Sprintf(`CREATE TABLE d AS SELECT
		(sin(i * 0.013) + cos(i * 0.029 + 1) > 0)::INTEGER AS label,
		[sin(i * 0.013 * (j + 1) + j) FOR j IN range(42)]::DOUBLE[] AS f
		FROM range(%d) t(i)`, rows)); err != nil {
		return err
	}
	t0 := time.Now()
	if _, err := db.Exec(fmt.Sprintf(`SELECT count(*) FROM train('tfaas', 'SELECT label, f FROM d',
		hidden := [128, 128, 128, 64, 64], epochs := %d)`, epochs)); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "trained 42×128×128×128×64×64×2 on %d rows in %.1fs\n", rows, time.Since(t0).Seconds())
	var xs [][]float64
	r, err := db.Query(`SELECT f FROM d LIMIT 1000`)
	if err != nil {
		return err
	}
	for r.Next() {
		var x hepsql.List[float64]
		if err := r.Scan(&x); err != nil {
			return err
		}
		xs = append(xs, x)
	}
	r.Close()

	srv := serve.New(db, serve.Options{})
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	jsonBody := func(i int) []byte {
		b, _ := json.Marshal(map[string]any{"keys": keys(42), "values": xs[i%len(xs)], "model": "tfaas"})
		return b
	}
	v2Body := func(i, n int) []byte {
		data := make([]float64, 0, n*42)
		for k := range n {
			data = append(data, xs[(i+k)%len(xs)]...)
		}
		b, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "f", "shape": []int{n, 42}, "datatype": "FP32", "data": data}}})
		return b
	}
	// The binary tensor extension: a JSON header, then the rows' float32
	// bytes; the answer's probabilities in binary too.
	binBody := func(i, n int) ([]byte, int) {
		h, _ := json.Marshal(map[string]any{
			"inputs":  []map[string]any{{"name": "f", "shape": []int{n, 42}, "datatype": "FP32", "parameters": map[string]any{"binary_data_size": n * 42 * 4}}},
			"outputs": []map[string]any{{"name": "probabilities", "parameters": map[string]any{"binary_data": true}}}})
		b := slices.Clip(h)
		for k := range n {
			for _, v := range xs[(i+k)%len(xs)] {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v)))
			}
		}
		return b, len(h)
	}
	cases := []struct {
		name              string
		url               string
		requests, clients int
		rows              int
		binary            bool
	}{
		{"/json, 1 row", base + "/json", 1000, 100, 1, false},
		{"/json, 1 row", base + "/json", 5000, 200, 1, false},
		{"v2 infer, 1 row", base + "/v2/models/tfaas/infer", 1000, 100, 1, false},
		{"v2 infer, 1 row", base + "/v2/models/tfaas/infer", 5000, 200, 1, false},
		{"v2 infer, 1 row, binary", base + "/v2/models/tfaas/infer", 5000, 200, 1, true},
		{"v2 infer, 1,000 rows", base + "/v2/models/tfaas/infer", 200, 2, 1000, false},
		{"v2 infer, 1,000 rows", base + "/v2/models/tfaas/infer", 400, 8, 1000, false},
		{"v2 infer, 1,000 rows, binary", base + "/v2/models/tfaas/infer", 1000, 2, 1000, true},
		{"v2 infer, 1,000 rows, binary", base + "/v2/models/tfaas/infer", 1000, 8, 1000, true},
	}
	var results []result
	for _, c := range cases {
		bodies := make([][]byte, 64)
		var headerLens []int // the binary bodies' JSON lengths
		for i := range bodies {
			if c.binary {
				b, n := binBody(i*7, c.rows)
				bodies[i], headerLens = b, append(headerLens, n)
			} else if strings.HasSuffix(c.url, "/json") {
				bodies[i] = jsonBody(i * 7)
			} else {
				bodies[i] = v2Body(i*7, c.rows)
			}
		}
		tr := &http.Transport{MaxIdleConns: c.clients, MaxIdleConnsPerHost: c.clients}
		client := &http.Client{Transport: tr}
		// Warm-up: connections opened, the model loaded.
		load(client, c.url, bodies, headerLens, c.clients*2, c.clients)
		bench.WaitQuiet("servebench", 10*time.Second)
		res := load(client, c.url, bodies, headerLens, c.requests, c.clients)
		res.name, res.rowsPR = c.name, c.rows
		tr.CloseIdleConnections()
		results = append(results, res)
		fmt.Fprintln(os.Stderr, line(res))
	}
	block := report(machine, results)
	fmt.Print(block)
	if readme != "" {
		return bench.WriteSectionUnder(readme, "## Serving models over HTTP (servebench)",
			"<!-- servebench begin -->", "<!-- servebench end -->", block)
	}
	return nil
}

func keys(n int) []string {
	k := make([]string, n)
	for i := range k {
		k[i] = fmt.Sprintf("f[%d]", i+1)
	}
	return k
}

// load sends n requests from clients goroutines, each one request at a
// time, and records each request's latency. headerLens, when not nil, are
// the bodies' Inference-Header-Content-Length (binary tensors).
func load(client *http.Client, url string, bodies [][]byte, headerLens []int, n, clients int) result {
	res := result{requests: n, clients: clients, lat: make([]time.Duration, n)}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				req, _ := http.NewRequest("POST", url, bytes.NewReader(bodies[i%len(bodies)]))
				req.Header.Set("Content-Type", "application/json")
				if headerLens != nil {
					req.Header.Set("Content-Type", "application/octet-stream")
					req.Header.Set("Inference-Header-Content-Length", strconv.Itoa(headerLens[i%len(bodies)]))
				}
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
				}
				res.lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	res.wall = time.Since(start)
	res.failed = failed.Load()
	return res
}

func pct(l []time.Duration, p float64) time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()*1e3) }

func line(r result) string {
	return fmt.Sprintf("%s: %d requests, %d clients: %.0f req/s, %.0f rows/s, p50 %s ms, p99 %s ms, max %s ms, %d failed",
		r.name, r.requests, r.clients, float64(r.requests)/r.wall.Seconds(), float64(r.requests*r.rowsPR)/r.wall.Seconds(),
		ms(pct(r.lat, 0.5)), ms(pct(r.lat, 0.99)), ms(slices.Max(r.lat)), r.failed)
}

func report(m bench.Machine, rs []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s (%s), commit %s; load %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		m.CPU, fmt.Sprintf("%d cores", m.Cores), m.Commit, bench.LoadAverage())
	b.WriteString("| request | requests | clients | req/s | rows/s | p50 ms | p99 ms | max ms | failed |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s | %d |\n", r.name, bench.Thousands(int64(r.requests)), r.clients,
			bench.Thousands(int64(float64(r.requests)/r.wall.Seconds())), bench.Thousands(int64(float64(r.requests*r.rowsPR)/r.wall.Seconds())),
			ms(pct(r.lat, 0.5)), ms(pct(r.lat, 0.99)), ms(slices.Max(r.lat)), r.failed)
	}
	return b.String()
}
