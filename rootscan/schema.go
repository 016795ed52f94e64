package rootscan

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go-hep.org/x/hep/groot/rbytes"
	"go-hep.org/x/hep/groot/riofs"
	"go-hep.org/x/hep/groot/rmeta"
	"go-hep.org/x/hep/groot/rtree"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/rootio/gohep"
	"github.com/hepsql/hepsql/rootio/rfile"
	"github.com/hepsql/hepsql/rootio/ttree"
)

// encoding is how one element is stored on disk.
type encoding int

const (
	encBool encoding = iota
	encI8
	encU8
	encI16
	encU16
	encI32
	encU32
	encI64
	encU64
	encF32
	encF64
	encF16 // ROOT Float16_t: packed, decoded to FLOAT
	encD32 // ROOT Double32_t: packed or float32, decoded to DOUBLE
)

// diskSize is the on-disk bytes of one element.
func (e encoding) diskSize(p packing) int {
	switch e {
	case encBool, encI8, encU8:
		return 1
	case encI16, encU16:
		return 2
	case encI32, encU32, encF32:
		return 4
	case encI64, encU64, encF64:
		return 8
	case encF16:
		if p.factor != 0 {
			return 4
		}
		return 3
	case encD32:
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

func (e encoding) sqlType() capi.TypeID {
	return [...]capi.TypeID{
		encBool: capi.Boolean, encI8: capi.TinyInt, encU8: capi.UTinyInt,
		encI16: capi.SmallInt, encU16: capi.USmallInt, encI32: capi.Integer,
		encU32: capi.UInteger, encI64: capi.BigInt, encU64: capi.UBigInt,
		encF32: capi.Float, encF64: capi.Double, encF16: capi.Float, encD32: capi.Double,
	}[e]
}

// packing holds the parameters of Float16_t / Double32_t encodings.
type packing struct {
	factor float64
	xmin   float64
	nbits  uint32
}

// layout is how an entry's elements are arranged in a basket.
type layout int

const (
	layoutUnsupported layout = iota
	layoutFixed              // fixed-size entries: a scalar or a fixed array
	layoutJagged             // leaf with a count leaf: Jet_pt[nJet]/F
	layoutVector             // std::vector<T>: optional byte-count header, n, n elements
	layoutVecVec             // std::vector<std::vector<T>>
	layoutString             // C string, std::string, TString: length-prefixed
	layoutVecString          // std::vector<std::string>
	layoutPtrArray           // member "T* x; //[n]" of a split object: a flag byte, then n elements
	layoutObject             // a whole object, read as a STRUCT (object.go)
	layoutObjectList         // a collection of whole objects, read as a LIST of STRUCTs (object.go)
	layoutLeafListVar        // a leaf of a leaf list with variable-length leaves (leaflist.go)
	layoutMap                // std::map<K, V> of numbers and strings, as MAP(K, V) (stlmap.go)
	layoutBitsList           // TObject::fBits of a split collection's elements (collection.go)
	layoutStringList         // a TString member of a split collection's elements (collection.go)
)

// column is one SQL column of a tree: where its bytes are and how to decode
// them. It is built once per file at bind time.
type column struct {
	name     string // SQL column name: the branch path, made unique without regard to case
	path     string // the branch path (dotted for members and leaf lists)
	rootType string // ROOT's description of the leaf, for root_branches
	typ      capi.Type
	layout   layout
	enc      encoding
	pack     packing
	dims     []int // fixed dimensions per entry (layoutFixed) or per element (layoutJagged)
	// layoutFixed: bytes per entry of the branch and the offset of this leaf
	// inside it (non-zero only for leaf lists such as "x/I:y/F").
	entrySize  int
	leafOffset int
	// strHeader: each string entry starts with ROOT's byte-count and
	// version, as std::string members of split objects do.
	strHeader bool
	why       string // why the column cannot be read, when layout is unsupported

	// element: the branch is a TBranchElement, whose C strings always
	// carry a length byte (a plain TLeafC entry may be empty).
	element bool
	baskets ttree.BasketTable
	// count: for layoutJagged, the path of the branch that counts the
	// elements (from the leaf's title, "Jet_pt[nJet]"); its values give
	// the entries' sizes in a basket written without entry offsets.
	count string
	// master: for a member of a split collection (collection.go), the
	// collection's master branch, whose entries count the elements.
	master *column
	// obj: for layoutObject, how the class is streamed.
	obj *objShape
	// llist, llIdx: for layoutLeafListVar, the branch's leaves and which
	// of them this column is.
	llist []llLeaf
	llIdx int
	// mapKey, mapVal: for layoutMap, how a key and a value are streamed.
	mapKey, mapVal mapPart
	// leanSig: for a column of a plain TBranch, the signatures of the
	// branch's leaves (leafSignature); the lean reader types a chain
	// member's column from the first file's when they are equal.
	leanSig string
}

func (c *column) supported() bool { return c.layout != layoutUnsupported }

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
func (c *column) elemsPerItem() int {
	n := 1
	for _, d := range c.dims {
		n *= d
	}
	return n
}

var leafEncodings = map[string][2]encoding{ // signed, unsigned
	"TLeafO": {encBool, encBool},
	"TLeafB": {encI8, encU8},
	"TLeafS": {encI16, encU16},
	"TLeafI": {encI32, encU32},
	"TLeafL": {encI64, encU64},
	"TLeafG": {encI64, encU64},
	"TLeafF": {encF32, encF32},
	"TLeafD": {encF64, encF64},
}

// cxxEncodings maps C++ element type names used by TBranchElement streamers.
var cxxEncodings = map[string]encoding{
	"bool": encBool, "Bool_t": encBool,
	"char": encI8, "Char_t": encI8, "signed char": encI8, "int8_t": encI8,
	"unsigned char": encU8, "UChar_t": encU8, "uint8_t": encU8,
	"short": encI16, "Short_t": encI16, "int16_t": encI16,
	"unsigned short": encU16, "UShort_t": encU16, "uint16_t": encU16,
	"int": encI32, "Int_t": encI32, "int32_t": encI32,
	"unsigned int": encU32, "UInt_t": encU32, "uint32_t": encU32,
	"long": encI64, "Long_t": encI64, "Long64_t": encI64, "long long": encI64, "int64_t": encI64,
	"unsigned long": encU64, "ULong_t": encU64, "ULong64_t": encU64, "unsigned long long": encU64, "uint64_t": encU64,
	"float": encF32, "Float_t": encF32,
	"double": encF64, "Double_t": encF64,
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

// titleDims parses the fixed dimensions of a leaf title such as
// "ArrD16[2][3]/f[0,0,16]"; the part after '/' is the type and its range.
func titleDims(title string) []int {
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

// columnsOf flattens a tree's branches into SQL columns. Branches that hold
// sub-branches (split objects) contribute their members, named with dots.
// guard says which classes groot's types were cut short for (streamers.go):
// a branch that stores one is unsupported, with the reason.
func columnsOf(t rtree.Tree, guard *streamerGuard) ([]*column, error) {
	var cols []*column
	file := treeFile(t) // for the streamers of whole objects (object.go)
	// master: the split collection (fType 3/4) above b, if any.
	var walk func(b rtree.Branch, prefix string, master *column) error
	walk = func(b rtree.Branch, prefix string, master *column) error {
		name := memberName(prefix, b.Name())
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
			c.name = name
			c.element, c.baskets = true, bt
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
			c.leanSig = sig
			c.name = name
			if len(leaves) > 1 {
				c.name = name + "." + l.Name()
			}
			c.baskets = bt
			cols = append(cols, c)
		}
		return nil
	}
	for _, b := range t.Branches() {
		if err := walk(b, "", nil); err != nil {
			return nil, fmt.Errorf("branch %q: %w", b.Name(), err)
		}
	}
	uniqueNames(cols)
	for _, c := range cols {
		c.rootType, c.why = rfile.SafeText(c.rootType), rfile.SafeText(c.why)
	}
	return cols, nil
}

// uniqueNames sets each column's SQL name. DuckDB compares column names
// without regard to case, but ROOT does not ("ab" and "Ab" are different
// branches), so later clashes get a numeric suffix; root_branches shows
// both names.
func uniqueNames(cols []*column) {
	seen := map[string]bool{}
	for _, c := range cols {
		c.path = c.name
		// A SQL name must be valid UTF-8; the path keeps the file's bytes.
		base := rfile.SafeText(c.name)
		name := base
		for i := 2; seen[strings.ToLower(name)]; i++ {
			name = fmt.Sprintf("%s_%d", base, i)
		}
		seen[strings.ToLower(name)] = true
		c.name = name
	}
}

// memberName names a sub-branch column "parent.member". ROOT names split
// members either "member" or "parent.member" (and array members
// "member[10]"); both become the same dotted path without the dimensions.
// Under a top-level branch whose name ends with a dot ("X.", as CMS's
// EDM writes), every descendant's name starts with the full path
// ("X.obj.chi2_"), which is then the column's name.
func memberName(parent, branch string) string {
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
func leafColumn(b rtree.Branch, l rtree.Leaf, leafList bool) *column {
	name := b.Name()
	if leafList {
		name = b.Name() + "." + l.Name()
	}
	c := &column{name: name, rootType: l.Class() + " " + l.Title()}
	unsupported := func(why string) *column {
		c.layout, c.why = layoutUnsupported, why
		return c
	}
	if l.Class() == "TLeafC" {
		if leafList {
			return unsupported("C string inside a leaf list")
		}
		c.layout, c.typ = layoutString, capi.Scalar(capi.Varchar)
		return c
	}
	var enc encoding
	switch l.Class() {
	case "TLeafF16", "TLeafD32":
		enc = encF16
		if l.Class() == "TLeafD32" {
			enc = encD32
		}
		elm, err := gohep.LeafElement(l)
		if err != nil {
			return unsupported(err.Error())
		}
		c.pack = packingOf(elm)
		c.dims = titleDims(l.Title())
		if len(c.dims) == 0 && !leafList {
			c.dims = titleDims(b.Title()) // the leaf title may omit them
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
	elem := capi.Scalar(enc.sqlType())
	inner := elem
	for i := len(c.dims) - 1; i >= 0; i-- {
		inner = capi.ArrayOf(inner, c.dims[i])
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
		c.layout, c.typ = layoutJagged, capi.ListOf(inner)
		c.count = countOf(l.Title())
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
	c.layout, c.typ = layoutFixed, inner
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
func elementColumn(b rtree.Branch, guard *streamerGuard, file *riofs.File, master *column) (*column, error) {
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
	if why == "" && !c.supported() {
		typ := info.Class
		if info.Element != nil {
			typ = info.Element.TypeName()
		}
		why = guard.reason(typ)
	}
	if why != "" {
		c.layout, c.why = layoutUnsupported, why
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
func elementColumnOf(b rtree.Branch, info gohep.ElementInfo, file *riofs.File, master *column) (*column, error) {
	c := &column{name: b.Name()}
	cxx := info.Class
	var arrayLen int
	if info.Element != nil {
		cxx = info.Element.TypeName()
		arrayLen = info.Element.ArrayLen()
	}
	c.rootType = "TBranchElement " + cxx
	// Members of split TClonesArrays and STL collections (fType 31/41)
	// are stored member-wise across the elements (collection.go).
	if info.BType == 31 || info.BType == 41 {
		memberColumn(c, b, info, file, master)
		return c, nil
	}
	// A split collection's master branch without members: nothing of
	// its elements is stored in it.
	if info.BType == 3 || info.BType == 4 {
		c.layout, c.why = layoutUnsupported, fmt.Sprintf("split collection of %s without member branches", info.Clones)
		return c, nil
	}
	cxx = normalizeCxx(cxx)
	switch {
	case stringTypes[cxx]:
		c.layout, c.typ = layoutString, capi.Scalar(capi.Varchar)
		c.strHeader = info.Element != nil && cxx != "TString"
		return c, nil
	case strings.HasSuffix(cxx, "*"):
		// A basic type's array behind a pointer, sized by another member
		// ("double* fArr; //[fN]", ROOT's kOffsetP + type): ROOT writes a
		// byte (1, or 0 for a null or empty array) and then the elements.
		enc, ok := cxxEncodings[strings.TrimSpace(strings.TrimSuffix(cxx, "*"))]
		if ok && info.Element != nil && arrayLen <= 1 && info.SType == kOffsetP+int32(info.Element.Type()%kOffsetP) && info.Element.Type() > kOffsetP && info.Element.Type() < kOffsetP+20 {
			c.enc, c.layout = enc, layoutPtrArray
			c.typ = capi.ListOf(capi.Scalar(enc.sqlType()))
			return c, nil
		}
		c.layout, c.why = layoutUnsupported, "pointer member "+cxx
		return c, nil
	}
	if enc, ok := cxxEncodings[cxx]; ok {
		c.enc = enc
		c.typ = capi.Scalar(enc.sqlType())
		c.layout = layoutFixed
		c.entrySize = enc.diskSize(packing{})
		if why := checkDims([]int{arrayLen}); arrayLen > 1 && why != "" {
			c.layout, c.why = layoutUnsupported, why
			return c, nil
		}
		if arrayLen > 1 {
			c.dims = []int{arrayLen}
			c.typ = capi.ArrayOf(c.typ, arrayLen)
			c.entrySize *= arrayLen
		}
		return c, nil
	}
	if inner, ok := vectorOf(cxx); ok {
		if stringTypes[inner] {
			c.layout, c.typ = layoutVecString, capi.ListOf(capi.Scalar(capi.Varchar))
			return c, nil
		}
		if enc, ok := cxxEncodings[inner]; ok {
			c.enc, c.layout = enc, layoutVector
			c.typ = capi.ListOf(capi.Scalar(enc.sqlType()))
			return c, nil
		}
		if inner2, ok := vectorOf(inner); ok {
			if enc, ok := cxxEncodings[inner2]; ok {
				c.enc, c.layout = enc, layoutVecVec
				c.typ = capi.ListOf(capi.ListOf(capi.Scalar(enc.sqlType())))
				return c, nil
			}
		}
	}
	if mapColumn(c, cxx) {
		return c, nil
	}
	c.layout, c.why = layoutUnsupported, "C++ type "+cxx
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
