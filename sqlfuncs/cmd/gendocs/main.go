// Command gendocs writes docs/functions.md from the function registry,
// running every example to print its result.
//
//	go generate ./sqlfuncs   (or: go run ./sqlfuncs/cmd/gendocs -o docs/functions.md)
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/sqlfuncs"
)

func main() {
	out := flag.String("o", "docs/functions.md", "output file")
	flag.Parse()
	db, err := hepsql.Open("")
	if err != nil {
		fail(err)
	}
	defer db.Close()
	results, err := sqlfuncs.RunExamples(db)
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(*out, []byte(sqlfuncs.Markdown(results)), 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gendocs:", err)
	os.Exit(1)
}
