package rootscan

import (
	"github.com/hepsql/hepsql/rootio/tbranch"
	"strings"

	"github.com/hepsql/hepsql/internal/capi"
)

// output is one branch column of a read_root table: a column of the tree,
// or (nest := true) a NanoAOD collection, the list of structs whose
// fields are the columns of cols.
type output struct {
	name   string
	typ    capi.Type
	cols   []int // indexes into the table's cols
	nested bool
}

// outputs lays out a table's branch columns. Without nest, one per column.
// With nest, the columns of a NanoAOD collection become one column, as
// coffea's NanoEvents groups them: the jagged columns counted by the same
// counter nX (from the leaf title, Jet_pt[nJet]) whose SQL names start
// with "X_" are the fields of X STRUCT(...)[], each field named by the
// rest of its column's name (Jet_pt → pt), in the tree's order, and the
// struct column stands where its first member stood. The counter stays a
// column of its own; a column counted by nX whose name does not start with
// X_ stays a list column. A collection whose name is taken by another
// column of the table (a branch named Jet, or _file) is not grouped.
func outputs(cols []*tbranch.Column, nest bool) []output {
	group := make([]string, len(cols)) // the collection a column belongs to, or ""
	members := map[string][]int{}
	if nest {
		for i, c := range cols {
			if x := collectionOf(c); x != "" {
				group[i] = x
				members[x] = append(members[x], i)
			}
		}
		taken := map[string]bool{strings.ToLower(FileColumn): true, strings.ToLower(EntryColumn): true}
		for i, c := range cols {
			if group[i] == "" {
				taken[strings.ToLower(c.Name)] = true
			}
		}
		for x, m := range members {
			if taken[strings.ToLower(x)] {
				for _, i := range m {
					group[i] = ""
				}
				delete(members, x)
			}
		}
	}
	out := make([]output, 0, len(cols))
	for i, c := range cols {
		x := group[i]
		if x == "" {
			out = append(out, output{name: c.Name, typ: sqlType(c.Type), cols: []int{i}})
			continue
		}
		m := members[x]
		if m[0] != i {
			continue // placed with the collection's first member
		}
		fields := make([]capi.Field, len(m))
		for k, j := range m {
			fields[k] = capi.Field{Name: cols[j].Name[len(x)+1:], Type: sqlType(*cols[j].Type.Elem)}
		}
		out = append(out, output{name: x, typ: capi.ListOf(capi.Type{ID: capi.Struct, Fields: fields}), cols: m, nested: true})
	}
	return out
}

// collectionOf is the NanoAOD collection a column belongs to ("Jet" for
// Jet_pt[nJet]), or "". A member of a split TClonesArray or
// std::vector<Class> (rootio/tbranch's collection.go) belongs to its master ("Jet" for
// Jet.PT), but for TObject's fBits, which is parsed element by element.
func collectionOf(c *tbranch.Column) string {
	if m := c.Master; m != nil {
		if c.Layout != tbranch.LayoutJagged || len(c.Name) <= len(m.Path)+1 || !strings.HasPrefix(c.Name, m.Path+".") {
			return ""
		}
		return m.Path
	}
	if c.Layout != tbranch.LayoutJagged || len(c.Count) < 2 || c.Count[0] != 'n' {
		return ""
	}
	x := c.Count[1:]
	if len(c.Name) <= len(x)+1 || !strings.HasPrefix(c.Name, x+"_") {
		return ""
	}
	return x
}
