package ttree

import (
	"fmt"
	"strings"

	"github.com/hepsql/hepsql/rootio/rfile"
)

// CheckTreeRecord walks a TTree record as groot will read it and checks
// what groot allocates from or recurses on: the length of every array of
// branches, leaves and baskets against its bytes, each branch's basket
// tables (fMaxBaskets entries of 20 bytes) against the bytes left, and how
// deeply branches nest (groot reads sub-branches recursively, so a record
// of branches nested a million deep would overflow its stack). Records of
// versions it does not know are left to groot as they are.
//
// It returns the classes the record's TBranchElements name, whose types
// groot will build (guardStreamers starts its walk from them too).
func CheckTreeRecord(payload []byte, keylen int, class string) ([]string, error) {
	r := treeChecker{RecordReader: rfile.RecordReader{Buf: payload, Base: keylen, Classes: map[int]string{}}, branchClasses: map[string]bool{}}
	if class == "TNtuple" || class == "TNtupleD" {
		r.Header() // the TTree is its base, then fNvar
	}
	if err := r.checkTree(); err != nil {
		return nil, err
	}
	var classes []string
	for c := range r.branchClasses {
		classes = append(classes, c)
	}
	return classes, nil
}

func (r *treeChecker) checkTree() error {
	vers, end := r.Header()
	if r.Err != nil {
		return r.Err
	}
	if vers < 5 || vers > 20 {
		// groot reads versions 5 to 20 (ROOT has written 16 to 20 since
		// 2008).
		return fmt.Errorf("TTree class version %d", vers)
	}
	if end > len(r.Buf) {
		return fmt.Errorf("record of %d bytes holds %d", len(r.Buf), end)
	}
	r.Named()
	r.SkipObject() // TAttLine
	r.SkipObject() // TAttFill
	r.SkipObject() // TAttMarker
	r.Skip(4 * 8)  // fEntries, fTotBytes, fZipBytes, fSavedBytes
	if vers >= 18 {
		r.Skip(8) // fFlushedBytes
	}
	if vers >= 16 {
		r.Skip(8) // fWeight
	}
	r.Skip(3 * 4) // fTimerInterval, fScanField, fUpdate
	if vers >= 17 {
		r.Skip(4) // fDefaultEntryOffsetLen
	}
	nclus := 0
	if vers >= 19 {
		nclus = int(r.I32())
	}
	if vers > 5 {
		r.Skip(4 * 8) // fMaxEntries, fMaxEntryLoop, fMaxVirtualSize, fAutoSave
	} else {
		r.Skip(3 * 4)
	}
	if vers >= 18 {
		r.Skip(8) // fAutoFlush
	}
	if vers > 5 {
		r.Skip(8) // fEstimate
	} else {
		r.Skip(4)
	}
	if vers >= 19 {
		if nclus < 0 || nclus > (len(r.Buf)-r.Pos)/16 {
			return fmt.Errorf("%d cluster ranges", nclus)
		}
		r.Skip(1 + 8*nclus + 1 + 8*nclus)
	}
	if vers >= 20 {
		r.SkipObject() // fIOFeatures
	}
	if r.Err != nil {
		return r.Err
	}
	if err := r.checkBranches(0); err != nil {
		return fmt.Errorf("branches: %w", err)
	}
	if err := r.CheckObjArray(1); err != nil {
		return fmt.Errorf("leaves: %w", err)
	}
	// fAliases, fIndexValues, fIndex, fTreeIndex, fFriends, fUserInfo,
	// fBranchRef: objects groot reads whole (version 5: the indices only).
	members := 7
	if vers <= 5 {
		members = 2
	}
	for i := range members {
		class, oend, present := r.AnyObject()
		if r.Err != nil {
			return fmt.Errorf("member object %d: %w", i, r.Err)
		}
		if !present || oend == 0 {
			continue
		}
		if oend > end {
			return fmt.Errorf("member object %d ends at %d, past the record's %d", i, oend, end)
		}
		var err error
		switch class {
		case "TList":
			err = r.CheckList(1)
		case "TArrayD", "TArrayI", "TArrayL64", "TArrayF":
			size := map[string]int{"TArrayD": 8, "TArrayI": 4, "TArrayL64": 8, "TArrayF": 4}[class]
			if n := int(r.I32()); n < 0 || n > (oend-r.Pos)/size {
				err = fmt.Errorf("%s of %d elements in %d bytes", class, n, oend-r.Pos)
			}
		case "TBranchRef":
			err = r.checkBranch(class, 1)
		}
		if err != nil {
			return fmt.Errorf("member object %d (%s): %w", i, class, err)
		}
		r.JumpTo(oend)
	}
	return nil
}

// checkBranches checks a TObjArray of branches.
func (r *treeChecker) checkBranches(depth int) error {
	if depth > rfile.MaxNesting {
		return fmt.Errorf("branches nested more than %d deep", rfile.MaxNesting)
	}
	_, end := r.Header()
	if r.Err != nil {
		return r.Err
	}
	if end > len(r.Buf) {
		return fmt.Errorf("array of %d bytes in a %d-byte record", end, len(r.Buf))
	}
	r.TObject()
	r.Str()
	n := int(r.I32())
	r.Skip(4)
	if r.Err != nil {
		return r.Err
	}
	if n < 0 || n > (end-r.Pos)/4 {
		return fmt.Errorf("%d branches in %d bytes", n, end-r.Pos)
	}
	for i := range n {
		class, oend, present := r.AnyObject()
		if r.Err != nil {
			return fmt.Errorf("branch %d of %d: %w", i, n, r.Err)
		}
		if !present || oend == 0 {
			continue
		}
		if oend > end {
			return fmt.Errorf("branch %d of %d ends at %d, past its array's end %d", i, n, oend, end)
		}
		if err := r.checkBranch(class, depth); err != nil {
			return err
		}
		r.JumpTo(oend)
	}
	r.JumpTo(end)
	return r.Err
}

// checkBranch checks a branch object of class class whose body is next.
func (r *treeChecker) checkBranch(class string, depth int) error {
	done := false // the TBranch part was read to its end
	switch class {
	case "TBranch":
	case "TBranchElement", "TBranchObject", "TBranchRef", "TBranchSTL", "TBranchClones":
		// The TBranch base comes first, with its own header.
		_, end := r.Header()
		if r.Err != nil {
			return r.Err
		}
		if end > len(r.Buf) {
			return fmt.Errorf("%s of %d bytes in a %d-byte record", class, end, len(r.Buf))
		}
		if class == "TBranchElement" {
			defer func() {
				// After the base: fClassName, fParentName, fClonesName.
				if r.Err == nil && done {
					for range 3 {
						if c := r.Str(); c != "" && r.branchClasses != nil {
							r.branchClasses[c] = true
						}
					}
				}
			}()
		}
	default:
		return nil // groot rejects what it does not know
	}
	vers, bend := r.Header()
	if r.Err != nil {
		return r.Err
	}
	if bend > len(r.Buf) {
		return fmt.Errorf("branch of %d bytes in a %d-byte record", bend, len(r.Buf))
	}
	if vers < 6 || vers > 13 {
		return nil // groot refuses these itself
	}
	name, _ := r.Named()
	var writeBasket, maxBaskets int
	if vers >= 10 {
		r.SkipObject() // TAttFill
		r.Skip(3 * 4)  // fCompress, fBasketSize, fEntryOffsetLen
		writeBasket = int(r.I32())
		r.Skip(8) // fEntryNumber
		if vers >= 13 {
			r.SkipObject() // fIOFeatures
		}
		r.Skip(4) // fOffset
		maxBaskets = int(r.I32())
		r.Skip(4 + 8) // fSplitLevel, fEntries
		if vers >= 11 {
			r.Skip(8) // fFirstEntry
		}
		r.Skip(2 * 8) // fTotBytes, fZipBytes
	} else {
		if vers > 7 {
			r.SkipObject() // TAttFill
		}
		r.Skip(3 * 4) // fCompress, fBasketSize, fEntryOffsetLen
		writeBasket = int(r.I32())
		r.Skip(2 * 4) // fEntryNumber, fOffset
		maxBaskets = int(r.I32())
		if vers > 6 {
			r.Skip(4) // fSplitLevel
		}
		r.Skip(3 * 8) // fEntries, fTotBytes, fZipBytes
	}
	if r.Err != nil {
		return r.Err
	}
	what := fmt.Sprintf("branch %q", rfile.SafeText(string(name)))
	if err := r.checkBranches(depth + 1); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := r.CheckObjArrayOf(depth+1, r.checkLeaf); err != nil {
		return fmt.Errorf("%s: leaves: %w", what, err)
	}
	if err := r.CheckObjArrayOf(depth+1, r.checkBasket); err != nil {
		return fmt.Errorf("%s: baskets: %w", what, err)
	}
	// fBasketBytes, fBasketEntry, fBasketSeek: fMaxBaskets entries each
	// (4 + 8 + 8 bytes; before version 10, 4 + 4 + 4 or 8), of which the
	// first fWriteBasket are used.
	perBasket := 20
	if vers < 10 {
		perBasket = 12
	}
	if writeBasket < 0 || maxBaskets < writeBasket+1 || maxBaskets > (bend-r.Pos)/perBasket {
		return fmt.Errorf("%s: %d baskets written of %d, in %d bytes", what, writeBasket, maxBaskets, bend-r.Pos)
	}
	r.JumpTo(bend)
	done = true
	return r.Err
}

// checkBasket checks a basket kept inside the tree record (a tree saved
// without a final flush, embedded.go), whose entry offsets and data groot allocates as the
// basket states them.
func (r *treeChecker) checkBasket(class string, end int) error {
	if class != "TBasket" {
		return nil
	}
	// Its key: sizes, date, seeks and three strings.
	r.Skip(4)
	kvers := r.I16()
	r.Skip(4 + 4 + 2 + 2)
	if kvers > 1000 {
		r.Skip(16)
	} else {
		r.Skip(8)
	}
	r.Str()
	r.Str()
	r.Str()
	vers := r.I16()
	r.Skip(4) // fBufferSize
	if nevsize := r.I32(); nevsize < 0 {
		r.Skip(1) // I/O bits (TBasket::Streamer)
	}
	nevbuf := int(r.I32())
	last := int(r.I32())
	flag := int(r.U8())
	if r.Err != nil {
		return r.Err
	}
	gen := flag >= 80
	if gen {
		flag -= 80
	}
	if !gen && flag != 0 && flag%10 != 2 {
		arrays := 0
		if nevbuf > 0 {
			arrays++ // entry offsets
		}
		if flag > 40 {
			arrays++ // displacements
		}
		for range arrays {
			n := int(r.I32())
			if n < 0 || n > (end-r.Pos)/4 {
				return fmt.Errorf("array of %d offsets in %d bytes", n, end-r.Pos)
			}
			r.Skip(4 * n)
		}
	}
	if flag == 1 || flag > 10 {
		size := last
		if vers <= 1 {
			size = int(r.I32())
		}
		if size < 0 || size > end-r.Pos {
			return fmt.Errorf("%d bytes of data in %d", size, end-r.Pos)
		}
	}
	return r.Err
}

// checkLeaf checks a leaf's name and title, which groot allocates as
// their lengths say.
func (r *treeChecker) checkLeaf(class string, end int) error {
	if !strings.HasPrefix(class, "TLeaf") {
		return nil
	}
	r.Header() // the leaf's class
	_, lend := r.Header()
	if r.Err == nil && lend > end {
		return fmt.Errorf("leaf of %d bytes past its end %d", lend, end)
	}
	r.Named()
	return r.Err
}

// treeChecker reads a tree record to check it, collecting the classes of
// its TBranchElements on the way.
type treeChecker struct {
	rfile.RecordReader
	branchClasses map[string]bool
}
