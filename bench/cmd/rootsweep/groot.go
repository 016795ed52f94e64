package main

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"

	"go-hep.org/x/hep/groot"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rtree"
)

// grootAgrees reads the first n entries of a top-level branch with groot's
// per-entry reader and says how they differ from hepsql's column, or ""
// when they agree. Both sides are compared as the sequence of their
// numbers and strings in member order: groot's Go types name members
// their own way, and TObject's part (rbase.Object), which hepsql leaves
// out of a STRUCT, is skipped.
func grootAgrees(ctx context.Context, db *sql.DB, file, tree string, b branchRow, n int) (why string) {
	defer func() {
		if e := recover(); e != nil {
			why = fmt.Sprintf("groot panics: %v", e)
		}
	}()
	f, err := groot.Open(file)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	obj, err := riofs.Dir(f).Get(tree)
	if err != nil {
		return err.Error()
	}
	t, ok := obj.(rtree.Tree)
	if !ok {
		return "not a tree"
	}
	var vars []rtree.ReadVar
	for _, rv := range rtree.NewReadVars(t) {
		// A branch, or one leaf of a leaf list ("branch.leaf").
		if rv.Name == b.branch && (rv.Leaf == "" || rv.Leaf == rv.Name) || rv.Name+"."+rv.Leaf == b.branch {
			vars = append(vars, rv)
		}
	}
	if len(vars) != 1 {
		return "no groot read variable for branch " + b.branch
	}
	r, err := rtree.NewReader(t, vars, rtree.WithRange(0, int64(n)))
	if err != nil {
		return err.Error()
	}
	defer r.Close()
	var want [][]any
	err = r.Read(func(rtree.RCtx) error {
		want = append(want, flatGo(reflect.ValueOf(vars[0].Value), nil))
		return nil
	})
	if err != nil {
		return err.Error()
	}
	col := `"` + strings.ReplaceAll(b.name, `"`, `""`) + `"`
	if strings.HasPrefix(b.sqlType, "STRUCT(") {
		col = "unnest(" + col + ", recursive := true)" // the members as columns, in order
	}
	rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT %s FROM read_root(%s, tree := %s) WHERE _entry < %d ORDER BY _entry", col, quote(file), quote(tree), n))
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	names, _ := rows.Columns()
	for e := 0; rows.Next(); e++ {
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err.Error()
		}
		var got []any
		for _, v := range vals {
			got = flatGo(reflect.ValueOf(v), got)
		}
		if e >= len(want) {
			return fmt.Sprintf("groot gives %d entries", len(want))
		}
		if !reflect.DeepEqual(got, want[e]) {
			return fmt.Sprintf("entry %d: hepsql %v, groot %v", e, short(fmt.Sprint(got)), short(fmt.Sprint(want[e])))
		}
	}
	return ""
}

// flatGo appends the numbers (as float64, or int64/uint64 for integers)
// and strings of v to out, in order, skipping TObject's part.
func flatGo(v reflect.Value, out []any) []any {
	switch v.Kind() {
	case reflect.Invalid:
		return append(out, nil)
	case reflect.Bool:
		return append(out, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return append(out, v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return append(out, v.Uint())
	case reflect.Float32, reflect.Float64:
		return append(out, v.Float())
	case reflect.String:
		return append(out, v.String())
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			out = flatGo(v.Index(i), out)
		}
		return out
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return append(out, nil)
		}
		return flatGo(v.Elem(), out)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Field(i).Type().Name() == "Object" && strings.HasSuffix(v.Field(i).Type().PkgPath(), "rbase") {
				continue // TObject
			}
			out = flatGo(v.Field(i), out)
		}
		return out
	}
	return append(out, fmt.Sprintf("<%v>", v.Type()))
}
