package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hepsql/hepsql/serve"
)

// runServe implements "hepsql serve": the models of a database over HTTP
// (package serve). Without authentication yet, it listens on loopback
// addresses only.
func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "database `FILE` whose models (table hepsql_models) are served (required)")
	listen := fs.String("listen", "127.0.0.1:8080", "`ADDR`ess to listen on, host:port; a loopback host only")
	wait := fs.Duration("batch-wait", time.Millisecond, "how long a request waits for others to share its batch")
	maxBatch := fs.Int("max-batch", 1024, "most `ROWS` in one batch")
	threads := fs.Int("threads", 0, "DuckDB's worker threads; 0 uses all cores")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: hepsql serve --db FILE [flags]

Serves every model stored in FILE (table hepsql_models), each at its current
version unless a request names one, over HTTP: the Open Inference Protocol
(GET /v2, /v2/health/ready, /v2/models/NAME[/versions/N],
POST /v2/models/NAME[/versions/N]/infer) and TFaaS's POST /json and GET /models.
There is no authentication or TLS yet, so it listens on loopback only.
SIGINT or SIGTERM stops it after the requests in flight.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("serve: unexpected argument %q", fs.Arg(0))
	}
	if *db == "" {
		return usagef("serve: --db FILE is required (an in-memory database has no models)")
	}
	if *maxBatch < 1 {
		return usagef("serve: --max-batch %d: want a number >= 1", *maxBatch)
	}
	if err := loopbackOnly(*listen); err != nil {
		return err
	}
	if _, err := os.Stat(*db); err != nil {
		// Opening would create an empty database: a mistyped name would
		// then serve no model, silently.
		return fmt.Errorf("serve: --db %s: %w (train models into it first: hepsql --db FILE)", *db, errors.Unwrap(err))
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	d, err := openDB(*db, *threads)
	if err != nil {
		ln.Close()
		return err
	}
	defer d.Close()
	srv := serve.New(d, serve.Options{BatchWait: *wait, MaxBatch: *maxBatch, Version: versionLine(""),
		Log: log.New(stderr, "hepsql serve: ", log.LstdFlags)})
	defer srv.Close()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(stderr, "hepsql serve: serving the models of %s on http://%s (loopback only: there is no authentication yet)\n", *db, ln.Addr())
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Requests in flight finish; new connections are refused.
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loopbackOnly refuses addresses other than loopback ones: the server has
// no authentication yet.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("serve: --listen %q: want host:port, e.g. 127.0.0.1:8080", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return usagef("serve: --listen %q: only a loopback address (127.0.0.1, ::1, localhost), since serve has no authentication yet", addr)
}
