package rootscan

import (
	"strings"

	"github.com/hepsql/hepsql/rootio/tbranch"
)

// leanWant is what a scan asks of its chain's other files: the first
// file's metadata, and the columns the query projects, read by
// rootio/tbranch's lean reader (LeanMember, whose comments say why) when
// the member's layout is simple enough, else by groot.
type leanWant struct {
	*tbranch.LeanWant
	schema *fileMeta // the chain's first file's
	key    string    // the columns' names, for the metadata cache
}

// newLeanWant limits a member's read to cols, columns of schema.
func newLeanWant(schema *fileMeta, cols []*tbranch.Column) *leanWant {
	w := &leanWant{LeanWant: tbranch.NewLeanWant(schema.Cols, cols), schema: schema}
	names := make([]string, len(w.Cols))
	for i, c := range w.Cols {
		names[i] = c.Name
	}
	w.key = strings.Join(names, "\x00")
	return w
}
