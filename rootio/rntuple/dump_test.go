package rntuple

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestDump(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/data/rntuple/*.root")
	for _, name := range files {
		fh, _ := os.Open(name)
		st, _ := fh.Stat()
		names, err := NTuples(fh, st.Size())
		fmt.Println("==", filepath.Base(name), names, err)
		for _, n := range names {
			nt, err := Open(fh, st.Size(), n)
			if err != nil {
				fmt.Println("  ERR", err)
				continue
			}
			fmt.Println("  ", nt.Name, nt.Version, "entries", nt.Entries, "clusters", len(nt.Clusters), "fields", len(nt.Fields))
			shown := 0
			for i := range nt.Fields {
				f := &nt.Fields[i]
				if !f.TopLevel() || shown > 12 {
					continue
				}
				shown++
				ty, err := nt.TypeOf(i)
				if err != nil {
					fmt.Println("    ", f.Name, f.Type, "UNSUPPORTED:", err)
					continue
				}
				var vals []any
				for ci := range nt.Clusters {
					a, err := nt.ReadType(ty, ci)
					if err != nil {
						fmt.Println("    ", f.Name, f.Type, "READ ERR:", err)
						break
					}
					for k := 0; k < a.Len && len(vals) < 4; k++ {
						vals = append(vals, a.Value(k))
					}
				}
				fmt.Printf("     %s %s: %v\n", f.Name, f.Type, vals)
			}
		}
		fh.Close()
	}
}
