package rntconform_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/internal/rntconform"
	"github.com/hepsql/hepsql/internal/testfiles"
)

// Every ROOT-written fixture passes: this validates the checker.
func TestFixtures(t *testing.T) {
	dir := filepath.Dir(testfiles.Shared(t, "rntuple/test_bit_rntuple_v1-0-0-0.root"))
	files, _ := filepath.Glob(filepath.Join(dir, "*.root"))
	if len(files) != 24 {
		t.Fatalf("%d fixtures, want 24", len(files))
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rep := rntconform.Check(b)
		for _, e := range rep.Errors {
			t.Errorf("%s: %s", filepath.Base(path), e)
		}
		if len(rep.NTuples) == 0 {
			t.Errorf("%s: no RNTuple", filepath.Base(path))
		}
		if testing.Verbose() {
			fmt.Println(filepath.Base(path), rep.Version)
			for _, k := range rep.Keys {
				fmt.Printf("  %8d %5d %-14s %-14q %s v%d\n", k.Seek, k.Nbytes, k.Class, k.Name, k.Role, k.Version)
			}
			for _, nt := range rep.NTuples {
				fmt.Printf("  anchor %+v writer %q groups %d clusters %d pages %d (checksum %d) comp %v blobs %v\n", nt.Anchor, nt.Writer, nt.Groups, nt.Clusters, nt.Pages, nt.PageChecksum, nt.Compressions, nt.BlobsPerKey)
				for i, f := range nt.Fields {
					fmt.Printf("    f%d %+v\n", i, f)
				}
				for i, c := range nt.Columns {
					fmt.Printf("    c%d %s %+v\n", i, rntconform.ColumnNames[c.Type], c)
				}
			}
			for _, w := range rep.Warnings {
				fmt.Println("  warning:", w)
			}
		}
	}
}

// The checker must fail files that break the rules: a flipped byte in a
// page, in the header envelope, in the anchor's checksum; a wrong fEND.
func TestCatchesDamage(t *testing.T) {
	b, err := os.ReadFile(testfiles.Shared(t, "rntuple/test_int_vfloat_tlv_vtlv_rntuple_v1-0-0-0.root"))
	if err != nil {
		t.Fatal(err)
	}
	rep := rntconform.Check(b)
	if len(rep.Errors) != 0 {
		t.Fatal(rep.Errors)
	}
	var page, header, anchor rntconform.Key
	for _, k := range rep.Keys {
		switch k.Role {
		case "page":
			page = k
		case "header":
			header = k
		case "anchor":
			anchor = k
		}
	}
	for _, c := range []struct {
		name string
		off  int64
		want string
	}{
		{"page", page.Seek + int64(page.Keylen) + 20, "page XXH3"},
		{"header", header.Seek + int64(header.Keylen) + 30, "header envelope"},
		{"anchor checksum", anchor.Seek + int64(anchor.Nbytes) - 1, "anchor"},
		{"fEND", 15, "fEND"},
	} {
		d := append([]byte(nil), b...)
		d[c.off] ^= 0x5a
		rep := rntconform.Check(d)
		if !strings.Contains(strings.Join(rep.Errors, "\n"), c.want) {
			t.Errorf("%s damaged: errors %q, want one about %q", c.name, rep.Errors, c.want)
		}
	}
}
