package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"github.com/hepsql/hepsql/rootscan"
	"github.com/hepsql/hepsql/serve"
	"github.com/hepsql/hepsql/serve/auth"
	"github.com/hepsql/hepsql/serve/sandbox"
	"github.com/hepsql/hepsql/serve/sqlflight"
)

// runServe implements "hepsql serve": one process, one embedded database,
// two front doors: the models over HTTP (package serve) and, with
// --flight, SQL over Arrow Flight SQL (package sqlflight).
func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "database `FILE` whose models (table hepsql_models) are served (required)")
	listen := fs.String("listen", "127.0.0.1:8080", "`ADDR`ess of the HTTP inference API, host:port")
	flightAddr := fs.String("flight", "", "`ADDR`ess of the Arrow Flight SQL server, host:port (default: none)")
	tokenFile := fs.String("token-file", "", "bearer tokens `FILE` (see hepsql serve token); without it, loopback only and no authentication")
	tlsCert := fs.String("tls-cert", "", "TLS certificate `FILE` (PEM), for both doors")
	tlsKey := fs.String("tls-key", "", "TLS private key `FILE` (PEM)")
	var allow stringsFlag
	fs.Var(&allow, "allow", "a `DIR` (or root://host/path prefix) whose files SQL may read; repeatable; none: no file")
	readOnly := fs.Bool("read-only", false, "open the database read-only: SQL cannot change it")
	queryTimeout := fs.Duration("query-timeout", 10*time.Minute, "time limit of one SQL statement, rows sent included")
	memLimit := fs.String("memory-limit", "", "DuckDB's memory limit, e.g. 8GB (default: DuckDB's, 80% of RAM)")
	maxRequest := fs.Int("max-request", 64<<20, "largest request in `BYTES` (HTTP body, gRPC message)")
	wait := fs.Duration("batch-wait", time.Millisecond, "how long a request waits for others to share its batch")
	maxBatch := fs.Int("max-batch", 1024, "most `ROWS` in one batch")
	threads := fs.Int("threads", 0, "DuckDB's worker threads; 0 uses all cores")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: hepsql serve --db FILE [flags]
       hepsql serve token --token-file FILE [--scope sql|infer] [--name NAME]

Serves every model stored in FILE (table hepsql_models), each at its current
version unless a request names one, over HTTP: the Open Inference Protocol
(GET /v2, /v2/health/ready, /v2/models/NAME[/versions/N],
POST /v2/models/NAME[/versions/N]/infer) and TFaaS's POST /json and GET /models.
With --flight, also SQL on FILE over Arrow Flight SQL (Go's database/sql
through arrow-go's flightsql driver, Python through ADBC, Java through JDBC).

Without --token-file there is no authentication, and both doors listen on
loopback only. With it, every request needs a bearer token: a token of scope
sql may run SQL and inference, one of scope infer inference only. SQL reads
files only under the --allow folders; DuckDB's settings are locked.
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
	if (*tlsCert == "") != (*tlsKey == "") {
		return usagef("serve: --tls-cert and --tls-key go together")
	}
	var tokens *auth.Tokens
	if *tokenFile == "" {
		if err := loopbackOnly("--listen", *listen); err != nil {
			return err
		}
		if *flightAddr != "" {
			if err := loopbackOnly("--flight", *flightAddr); err != nil {
				return err
			}
		}
	} else {
		t, err := auth.Load(*tokenFile)
		if err != nil {
			return err
		}
		tokens = t
	}
	policy, err := sandbox.New(allow)
	if err != nil {
		return usageError{err}
	}
	var tlsConfig *tls.Config
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("serve: --tls-cert %s, --tls-key %s: %w", *tlsCert, *tlsKey, err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if _, err := os.Stat(*db); err != nil {
		// Opening would create an empty database: a mistyped name would
		// then serve no model, silently.
		return fmt.Errorf("serve: --db %s: %w (train models into it first: hepsql --db FILE)", *db, errors.Unwrap(err))
	}
	dsn := *db
	if *readOnly {
		dsn += "?access_mode=read_only"
	}
	d, err := openDB(dsn, *threads)
	if err != nil {
		return err
	}
	defer d.Close()
	// Before any client: DuckDB's file access and limits, locked, and
	// read_root's own check.
	if err := policy.Lock(ctx, d, sandbox.Limits{MemoryLimit: *memLimit}); err != nil {
		return err
	}
	defer rootscan.SetAccessCheck(rootscan.SetAccessCheck(policy.Check))

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	var fln net.Listener
	if *flightAddr != "" {
		if fln, err = net.Listen("tcp", *flightAddr); err != nil {
			ln.Close()
			return err
		}
	}
	logger := log.New(stderr, "hepsql serve: ", log.LstdFlags)
	srv := serve.New(d, serve.Options{BatchWait: *wait, MaxBatch: *maxBatch, MaxBody: int64(*maxRequest),
		Version: versionLine(""), Log: logger})
	defer srv.Close()
	var handler http.Handler = srv
	if tokens != nil {
		handler = auth.HTTP(tokens, auth.Infer, srv)
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		// Each door its own copy: net/http adds its protocols to it.
		TLSConfig: tlsConfig.Clone()}

	scheme, how := "http", "loopback only, without authentication (no --token-file)"
	if tlsConfig != nil {
		scheme = "https"
	}
	if tokens != nil {
		how = "bearer tokens required"
	}
	fmt.Fprintf(stderr, "hepsql serve: serving the models of %s on %s://%s (%s)\n", *db, scheme, ln.Addr(), how)

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 2)
	go func() {
		if tlsConfig != nil {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	var gs *grpc.Server
	if fln != nil {
		cwd, _ := os.Getwd()
		absDB, _ := filepath.Abs(*db)
		fsrv := sqlflight.New(d, sqlflight.Options{QueryTimeout: *queryTimeout, ReadOnly: *readOnly,
			Hide: []string{absDB, cwd}, Version: versionLine(""), Log: logger})
		gs = grpc.NewServer(grpcOptions(tokens, tlsConfig, *maxRequest, logger)...)
		fsrv.Register(gs)
		gscheme := "grpc+tcp"
		if tlsConfig != nil {
			gscheme = "grpc+tls"
		}
		allowed := "no file"
		if len(allow) > 0 {
			allowed = "files under " + strings.Join(allow, ", ")
		}
		fmt.Fprintf(stderr, "hepsql serve: serving SQL on %s with Arrow Flight SQL at %s://%s (%s; SQL reads %s%s)\n",
			*db, gscheme, fln.Addr(), how, allowed, map[bool]string{true: "; read-only"}[*readOnly])
		go func() { errc <- gs.Serve(fln) }()
	}
	select {
	case err := <-errc:
		if gs != nil {
			gs.Stop()
		}
		hs.Close()
		return err
	case <-ctx.Done():
	}
	// Requests in flight finish, within 30 s; new connections are refused.
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	if gs != nil {
		wg.Go(func() {
			done := make(chan struct{})
			go func() { gs.GracefulStop(); close(done) }()
			select {
			case <-done:
			case <-sctx.Done():
				gs.Stop()
			}
		})
	}
	err = hs.Shutdown(sctx)
	wg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// grpcOptions are the Flight SQL server's: authentication (when tokens
// are given; scope sql), TLS, panic recovery, message and connection
// limits, and keepalives that find clients gone silent mid-stream.
func grpcOptions(tokens *auth.Tokens, tlsConfig *tls.Config, maxRequest int, logger *log.Logger) []grpc.ServerOption {
	var unary []grpc.UnaryServerInterceptor
	var stream []grpc.StreamServerInterceptor
	if tokens != nil {
		u, s := auth.GRPC(tokens, auth.SQL)
		unary, stream = append(unary, u), append(stream, s)
	}
	u, s := sqlflight.Recover(logger)
	unary, stream = append(unary, u), append(stream, s)
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
		grpc.MaxRecvMsgSize(maxRequest),
		grpc.ConnectionTimeout(10 * time.Second),
		grpc.MaxConcurrentStreams(256),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 10 * time.Minute, Time: time.Minute, Timeout: 20 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}
	if tlsConfig != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsConfig.Clone())))
	}
	return opts
}

// loopbackOnly refuses addresses other than loopback ones: without a
// token file there is no authentication.
func loopbackOnly(flagName, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("serve: %s %q: want host:port, e.g. 127.0.0.1:8080", flagName, addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return usagef("serve: %s %q: only a loopback address (127.0.0.1, ::1, localhost) without --token-file, since there is then no authentication", flagName, addr)
}

// runServeToken implements "hepsql serve token": a new token, its hash
// appended to the token file, the token itself printed once.
func runServeToken(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("token-file", "", "token `FILE` to append to (created, mode 0600, if missing; required)")
	scope := fs.String("scope", "sql", "what the token may do: sql (SQL and inference) or infer (inference only)")
	name := fs.String("name", "", "whose token it is, for the log (no spaces)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: hepsql serve token --token-file FILE [--scope sql|infer] [--name NAME]

Makes a new bearer token, appends its SHA-256 to FILE and prints the token
on stdout: it is stored nowhere else. The file holds one token a line,
"SCOPE sha256:HEX [NAME]"; delete a line to revoke its token (and restart
the server).

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
	if *file == "" || fs.NArg() > 0 {
		return usagef("serve token: want --token-file FILE and no argument")
	}
	sc, err := auth.ParseScope(*scope)
	if err != nil {
		return usageError{err}
	}
	tok, err := auth.AddToken(*file, sc, *name)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// stringsFlag is a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }
