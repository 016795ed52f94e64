package rootscan

import (
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
func outputs(cols []*column, nest bool) []output {
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
				taken[strings.ToLower(c.name)] = true
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
			out = append(out, output{name: c.name, typ: c.typ, cols: []int{i}})
			continue
		}
		m := members[x]
		if m[0] != i {
			continue // placed with the collection's first member
		}
		fields := make([]capi.Field, len(m))
		for k, j := range m {
			fields[k] = capi.Field{Name: cols[j].name[len(x)+1:], Type: *cols[j].typ.Elem}
		}
		out = append(out, output{name: x, typ: capi.ListOf(capi.Type{ID: capi.Struct, Fields: fields}), cols: m, nested: true})
	}
	return out
}

// collectionOf is the NanoAOD collection a column belongs to ("Jet" for
// Jet_pt[nJet]), or "". A member of a split TClonesArray or
// std::vector<Class> (collection.go) belongs to its master ("Jet" for
// Jet.PT), but for TObject's fBits, which is parsed element by element.
func collectionOf(c *column) string {
	if m := c.master; m != nil {
		if c.layout != layoutJagged || len(c.name) <= len(m.path)+1 || !strings.HasPrefix(c.name, m.path+".") {
			return ""
		}
		return m.path
	}
	if c.layout != layoutJagged || len(c.count) < 2 || c.count[0] != 'n' {
		return ""
	}
	x := c.count[1:]
	if len(c.name) <= len(x)+1 || !strings.HasPrefix(c.name, x+"_") {
		return ""
	}
	return x
}

// fillNested writes a collection's rows into v, a LIST of STRUCTs, from
// the readers of its members: the first member writes the list entries
// and reserves the child rows (all fields at once: reserving a LIST
// reserves its STRUCT child's fields); each member decodes its elements
// straight into its field's vector, as a flat list column would into its
// child. The members share a counter, so every member must give each
// entry as many elements as the first: a member that does not is an
// error naming the file, the branch and the entry (fillListTo), never a
// misaligned row.
func fillNested(readers []*columnReader, v capi.Vector, entry int64, n int) error {
	for i, r := range readers {
		var first *columnReader
		if i > 0 {
			first = readers[0]
		}
		if err := r.fillListTo(v, i, first, entry, n); err != nil {
			return err
		}
	}
	return nil
}
