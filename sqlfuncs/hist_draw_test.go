package sqlfuncs_test

import (
	"strings"
	"testing"

	"github.com/hepsql/hepsql/internal/termhist"
)

// TestHistDraws: HIST values as database/sql scans them convert with
// termhist.FromValue and draw, two classes overlaid.
func TestHistDraws(t *testing.T) {
	db := openDB(t)
	rows, err := db.Query("SELECT g, hist(x, 4, 0, 8) FROM (VALUES ('a', 1.0), ('a', 1.5), ('a', 3.0), ('a', 9.0), ('b', 5.0), ('b', -1.0), ('b', 1.0)) t(g, x) GROUP BY g ORDER BY g")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var hs []termhist.Hist
	for rows.Next() {
		var g string
		var v any
		if err := rows.Scan(&g, &v); err != nil {
			t.Fatal(err)
		}
		h, err := termhist.FromValue(g, v)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	var b strings.Builder
	if err := termhist.Render(&b, 30, hs...); err != nil {
		t.Fatal(err)
	}
	want := `█ a (4 entries)  ▓ b (3 entri…
0 │█████████████████████████ 2
  │▓▓▓▓▓▓▓▓▓▓▓▓▓             1
2 │████████████▌             1
  │                          0
4 │                          0
  │▓▓▓▓▓▓▓▓▓▓▓▓▓             1
6 │                          0
  │                          0
8 ┘
underflow: █ 0  ▓ 1
 overflow: █ 1  ▓ 0
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
