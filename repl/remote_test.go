package repl

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/internal/testfiles"
	"github.com/hepsql/hepsql/internal/xrdtest"
)

// TestInterruptStalledRemote: Ctrl-C ends, within a second, a query
// waiting on an XRootD server that answers nothing (frozen with SIGSTOP),
// though its timeout is a minute; the shell goes on.
func TestInterruptStalledRemote(t *testing.T) {
	sample := testfiles.CMSSample(t)
	srv := xrdtest.Start(t)
	srv.Put("f.root", sample)
	db, err := hepsql.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	inR, inW := io.Pipe()
	var out, errOut strings.Builder
	r := New(db, Options{In: inR, Out: &out, Err: &errOut, Interactive: true, NoTimer: true, Mode: ModeCSV})
	subscribed := make(chan chan<- os.Signal, 1)
	r.notify = func(c chan<- os.Signal) { subscribed <- c }
	r.stopNotify = func(chan<- os.Signal) {}
	done := make(chan error)
	go func() { done <- r.Run(context.Background()) }()

	srv.Stop()
	defer srv.Cont()
	fmt.Fprintf(inW, "SELECT sum(MET_pt) FROM read_root('%s', timeout := '60s');\n", srv.URL("f.root"))
	sig := <-subscribed
	time.Sleep(300 * time.Millisecond) // connected, waiting for the login's reply
	start := time.Now()
	sig <- os.Interrupt
	fmt.Fprint(inW, "SELECT 42 AS answer;\n")
	<-subscribed
	if took := time.Since(start); took > time.Second {
		t.Errorf("Ctrl-C took %v to end the remote query", took)
	} else {
		t.Logf("Ctrl-C → next prompt: %v", took)
	}
	inW.Close()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if !strings.Contains(errOut.String(), "interrupted") {
		t.Errorf("stderr = %q", errOut.String())
	}
	if !strings.Contains(out.String(), "answer\n42\n") {
		t.Errorf("stdout = %q", out.String())
	}
}
