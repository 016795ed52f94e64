// Command sqltime times SQL statements run one after another in one hepsql
// process, for the hand measurements in bench/README.md that the
// benchmark commands do not cover: a query cold (first in the process) and
// warm (metadata cached), two texts of one query side by side.
//
//	go run ./bench/cmd/sqltime [-threads N] [-runs R] [-trace FILE] 'SQL' ['SQL' ...]
//
// Each run opens a fresh in-memory database and runs every statement once,
// in order, printing one line of times per run; -trace writes a Go
// execution trace of the last statement of the last run. rootscan's
// metadata cache belongs to the process, not the database: only the first
// run meets the files cold.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/trace"
	"strings"
	"time"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/bench"
)

func main() {
	threads := flag.Int("threads", 1, "DuckDB threads")
	runs := flag.Int("runs", 1, "fresh databases, each running every statement once")
	traceFile := flag.String("trace", "", "write a Go execution trace of the last statement of the last run to this file")
	flag.Parse()
	if flag.NArg() == 0 {
		log.Fatal("sqltime: no statement given")
	}
	for r := 1; r <= *runs; r++ {
		times, err := run(*threads, flag.Args(), r == *runs && *traceFile != "", *traceFile)
		if err != nil {
			log.Fatalf("sqltime: %v", err)
		}
		fmt.Println(strings.Join(times, " "))
	}
}

// run opens a database and times each statement, reading all its rows.
func run(threads int, stmts []string, traceLast bool, traceFile string) ([]string, error) {
	db, err := hepsql.Open(fmt.Sprintf("?threads=%d", threads))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: the statements share its state
	if _, err := db.Exec("SELECT 1"); err != nil {
		return nil, err
	}
	var times []string
	for i, q := range stmts {
		if traceLast && i == len(stmts)-1 {
			f, err := os.Create(traceFile)
			if err != nil {
				return nil, err
			}
			if err := trace.Start(f); err != nil {
				return nil, err
			}
			defer func() { trace.Stop(); f.Close() }()
		}
		t0 := time.Now()
		if err := bench.Drain(context.Background(), db, q); err != nil {
			return nil, fmt.Errorf("statement %d: %w", i+1, err)
		}
		times = append(times, fmt.Sprintf("%.4f", time.Since(t0).Seconds()))
	}
	return times, nil
}
