package sqlfuncs_test

import "github.com/hepsql/hepsql/sqlfuncs"

func sqlfuncsAll() []string {
	var out []string
	for _, f := range sqlfuncs.All() {
		out = append(out, f.Name)
	}
	return out
}
