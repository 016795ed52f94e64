package hepsql_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/engine"
	"github.com/hepsql/hepsql/gen/topology"
	"github.com/hepsql/hepsql/internal/topref"
)

// TestTopologyPipeline runs the saved pipeline queries/topology/ on a
// generated sample and checks its Parquet outputs against internal/topref:
// the same events selected, the same undersampling, shuffle and split, the
// same scaled features, sequences, masks and one-hot labels, value for value.
func TestTopologyPipeline(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	paths, err := topology.Generate(topology.Options{Events: 3600, Seed: 3, OutDir: in, EventsPerFile: 250})
	if err != nil {
		t.Fatal(err)
	}
	const seed = 17
	db := open(t, "?threads=2")
	var printed strings.Builder
	for _, file := range []string{"1-features.sql", "2-prepare.sql", "3-summary.sql"} {
		path := filepath.Join("queries", "topology", file)
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		params := map[string]string{"out": out}
		if file == "1-features.sql" {
			params["in"] = in
		}
		if file == "2-prepare.sql" {
			params["seed"] = strconv.Itoa(seed)
		}
		stmts, err := engine.ParseScript(path, string(src), params)
		if err != nil {
			t.Fatal(err)
		}
		if err := engine.RunScript(context.Background(), db, stmts, path, func(r engine.Result) error {
			fmt.Fprintln(&printed, r.Columns, len(r.Rows))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}

	// The reference: the same events through groot's reader and topref.
	type event struct {
		m *topref.Matrix
		n int
	}
	var samples []topref.Sample
	matrices := map[uint64]event{}
	generated := [topref.NumClasses]int{}
	err = topref.ForEach(paths, func(file string, entry int64, ev *topref.Event) error {
		c, err := topology.ClassOf(file)
		if err != nil {
			return err
		}
		generated[c.Label()]++
		sel, ok := topref.Select(ev)
		if !ok {
			return nil
		}
		// The pipeline's identity: label · 2⁵⁶ + file number · 2³² + entry.
		base := strings.TrimSuffix(filepath.Base(file), ".root")
		num, err := strconv.ParseUint(base[strings.LastIndexByte(base, '_')+1:], 10, 32)
		if err != nil {
			return err
		}
		id := uint64(c.Label())<<56 | num<<32 | uint64(entry)
		samples = append(samples, topref.Sample{ID: id, Label: c.Label(), HLF: topref.HighLevel(ev, sel)})
		m, n := topref.LowLevel(ev, sel)
		matrices[id] = event{m, n}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want, err := topref.Prepare(samples, seed)
	if err != nil {
		t.Fatal(err)
	}
	if want.Kept < 20 {
		t.Fatalf("only %d events per class after undersampling: the sample is too small to test anything", want.Kept)
	}

	var selected, nGenerated int
	if err := db.QueryRow(fmt.Sprintf(`SELECT (SELECT count(*) FROM read_parquet('%[1]s/features.parquet')),
		(SELECT sum(events) FROM read_parquet('%[1]s/generated.parquet'))`, out)).Scan(&selected, &nGenerated); err != nil {
		t.Fatal(err)
	}
	if selected != len(samples) || nGenerated != generated[0]+generated[1]+generated[2] {
		t.Fatalf("features.parquet has %d events, generated.parquet counts %d; want %d and %d", selected, nGenerated, len(samples), generated)
	}

	for name, set := range map[string][]topref.Sample{"train": want.Train, "test": want.Test} {
		rows, err := db.Query(fmt.Sprintf(`SELECT id, label, onehot, hlf, seq, mask FROM read_parquet('%s/%s.parquet')`, out, name))
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		for rows.Next() {
			var (
				id          uint64
				label       int32
				onehot, hlf []any
				seq, mask   []any
			)
			if err := rows.Scan(&id, &label, &onehot, &hlf, &seq, &mask); err != nil {
				t.Fatal(err)
			}
			if i >= len(set) {
				t.Fatalf("%s: more rows than the reference's %d", name, len(set))
			}
			s := set[i]
			where := fmt.Sprintf("%s row %d (id %#x)", name, i, s.ID)
			if id != s.ID || int(label) != s.Label {
				t.Fatalf("%s: id %#x label %d, want id %#x label %d", where, id, label, s.ID, s.Label)
			}
			oh := topref.OneHot(s.Label)
			for k := range oh {
				if onehot[k] != oh[k] {
					t.Fatalf("%s: onehot %v, want %v", where, onehot, oh)
				}
			}
			for f := range s.HLF {
				if hlf[f] != s.HLF[f] {
					t.Fatalf("%s: feature %s = %v, want %v", where, topref.HighLevelNames[f], hlf[f], s.HLF[f])
				}
			}
			e := matrices[s.ID]
			wantSeq, wantMask := topref.Sequence(e.m, e.n)
			for r := range topref.Rows {
				if mask[r] != wantMask[r] {
					t.Fatalf("%s: mask[%d] = %v, want %v", where, r, mask[r], wantMask[r])
				}
				for c := range topref.Columns {
					if got := seq[r*topref.Columns+c]; got != wantSeq[r][c] {
						t.Fatalf("%s: seq[%d][%d] = %v, want %v", where, r, c, got, wantSeq[r][c])
					}
				}
			}
			i++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if i != len(set) {
			t.Fatalf("%s: %d rows, want %d", name, i, len(set))
		}
	}
	// The summary printed its two tables: counts per class and histograms.
	if got := printed.String(); !strings.Contains(got, "[label class generated selected selected % undersampled train test] 3") ||
		!strings.Contains(got, "[feature from_value qcd ttbar wjets qcd_bar ttbar_bar wjets_bar]") {
		t.Fatalf("summary tables missing:\n%s", got)
	}
	t.Logf("%d selected, %d per class kept, %d train, %d test", len(samples), want.Kept, len(want.Train), len(want.Test))
}
