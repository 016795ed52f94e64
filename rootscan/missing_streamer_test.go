package rootscan

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go-hep.org/x/hep/groot/rdict"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/internal/testfiles"
)

type HepsqlInner struct {
	Px float64
	Py float64
}

type HepsqlOuter struct {
	N int32
	P HepsqlInner
}

// TestMissingStreamerLeavesTreeReadable: a tree with a class member whose
// class the file's streamers do not describe (the type name a member
// names is patched to one nobody registered) made groot fail the whole
// tree ("could not find streamer info"). The branch that stores the class
// is unsupported, naming the missing class, and the tree's other branch
// reads with its values.
func TestMissingStreamerLeavesTreeReadable(t *testing.T) {
	rdict.StreamerInfos.Add(rdict.StreamerOf(rdict.StreamerInfos, reflect.TypeFor[HepsqlInner]()))
	name := filepath.Join(t.TempDir(), "missing.root")
	var (
		x   int32
		evt HepsqlOuter
	)
	data := testfiles.WriteTree(t, name, "t", []rtree.WriteVar{{Name: "x", Value: &x}, {Name: "evt", Value: &evt}}, 5, func(i int) {
		x, evt = int32(i), HepsqlOuter{N: int32(i), P: HepsqlInner{float64(i), 2}}
	})
	// The first mention of the member's class is the element's type
	// name: make it a class no streamer describes (same length).
	old := []byte("\x0bHepsqlInner")
	i := bytes.Index(data, old)
	if i < 0 {
		t.Fatal("class name not found")
	}
	copy(data[i:], "\x0bHepsqlInneX")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := openTree(name, "t")
	if err != nil {
		t.Fatalf("tree with a missing streamer: %v", err)
	}
	defer m.Close()
	x0, evtCol := m.ByName["x"], m.ByName["evt"]
	if x0 == nil || !x0.Supported() || evtCol == nil || evtCol.Supported() || !strings.Contains(evtCol.Why, "no streamer info for class HepsqlInneX") {
		t.Fatalf("columns: x %+v, evt %+v", x0, evtCol)
	}
	if xs, err := treeXs(t, name, "t"); err != nil || !slices.Equal(xs, []int32{0, 1, 2, 3, 4}) {
		t.Errorf("x: %v, %v", xs, err)
	}
}
