package rootscan

import (
	"fmt"
	"sync/atomic"

	"github.com/hepsql/hepsql/internal/capi"
)

// rowsTable is a small materialized result (metadata listings), filled into
// vectors column by column. Cells are string, int64 or bool.
type rowsTable struct {
	cols []capi.Column
	rows [][]any
}

func (t *rowsTable) Columns() []capi.Column     { return t.cols }
func (t *rowsTable) Cardinality() (int64, bool) { return int64(len(t.rows)), true }

func (t *rowsTable) Start(projected []int) (capi.Scan, error) {
	return &rowsScan{t: t, proj: projected}, nil
}

type rowsScan struct {
	t    *rowsTable
	proj []int
	next atomic.Int64
}

func (s *rowsScan) MaxThreads() int                 { return 1 }
func (s *rowsScan) NewWorker() (capi.Worker, error) { return s, nil }

func (s *rowsScan) Fill(out capi.Chunk) (int, error) {
	start := int(s.next.Add(int64(capi.VectorSize)) - int64(capi.VectorSize))
	if start >= len(s.t.rows) {
		return 0, nil
	}
	rows := s.t.rows[start:min(start+capi.VectorSize, len(s.t.rows))]
	for i, col := range s.proj {
		if col < 0 || col >= len(s.t.cols) {
			continue
		}
		v := out.Vector(i)
		switch s.t.cols[col].Type.ID {
		case capi.Varchar:
			var data []byte
			ends := make([]uint64, len(rows))
			for r, row := range rows {
				data = append(data, row[col].(string)...)
				ends[r] = uint64(len(data))
			}
			v.AssignStrings(0, data, ends)
		case capi.BigInt:
			d := capi.Slice[int64](v, len(rows))
			for r, row := range rows {
				d[r] = row[col].(int64)
			}
		case capi.Boolean:
			d := capi.Slice[bool](v, len(rows))
			for r, row := range rows {
				d[r] = row[col].(bool)
			}
		default:
			return 0, fmt.Errorf("rootscan: rowsTable: unsupported column type %s", s.t.cols[col].Type)
		}
	}
	return len(rows), nil
}

func col(name string, id capi.TypeID) capi.Column {
	return capi.Column{Name: name, Type: capi.Scalar(id)}
}

// bindRootTrees lists the trees of every file of the source.
func bindRootTrees(args *capi.BindArgs) (capi.Table, error) {
	src, err := args.Arg(0)
	if err != nil {
		return nil, err
	}
	names, err := expandSources(src)
	if err != nil {
		return nil, err
	}
	t := &rowsTable{cols: []capi.Column{
		col("file", capi.Varchar), col("tree", capi.Varchar), col("title", capi.Varchar),
		col("entries", capi.BigInt), col("branches", capi.BigInt),
	}}
	for _, name := range names {
		// The directory alone names the trees; each is then opened for
		// its entries and branch count.
		_, rf, err := openROOT(name)
		if err != nil {
			return nil, err
		}
		trees := treesIn(rf)
		for _, tn := range trees {
			f, err := openTree(name, tn)
			if err != nil {
				rf.Close()
				return nil, err
			}
			t.rows = append(t.rows, []any{name, tn, f.tree.Title(), f.entries, int64(len(f.cols))})
			f.Close()
		}
		rf.Close()
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
	names, err := expandSources(src)
	if err != nil {
		return nil, err
	}
	t := &rowsTable{cols: []capi.Column{
		col("file", capi.Varchar), col("tree", capi.Varchar), col("name", capi.Varchar),
		col("branch", capi.Varchar), col("root_type", capi.Varchar), col("sql_type", capi.Varchar),
		col("compressed_bytes", capi.BigInt), col("uncompressed_bytes", capi.BigInt),
		col("baskets", capi.BigInt), col("compression", capi.Varchar),
		col("supported", capi.Boolean), col("note", capi.Varchar),
	}}
	for _, name := range names {
		f, err := openTree(name, tree)
		if err != nil {
			return nil, err
		}
		for _, c := range f.cols {
			sqlType := c.typ.String()
			if !c.supported() {
				sqlType = ""
			}
			t.rows = append(t.rows, []any{
				name, f.tree.Name(), c.name, c.path, c.rootType, sqlType,
				c.baskets.zipBytes, c.baskets.totBytes, int64(len(c.baskets.seek)),
				compressionName(c.baskets.compress), c.supported(), c.why,
			})
		}
		f.Close()
	}
	return t, nil
}
