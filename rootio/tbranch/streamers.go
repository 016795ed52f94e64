package tbranch

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hepsql/hepsql/rootio/gohep"
	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/ttree"
	"go-hep.org/x/hep/groot/rbytes"
	"go-hep.org/x/hep/groot/rdict"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rmeta"

	// groot's physics classes (TLorentzVector, TVector2, TVector3): a
	// TLeafObject of one of them is unmarshalled from the tree record by
	// a type groot must know, or the whole tree fails to open.
	_ "go-hep.org/x/hep/groot/rphys"
	"go-hep.org/x/hep/groot/rtypes"
)

// groot builds a Go type for the class of every TBranchElement while it
// unmarshals the TTree record (rdict.TypeFromSI and TypeFromSE call each
// other once per member, looking each class up by name and memoizing
// nothing). A class that refers to itself (ND::TDatum's fParent, an
// ND::TDatum*) sends that recursion round for ever: Go cannot recover from
// the stack overflow that ends it, and the host process dies. A chain of
// classes nested deeply enough does the same, and a graph of classes that
// each hold several members of the next costs time exponential in its
// depth.
//
// So before groot sees a tree, GuardStreamers walks the class graph of the
// file's streamers as groot will (the same look-ups by name, through the
// file), finds the cycles and the graphs too deep or too large, and gives
// groot a copy of each offending class without the members that close a
// cycle or lead too deep: types groot builds always terminate. The classes
// and the members left out are remembered, so that the branches that store
// them are listed as unsupported with the reason.

const (
	// MaxClassDepth bounds how deeply classes nest (members of members);
	// ROOT's own classes and experiments' event models stay well below.
	MaxClassDepth = 64
	// maxClassExpansion bounds the number of member types groot builds for
	// one class, counting a class used twice twice, as groot does.
	maxClassExpansion = 1 << 16
)

// StreamerGuard is what GuardStreamers found in a file's streamers.
type StreamerGuard struct {
	// bad gives, for each class whose members were cut, why.
	bad map[string]string
	// cut gives, for each class, its members left out and why.
	cut map[string]map[string]string
	// taint gives, for each class whose type holds a bad class (itself
	// or through its members), the bad class's reason.
	taint map[string]string
	// missing holds the classes without streamer info that got empty
	// stand-ins.
	missing map[string]bool
}

// Reason returns why type name (a class, a pointer to one or an STL
// container of them) cannot be read, or "" when nothing in it was cut.
func (g *StreamerGuard) Reason(typeName string) string {
	if g == nil || len(g.bad) == 0 {
		return ""
	}
	for _, n := range classTokens(typeName) {
		if why, ok := g.taint[n]; ok {
			return why
		}
	}
	return ""
}

// memberReason returns why member of class was left out, or "".
func (g *StreamerGuard) memberReason(class, member string) string {
	if g == nil {
		return ""
	}
	return g.cut[class][member]
}

// classTokens splits a C++ type name into the names it mentions: the
// class of "ND::TDatum*", the arguments of "vector<pair<A,B*> >".
func classTokens(typeName string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(typeName, func(r rune) bool {
		return r == '<' || r == '>' || r == ',' || r == '*' || r == '&'
	}) {
		f = strings.TrimSpace(f)
		f = strings.TrimPrefix(f, "const ")
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if _, ok := rmeta.TypeName2Enum(f); ok {
			continue
		}
		out = append(out, f)
	}
	return out
}

// elementTargets returns the names of the classes whose types groot
// builds to build element se's (rdict.TypeFromSE's look-ups).
func elementTargets(se rbytes.StreamerElement) []string {
	if rtypes.Factory.HasKey(strings.TrimRight(se.TypeName(), "*")) {
		return nil // a type groot knows: nothing is looked up
	}
	switch se := se.(type) {
	case *rdict.StreamerBase:
		return []string{se.Name()}
	case *rdict.StreamerObject, *rdict.StreamerObjectAny, *rdict.StreamerObjectPointer, *rdict.StreamerObjectAnyPointer:
		return []string{strings.TrimSpace(strings.TrimRight(se.TypeName(), "*"))}
	case *rdict.StreamerLoop, *rdict.StreamerSTL:
		names := classTokens(se.TypeName())
		if se.Name() == "This" && strings.HasPrefix(se.Title(), "<") {
			names = append(names, classTokens(se.Title())...)
		}
		return names
	}
	return nil
}

// stdTemplates are names classTokens leaves in that are containers, not
// classes with streamers of their own.
func isStdTemplate(name string) bool {
	name = strings.TrimPrefix(name, "std::")
	switch name {
	case "vector", "list", "deque", "set", "multiset", "unordered_set", "unordered_multiset",
		"map", "multimap", "unordered_map", "unordered_multimap", "pair", "bitset", "string",
		"ROOT::VecOps::RVec", "ROOT::RVec", "allocator", "less":
		return true
	}
	return false
}

// classNode is a class of the graph GuardStreamers walks.
type classNode struct {
	name    string
	si      rbytes.StreamerInfo
	elems   []rbytes.StreamerElement
	targets [][]int // per element, the nodes it leads to
	// Tarjan's bookkeeping.
	index, low int
	onStack    bool
	scc        int
	// depth and size of the type groot builds, once the node's
	// offending members are cut.
	depth, size int
}

// GuardStreamers analyses rf's streamers (those of the file and those
// groot's registry would lend it: the registry holds every streamer of
// every file the process opened, so a class the file names but does not
// describe may come from another file) and replaces, for groot's look-ups
// in rf, each class whose type could not be built in bounded time and
// stack by a copy without the offending members. roots are the classes
// the tree's branches name, walked with the file's own. It returns what it
// cut.
//
// With stubMissing, a class groot would look up that neither the file nor
// the registry describes (groot's "no streamer for" fails the whole tree)
// gets an empty stand-in, and the classes holding it are unsupported,
// "no streamer info for class X in the file". ParseTree asks for that
// only after groot failed so, so that no tree readable without it changes.
func GuardStreamers(rf *riofs.File, roots []string, stubMissing bool) (*StreamerGuard, error) {
	var nodes []*classNode
	missing := map[string]bool{}
	byName := map[string]int{}
	var lookup func(name string) int
	// riofs.File.StreamerInfo scans the file's list for each look-up
	// (quadratic over a file's classes); the same answers from a map: the
	// first of a name in the list (or of a Go type's C++ name, as
	// rdict.Typename matches them), else groot's registry.
	inFile := map[string]rbytes.StreamerInfo{}
	for _, si := range rf.StreamerInfos() {
		if _, ok := inFile[si.Name()]; !ok {
			inFile[si.Name()] = si
		}
		if t := si.Title(); strings.HasPrefix(t, "Go;") {
			if n := rdict.GoName2Cxx(strings.TrimSpace(t[3:])); inFile[n] == nil {
				inFile[n] = si
			}
		}
	}
	find := func(name string) rbytes.StreamerInfo {
		if si, ok := inFile[name]; ok {
			return si
		}
		if len(inFile) == 0 {
			return nil // riofs: no streamer list, no look-up
		}
		si, _ := rdict.StreamerInfos.Get(name, -1)
		return si
	}
	lookup = func(name string) int {
		if i, ok := byName[name]; ok {
			return i
		}
		byName[name] = -1
		if isStdTemplate(name) || rtypes.Factory.HasKey(name) {
			return -1
		}
		si := find(name)
		if si == nil && stubMissing && len(inFile) > 0 {
			si = rdict.NewCxxStreamerInfo(name, 1, 0, nil)
			missing[name] = true
		}
		if si == nil {
			return -1 // groot reports a missing streamer itself
		}
		if rtypes.Factory.HasKey(si.Name()) {
			return -1
		}
		i := len(nodes)
		nodes = append(nodes, &classNode{name: name, si: si, index: -1})
		byName[name] = i
		return i
	}
	for _, si := range rf.StreamerInfos() {
		lookup(si.Name())
	}
	for _, name := range roots {
		lookup(name)
	}
	// Edges, resolved lazily as new classes are found.
	for i := 0; i < len(nodes); i++ {
		n := nodes[i]
		n.elems = n.si.Elements()
		n.targets = make([][]int, len(n.elems))
		for j, se := range n.elems {
			if se == nil {
				continue
			}
			for _, t := range elementTargets(se) {
				if k := lookup(t); k >= 0 {
					n.targets[j] = append(n.targets[j], k)
				}
			}
		}
	}

	// Tarjan's strongly connected components, without recursion (a
	// hostile file's chain of classes must not exhaust our stack either).
	// Components come out in reverse topological order: every component a
	// node leads to is complete before the node's own.
	var (
		index int
		stack []int
		sccs  [][]int
	)
	type frame struct{ v, elem, edge int }
	for root := range nodes {
		if nodes[root].index >= 0 {
			continue
		}
		work := []frame{{v: root}}
		nodes[root].index, nodes[root].low = index, index
		index++
		stack = append(stack, root)
		nodes[root].onStack = true
		for len(work) > 0 {
			f := &work[len(work)-1]
			n := nodes[f.v]
			advanced := false
			for f.elem < len(n.targets) {
				if f.edge >= len(n.targets[f.elem]) {
					f.elem, f.edge = f.elem+1, 0
					continue
				}
				w := n.targets[f.elem][f.edge]
				f.edge++
				m := nodes[w]
				if m.index < 0 {
					m.index, m.low = index, index
					index++
					stack = append(stack, w)
					m.onStack = true
					work = append(work, frame{v: w})
					advanced = true
					break
				}
				if m.onStack && m.index < n.low {
					n.low = m.index
				}
			}
			if advanced {
				continue
			}
			if n.low == n.index {
				var comp []int
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					nodes[w].onStack = false
					nodes[w].scc = len(sccs)
					comp = append(comp, w)
					if w == f.v {
						break
					}
				}
				sccs = append(sccs, comp)
			}
			work = work[:len(work)-1]
			if len(work) > 0 {
				p := nodes[work[len(work)-1].v]
				if n.low < p.low {
					p.low = n.low
				}
			}
		}
	}

	g := &StreamerGuard{bad: map[string]string{}, cut: map[string]map[string]string{}, taint: map[string]string{}, missing: missing}
	for name := range missing {
		why := "no streamer info for class " + name + " in the file"
		g.bad[name], g.taint[name] = why, why
	}
	cutMember := func(n *classNode, j int, why string) {
		if g.cut[n.name] == nil {
			g.cut[n.name] = map[string]string{}
		}
		g.cut[n.name][n.elems[j].Name()] = why
		n.targets[j] = nil
	}
	for c, comp := range sccs {
		// A cycle: a component of several classes, or one that refers to
		// itself. Its members that lead back into it are cut.
		cyclic := len(comp) > 1
		if !cyclic {
			n := nodes[comp[0]]
			for _, ts := range n.targets {
				for _, t := range ts {
					if t == comp[0] {
						cyclic = true
					}
				}
			}
		}
		if cyclic {
			names := make([]string, len(comp))
			for i, v := range comp {
				names[i] = nodes[v].name
			}
			sort.Strings(names)
			why := "recursive class " + strings.Join(names, " ↔ ")
			for _, v := range comp {
				n := nodes[v]
				g.bad[n.name] = why
				g.taint[n.name] = why
				for j, ts := range n.targets {
					for _, t := range ts {
						if nodes[t].scc == c {
							cutMember(n, j, why)
							break
						}
					}
				}
			}
		}
		// Every component this one leads to is done: bound the depth and
		// size of each of its classes' types.
		for _, v := range comp {
			n := nodes[v]
			n.depth, n.size = 1, 1
			for _, ts := range n.targets {
				for _, t := range ts {
					m := nodes[t]
					n.depth = max(n.depth, m.depth+1)
					n.size = min(n.size+m.size, 2*maxClassExpansion)
					if why := g.taint[m.name]; why != "" && g.taint[n.name] == "" {
						g.taint[n.name] = why
					}
				}
			}
			if n.depth > MaxClassDepth || n.size > maxClassExpansion {
				why := fmt.Sprintf("class %s nests more than %d classes deep", n.name, MaxClassDepth)
				if n.depth <= MaxClassDepth {
					why = fmt.Sprintf("class %s expands to more than %d member types", n.name, maxClassExpansion)
				}
				if g.bad[n.name] == "" {
					g.bad[n.name] = why
				}
				g.taint[n.name] = g.bad[n.name]
				for j, ts := range n.targets {
					if len(ts) > 0 {
						cutMember(n, j, why)
					}
				}
				n.depth, n.size = 1, 1
			}
		}
	}
	if len(g.cut) == 0 && len(missing) == 0 {
		return g, nil
	}
	if err := g.install(rf, nodes); err != nil {
		return nil, err
	}
	// The types of the classes that hold a cut one now terminate; a member
	// of theirs groot still cannot type (vector<ND::TDatum*>: groot has no
	// type for a pointer in a container) would fail the whole tree, so it
	// is cut as well. Classes nothing was cut from are left as they are.
	more := false
	for _, n := range nodes {
		if g.taint[n.name] == "" {
			continue
		}
		for j, se := range n.elems {
			if se == nil || g.cut[n.name][se.Name()] != "" {
				continue
			}
			if err := tryTypeFromSE(rf, se); err != nil {
				why := g.Reason(se.TypeName())
				if why == "" {
					why = fmt.Sprintf("C++ type %s: %v", se.TypeName(), err)
				}
				cutMember(n, j, why)
				more = true
			}
		}
	}
	if more {
		if err := g.install(rf, nodes); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// MissingStreamer says whether groot failed for want of a class's
// streamer info.
func MissingStreamer(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "no streamer for") || strings.Contains(msg, "could not find streamer")
}

// tryTypeFromSE asks groot for se's type, its panics turned into errors.
func tryTypeFromSE(rf *riofs.File, se rbytes.StreamerElement) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	_, err = rdict.TypeFromSE(rf, se)
	return err
}

// install puts copies of the classes members were cut from ahead of the
// file's own streamers in groot's look-ups (riofs.File.StreamerInfo takes
// the first of a name).
func (g *StreamerGuard) install(rf *riofs.File, classes []*classNode) error {
	var safe []rbytes.StreamerInfo
	for _, n := range classes {
		cut := g.cut[n.name]
		if g.missing[n.name] {
			safe = append(safe, n.si) // the empty stand-in
			continue
		}
		if len(cut) == 0 {
			continue
		}
		var keep []rbytes.StreamerElement
		for _, se := range n.elems {
			if se == nil {
				continue
			}
			if _, ok := cut[se.Name()]; !ok {
				keep = append(keep, se)
			}
		}
		safe = append(safe, rdict.NewCxxStreamerInfo(n.si.Name(), int32(n.si.ClassVersion()), uint32(n.si.CheckSum()), keep))
		if n.name != n.si.Name() {
			safe = append(safe, rdict.NewCxxStreamerInfo(n.name, int32(n.si.ClassVersion()), uint32(n.si.CheckSum()), keep))
		}
	}
	return gohep.PrependFileStreamers(rf, safe)
}

// CheckTreeKey checks the record of tree tname of directory dir (its
// highest cycle, as groot's Get takes it) with ttree.CheckTreeRecord, and
// returns the classes its branches name: the roots GuardStreamers walks
// before groot reads the record.
func CheckTreeKey(dir riofs.Directory, tname string) ([]string, error) {
	var key *riofs.Key
	keys := dir.Keys()
	for i := range keys {
		if keys[i].Name() == tname && (key == nil || keys[i].Cycle() > key.Cycle()) {
			key = &keys[i]
		}
	}
	if key == nil {
		return nil, nil // Get reports it
	}
	payload, err := key.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", rfile.ErrCorruptTree, err)
	}
	classes, err := ttree.CheckTreeRecord(payload, int(key.KeyLen()), key.ClassName())
	if err != nil {
		return nil, rfile.Corruptf(rfile.ErrCorruptTree, "%s", rfile.Detail(err))
	}
	// The directory's own key (Keys shares its slice) keeps the inflated
	// record, so that groot's Get copies it rather than inflating it again.
	key.SetBuffer(payload)
	return classes, nil
}
