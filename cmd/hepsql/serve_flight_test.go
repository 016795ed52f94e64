package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	flightdriver "github.com/apache/arrow-go/v18/arrow/flight/flightsql/driver"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/serve/auth"
)

// Tests of hepsql serve's SQL door, end to end: runServe on loopback
// ports, reached by arrow-go's Flight SQL driver through database/sql.

// freeAddr returns a loopback address with a free port.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// flightServer is a running hepsql serve.
type flightServer struct {
	http, flight string
	stderr       *syncBuffer
	done         chan error
	cancel       context.CancelFunc
}

// startServe runs hepsql serve with args on a database file made by
// setup (SQL, may be empty), and waits until both doors answer.
func startServe(t *testing.T, setup string, args ...string) *flightServer {
	t.Helper()
	dbFile := filepath.Join(t.TempDir(), "m.db")
	d, err := openDB(dbFile, 1)
	if err != nil {
		t.Fatal(err)
	}
	if setup != "" {
		if _, err := d.Exec(setup); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	s := &flightServer{http: freeAddr(t), flight: freeAddr(t), stderr: &syncBuffer{}, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	args = append([]string{"--db", dbFile, "--listen", s.http, "--flight", s.flight, "--threads", "2"}, args...)
	go func() { s.done <- runServe(ctx, args, s.stderr) }()
	t.Cleanup(func() { s.stop(t) })
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", s.flight)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("serve ended: %v; stderr: %s", err, s.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("Flight SQL not listening after 20s; stderr: %s", s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

func (s *flightServer) stop(t *testing.T) {
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("serve ended with %v", err)
		}
		s.done <- nil
	case <-time.After(40 * time.Second):
		t.Errorf("serve did not stop within 40s")
	}
}

// client opens database/sql on the server through the Flight SQL driver.
func (s *flightServer) client(t *testing.T, params string) *sql.DB {
	t.Helper()
	db, err := sql.Open("flightsql", "flightsql://"+s.flight+"?timeout=60s"+params)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestFlightSQL runs read_root over Flight SQL and compares every value
// with the same query run in process; then a prepared statement with
// parameters, the catalog, and reads outside --allow.
func TestFlightSQL(t *testing.T) {
	sample := testfiles.CMSSample(t)
	s := startServe(t, "CREATE TABLE runs AS SELECT 194050 AS run, 'good' AS quality",
		"--allow", filepath.Dir(sample))
	if !strings.Contains(s.stderr.String(), "loopback only") {
		t.Errorf("stderr does not say loopback only: %s", s.stderr.String())
	}
	remote := s.client(t, "")
	local, err := hepsql.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	ctx := context.Background()

	const q = "SELECT MET_pt, nJet::BIGINT AS nJet, list_sum(Jet_pt)::DOUBLE AS ht, run::BIGINT AS run FROM read_root('%s') ORDER BY event"
	type row struct {
		met       float32
		njet, run int64
		ht        sql.NullFloat64
	}
	read := func(db *sql.DB, query string, args ...any) []row {
		t.Helper()
		rows, err := db.QueryContext(ctx, query, args...)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rows.Close()
		var out []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.met, &r.njet, &r.ht, &r.run); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return out
	}
	want := read(local, fmt.Sprintf(q, sample))
	got := read(remote, fmt.Sprintf(q, sample))
	if len(want) != 10000 || len(got) != len(want) {
		t.Fatalf("%d rows over Flight SQL, %d in process; want 10000", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d: %+v over Flight SQL, %+v in process", i, got[i], want[i])
		}
	}

	// A prepared statement with parameters, run twice.
	stmt, err := remote.PrepareContext(ctx, "SELECT MET_pt, nJet::BIGINT, list_sum(Jet_pt)::DOUBLE, run::BIGINT FROM read_root(?) WHERE nJet >= ? AND MET_pt > ? ORDER BY event")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	for _, args := range [][]any{{sample, int64(2), 30.0}, {sample, int64(4), 10.5}} {
		rows, err := stmt.QueryContext(ctx, args...)
		if err != nil {
			t.Fatalf("prepared %v: %v", args, err)
		}
		n := 0
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.met, &r.njet, &r.ht, &r.run); err != nil {
				t.Fatal(err)
			}
			n++
		}
		rows.Close()
		wantN := 0
		for _, r := range want {
			if r.njet >= args[1].(int64) && float64(r.met) > args[2].(float64) {
				wantN++
			}
		}
		if n != wantN || n == 0 {
			t.Errorf("prepared with %v: %d rows, want %d", args[1:], n, wantN)
		}
	}
	var quality string
	if err := remote.QueryRowContext(ctx, "SELECT quality FROM runs WHERE run = ?", int64(194050)).Scan(&quality); err != nil || quality != "good" {
		t.Errorf("a parameter in a query on a table: %q, %v", quality, err)
	}

	// The catalog, through arrow-go's Flight SQL client.
	cl, err := flightsql.NewClient(s.flight, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	info, err := cl.GetTables(ctx, &flightsql.GetTablesOpts{IncludeSchema: true})
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for i := range int(rec.NumRows()) {
			if rec.Column(2).ValueStr(i) == "runs" && rec.Column(1).ValueStr(i) == "main" {
				found = true
			}
		}
	}
	rdr.Release()
	if !found {
		t.Error("GetTables does not list main.runs")
	}
	for name, get := range map[string]func() (*flight.FlightInfo, error){
		"GetCatalogs":  func() (*flight.FlightInfo, error) { return cl.GetCatalogs(ctx) },
		"GetDBSchemas": func() (*flight.FlightInfo, error) { return cl.GetDBSchemas(ctx, &flightsql.GetDBSchemasOpts{}) },
	} {
		info, err := get()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		n := 0
		for rdr.Next() {
			n += int(rdr.RecordBatch().NumRows())
		}
		rdr.Release()
		if n == 0 {
			t.Errorf("%s: no rows", name)
		}
	}

	// A read outside --allow fails, saying so, naming no server path.
	outside := t.TempDir()
	for _, q := range []string{
		"SELECT count(*) FROM read_root('" + filepath.Join(outside, "x.root") + "')",
		"SELECT count(*) FROM read_root('../../../etc/*.root')",
		"SELECT * FROM read_csv('/etc/passwd')",
		"SELECT * FROM read_text('../m.db')",
		"ATTACH '/tmp/other.db'",
	} {
		var v any
		err := remote.QueryRowContext(ctx, q).Scan(&v)
		if err == nil {
			t.Errorf("%s: no error", q)
			continue
		}
		msg := err.Error()
		cwd, _ := os.Getwd()
		if !strings.Contains(msg, "outside the folders this server allows") && !strings.Contains(msg, "disabled by configuration") {
			t.Errorf("%s: error does not say the file is not allowed: %s", q, msg)
		}
		if strings.Contains(msg, cwd) || strings.Contains(msg, filepath.Dir(sample)) || strings.Contains(msg, "m.db") && !strings.Contains(q, "m.db") {
			t.Errorf("%s: error names a server path: %s", q, msg)
		}
	}

}

// TestFlightSQLAuth: with a token file, requests without a token get
// 401 (HTTP) and Unauthenticated (gRPC); an inference-only token is
// refused SQL (PermissionDenied) but may call the HTTP API; a sql token
// runs SQL; both doors speak TLS with a certificate made here.
func TestFlightSQLAuth(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	var stdout, stderr syncBuffer
	if code := run(context.Background(), []string{"serve", "token", "--token-file", tokens, "--scope", "sql", "--name", "alice"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("serve token: %d, %s", code, stderr.String())
	}
	aliceTok := strings.TrimSpace(stdout.String())
	sqlTok, err := auth.AddToken(tokens, auth.SQL, "bob")
	if err != nil {
		t.Fatal(err)
	}
	inferTok, err := auth.AddToken(tokens, auth.Infer, "dashboard")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := os.ReadFile(tokens)
	if strings.Contains(string(text), sqlTok) || strings.Count(string(text), "\nsql sha256:")+strings.Count(string(text), "\ninfer sha256:") != 3 {
		t.Fatalf("token file holds a token in clear, or not 3 hashes:\n%s", text)
	}
	cert, key, pool := selfSigned(t, dir)
	// With tokens, any address may be listened on.
	_, port, _ := net.SplitHostPort(freeAddr(t))
	s := startServe(t, "", "--token-file", tokens, "--tls-cert", cert, "--tls-key", key, "--listen", "0.0.0.0:"+port)
	s.http = "127.0.0.1:" + port
	if err := flightdriver.RegisterTLSConfig("hepsqltest", &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	defer flightdriver.UnregisterTLSConfig("hepsqltest")
	ctx := context.Background()
	query := func(tok string) error {
		params := "&tls=hepsqltest"
		if tok != "" {
			params += "&token=" + tok
		}
		var v int64
		err := s.client(t, params).QueryRowContext(ctx, "SELECT 40 + 2").Scan(&v)
		if err == nil && v != 42 {
			err = fmt.Errorf("got %d", v)
		}
		return err
	}
	for _, tok := range []string{aliceTok, sqlTok} {
		if err := query(tok); err != nil {
			t.Errorf("a sql token over TLS: %v", err)
		}
	}
	if err := query(""); status.Code(errors.Unwrap(err)) != codes.Unauthenticated && !strings.Contains(fmt.Sprint(err), "Unauthenticated") {
		t.Errorf("no token: %v, want Unauthenticated", err)
	}
	if err := query("hsq_wrong"); !strings.Contains(fmt.Sprint(err), "Unauthenticated") {
		t.Errorf("a wrong token: %v, want Unauthenticated", err)
	}
	if err := query(inferTok); !strings.Contains(fmt.Sprint(err), "PermissionDenied") {
		t.Errorf("an inference token running SQL: %v, want PermissionDenied", err)
	}
	// Plain gRPC without TLS is refused by a TLS server.
	if err := s.client(t, "&token="+sqlTok).QueryRowContext(ctx, "SELECT 1").Scan(new(int64)); err == nil {
		t.Error("a plaintext client reached a TLS server")
	}

	// The HTTP door, over TLS.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
	get := func(tok string) int {
		req, _ := http.NewRequest("GET", "https://"+s.http+"/models", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET /models: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(""); code != http.StatusUnauthorized {
		t.Errorf("GET /models without a token: %d, want 401", code)
	}
	if code := get("hsq_wrong"); code != http.StatusUnauthorized {
		t.Errorf("GET /models with a wrong token: %d, want 401", code)
	}
	if code := get(inferTok); code != http.StatusOK {
		t.Errorf("GET /models with an inference token: %d, want 200", code)
	}
	if code := get(sqlTok); code != http.StatusOK {
		t.Errorf("GET /models with a sql token: %d, want 200", code)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key under dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "hepsql test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certFile, keyFile, pool
}

// TestFlightSQLReadOnly: --read-only refuses CREATE and INSERT, and
// still answers queries.
func TestFlightSQLReadOnly(t *testing.T) {
	s := startServe(t, "CREATE TABLE t AS SELECT 1 AS x", "--read-only")
	db := s.client(t, "")
	ctx := context.Background()
	for _, q := range []string{"CREATE TABLE u (x INT)", "INSERT INTO t VALUES (2)", "DELETE FROM t"} {
		if _, err := db.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "read-only") {
			t.Errorf("%s: %v, want a read-only error", q, err)
		}
	}
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Errorf("a query on a read-only server: %d, %v", n, err)
	}
}

// TestFlightSQLDrains: SIGTERM while a client reads a large result lets
// it read every row, then the server stops.
func TestFlightSQLDrains(t *testing.T) {
	s := startServe(t, "")
	db := s.client(t, "")
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, "SELECT range AS i FROM range(3000000)")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var sum, i int64
	if !rows.Next() {
		t.Fatalf("no first row: %v", rows.Err())
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		if err := rows.Scan(&i); err != nil {
			t.Fatal(err)
		}
		sum += i
		if !rows.Next() {
			break
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("after SIGTERM: %v", err)
	}
	if want := int64(3000000) * (3000000 - 1) / 2; sum != want {
		t.Errorf("sum %d after SIGTERM, want %d", sum, want)
	}
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Errorf("serve ended with %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Error("serve did not stop after SIGTERM")
	}
}
