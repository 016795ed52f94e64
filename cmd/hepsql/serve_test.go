package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServeRefusesNonLoopback checks that serve, which has no
// authentication yet, will not listen beyond loopback, and wants --db.
func TestServeRefusesNonLoopback(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"serve", "--db", db, "--listen", "0.0.0.0:8080"}, "loopback"},
		{[]string{"serve", "--db", db, "--listen", "example.org:8080"}, "loopback"},
		{[]string{"serve", "--listen", "127.0.0.1:8080"}, "--db FILE is required"},
		{[]string{"serve", "--db", db, "--max-batch", "0"}, "--max-batch"},
		{[]string{"serve", "--db", db, "--flight", "0.0.0.0:8815"}, "without --token-file"},
		{[]string{"serve", "--db", db, "--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"serve", "token", "--scope", "admin", "--token-file", filepath.Join(filepath.Dir(db), "t")}, "scope \"admin\""},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), c.args, nil, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), c.says) {
			t.Errorf("%v: status %d, %s; want 2 and a message saying %s", c.args, code, stderr.String(), c.says)
		}
	}
	// A database file that does not exist is refused, not created empty.
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"serve", "--db", db, "--listen", "127.0.0.1:0"}, nil, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), db+": no such file or directory") {
		t.Errorf("missing --db: status %d, %s; want 1 and the file named", code, stderr.String())
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("serve created %s", db)
	}
	for _, ok := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0"} {
		if err := loopbackOnly("--listen", ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// TestServeRuns starts hepsql serve on a free loopback port, checks that
// it says it listens on loopback only and answers /v2/health/ready, and
// that it stops cleanly when its context ends (as on SIGTERM).
func TestServeRuns(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dbFile := filepath.Join(t.TempDir(), "m.db")
	d, err := openDB(dbFile, 1)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--db", dbFile, "--listen", addr}, stderr)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 20s: %v; stderr: %s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(stderr.String(), "loopback only") {
		t.Errorf("stderr does not say loopback only: %s", stderr.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve ended with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20s of its context's end")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
