package rootscan_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"go-hep.org/x/hep/groot/rbase"
	"go-hep.org/x/hep/groot/rbytes"
	"go-hep.org/x/hep/groot/rdict"
	"go-hep.org/x/hep/groot/rmeta"
	"go-hep.org/x/hep/groot/root"

	"github.com/hepsql/hepsql/internal/jsroot"
	"github.com/hepsql/hepsql/rootscan"
)

// The split collections written here (splitwrite_test.go): tree T holds
// a TClonesArray of STrack (a TObject with members of every number type,
// a packed Double32_t and Float16_t, a fixed array and a TString), tree
// V a split std::vector<SHit> (numbers and a nested vector<int>), tree E
// a split object SEvent holding a number and a TClonesArray of STrack
// (ROOT's Event tutorial's layout: event.fTracks.PT).

// collMember is one member of a fixture class: its streamer element and the
// bytes of element k of entry e.
type collMember struct {
	name, title string
	typ         rmeta.Enum
	ename       string
	size        int32
	arr         int32
	write       func(w *rbytes.WBuffer, e, k int)
	want        func(e, k int) any // the value read_root must give
	refused     string             // part of the reason when not read
}

func basic(name string, typ rmeta.Enum, ename string, size int32, write func(w *rbytes.WBuffer, e, k int), want func(e, k int) any) collMember {
	return collMember{name: name, typ: typ, ename: ename, size: size, write: write, want: want}
}

func (m collMember) element() rbytes.StreamerElement {
	el := rdict.Element{Name: *rbase.NewNamed(m.name, m.title), Type: m.typ, Size: m.size, EName: m.ename}
	if strings.HasPrefix(m.title, "[") {
		el.Name = rangedName(m.name, m.title)
	}
	if m.arr > 0 {
		el.ArrLen, el.ArrDim = m.arr, 1
		el.MaxIdx[0] = m.arr
	}
	se := el.New()
	switch m.typ {
	case rmeta.TString:
		return &rdict.StreamerString{StreamerElement: se}
	case rmeta.STL:
		return rdict.NewCxxStreamerSTL(se, rmeta.STLvector, rmeta.Int)
	}
	return &rdict.StreamerBasicType{StreamerElement: se}
}

// rangedName is a TNamed with TStreamerElement's kHasRange bit (BIT(6))
// set, as ROOT sets it on an element whose title gives a range: readers
// (jsroot) take the range from the title only then. groot keeps TObject's
// bits unexported, so the record is patched and read back.
func rangedName(name, title string) rbase.Named {
	w := rbytes.NewWBuffer(nil, nil, 0, nil)
	if _, err := rbase.NewNamed(name, title).MarshalROOT(w); err != nil {
		panic(err)
	}
	b := w.Bytes()
	// byte count (4), TNamed version (2), TObject version (2), fUniqueID (4), fBits
	bits := binary.BigEndian.Uint32(b[12:])
	binary.BigEndian.PutUint32(b[12:], bits|1<<6)
	var n rbase.Named
	if err := n.UnmarshalROOT(rbytes.NewRBuffer(b, nil, 0, nil)); err != nil {
		panic(err)
	}
	return n
}

// trackName is a TString member's value: long ones (255 bytes and more)
// take ROOT's 5-byte length.
func trackName(e, k int) string {
	if e == 4 && k == 0 {
		return strings.Repeat("long", 80)
	}
	return fmt.Sprint("t", e, "/", k)
}

// long64 is beyond 32 bits, or negative. (Not both: jsroot 7.11 reads
// -2^40 as -2^40+2^32.)
func long64(e, k int) int64 {
	if e%2 == 0 {
		return 1<<40 + int64(e*1000+k)
	}
	return -int64(e*1000 + k + 1)
}

// d32 is Double32_t "[0,100,16]": ROOT stores (v-xmin)*factor as a
// UInt_t, factor = 2^16/(xmax-xmin), and reads it back divided.
func d32(v float64) float64 {
	factor := float64(uint32(1)<<16) / 100
	u := uint32(0.5 + factor*v)
	return float64(u)/factor + 0
}

var trackMembers = []collMember{
	basic("PT", rmeta.Float, "float", 4, func(w *rbytes.WBuffer, e, k int) { w.WriteF32(float32(e)*1.5 + float32(k)*0.25) },
		func(e, k int) any { return float32(e)*1.5 + float32(k)*0.25 }),
	basic("Charge", rmeta.Int, "int", 4, func(w *rbytes.WBuffer, e, k int) { w.WriteI32(int32((e+k)%3) - 1) },
		func(e, k int) any { return int32((e+k)%3) - 1 }),
	basic("Flag", rmeta.Bool, "bool", 1, func(w *rbytes.WBuffer, e, k int) { w.WriteBool((e+k)%2 == 0) },
		func(e, k int) any { return (e+k)%2 == 0 }),
	basic("Q", rmeta.Char, "char", 1, func(w *rbytes.WBuffer, e, k int) { w.WriteI8(int8(-((e + k) % 100))) },
		func(e, k int) any { return int8(-((e + k) % 100)) }),
	basic("U8", rmeta.UChar, "unsigned char", 1, func(w *rbytes.WBuffer, e, k int) { w.WriteU8(uint8(200 + k)) },
		func(e, k int) any { return uint8(200 + k) }),
	basic("S", rmeta.Short, "short", 2, func(w *rbytes.WBuffer, e, k int) { w.WriteI16(int16(-1000*k + e)) },
		func(e, k int) any { return int16(-1000*k + e) }),
	basic("US", rmeta.UShort, "unsigned short", 2, func(w *rbytes.WBuffer, e, k int) { w.WriteU16(uint16(60000 + e)) },
		func(e, k int) any { return uint16(60000 + e) }),
	basic("UI", rmeta.UInt, "unsigned int", 4, func(w *rbytes.WBuffer, e, k int) { w.WriteU32(uint32(4000000000 + e*k)) },
		func(e, k int) any { return uint32(4000000000 + e*k) }),
	basic("L", rmeta.Long64, "Long64_t", 8, func(w *rbytes.WBuffer, e, k int) { w.WriteI64(long64(e, k)) },
		func(e, k int) any { return long64(e, k) }),
	basic("UL", rmeta.ULong64, "ULong64_t", 8, func(w *rbytes.WBuffer, e, k int) { w.WriteU64(1<<63 + uint64(e+k)) },
		func(e, k int) any { return 1<<63 + uint64(e+k) }),
	basic("D", rmeta.Double, "double", 8, func(w *rbytes.WBuffer, e, k int) { w.WriteF64(float64(e)/3 + float64(k)) },
		func(e, k int) any { return float64(e)/3 + float64(k) }),
	{name: "D32", title: "[0,100,16]", typ: rmeta.Double32, ename: "Double32_t", size: 8,
		want: func(e, k int) any { return d32(float64((e*7+k*3)%100) + 0.3) }},
	{name: "F16", title: "[0,0,10]", typ: rmeta.Float16, ename: "Float16_t", size: 4,
		want: func(e, k int) any { return float32(k) + 0.5 }},
	{name: "Cov", typ: rmeta.OffsetL + rmeta.Float, ename: "float", size: 12, arr: 3,
		write: func(w *rbytes.WBuffer, e, k int) {
			w.WriteF32(float32(e))
			w.WriteF32(float32(k))
			w.WriteF32(float32(e + k))
		},
		want: func(e, k int) any { return []any{float32(e), float32(k), float32(e + k)} }},
	{name: "Name", typ: rmeta.TString, ename: "TString", size: 24,
		write: func(w *rbytes.WBuffer, e, k int) { w.WriteString(trackName(e, k)) },
		want:  func(e, k int) any { return trackName(e, k) }},
}

// The packed members are written through groot's own encoders, given
// the elements the file's streamer holds.
func init() {
	for i := range trackMembers {
		m := &trackMembers[i]
		if m.typ == rmeta.Double32 || m.typ == rmeta.Float16 {
			elem := m.element()
			if m.typ == rmeta.Double32 {
				m.write = func(w *rbytes.WBuffer, e, k int) { w.WriteD32(root.Double32(float64((e*7+k*3)%100)+0.3), elem) }
			} else {
				m.write = func(w *rbytes.WBuffer, e, k int) { w.WriteF16(root.Float16(float32(k)+0.5), elem) }
			}
		}
	}
}

var hitMembers = []collMember{
	basic("x", rmeta.Float, "float", 4, func(w *rbytes.WBuffer, e, k int) { w.WriteF32(float32(e) + float32(k)/4) },
		func(e, k int) any { return float32(e) + float32(k)/4 }),
	basic("n", rmeta.Int, "int", 4, func(w *rbytes.WBuffer, e, k int) { w.WriteI32(int32(e*10 + k)) },
		func(e, k int) any { return int32(e*10 + k) }),
	basic("e", rmeta.Double, "double", 8, func(w *rbytes.WBuffer, e, k int) { w.WriteF64(-float64(e*k) - 0.5) },
		func(e, k int) any { return -float64(e*k) - 0.5 }),
	{name: "tags", typ: rmeta.STL, ename: "vector<int>", size: 24, refused: "nested collection member vector<int>",
		write: func(w *rbytes.WBuffer, e, k int) { w.WriteI32(0) }},
}

// TObject's members, as the TClonesArray's elements carry them.
var tobjectMembers = []collMember{
	basic("fUniqueID", rmeta.UInt, "unsigned int", 4, func(w *rbytes.WBuffer, e, k int) { w.WriteU32(uint32(e*100 + k)) },
		func(e, k int) any { return uint32(e*100 + k) }),
	{name: "fBits", typ: rmeta.Bits, ename: "unsigned int", size: 4},
}

// splitFixture says how one file of split collections is made.
type splitFixture struct {
	firstEntry int   // entries are numbered from here (the second file of a chain)
	entries    int   // entries per tree
	perBasket  []int // entries per basket of the members, cycled
	referenced bool  // odd elements are kIsReferenced, with a process id after fBits
	// genOffsets: the number members' second baskets are written without
	// entry offsets, flagged for the reader to rebuild them (flag 80).
	genOffsets bool
	// noOffsetTables: the number members' branches store no entry
	// offsets at all (fEntryOffsetLen 0, no table after the entries).
	noOffsetTables bool
	// derivedNamesBase: TObject's members name the element class
	// (fClassName STrack, fID 0: the base's element), not TObject.
	derivedNamesBase bool
	// corrupt, if set, changes the bytes of member branch name at entry e.
	corrupt func(branch string, e int, b []byte) []byte
}

func nTracks(e int) int { return (e*5 + 1) % 4 }
func nHits(e int) int   { return (e * 3) % 5 }

func bits(e, k int, referenced bool) uint32 {
	b := uint32(0x03000000)
	if referenced && k%2 == 1 {
		b |= 1 << 4
	}
	return b
}

func (fx splitFixture) write(t *testing.T, path string) {
	t.Helper()
	tobj, ok := rdict.StreamerInfos.Get("TObject", -1)
	if !ok {
		t.Fatal("groot has no TObject streamer")
	}
	clones, ok := rdict.StreamerInfos.Get("TClonesArray", -1)
	if !ok {
		t.Fatal("groot has no TClonesArray streamer")
	}
	trackElems := []rbytes.StreamerElement{rdict.NewStreamerBase(rdict.Element{
		Name: *rbase.NewNamed("TObject", "Basic ROOT object"), Type: rmeta.Base, EName: "BASE"}.New(), 1)}
	for _, m := range trackMembers {
		trackElems = append(trackElems, m.element())
	}
	var hitElems []rbytes.StreamerElement
	for _, m := range hitMembers {
		hitElems = append(hitElems, m.element())
	}
	strack := rdict.NewCxxStreamerInfo("STrack", 2, 0x5354524b, trackElems)
	sevent := rdict.NewCxxStreamerInfo("SEvent", 2, 0x53455654, []rbytes.StreamerElement{
		&rdict.StreamerBasicType{StreamerElement: rdict.Element{Name: *rbase.NewNamed("fNtrack", ""), Type: rmeta.Int, Size: 4, EName: "int"}.New()},
		&rdict.StreamerObjectPointer{StreamerElement: rdict.Element{Name: *rbase.NewNamed("fTracks", "->"), Type: rmeta.Objectp, Size: 8, EName: "TClonesArray*"}.New()},
	})
	shit := rdict.NewCxxStreamerInfo("SHit", 3, 0x53484954, hitElems)
	vec := rdict.NewCxxStreamerInfo("vector<SHit>", 6, 0x56454354, []rbytes.StreamerElement{
		rdict.NewCxxStreamerSTL(rdict.Element{Name: *rbase.NewNamed("This", "<SHit> Used to call the proper TStreamerInfo case"),
			Type: rmeta.STL, Size: 24, EName: "vector<SHit>"}.New(), rmeta.STLvector, rmeta.Object)})
	sinfos := []rbytes.StreamerInfo{tobj, clones, strack, shit, vec, sevent}
	// The records' own classes, which readers such as jsroot stream from
	// the file's list (groot adds TTree's when the tree is put).
	for _, c := range []struct {
		name string
		vers int
	}{{"TBranchElement", 10}, {"TBranch", 13}, {"TLeafElement", 1}, {"TLeaf", 2}} {
		si, ok := rdict.StreamerInfos.Get(c.name, c.vers)
		if !ok {
			t.Fatalf("groot has no %s v%d streamer", c.name, c.vers)
		}
		sinfos = append(sinfos, si)
	}
	// groot looks the classes' dependencies up in its registry at Close.
	for _, si := range sinfos[2:6] {
		rdict.StreamerInfos.Add(si)
	}

	nt := fx.entries
	counts := func(name string, n func(int) int) [][]byte {
		var out [][]byte
		for i := range nt {
			e := fx.firstEntry + i
			b := binary.BigEndian.AppendUint32(nil, uint32(n(e)))
			if fx.corrupt != nil {
				b = fx.corrupt(name, e, b)
			}
			out = append(out, b)
		}
		return out
	}
	memberEntries := func(name string, n func(int) int, write func(w *rbytes.WBuffer, e, k int)) [][]byte {
		var out [][]byte
		for i := range nt {
			e := fx.firstEntry + i
			w := rbytes.NewWBuffer(nil, nil, 0, nil)
			for k := range n(e) {
				write(w, e, k)
			}
			b := w.Bytes()
			if fx.corrupt != nil {
				b = fx.corrupt(name, e, b)
			}
			out = append(out, b)
		}
		return out
	}
	master := func(name, class, clones string, clsver uint16, chksum uint32, btype int32, n func(int) int) *wBranch {
		mx := 0
		for e := range nt {
			mx = max(mx, n(fx.firstEntry+e))
		}
		return &wBranch{name: name, title: name + "_", class: class, clones: clones, clsver: clsver, chksum: chksum,
			id: -1, btype: btype, stype: -1, max: int32(mx), entries: counts(name, n), perBasket: []int{5},
			leaf: wLeaf{name: name + "_", title: name + "_", len: 1, lenType: 4, ltype: 3}}
	}
	sub := func(m *wBranch, id int, mb collMember, class, parent string, si rbytes.StreamerInfo, n func(int) int) {
		name := m.name + "." + mb.name
		lname := name
		if mb.arr > 0 {
			name += fmt.Sprintf("[%d]", mb.arr)
		}
		write := mb.write
		if mb.typ == rmeta.Bits {
			write = func(w *rbytes.WBuffer, e, k int) {
				b := bits(e, k, fx.referenced)
				w.WriteU32(b)
				if b&(1<<4) != 0 {
					w.WriteU16(1) // the process id
				}
			}
		}
		lenType := mb.size
		if mb.arr > 0 {
			lenType /= mb.arr
		}
		var gen map[int]bool
		// ROOT rebuilds offsets from counts for fixed-size elements only.
		if fx.genOffsets && mb.typ != rmeta.Bits && mb.typ != rmeta.TString && mb.refused == "" {
			gen = map[int]bool{1: true}
		}
		offsets := !(fx.noOffsetTables && mb.typ != rmeta.Bits && mb.typ != rmeta.TString && mb.refused == "")
		m.subs = append(m.subs, &wBranch{name: name, title: mb.name, class: class, parent: parent, genOffsets: gen,
			clsver: uint16(si.ClassVersion()), chksum: uint32(si.CheckSum()),
			id: int32(id), btype: m.btype*10 + 1, stype: int32(mb.typ), offsets: offsets,
			entries: memberEntries(name, n, write), perBasket: fx.perBasket,
			leaf: wLeaf{name: name, title: lname + "[" + m.name + "_]", len: max(1, mb.arr), lenType: lenType, ltype: int32(mb.typ), count: &m.leaf}})
	}
	track := master("Track", "TClonesArray", "STrack", uint16(clones.ClassVersion()), uint32(clones.CheckSum()), 3, nTracks)
	for i, mb := range tobjectMembers {
		if fx.derivedNamesBase {
			sub(track, 0, mb, "STrack", "", strack, nTracks)
			continue
		}
		sub(track, i, mb, "TObject", "STrack", tobj, nTracks)
	}
	for i, mb := range trackMembers {
		sub(track, i+1, mb, "STrack", "", strack, nTracks)
	}
	hits := master("Hits", "vector<SHit>", "SHit", 6, 0x56454354, 4, nHits)
	for i, mb := range hitMembers {
		sub(hits, i, mb, "SHit", "", shit, nHits)
	}
	// Tree E: ROOT's Event tutorial's layout, a split object whose
	// members are a number and a split TClonesArray.
	event := &wBranch{name: "event", title: "event", class: "SEvent", clsver: 2, chksum: 0x53455654,
		id: -1, stype: -1, noData: true, entries: make([][]byte, nt),
		leaf: wLeaf{name: "event", title: "event", ltype: -1}}
	event.subs = append(event.subs, &wBranch{name: "fNtrack", title: "fNtrack", class: "SEvent", clsver: 2, chksum: 0x53455654,
		id: 0, stype: int32(rmeta.Int), entries: counts("fNtrack", nTracks), perBasket: []int{6},
		leaf: wLeaf{name: "fNtrack", title: "fNtrack", len: 1, lenType: 4, ltype: int32(rmeta.Int)}})
	evTracks := master("fTracks", "TClonesArray", "STrack", uint16(clones.ClassVersion()), uint32(clones.CheckSum()), 3, nTracks)
	evTracks.parent, evTracks.id, evTracks.stype = "SEvent", 1, int32(rmeta.Objectp)
	for i, mb := range tobjectMembers {
		sub(evTracks, i, mb, "TObject", "STrack", tobj, nTracks)
	}
	for i, mb := range trackMembers[:3] {
		sub(evTracks, i+1, mb, "STrack", "", strack, nTracks)
	}
	event.subs = append(event.subs, evTracks)
	writeSplitFile(t, path, sinfos, map[string]*wBranch{"T": track, "V": hits, "E": event}, int64(nt))
}

// expected is the value read_root must give column name at entry e.
func (fx splitFixture) expected(tree, name string, e int) any {
	n, members, prefix := nTracks, append(append([]collMember(nil), tobjectMembers...), trackMembers...), "Track."
	switch tree {
	case "V":
		n, members, prefix = nHits, hitMembers, "Hits."
	case "E":
		if name == "event.fNtrack" {
			return int32(nTracks(e))
		}
		prefix = "event.fTracks."
	}
	for _, m := range members {
		if prefix+m.name != name {
			continue
		}
		out := []any{}
		for k := range n(e) {
			if m.typ == rmeta.Bits {
				out = append(out, bits(e, k, fx.referenced))
				continue
			}
			out = append(out, m.want(e, k))
		}
		return out
	}
	panic("no member " + name)
}

// readColumns reads columns of tree in file(s) with read_root, by
// entry: the values and the _file of each row.
func readColumns(t *testing.T, source, tree string, cols []string) [][]any {
	t.Helper()
	db := openDB(t)
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = `"` + c + `"`
	}
	rows, err := db.Query(fmt.Sprintf(`SELECT %s FROM read_root(%s, tree := %s) ORDER BY _file, _entry`, strings.Join(q, ", "), source, quote(tree)))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// supportedMembers lists the columns root_branches gives the tree as
// supported, and checks the refused ones' reasons.
func supportedMembers(t *testing.T, file, tree string) []string {
	t.Helper()
	db := openDB(t)
	var cols []string
	for _, b := range branchesOf(t, db, file, tree) {
		if b.supported {
			cols = append(cols, b.name)
			continue
		}
		var want string
		for _, m := range append(trackMembers, hitMembers...) {
			if strings.HasSuffix(b.name, "."+m.name) {
				want = m.refused
			}
		}
		if want == "" || !strings.Contains(b.note, want) {
			t.Errorf("%s: %s refused: %q, want a reason with %q", tree, b.name, b.note, want)
		}
	}
	return cols
}

func writeFixture(t *testing.T, fx splitFixture, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	fx.write(t, path)
	return path
}

// TestSplitCollectionMembers: every number member of a split
// TClonesArray (with TObject's fUniqueID and fBits) and of a split
// std::vector<SHit> is a LIST column whose values are the hand-written
// expectation, entry by entry, with empty collections and baskets whose
// boundaries differ from branch to branch, read in units of 1 to 3
// entries that start inside baskets. The master branches are not
// columns; the TString and nested vector members are refused with their
// reasons.
func TestSplitCollectionMembers(t *testing.T) {
	fx := splitFixture{entries: 23, perBasket: []int{3, 4, 7}, referenced: true}
	file := writeFixture(t, fx, "split.root")
	for _, tree := range []string{"T", "V", "E"} {
		cols := supportedMembers(t, file, tree)
		want := map[string]string{"E": "event.fNtrack event.fTracks.fUniqueID event.fTracks.fBits event.fTracks.PT event.fTracks.Charge event.fTracks.Flag",
			"T": "Track.fUniqueID Track.fBits Track.PT Track.Charge Track.Flag Track.Q Track.U8 Track.S Track.US Track.UI Track.L Track.UL Track.D Track.D32 Track.F16 Track.Cov Track.Name",
			"V": "Hits.x Hits.n Hits.e"}[tree]
		if got := strings.Join(cols, " "); got != want {
			t.Fatalf("tree %s: supported columns %q, want %q", tree, got, want)
		}
		for _, unit := range []int64{0, 1, 3} {
			if unit > 0 {
				restore := rootscan.SetUnitSizes(1, unit)
				defer restore()
			}
			rows := readColumns(t, quote(file), tree, cols)
			if len(rows) != fx.entries {
				t.Fatalf("tree %s: %d rows, want %d", tree, len(rows), fx.entries)
			}
			for e, row := range rows {
				for i, c := range cols {
					if w := fx.expected(tree, c, e); !reflect.DeepEqual(row[i], w) {
						t.Fatalf("tree %s, units of %d: %s at entry %d = %#v, want %#v", tree, unit, c, e, row[i], w)
					}
				}
			}
		}
	}
	// SQL types: a fixed array member is a list of arrays.
	db := openDB(t)
	var typ string
	if err := db.QueryRow(fmt.Sprintf(`SELECT sql_type FROM root_branches(%s, tree := 'T') WHERE name = 'Track.Cov'`, quote(file))).Scan(&typ); err != nil || typ != "FLOAT[3][]" {
		t.Errorf("Track.Cov is %q (%v), want FLOAT[3][]", typ, err)
	}
}

// TestSplitCollectionGeneratedOffsets: member baskets written without
// entry offsets (ROOT's kGenerateOffsetMap, flag 80) are read with
// offsets rebuilt from the master branch's counts.
func TestSplitCollectionGeneratedOffsets(t *testing.T) {
	fx := splitFixture{entries: 17, perBasket: []int{4, 6}, genOffsets: true}
	file := writeFixture(t, fx, "genoffsets.root")
	// And branches that store no offsets at all (fEntryOffsetLen 0).
	nt := splitFixture{entries: 17, perBasket: []int{4, 6}, noOffsetTables: true}
	ntFile := writeFixture(t, nt, "notables.root")
	for _, tree := range []string{"T", "V"} {
		cols := supportedMembers(t, ntFile, tree)
		for e, row := range readColumns(t, quote(ntFile), tree, cols) {
			for i, c := range cols {
				if w := nt.expected(tree, c, e); !reflect.DeepEqual(row[i], w) {
					t.Fatalf("no offset tables: tree %s: %s at entry %d = %#v, want %#v", tree, c, e, row[i], w)
				}
			}
		}
	}
	for _, tree := range []string{"T", "V"} {
		cols := supportedMembers(t, file, tree)
		rows := readColumns(t, quote(file), tree, cols)
		for e, row := range rows {
			for i, c := range cols {
				if w := fx.expected(tree, c, e); !reflect.DeepEqual(row[i], w) {
					t.Fatalf("tree %s: %s at entry %d = %#v, want %#v", tree, c, e, row[i], w)
				}
			}
		}
	}
}

// TestSplitCollectionNested: nest := true makes a split collection's
// number members (not fBits) one LIST of STRUCTs named by the master,
// each field equal to the member's own list.
func TestSplitCollectionNested(t *testing.T) {
	fx := splitFixture{entries: 13, perBasket: []int{3, 5}}
	file := writeFixture(t, fx, "nest.root")
	db := openDB(t)
	var typ string
	if err := db.QueryRow(fmt.Sprintf(`SELECT typeof("Hits") FROM read_root(%s, tree := 'V', nest := true) LIMIT 1`, quote(file))).Scan(&typ); err != nil || typ != "STRUCT(x FLOAT, n INTEGER, e DOUBLE)[]" {
		t.Fatalf("nested Hits: %q, %v", typ, err)
	}
	var bad int
	q := `SELECT count(*) FROM read_root(%s, tree := 'T', nest := true) n JOIN read_root(%s, tree := 'T') f USING (_entry)
		WHERE list_transform(n."Track", x -> x.PT) IS DISTINCT FROM f."Track.PT"
		OR list_transform(n."Track", x -> x.Cov) IS DISTINCT FROM f."Track.Cov"
		OR list_transform(n."Track", x -> x.fUniqueID) IS DISTINCT FROM f."Track.fUniqueID"
		OR n."Track.fBits" IS DISTINCT FROM f."Track.fBits"`
	if err := db.QueryRow(fmt.Sprintf(q, quote(file), quote(file))).Scan(&bad); err != nil || bad != 0 {
		t.Errorf("nested Track differs from its members' lists in %d entries (%v)", bad, err)
	}
}

// TestSplitCollectionBaseMembers: TObject's members found when their
// branches name the element class and the base's index (the member is
// then looked up in the class's bases by name and streamer type).
func TestSplitCollectionBaseMembers(t *testing.T) {
	fx := splitFixture{entries: 9, perBasket: []int{4}, derivedNamesBase: true}
	file := writeFixture(t, fx, "bases.root")
	cols := []string{"Track.fUniqueID", "Track.fBits"}
	for e, row := range readColumns(t, quote(file), "T", cols) {
		for i, c := range cols {
			if w := fx.expected("T", c, e); !reflect.DeepEqual(row[i], w) {
				t.Fatalf("%s at entry %d = %#v, want %#v", c, e, row[i], w)
			}
		}
	}
}

// TestSplitCollectionChain: a chain of two files reads on across the
// second file's entries.
func TestSplitCollectionChain(t *testing.T) {
	a := splitFixture{entries: 11, perBasket: []int{4}}
	b := splitFixture{firstEntry: 11, entries: 9, perBasket: []int{2, 5}}
	fa, fb := writeFixture(t, a, "a.root"), writeFixture(t, b, "b.root")
	cols := []string{"Track.PT", "Track.fBits", "Track.Cov", "Track.L"}
	rows := readColumns(t, fmt.Sprintf("[%s, %s]", quote(fa), quote(fb)), "T", cols)
	if len(rows) != 20 {
		t.Fatalf("%d rows, want 20", len(rows))
	}
	for e, row := range rows {
		for i, c := range cols {
			if w := a.expected("T", c, e); !reflect.DeepEqual(row[i], w) {
				t.Fatalf("%s at chain entry %d = %#v, want %#v", c, e, row[i], w)
			}
		}
	}
}

// TestSplitCollectionHostile: bytes that disagree with the layout are
// errors naming the file, the branch and the entry.
func TestSplitCollectionHostile(t *testing.T) {
	cases := []struct {
		name, col string
		corrupt   func(branch string, e int, b []byte) []byte
		want      string
		noTables  bool // members store no entry offsets: the master's counts place them
	}{
		{"master counts past the basket", "Track.PT", func(br string, e int, b []byte) []byte {
			if br == "Track" && e == 3 {
				return binary.BigEndian.AppendUint32(nil, 1000)
			}
			return b
		}, `corrupt basket: counter "Track" gives 1000 elements at entry 3`, true},
		{"negative master count", "Hits.x", func(br string, e int, b []byte) []byte {
			if br == "Hits" && e == 7 {
				return binary.BigEndian.AppendUint32(nil, 0xffffffff)
			}
			return b
		}, `entry 7: corrupt basket: 1 elements in the entry's bytes, but the collection's branch "Hits" counts -1`, false},
		{"truncated element", "Track.PT", func(br string, e int, b []byte) []byte {
			if br == "Track.PT" && e == 6 {
				return b[:len(b)-2]
			}
			return b
		}, "entry 6: corrupt basket: 10 bytes is not a whole number of 4-byte items", false},
		{"count disagrees with the master", "Hits.e", func(br string, e int, b []byte) []byte {
			if br == "Hits.e" && e == 9 {
				return b[:len(b)-8]
			}
			return b
		}, `entry 9: corrupt basket: 1 elements in the entry's bytes, but the collection's branch "Hits" counts 2`, false},
		{"string past the entry", "Track.Name", func(br string, e int, b []byte) []byte {
			if br == "Track.Name" && e == 2 {
				return b[:len(b)-1]
			}
			return b
		}, "entry 2: corrupt basket: string of 4 bytes past the entry", false},
		{"process id missing", "Track.fBits", func(br string, e int, b []byte) []byte {
			if br == "Track.fBits" && e == 5 {
				return b[:len(b)-2]
			}
			return b
		}, "entry 5: corrupt basket: referenced object's process id past the entry", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := splitFixture{entries: 14, perBasket: []int{5}, referenced: true, corrupt: tc.corrupt, noOffsetTables: tc.noTables}
			file := writeFixture(t, fx, "bad.root")
			tree := "T"
			if strings.HasPrefix(tc.col, "Hits") {
				tree = "V"
			}
			db := openDB(t)
			var n int
			err := db.QueryRow(fmt.Sprintf(`SELECT count("%s") FROM read_root(%s, tree := '%s')`, tc.col, quote(file), tree)).Scan(&n)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), tc.col) {
				t.Errorf("error %v, want one naming %s, %s and %q", err, file, tc.col, tc.want)
			}
		})
	}
}

// TestSplitCollectionJSRoot: jsroot, an independent reader, reads the
// fixtures' member branches with the values read_root gives, entry by
// entry: the fixture is ROOT as jsroot knows it, and the reading is
// right. (Referenced elements are left out: jsroot reads fBits without
// the process id that ROOT writes after a referenced object's.)
func TestSplitCollectionJSRoot(t *testing.T) {
	if err := jsroot.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	fx := splitFixture{entries: 23, perBasket: []int{3, 4, 7}}
	file := writeFixture(t, fx, "split.root")
	for _, tree := range []string{"T", "V", "E"} {
		cols := supportedMembers(t, file, tree)
		rows := readColumns(t, quote(file), tree, cols)
		raw, err := jsroot.Dump(context.Background(), append([]string{file, "values", tree, "1000"}, cols...)...)
		if err != nil {
			t.Fatal(err)
		}
		var js struct {
			Entries  int
			Branches map[string]struct {
				Values []json.RawMessage
				Error  string
			}
		}
		if err := json.Unmarshal(raw, &js); err != nil {
			t.Fatal(err)
		}
		for i, c := range cols {
			jb := js.Branches[c]
			if jb.Error != "" || len(jb.Values) != len(rows) {
				t.Fatalf("tree %s: jsroot reads %s as %d entries (%s), hepsql %d", tree, c, len(jb.Values), jb.Error, len(rows))
			}
			for e := range rows {
				var jv any
				d := json.NewDecoder(strings.NewReader(string(jb.Values[e])))
				d.UseNumber()
				if err := d.Decode(&jv); err != nil {
					t.Fatal(err)
				}
				if why := sameAsJS(rows[e][i], jv); why != "" {
					t.Fatalf("tree %s: %s at entry %d: hepsql %v, jsroot %s: %s", tree, c, e, rows[e][i], jb.Values[e], why)
				}
			}
		}
	}
}

// sameAsJS compares a value read_root gave with jsroot's JSON (numbers
// as json.Number, 64-bit integers as {"$i": digits}): integers exactly,
// floats bit for bit after widening.
func sameAsJS(h, j any) string {
	switch h := h.(type) {
	case []any:
		jl, ok := j.([]any)
		if !ok || len(jl) != len(h) {
			return fmt.Sprintf("list of %d, jsroot %v", len(h), j)
		}
		for i := range h {
			if why := sameAsJS(h[i], jl[i]); why != "" {
				return fmt.Sprintf("[%d]: %s", i, why)
			}
		}
		return ""
	case string:
		if j != h {
			return "string differs"
		}
		return ""
	case bool:
		switch j := j.(type) {
		case bool:
			if j == h {
				return ""
			}
		case json.Number:
			if (j.String() != "0") == h {
				return ""
			}
		}
		return "bool differs"
	}
	var js string
	switch j := j.(type) {
	case json.Number:
		js = j.String()
	case map[string]any:
		s, _ := j["$i"].(string)
		js = s
	default:
		return fmt.Sprintf("jsroot %T", j)
	}
	var hf float64
	switch h := h.(type) {
	case float32:
		hf = float64(h)
	case float64:
		hf = h
	default:
		hb, ok := new(big.Int).SetString(fmt.Sprint(h), 10)
		jb, ok2 := new(big.Int).SetString(js, 10)
		if !ok || !ok2 || hb.Cmp(jb) != 0 {
			return "integer differs"
		}
		return ""
	}
	jf, err := strconv.ParseFloat(js, 64)
	if err != nil || math.Float64bits(jf) != math.Float64bits(hf) {
		return "float differs"
	}
	return ""
}
