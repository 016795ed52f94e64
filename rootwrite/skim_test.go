package rootwrite_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hepsql/hepsql/internal/testfiles"
)

// TestSkimOfSelectStar: a skim written with COPY (SELECT * FROM
// read_root(...)) carries the _file and _entry columns of the files it
// came from. Reading it back must work (two columns of one name made
// DuckDB refuse the table): read_root's own _file and _entry describe the
// skim, the stored ones are left out with the reason in root_branches,
// and every other column equals the source's, for TTree and RNTuple
// output.
func TestSkimOfSelectStar(t *testing.T) {
	db := openDB(t)
	sample := testfiles.CMSSample(t)
	src := fmt.Sprintf("SELECT * FROM read_root('%s') WHERE nMuon >= 2 ORDER BY _entry LIMIT 50", sample)
	want := queryRows(t, db, "SELECT run, event, Muon_pt FROM ("+src+")")
	for _, format := range []string{"root", "rntuple"} {
		out := filepath.Join(t.TempDir(), "skim.root")
		if _, err := db.Exec(fmt.Sprintf("COPY (%s) TO '%s' (FORMAT %s)", src, out, format)); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		got := queryRows(t, db, fmt.Sprintf("SELECT run, event, Muon_pt FROM read_root('%s') ORDER BY _entry", out))
		compareRows(t, format, []string{"run", "event", "Muon_pt"}, want, got)
		prov := queryRows(t, db, fmt.Sprintf("SELECT count(*), count(DISTINCT _file), min(_file), min(_entry), max(_entry) FROM read_root('%s')", out))
		if p, w := fmt.Sprint(prov[0]), fmt.Sprint([]any{50, 1, out, 0, 49}); p != w {
			t.Errorf("%s: count, files, _file, first and last _entry = %v, want 50 rows of %s numbered 0-49", format, p, out)
		}
		marked := queryRows(t, db, fmt.Sprintf(`SELECT count(*) FROM root_branches('%s')
			WHERE name IN ('_file', '_entry') AND NOT supported AND starts_with(note, 'named like read_root''s own column ' || name)`, out))
		if fmt.Sprint(marked[0][0]) != "2" {
			t.Errorf("%s: root_branches marks %v of _file and _entry unsupported with the reason, want 2", format, marked[0][0])
		}
	}
}
