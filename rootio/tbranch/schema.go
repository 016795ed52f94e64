package tbranch

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go-hep.org/x/hep/groot/rbytes"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rmeta"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/rootio/gohep"
	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/ttree"
)

// Encoding is how one element is stored on disk.
type Encoding int

const (
	EncBool Encoding = iota
	EncI8
	EncU8
	EncI16
	EncU16
	EncI32
	EncU32
	EncI64
	EncU64
	EncF32
	EncF64
	EncF16 // ROOT Float16_t: packed, decoded to FLOAT
	EncD32 // ROOT Double32_t: packed or float32, decoded to DOUBLE
)

// diskSize is the on-disk bytes of one element.
func (e Encoding) diskSize(p packing) int {
	switch e {
	case EncBool, EncI8, EncU8:
		return 1
	case EncI16, EncU16:
		return 2
	case EncI32, EncU32, EncF32:
		return 4
	case EncI64, EncU64, EncF64:
		return 8
	case EncF16:
		if p.factor != 0 {
			return 4
		}
		return 3
	case EncD32:
		switch {
		case p.factor != 0:
			return 4
		case p.nbits == 0:
			return 4
		}
		return 3
	}
	return 0
}

func (e Encoding) sqlType() Kind {
	return [...]Kind{
		EncBool: Bool, EncI8: Int8, EncU8: UInt8,
		EncI16: Int16, EncU16: UInt16, EncI32: Int32,
		EncU32: UInt32, EncI64: Int64, EncU64: UInt64,
		EncF32: Float, EncF64: Double, EncF16: Float, EncD32: Double,
	}[e]
}

// packing holds the parameters of Float16_t / Double32_t encodings.
type packing struct {
	factor float64
	xmin   float64
	nbits  uint32
}

// Layout is how an entry's elements are arranged in a basket.
type Layout int

const (
	LayoutUnsupported  Layout = iota
	LayoutFixed               // fixed-size entries: a scalar or a fixed array
	LayoutJagged              // leaf with a count leaf: Jet_pt[nJet]/F
	LayoutVector              // std::vector<T>: optional byte-count header, n, n elements
	LayoutVecVec              // std::vector<std::vector<T>>
	LayoutString              // C string, std::string, TString: length-prefixed
	LayoutVecString           // std::vector<std::string>
	LayoutPtrArray            // member "T* x; //[n]" of a split object: a flag byte, then n elements
	LayoutObject              // a whole object, read as a STRUCT (object.go)
	LayoutObjectList          // a collection of whole objects, read as a LIST of STRUCTs (object.go)
	LayoutLeafListVar         // a leaf of a leaf list with variable-length leaves (leaflist.go)
	LayoutMap                 // std::map<K, V> of numbers and strings, as MAP(K, V) (stlmap.go)
	LayoutBitsList            // TObject::fBits of a split collection's elements (collection.go)
	LayoutStringList          // a TString member of a split collection's elements (collection.go)
	LayoutVecVecString        // std::vector<std::vector<std::string>> (or of sets, of TStrings)
)

// Column is one SQL Column of a tree: where its bytes are and how to decode
// them. It is built once per file at bind time.
type Column struct {
	Name     string // SQL column name: the branch path, made unique without regard to case
	Path     string // the branch path (dotted for members and leaf lists)
	RootType string // ROOT's description of the leaf, for root_branches
	Type     Type
	Layout   Layout
	enc      Encoding
	pack     packing
	dims     []int // fixed dimensions per entry (LayoutFixed) or per element (LayoutJagged)
	// LayoutFixed: bytes per entry of the branch and the offset of this leaf
	// inside it (non-zero only for leaf lists such as "x/I:y/F").
	entrySize  int
	leafOffset int
	// strHeader: each string entry starts with ROOT's byte-count and
	// version, as std::string members of split objects do.
	strHeader bool
	Why       string // why the column cannot be read, when layout is unsupported

	// element: the branch is a TBranchElement, whose C strings always
	// carry a length byte (a plain TLeafC entry may be empty).
	element bool
	Baskets ttree.BasketTable
	// Count: for LayoutJagged, the path of the branch that counts the
	// elements (from the leaf's title, "Jet_pt[nJet]"); its values give
	// the entries' sizes in a basket written without entry offsets.
	Count string
	// Master: for a member of a split collection (collection.go), the
	// collection's Master branch, whose entries count the elements.
	Master *Column
	// obj: for LayoutObject, how the class is streamed.
	obj *objShape
	// llist, llIdx: for LayoutLeafListVar, the branch's leaves and which
	// of them this column is.
	llist []llLeaf
	llIdx int
	// mapKey, mapVal: for LayoutMap, how a key and a value are streamed.
	mapKey, mapVal mapPart
	// LeanSig: for a column of a plain TBranch, the signatures of the
	// branch's leaves (leafSignature); the lean reader types a chain
	// member's column from the first file's when they are equal.
	LeanSig string
}

// ElemEncoding is how the column's elements are stored on disk.
func (c *Column) ElemEncoding() Encoding { return c.enc }

// Supported says whether the column can be read (its layout is known).
func (c *Column) Supported() bool { return c.Layout != LayoutUnsupported }

// maxArraySize is the most elements DuckDB's fixed-size ARRAY type holds
// (ArrayType::MAX_ARRAY_SIZE); a larger one cannot be a column.
const maxArraySize = 100000

// checkDims says why fixed dimensions read from a file cannot type a
// column, or "": each must be positive and their product within DuckDB's
// ARRAY limit (checked as it grows, so that it cannot overflow).
func checkDims(dims []int) string {
	n := 1
	for _, d := range dims {
		if d < 1 {
			return fmt.Sprintf("array dimension %d in %v", d, dims)
		}
		if n *= d; n > maxArraySize {
			return fmt.Sprintf("fixed array of more than %d elements per entry (DuckDB's ARRAY limit), dimensions %v", maxArraySize, dims)
		}
	}
	return ""
}

// elemsPerItem is the product of the fixed dimensions.
func (c *Column) elemsPerItem() int {
	n := 1
	for _, d := range c.dims {
		n *= d
	}
	return n
}

var leafEncodings = map[string][2]Encoding{ // signed, unsigned
	"TLeafO": {EncBool, EncBool},
	"TLeafB": {EncI8, EncU8},
	"TLeafS": {EncI16, EncU16},
	"TLeafI": {EncI32, EncU32},
	"TLeafL": {EncI64, EncU64},
	"TLeafG": {EncI64, EncU64},
	"TLeafF": {EncF32, EncF32},
	"TLeafD": {EncF64, EncF64},
}

// cxxEncodings maps C++ element type names used by TBranchElement streamers.
var cxxEncodings = map[string]Encoding{
	"bool": EncBool, "Bool_t": EncBool,
	"char": EncI8, "Char_t": EncI8, "signed char": EncI8, "int8_t": EncI8,
	"unsigned char": EncU8, "UChar_t": EncU8, "uint8_t": EncU8,
	"short": EncI16, "Short_t": EncI16, "int16_t": EncI16,
	"unsigned short": EncU16, "UShort_t": EncU16, "uint16_t": EncU16,
	"int": EncI32, "Int_t": EncI32, "int32_t": EncI32,
	"unsigned int": EncU32, "UInt_t": EncU32, "uint32_t": EncU32,
	"long": EncI64, "Long_t": EncI64, "Long64_t": EncI64, "long long": EncI64, "int64_t": EncI64,
	"unsigned long": EncU64, "ULong_t": EncU64, "ULong64_t": EncU64, "unsigned long long": EncU64, "uint64_t": EncU64,
	"float": EncF32, "Float_t": EncF32,
	"double": EncF64, "Double_t": EncF64,
}

var stringTypes = map[string]bool{"string": true, "std::string": true, "TString": true}

// countOf returns the count leaf a leaf title names ("Jet_pt[nJet]" →
// "nJet"), or "".
func countOf(title string) string {
	if i := strings.IndexByte(title, '/'); i >= 0 {
		title = title[:i]
	}
	for _, m := range dimPattern.FindAllStringSubmatch(title, -1) {
		if _, err := strconv.Atoi(m[1]); err != nil {
			return m[1]
		}
	}
	return ""
}

var dimPattern = regexp.MustCompile(`\[([^\]]+)\]`)

// TitleDims parses the fixed dimensions of a leaf title such as
// "ArrD16[2][3]/f[0,0,16]"; the part after '/' is the type and its range.
func TitleDims(title string) []int {
	if i := strings.IndexByte(title, '/'); i >= 0 {
		title = title[:i]
	}
	var dims []int
	for _, m := range dimPattern.FindAllStringSubmatch(title, -1) {
		n, err := strconv.Atoi(m[1])
		if err != nil {
			continue // a count-leaf name, not a fixed dimension
		}
		dims = append(dims, n)
	}
	return dims
}

// ColumnsOf flattens a tree's branches into SQL columns. Branches that hold
// sub-branches (split objects) contribute their members, named with dots.
// guard says which classes groot's types were cut short for (streamers.go):
// a branch that stores one is unsupported, with the reason.
func ColumnsOf(t rtree.Tree, guard *StreamerGuard) ([]*Column, error) {
	var cols []*Column
	file := treeFile(t) // for the streamers of whole objects (object.go)
	// master: the split collection (fType 3/4) above b, if any.
	var walk func(b rtree.Branch, prefix string, master *Column) error
	walk = func(b rtree.Branch, prefix string, master *Column) error {
		name := MemberName(prefix, b.Name())
		if subs := b.Branches(); len(subs) > 0 {
			if b.Class() == "TBranchElement" {
				info, err := gohep.ReadElementInfo(b)
				if err != nil {
					return err
				}
				if info.BType == 3 || info.BType == 4 {
					bt, err := gohep.ReadBasketTable(b)
					if err != nil {
						return err
					}
					master = masterColumn(b, name, bt)
				}
			}
			for _, sb := range subs {
				if err := walk(sb, name, master); err != nil {
					return err
				}
			}
			return nil
		}
		bt, err := gohep.ReadBasketTable(b)
		if err != nil {
			return err
		}
		leaves := b.Leaves()
		if b.Class() == "TBranchElement" {
			c, err := elementColumn(b, guard, file, master)
			if err != nil {
				return err
			}
			c.Name = name
			c.element, c.Baskets = true, bt
			cols = append(cols, c)
			return nil
		}
		var sig string
		if b.Class() == "TBranch" {
			sigs := make([]string, len(leaves))
			for i, l := range leaves {
				n, err := gohep.LeafLen(l)
				if err != nil {
					return err
				}
				sigs[i] = ttree.LeafSignature(l.Class(), l.Name(), l.Title(), n, l.LenType(), l.Offset(), l.IsUnsigned(), l.LeafCount() != nil)
			}
			sig = strings.Join(sigs, "; ")
		}
		for _, l := range leaves {
			c := leafColumn(b, l, len(leaves) > 1)
			c.LeanSig = sig
			c.Name = name
			if len(leaves) > 1 {
				c.Name = name + "." + l.Name()
			}
			c.Baskets = bt
			cols = append(cols, c)
		}
		return nil
	}
	for _, b := range t.Branches() {
		if err := walk(b, "", nil); err != nil {
			return nil, fmt.Errorf("branch %q: %w", b.Name(), err)
		}
	}
	UniqueNames(cols)
	for _, c := range cols {
		c.RootType, c.Why = rfile.SafeText(c.RootType), rfile.SafeText(c.Why)
	}
	return cols, nil
}

// UniqueNames sets each column's SQL name. DuckDB compares column names
// without regard to case, but ROOT does not ("ab" and "Ab" are different
// branches), so later clashes get a numeric suffix; root_branches shows
// both names.
func UniqueNames(cols []*Column) {
	seen := map[string]bool{}
	for _, c := range cols {
		c.Path = c.Name
		// A SQL name must be valid UTF-8; the path keeps the file's bytes.
		base := rfile.SafeText(c.Name)
		name := base
		for i := 2; seen[strings.ToLower(name)]; i++ {
			name = fmt.Sprintf("%s_%d", base, i)
		}
		seen[strings.ToLower(name)] = true
		c.Name = name
	}
}

// MemberName names a sub-branch column "parent.member". ROOT names split
// members either "member" or "parent.member" (and array members
// "member[10]"); both become the same dotted path without the dimensions.
// Under a top-level branch whose name ends with a dot ("X.", as CMS's
// EDM writes), every descendant's name starts with the full path
// ("X.obj.chi2_"), which is then the column's name.
func MemberName(parent, branch string) string {
	if i := strings.IndexByte(branch, '['); i >= 0 {
		branch = branch[:i]
	}
	if parent == "" {
		return branch
	}
	if p := strings.TrimSuffix(parent, "."); p != "" {
		parent = p
	}
	if strings.HasPrefix(branch, parent+".") {
		return branch
	}
	short := parent
	if i := strings.LastIndexByte(parent, '.'); i >= 0 {
		short = parent[i+1:]
	}
	branch = strings.TrimPrefix(branch, short+".")
	return parent + "." + branch
}

// leafColumn maps a leaf of a plain TBranch.
func leafColumn(b rtree.Branch, l rtree.Leaf, leafList bool) *Column {
	name := b.Name()
	if leafList {
		name = b.Name() + "." + l.Name()
	}
	c := &Column{Name: name, RootType: l.Class() + " " + l.Title()}
	unsupported := func(why string) *Column {
		c.Layout, c.Why = LayoutUnsupported, why
		return c
	}
	if l.Class() == "TLeafC" {
		if leafList {
			return unsupported("C string inside a leaf list")
		}
		c.Layout, c.Type = LayoutString, Scalar(Varchar)
		return c
	}
	var enc Encoding
	switch l.Class() {
	case "TLeafF16", "TLeafD32":
		enc = EncF16
		if l.Class() == "TLeafD32" {
			enc = EncD32
		}
		elm, err := gohep.LeafElement(l)
		if err != nil {
			return unsupported(err.Error())
		}
		c.pack = packingOf(elm)
		c.dims = TitleDims(l.Title())
		if len(c.dims) == 0 && !leafList {
			c.dims = TitleDims(b.Title()) // the leaf title may omit them
		}
	default:
		encs, ok := leafEncodings[l.Class()]
		if !ok {
			return unsupported("leaf class " + l.Class())
		}
		enc = encs[0]
		if l.IsUnsigned() {
			enc = encs[1]
		}
		c.dims = l.Shape()
	}
	c.enc = enc
	if why := checkDims(c.dims); why != "" {
		return unsupported(why)
	}
	elem := Scalar(enc.sqlType())
	inner := elem
	for i := len(c.dims) - 1; i >= 0; i-- {
		inner = ArrayOf(inner, c.dims[i])
	}
	if leafList {
		for _, ll := range b.Leaves() {
			if ll.LeafCount() != nil {
				return leafListVarColumn(c, b, l, inner)
			}
		}
	}
	if l.LeafCount() != nil {
		if leafList {
			return unsupported("variable-length leaf inside a leaf list")
		}
		// Shape() of a jagged leaf lists only its fixed inner dimensions.
		c.Layout, c.Type = LayoutJagged, ListOf(inner)
		c.Count = countOf(l.Title())
		return c
	}
	n, err := gohep.LeafLen(l)
	if err != nil {
		return unsupported(err.Error())
	}
	if n != c.elemsPerItem() {
		return unsupported(fmt.Sprintf("leaf length %d does not match dimensions %v", n, c.dims))
	}
	for _, ll := range b.Leaves() {
		if ll.LeafCount() != nil {
			return unsupported("leaf list with variable-length leaves")
		}
	}
	c.Layout, c.Type = LayoutFixed, inner
	c.leafOffset = l.Offset()
	c.entrySize = 0
	for _, ll := range b.Leaves() {
		ln, err := gohep.LeafLen(ll)
		if err != nil {
			return unsupported(err.Error())
		}
		size := ll.LenType()
		if ll.Class() == "TLeafF16" || ll.Class() == "TLeafD32" {
			size = c.enc.diskSize(c.pack)
			if ll != l {
				return unsupported("packed float inside a leaf list")
			}
		}
		c.entrySize += ln * size
	}
	return c
}

func packingOf(elm rbytes.StreamerElement) packing {
	if elm == nil {
		return packing{}
	}
	p := packing{factor: elm.Factor(), xmin: elm.XMin()}
	if p.factor == 0 {
		p.nbits = uint32(elm.XMin())
	}
	return p
}

// elementColumn maps a TBranchElement (a class member or an STL container).
func elementColumn(b rtree.Branch, guard *StreamerGuard, file *riofs.File, master *Column) (*Column, error) {
	info, err := gohep.ReadElementInfo(b)
	if err != nil {
		return nil, err
	}
	baseMember(b, &info)
	c, err := elementColumnOf(b, info, file, master)
	if err != nil || guard == nil {
		return c, err
	}
	// A member cut from its class, or a type holding a class whose type
	// groot could not build, cannot be read. A member of such a class
	// that is itself a number or a string still can.
	member := b.Name()
	if i := strings.LastIndexByte(member, '.'); i >= 0 {
		member = member[i+1:]
	}
	if i := strings.IndexByte(member, '['); i >= 0 {
		member = member[:i]
	}
	why := ""
	if info.Element == nil {
		why = guard.memberReason(info.Class, member)
	}
	if why == "" && !c.Supported() {
		typ := info.Class
		if info.Element != nil {
			typ = info.Element.TypeName()
		}
		why = guard.Reason(typ)
	}
	if why != "" {
		c.Layout, c.Why = LayoutUnsupported, why
	}
	return c, nil
}

// baseMember finds the streamer element of a member of a split base class
// (TObject's fUniqueID and fBits under "trkPos.TObject", the members of an
// xAOD aux container's base), which groot leaves nil: the branch's class is
// the base, whose streamer groot does give, and fID indexes its members.
// The element found must carry the branch's member name.
func baseMember(b rtree.Branch, info *gohep.ElementInfo) {
	if info.Element != nil || info.BType != 0 || info.Streamer == nil || info.Streamer.Name() != info.Class {
		return
	}
	elems := info.Streamer.Elements()
	if info.ID < 0 || int(info.ID) >= len(elems) {
		return
	}
	member := b.Name()
	if i := strings.LastIndexByte(member, '.'); i >= 0 {
		member = member[i+1:]
	}
	if i := strings.IndexByte(member, '['); i >= 0 {
		member = member[:i]
	}
	if e := elems[info.ID]; e.Name() == member {
		info.Element = e
	}
}

// elementColumnOf maps a TBranchElement from what it says of its type.
func elementColumnOf(b rtree.Branch, info gohep.ElementInfo, file *riofs.File, master *Column) (*Column, error) {
	c := &Column{Name: b.Name()}
	cxx := info.Class
	var arrayLen int
	if info.Element != nil {
		cxx = info.Element.TypeName()
		arrayLen = info.Element.ArrayLen()
	}
	c.RootType = "TBranchElement " + cxx
	// Members of split TClonesArrays and STL collections (fType 31/41)
	// are stored member-wise across the elements (collection.go).
	if info.BType == 31 || info.BType == 41 {
		memberColumn(c, b, info, file, master)
		return c, nil
	}
	// A split collection's master branch without members: nothing of
	// its elements is stored in it.
	if info.BType == 3 || info.BType == 4 {
		c.Layout, c.Why = LayoutUnsupported, fmt.Sprintf("split collection of %s without member branches", info.Clones)
		return c, nil
	}
	cxx = normalizeCxx(cxx)
	switch {
	case stringTypes[cxx]:
		c.Layout, c.Type = LayoutString, Scalar(Varchar)
		c.strHeader = info.Element != nil && cxx != "TString"
		return c, nil
	case strings.HasSuffix(cxx, "*"):
		// A basic type's array behind a pointer, sized by another member
		// ("double* fArr; //[fN]", ROOT's kOffsetP + type): ROOT writes a
		// byte (1, or 0 for a null or empty array) and then the elements.
		enc, ok := cxxEncodings[strings.TrimSpace(strings.TrimSuffix(cxx, "*"))]
		if ok && info.Element != nil && arrayLen <= 1 && info.SType == kOffsetP+int32(info.Element.Type()%kOffsetP) && info.Element.Type() > kOffsetP && info.Element.Type() < kOffsetP+20 {
			c.enc, c.Layout = enc, LayoutPtrArray
			c.Type = ListOf(Scalar(enc.sqlType()))
			return c, nil
		}
		c.Layout, c.Why = LayoutUnsupported, "pointer member "+cxx
		return c, nil
	}
	if enc, ok := cxxEncodings[cxx]; ok {
		c.enc = enc
		c.Type = Scalar(enc.sqlType())
		c.Layout = LayoutFixed
		c.entrySize = enc.diskSize(packing{})
		if why := checkDims([]int{arrayLen}); arrayLen > 1 && why != "" {
			c.Layout, c.Why = LayoutUnsupported, why
			return c, nil
		}
		if arrayLen > 1 {
			c.dims = []int{arrayLen}
			c.Type = ArrayOf(c.Type, arrayLen)
			c.entrySize *= arrayLen
		}
		return c, nil
	}
	if inner, ok := vectorOf(cxx); ok {
		if stringTypes[inner] {
			c.Layout, c.Type = LayoutVecString, ListOf(Scalar(Varchar))
			return c, nil
		}
		if enc, ok := cxxEncodings[inner]; ok {
			c.enc, c.Layout = enc, LayoutVector
			c.Type = ListOf(Scalar(enc.sqlType()))
			return c, nil
		}
		if inner2, ok := vectorOf(inner); ok {
			if enc, ok := cxxEncodings[inner2]; ok {
				c.enc, c.Layout = enc, LayoutVecVec
				c.Type = ListOf(ListOf(Scalar(enc.sqlType())))
				return c, nil
			}
			if stringTypes[inner2] {
				c.Layout, c.Type = LayoutVecVecString, ListOf(ListOf(Scalar(Varchar)))
				return c, nil
			}
		}
	}
	if mapColumn(c, cxx) {
		return c, nil
	}
	c.Layout, c.Why = LayoutUnsupported, "C++ type "+cxx
	// A whole object: the branch of an unsplit one (fID -1), or an
	// object member of a split one (kObject, kAny).
	if info.Element == nil && info.ID == -1 || info.Element != nil && (info.SType == int32(rmeta.Object) || info.SType == int32(rmeta.Any)) {
		objectColumn(c, file, cxx)
	}
	// A sequence container of objects (vector<TLorentzVector>).
	if inner, ok := vectorOf(cxx); ok && !strings.ContainsAny(inner, "<*,") && !stringTypes[inner] {
		objectListColumn(c, file, b, inner)
	}
	return c, nil
}

// kOffsetP is ROOT's streamer-type offset of a pointer to a basic type's
// array (TStreamerInfo::kOffsetP: 40 + kDouble for double*).
const kOffsetP = 40

// normalizeCxx removes the spelling variants of a C++ type name.
func normalizeCxx(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "const ")
	s = strings.ReplaceAll(s, "std::", "")
	s = strings.ReplaceAll(s, " >", ">")
	s = strings.ReplaceAll(s, "< ", "<")
	return s
}

// sequenceContainers are streamed like std::vector: a length, then the
// elements, so they all read as lists.
var sequenceContainers = []string{"vector<", "ROOT::VecOps::RVec<", "ROOT::RVec<", "list<", "deque<", "set<", "unordered_set<"}

// vectorOf returns T for "vector<T>" and the other sequence containers.
func vectorOf(s string) (string, bool) {
	prefix := ""
	for _, p := range sequenceContainers {
		if strings.HasPrefix(s, p) {
			prefix = p
		}
	}
	if prefix == "" || !strings.HasSuffix(s, ">") {
		return "", false
	}
	inner := strings.TrimSpace(s[len(prefix) : len(s)-1])
	// vector<T, allocator<T>>: keep T.
	if i := strings.LastIndex(inner, ",allocator"); i >= 0 {
		inner = inner[:i]
	}
	return inner, true
}
