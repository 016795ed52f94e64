package tbranch

import (
	"fmt"

	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/ttree"
)

// EachStorageBranch calls f for every branch that stores entries (one
// without sub-branches) with its column path, as ColumnsOf walks them.
func EachStorageBranch(branches []*ttree.Branch, f func(b *ttree.Branch, path string) error) error {
	var walk func(b *ttree.Branch, prefix string) error
	walk = func(b *ttree.Branch, prefix string) error {
		path := MemberName(prefix, b.Name)
		if len(b.Subs) > 0 {
			for _, sb := range b.Subs {
				if err := walk(sb, path); err != nil {
					return err
				}
			}
			return nil
		}
		return f(b, path)
	}
	for _, b := range branches {
		if err := walk(b, ""); err != nil {
			return err
		}
	}
	return nil
}

// LeanLeafColumn is leafColumn for the leaves leanSchema covers; any other
// leaf is rfile.ErrNotLean, for groot to map.
func LeanLeafColumn(b *ttree.Branch, l ttree.Leaf, leafList bool) (*Column, error) {
	c := &Column{RootType: l.Class + " " + l.Title}
	if l.Class == "TLeafC" {
		if leafList {
			return nil, fmt.Errorf("%w: C string in a leaf list", rfile.ErrNotLean)
		}
		c.Layout, c.Type = LayoutString, Scalar(Varchar)
		return c, nil
	}
	encs, ok := leafEncodings[l.Class]
	if !ok || hasTitleDims(l.Title) {
		return nil, fmt.Errorf("%w: leaf %q (%s %s)", rfile.ErrNotLean, l.Name, l.Class, l.Title)
	}
	c.enc = encs[0]
	if l.Unsigned {
		c.enc = encs[1]
	}
	elem := Scalar(c.enc.sqlType())
	if l.Counted {
		if leafList {
			return nil, fmt.Errorf("%w: counted leaf in a leaf list", rfile.ErrNotLean)
		}
		c.Layout, c.Type = LayoutJagged, ListOf(elem)
		c.Count = countOf(l.Title)
		return c, nil
	}
	if l.N != 1 {
		return nil, fmt.Errorf("%w: leaf %q of length %d", rfile.ErrNotLean, l.Name, l.N)
	}
	for _, ll := range b.Leaves {
		if ll.Counted {
			return nil, fmt.Errorf("%w: leaf list with counted leaves", rfile.ErrNotLean)
		}
		c.entrySize += ll.N * ll.LenType
	}
	c.Layout, c.Type, c.leafOffset = LayoutFixed, elem, l.Offset
	return c, nil
}

// hasTitleDims reports whether groot reads array dimensions from a leaf's
// title: a "[" followed by digits or nothing and "]" ("x[3]", "x[]"); a
// count leaf's name ("Jet_pt[nJet]") is not one.
func hasTitleDims(title string) bool {
	for i := 0; i < len(title); i++ {
		if title[i] != '[' {
			continue
		}
		j := i + 1
		for j < len(title) && title[j] >= '0' && title[j] <= '9' {
			j++
		}
		if j < len(title) && title[j] == ']' {
			return true
		}
	}
	return false
}
