package rootscan

import (
	"fmt"

	"github.com/hepsql/hepsql/internal/capi"
	"github.com/hepsql/hepsql/rootio/rfile"
)

func col(name string, id capi.TypeID) capi.Column {
	return capi.Column{Name: name, Type: capi.Scalar(id)}
}

// bindRootTrees lists the trees of every file of the source, those in
// subdirectories by their path ("dir/sub/tree").
func bindRootTrees(args *capi.BindArgs) (capi.Table, error) {
	src, err := args.Arg(0)
	if err != nil {
		return nil, err
	}
	o := cancellable(args)
	names, err := expandSources(src, o)
	if err != nil {
		return nil, err
	}
	t := &capi.RowsTable{Cols: []capi.Column{
		col("file", capi.Varchar), col("tree", capi.Varchar), col("title", capi.Varchar),
		col("entries", capi.BigInt), col("branches", capi.BigInt), col("kind", capi.Varchar),
	}}
	for _, name := range names {
		// The directory alone names the trees; each is then opened for
		// its entries and branch count.
		cf, rf, layout, err := openROOTWith(name, o)
		if err != nil {
			return nil, err
		}
		// Trees in subdirectories by path (rootio/rfile's dirs.go); a subdirectory that
		// cannot be read is left out, and naming a tree in it says why.
		trees := layout.WalkDirs(cf).Trees()
		for _, tn := range trees {
			f, err := openTreeWith(name, tn, o)
			if err != nil {
				rf.Close()
				return nil, err
			}
			t.Rows = append(t.Rows, []any{name, rfile.SafeText(tn), rfile.SafeText(f.Title), f.Entries, int64(len(f.Cols)), "TTree"})
			f.Close()
		}
		rf.Close()
		nts, err := rntupleTrees(name, o) // rntuple.go
		if err != nil {
			return nil, err
		}
		t.Rows = append(t.Rows, nts...)
	}
	return t, nil
}

// compressionName decodes ROOT's fCompress setting (algorithm*100 + level).
func compressionName(setting int) string {
	if setting < 0 {
		return "inherited"
	}
	level := setting % 100
	if level == 0 {
		return "none"
	}
	alg := map[int]string{0: "zlib", 1: "zlib", 2: "lzma", 3: "old", 4: "lz4", 5: "zstd"}[setting/100]
	if alg == "" {
		alg = fmt.Sprintf("algorithm %d", setting/100)
	}
	return fmt.Sprintf("%s-%d", alg, level)
}

// bindRootBranches describes every column of the chosen tree of each file.
func bindRootBranches(args *capi.BindArgs) (capi.Table, error) {
	src, err := args.Arg(0)
	if err != nil {
		return nil, err
	}
	tree, err := stringArg(args, "tree")
	if err != nil {
		return nil, err
	}
	o := cancellable(args)
	names, err := expandSources(src, o)
	if err != nil {
		return nil, err
	}
	t := &capi.RowsTable{Cols: []capi.Column{
		col("file", capi.Varchar), col("tree", capi.Varchar), col("name", capi.Varchar),
		col("branch", capi.Varchar), col("root_type", capi.Varchar), col("sql_type", capi.Varchar),
		col("compressed_bytes", capi.BigInt), col("uncompressed_bytes", capi.BigInt),
		col("baskets", capi.BigInt), col("compression", capi.Varchar),
		col("supported", capi.Boolean), col("note", capi.Varchar),
	}}
	for _, name := range names {
		f, err := openTreeWith(name, tree, o)
		if err != nil {
			// No TTree by that name: an RNTuple's fields (rntuple.go).
			rows, ok, nerr := rntupleBranches(name, tree, o)
			if !ok {
				return nil, err
			}
			if nerr != nil {
				return nil, nerr
			}
			t.Rows = append(t.Rows, rows...)
			continue
		}
		for _, c := range f.Cols {
			sqlType, supported, why := sqlType(c.Type).String(), c.Supported(), c.Why
			if supported {
				if clash := provenanceClash(c.Name); clash != "" {
					supported, why = false, clash
				}
			}
			if !supported {
				sqlType = ""
			}
			t.Rows = append(t.Rows, []any{
				name, rfile.SafeText(f.Name), c.Name, rfile.SafeText(c.Path), rfile.SafeText(c.RootType), sqlType,
				c.Baskets.ZipBytes, c.Baskets.TotBytes, int64(len(c.Baskets.Seek)),
				compressionName(c.Baskets.Compress), supported, rfile.SafeText(why),
			})
		}
		f.Close()
	}
	return t, nil
}
