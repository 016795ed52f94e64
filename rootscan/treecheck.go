package rootscan

import (
	"fmt"
	"strings"
)

// checkTreeRecord walks a TTree record as groot will read it and checks
// what groot allocates from or recurses on: the length of every array of
// branches, leaves and baskets against its bytes, each branch's basket
// tables (fMaxBaskets entries of 20 bytes) against the bytes left, and how
// deeply branches nest (groot reads sub-branches recursively, so a record
// of branches nested a million deep would overflow its stack). Records of
// versions it does not know are left to groot as they are.
//
// It returns the classes the record's TBranchElements name, whose types
// groot will build (guardStreamers starts its walk from them too).
func checkTreeRecord(payload []byte, keylen int, class string) ([]string, error) {
	r := objReader{byteReader: byteReader{b: payload}, base: keylen, classes: map[int]string{}, branchClasses: map[string]bool{}}
	if class == "TNtuple" || class == "TNtupleD" {
		r.header() // the TTree is its base, then fNvar
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

func (r *objReader) checkTree() error {
	vers, end := r.header()
	if r.err != nil {
		return r.err
	}
	if vers < 5 || vers > 20 {
		// groot reads versions 5 to 20 (ROOT has written 16 to 20 since
		// 2008).
		return fmt.Errorf("TTree class version %d", vers)
	}
	if end > len(r.b) {
		return fmt.Errorf("record of %d bytes holds %d", len(r.b), end)
	}
	r.named()
	r.skipObject() // TAttLine
	r.skipObject() // TAttFill
	r.skipObject() // TAttMarker
	r.skip(4 * 8)  // fEntries, fTotBytes, fZipBytes, fSavedBytes
	if vers >= 18 {
		r.skip(8) // fFlushedBytes
	}
	if vers >= 16 {
		r.skip(8) // fWeight
	}
	r.skip(3 * 4) // fTimerInterval, fScanField, fUpdate
	if vers >= 17 {
		r.skip(4) // fDefaultEntryOffsetLen
	}
	nclus := 0
	if vers >= 19 {
		nclus = int(r.i32())
	}
	if vers > 5 {
		r.skip(4 * 8) // fMaxEntries, fMaxEntryLoop, fMaxVirtualSize, fAutoSave
	} else {
		r.skip(3 * 4)
	}
	if vers >= 18 {
		r.skip(8) // fAutoFlush
	}
	if vers > 5 {
		r.skip(8) // fEstimate
	} else {
		r.skip(4)
	}
	if vers >= 19 {
		if nclus < 0 || nclus > (len(r.b)-r.pos)/16 {
			return fmt.Errorf("%d cluster ranges", nclus)
		}
		r.skip(1 + 8*nclus + 1 + 8*nclus)
	}
	if vers >= 20 {
		r.skipObject() // fIOFeatures
	}
	if r.err != nil {
		return r.err
	}
	if err := r.checkBranches(0); err != nil {
		return fmt.Errorf("branches: %w", err)
	}
	if err := r.checkObjArray(1); err != nil {
		return fmt.Errorf("leaves: %w", err)
	}
	// fAliases, fIndexValues, fIndex, fTreeIndex, fFriends, fUserInfo,
	// fBranchRef: objects groot reads whole (version 5: the indices only).
	members := 7
	if vers <= 5 {
		members = 2
	}
	for i := range members {
		class, oend, present := r.anyObject()
		if r.err != nil {
			return fmt.Errorf("member object %d: %w", i, r.err)
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
			err = r.checkList(1)
		case "TArrayD", "TArrayI", "TArrayL64", "TArrayF":
			size := map[string]int{"TArrayD": 8, "TArrayI": 4, "TArrayL64": 8, "TArrayF": 4}[class]
			if n := int(r.i32()); n < 0 || n > (oend-r.pos)/size {
				err = fmt.Errorf("%s of %d elements in %d bytes", class, n, oend-r.pos)
			}
		case "TBranchRef":
			err = r.checkBranch(class, 1)
		}
		if err != nil {
			return fmt.Errorf("member object %d (%s): %w", i, class, err)
		}
		r.seek(oend)
	}
	return nil
}

// checkBranches checks a TObjArray of branches.
func (r *objReader) checkBranches(depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("branches nested more than %d deep", maxNesting)
	}
	_, end := r.header()
	if r.err != nil {
		return r.err
	}
	if end > len(r.b) {
		return fmt.Errorf("array of %d bytes in a %d-byte record", end, len(r.b))
	}
	r.tobject()
	r.str()
	n := int(r.i32())
	r.skip(4)
	if r.err != nil {
		return r.err
	}
	if n < 0 || n > (end-r.pos)/4 {
		return fmt.Errorf("%d branches in %d bytes", n, end-r.pos)
	}
	for i := range n {
		class, oend, present := r.anyObject()
		if r.err != nil {
			return fmt.Errorf("branch %d of %d: %w", i, n, r.err)
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
		r.seek(oend)
	}
	r.seek(end)
	return r.err
}

// checkBranch checks a branch object of class class whose body is next.
func (r *objReader) checkBranch(class string, depth int) error {
	done := false // the TBranch part was read to its end
	switch class {
	case "TBranch":
	case "TBranchElement", "TBranchObject", "TBranchRef", "TBranchSTL", "TBranchClones":
		// The TBranch base comes first, with its own header.
		_, end := r.header()
		if r.err != nil {
			return r.err
		}
		if end > len(r.b) {
			return fmt.Errorf("%s of %d bytes in a %d-byte record", class, end, len(r.b))
		}
		if class == "TBranchElement" {
			defer func() {
				// After the base: fClassName, fParentName, fClonesName.
				if r.err == nil && done {
					for range 3 {
						if c := r.str(); c != "" && r.branchClasses != nil {
							r.branchClasses[c] = true
						}
					}
				}
			}()
		}
	default:
		return nil // groot rejects what it does not know
	}
	vers, bend := r.header()
	if r.err != nil {
		return r.err
	}
	if bend > len(r.b) {
		return fmt.Errorf("branch of %d bytes in a %d-byte record", bend, len(r.b))
	}
	if vers < 6 || vers > 13 {
		return nil // groot refuses these itself
	}
	name, _ := r.named()
	var writeBasket, maxBaskets int
	if vers >= 10 {
		r.skipObject() // TAttFill
		r.skip(3 * 4)  // fCompress, fBasketSize, fEntryOffsetLen
		writeBasket = int(r.i32())
		r.skip(8) // fEntryNumber
		if vers >= 13 {
			r.skipObject() // fIOFeatures
		}
		r.skip(4) // fOffset
		maxBaskets = int(r.i32())
		r.skip(4 + 8) // fSplitLevel, fEntries
		if vers >= 11 {
			r.skip(8) // fFirstEntry
		}
		r.skip(2 * 8) // fTotBytes, fZipBytes
	} else {
		if vers > 7 {
			r.skipObject() // TAttFill
		}
		r.skip(3 * 4) // fCompress, fBasketSize, fEntryOffsetLen
		writeBasket = int(r.i32())
		r.skip(2 * 4) // fEntryNumber, fOffset
		maxBaskets = int(r.i32())
		if vers > 6 {
			r.skip(4) // fSplitLevel
		}
		r.skip(3 * 8) // fEntries, fTotBytes, fZipBytes
	}
	if r.err != nil {
		return r.err
	}
	what := fmt.Sprintf("branch %q", safeText(string(name)))
	if err := r.checkBranches(depth + 1); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := r.checkObjArrayOf(depth+1, r.checkLeaf); err != nil {
		return fmt.Errorf("%s: leaves: %w", what, err)
	}
	if err := r.checkObjArrayOf(depth+1, r.checkBasket); err != nil {
		return fmt.Errorf("%s: baskets: %w", what, err)
	}
	// fBasketBytes, fBasketEntry, fBasketSeek: fMaxBaskets entries each
	// (4 + 8 + 8 bytes; before version 10, 4 + 4 + 4 or 8), of which the
	// first fWriteBasket are used.
	perBasket := 20
	if vers < 10 {
		perBasket = 12
	}
	if writeBasket < 0 || maxBaskets < writeBasket+1 || maxBaskets > (bend-r.pos)/perBasket {
		return fmt.Errorf("%s: %d baskets written of %d, in %d bytes", what, writeBasket, maxBaskets, bend-r.pos)
	}
	r.seek(bend)
	done = true
	return r.err
}

// checkBasket checks a basket kept inside the tree record (a tree saved
// without a final flush, embedded.go), whose entry offsets and data groot allocates as the
// basket states them.
func (r *objReader) checkBasket(class string, end int) error {
	if class != "TBasket" {
		return nil
	}
	// Its key: sizes, date, seeks and three strings.
	r.skip(4)
	kvers := r.i16()
	r.skip(4 + 4 + 2 + 2)
	if kvers > 1000 {
		r.skip(16)
	} else {
		r.skip(8)
	}
	r.str()
	r.str()
	r.str()
	vers := r.i16()
	r.skip(4) // fBufferSize
	if nevsize := r.i32(); nevsize < 0 {
		r.skip(1) // I/O bits (TBasket::Streamer)
	}
	nevbuf := int(r.i32())
	last := int(r.i32())
	flag := int(r.u8())
	if r.err != nil {
		return r.err
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
			n := int(r.i32())
			if n < 0 || n > (end-r.pos)/4 {
				return fmt.Errorf("array of %d offsets in %d bytes", n, end-r.pos)
			}
			r.skip(4 * n)
		}
	}
	if flag == 1 || flag > 10 {
		size := last
		if vers <= 1 {
			size = int(r.i32())
		}
		if size < 0 || size > end-r.pos {
			return fmt.Errorf("%d bytes of data in %d", size, end-r.pos)
		}
	}
	return r.err
}

// checkLeaf checks a leaf's name and title, which groot allocates as
// their lengths say.
func (r *objReader) checkLeaf(class string, end int) error {
	if !strings.HasPrefix(class, "TLeaf") {
		return nil
	}
	r.header() // the leaf's class
	_, lend := r.header()
	if r.err == nil && lend > end {
		return fmt.Errorf("leaf of %d bytes past its end %d", lend, end)
	}
	r.named()
	return r.err
}

// checkEntries checks a tree's entry count against its branches': the
// scan plans its units from it (and count(*) may read nothing else), so
// a flipped fEntries must not make up rows or billions of units. ROOT's
// branches hold at most the tree's entries, and one (a branch filled with
// the tree) exactly as many; cols may be a subset of the tree's columns
// only when errNotLean lets groot check the whole tree.
func checkEntries(entries int64, cols []*column) error {
	if entries < 0 {
		return corruptf(errCorruptTree, "%d entries", entries)
	}
	if len(cols) == 0 {
		return nil
	}
	most := int64(-1)
	for _, c := range cols {
		most = max(most, c.baskets.entries)
	}
	if entries > most {
		return corruptf(errCorruptTree, "the tree says %d entries, its branches hold at most %d", entries, most)
	}
	return nil
}
