package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/hepsql/hepsql"
)

func main() {
	db, err := hepsql.Open("")
	if err != nil {
		panic(err)
	}
	for _, q := range os.Args[1:] {
		rows, err := db.Query(q)
		if err != nil {
			fmt.Println("ERR", err)
			continue
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			fmt.Println(vals...)
		}
		if rows.Err() != nil {
			fmt.Println("ERR", rows.Err())
		}
	}
	_ = filepath.Base
}
