// Command rootsweep reads every ROOT file under the given folders with both
// hepsql and jsroot (CERN's JavaScript ROOT reader, internal/jsroot) and
// says how much of what jsroot reads hepsql reads too, and whether the
// values agree.
//
//	go run ./bench/cmd/rootsweep [-entries 2000] [-details FILE] [-readme FILE] [FOLDER...]
//
// Folders default to ../shared/data (the uproot files and the others) and
// go-hep's groot/testdata in the module cache. For every tree jsroot opens
// it checks that hepsql opens it (root_branches), that SELECT * reads all
// of it, which columns are supported and which refused (grouped by the
// reason root_branches gives), and compares the first -entries entries of
// every supported column with jsroot's, branch by branch: integers and
// strings exactly, floats bit for bit against the double jsroot gives,
// lists element by element, structs member by member. The summary goes to
// stdout (and into -readme's marked block when -readme is set), every
// finding to -details. Exit status 1 when a value differs or SELECT *
// fails.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/hepsql/hepsql"
	"github.com/hepsql/hepsql/bench"
	"github.com/hepsql/hepsql/internal/jsroot"
)

const (
	beginMarker = "<!-- rootsweep:begin -->"
	endMarker   = "<!-- rootsweep:end -->"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "rootsweep: %v\n", err)
		}
		os.Exit(1)
	}
}

type config struct {
	entries int
	details string
	readme  string
	timeout time.Duration
	folders []string
}

func run(args []string) error {
	var c config
	fs := flag.NewFlagSet("rootsweep", flag.ContinueOnError)
	fs.IntVar(&c.entries, "entries", 2000, "entries of each tree whose values are compared with jsroot's")
	fs.StringVar(&c.details, "details", "bench/results/rootsweep.txt", "`file` receiving every finding, tree by tree")
	fs.StringVar(&c.readme, "readme", "", "Markdown `file` whose marked block receives the summary (bench/README.md); empty: print only")
	fs.DurationVar(&c.timeout, "timeout", 3*time.Minute, "limit on jsroot's reading of one tree")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.folders = fs.Args()
	if len(c.folders) == 0 {
		c.folders = defaultFolders()
	}
	if err := jsroot.Available(); err != nil {
		return err
	}
	files, err := rootFiles(c.folders)
	if err != nil {
		return err
	}
	db, err := hepsql.Open("")
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	s := &sweep{cfg: c, db: db, refused: map[string]int{}}
	for i, f := range files {
		fmt.Fprintf(os.Stderr, "rootsweep: [%d/%d] %s\n", i+1, len(files), f)
		s.file(ctx, f)
	}
	if err := os.MkdirAll(filepath.Dir(c.details), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(c.details, s.log.Bytes(), 0o644); err != nil {
		return err
	}
	sum := s.summary(c, len(files))
	fmt.Print(sum)
	fmt.Fprintf(os.Stderr, "rootsweep: details in %s\n", c.details)
	if c.readme != "" {
		m, err := bench.DescribeMachine(ctx)
		if err != nil {
			return err
		}
		block := fmt.Sprintf("Measured %s on %s, commit %s, with `go run ./bench/cmd/rootsweep -readme bench/README.md` (jsroot %s, %d files):\n\n```\n%s```\n\n"+
			"A tree counts as opened when root_branches answers for it; SELECT * reads every row of it. Values are compared over the first entries "+
			"of every supported column, branch by branch (a leaf-list leaf or a member jsroot reads inside its parent's object is taken from that object). "+
			"Columns jsroot cannot read (its streamer for the type is missing, or it stops early) are counted apart, not compared. "+
			"Where jsroot's values differ, groot's per-entry reader reads the branch too; when it gives hepsql's values the column is listed as "+
			"jsroot's difference, not as a mismatch (uproot's HZZ-objects TVector2/TVector3 branches: jsroot reads their TObject part two bytes off; "+
			"go-hep's pod-advanced leaf list: jsroot reads its counted leaves as one number each, ignoring their counts). "+
			"A split collection's fBits whose values differ from the first referenced element on is listed so too: jsroot does not skip the "+
			"process id ROOT writes after a referenced object's fBits (no groot reader exists for split collections). "+
			"Every finding, tree by tree, goes to bench/results/rootsweep.txt (git-ignored).\n",
			time.Now().UTC().Format("2006-01-02"), m.CPU, m.Commit, jsrootVersion(), len(files), sum)
		if err := bench.WriteSectionUnder(c.readme, "## rootsweep: hepsql against jsroot over every ROOT file at hand", beginMarker, endMarker, block); err != nil {
			return err
		}
	}
	if s.mismatchCols > 0 || s.selectFails > 0 {
		return fmt.Errorf("%d columns with values differing from jsroot's, %d trees where SELECT * fails", s.mismatchCols, s.selectFails)
	}
	return nil
}

// defaultFolders are the shared data and go-hep's testdata.
func defaultFolders() []string {
	dirs := []string{filepath.Join("..", "shared", "data")}
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		dirs = append(dirs, filepath.Join(strings.TrimSpace(string(out)), "go-hep.org", "x", "hep@v0.40.0", "groot", "testdata"))
	}
	return dirs
}

// rootFiles lists the *.root files under folders, sorted, each once.
func rootFiles(folders []string) ([]string, error) {
	seen := map[string]bool{}
	var files []string
	for _, dir := range folders {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && strings.HasSuffix(p, ".root") && !seen[p] {
				seen[p] = true
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("folder %s: %w", dir, err)
		}
	}
	sort.Strings(files)
	return files, nil
}

func jsrootVersion() string {
	b, err := os.ReadFile(filepath.Join(jsroot.Dir(), "node_modules", "jsroot", "package.json"))
	if err != nil {
		return "?"
	}
	var p struct{ Version string }
	json.Unmarshal(b, &p)
	return p.Version
}

// sweep accumulates the counts and the details.
type sweep struct {
	cfg config
	db  *sql.DB
	log bytes.Buffer

	jsTrees, jsErrTrees, opened, hepsqlOnly, selectFails int
	supported, refusedCols                               int
	refused                                              map[string]int // refused columns by reason
	comparedCols, comparedValues, mismatchCols, jsCannot int
	jsrootDiffers                                        int // columns where groot sides with hepsql against jsroot
}

func (s *sweep) logf(format string, args ...any) { fmt.Fprintf(&s.log, format+"\n", args...) }

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

type jsTree struct {
	Path, Class, Error string
	Entries            int64
	Branches           []string
}

func (s *sweep) file(ctx context.Context, file string) {
	s.logf("\n== %s", file)
	raw, err := jsroot.Dump(ctx, file, "trees")
	var jsTrees []jsTree
	if err == nil {
		err = json.Unmarshal(raw, &jsTrees)
	}
	if err != nil {
		s.logf("jsroot cannot open the file: %s", firstLine(err))
	}
	hsTrees := map[string]bool{}
	rows, err := s.db.QueryContext(ctx, "SELECT tree FROM root_trees("+quote(file)+")")
	if err == nil {
		for rows.Next() {
			var t string
			rows.Scan(&t)
			hsTrees[t] = true
		}
		err = rows.Err()
		rows.Close()
	}
	if err != nil {
		s.logf("hepsql root_trees: %s", firstLine(err))
	}
	jsNames := map[string]bool{}
	for _, t := range jsTrees {
		jsNames[t.Path] = true
		if t.Error != "" {
			s.jsErrTrees++
			s.logf("tree %s (%s): jsroot cannot read it: %s (hepsql lists it: %v)", t.Path, t.Class, t.Error, hsTrees[t.Path])
			continue
		}
		s.jsTrees++
		s.tree(ctx, file, t)
	}
	for t := range hsTrees {
		if !jsNames[t] {
			s.hepsqlOnly++
			s.logf("tree %s: hepsql lists it, jsroot does not", t)
		}
	}
}

type branchRow struct {
	name, branch, rootType, sqlType, note string
	supported                             bool
}

var reasonNoise = regexp.MustCompile(`"[^"]*"|'[^']*'|\b\d+\b`)

func (s *sweep) tree(ctx context.Context, file string, t jsTree) {
	q := fmt.Sprintf("SELECT name, branch, root_type, sql_type, supported, coalesce(note, '') FROM root_branches(%s, tree := %s)", quote(file), quote(t.Path))
	rows, err := s.db.QueryContext(ctx, q)
	var cols []branchRow
	if err == nil {
		for rows.Next() {
			var b branchRow
			if err = rows.Scan(&b.name, &b.branch, &b.rootType, &b.sqlType, &b.supported, &b.note); err != nil {
				break
			}
			cols = append(cols, b)
		}
		if err == nil {
			err = rows.Err()
		}
		rows.Close()
	}
	if err != nil {
		s.logf("tree %s: NOT OPENED by hepsql: %s", t.Path, firstLine(err))
		return
	}
	s.opened++
	var sup []branchRow
	for _, b := range cols {
		if b.supported {
			sup = append(sup, b)
			continue
		}
		s.refusedCols++
		reason := reasonNoise.ReplaceAllString(b.note, "…")
		s.refused[reason]++
		s.logf("tree %s: refused %s (%s): %s", t.Path, b.name, b.rootType, b.note)
	}
	s.supported += len(sup)
	s.logf("tree %s: opened, %d entries, %d columns supported, %d refused", t.Path, t.Entries, len(sup), len(cols)-len(sup))

	// SELECT * over the whole tree; the first entries are kept to compare.
	hs, err := s.selectAll(ctx, file, t.Path)
	if err != nil {
		s.selectFails++
		s.logf("tree %s: SELECT * FAILS: %s", t.Path, firstLine(err))
		return
	}
	if len(sup) == 0 {
		return
	}
	if t.Entries == 0 {
		if len(hs.entries) != 0 {
			s.mismatchCols++
			s.logf("tree %s: MISMATCH: jsroot says 0 entries, hepsql reads %d", t.Path, len(hs.entries))
		}
		return
	}
	// A column is read from jsroot by its branch; a column that is one leaf
	// of a leaf list or one member of an object jsroot reads whole ("b.x"
	// where jsroot knows only "b") is its parent's value's member.
	jsBranches := map[string]bool{}
	for _, b := range t.Branches {
		jsBranches[b] = true
		// A branch of a fixed array (Track.Cov[3], a member of a split
		// TClonesArray) is a column without its dimensions; jsroot finds
		// it by either name.
		if i := strings.IndexByte(b, '['); i > 0 {
			jsBranches[b[:i]] = true
		}
	}
	read := map[string][]string{} // column → jsroot branch, then member path
	args := []string{file, "values", t.Path, strconv.Itoa(s.cfg.entries)}
	asked := map[string]bool{}
	for _, b := range sup {
		path := []string{b.branch}
		if !jsBranches[b.branch] {
			parts := strings.Split(b.branch, ".")
			for i := len(parts) - 1; i > 0; i-- {
				if p := strings.Join(parts[:i], "."); jsBranches[p] {
					path = append([]string{p}, parts[i:]...)
					break
				}
			}
		}
		read[b.name] = path
		if !asked[path[0]] {
			asked[path[0]] = true
			args = append(args, path[0])
		}
	}
	jctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
	raw, err := jsroot.Dump(jctx, args...)
	cancel()
	var js struct {
		Entries  int64
		Branches map[string]struct {
			Values []json.RawMessage
			Error  string
		}
	}
	if err == nil {
		err = json.Unmarshal(raw, &js)
	}
	if err != nil {
		s.logf("tree %s: jsroot cannot read its values: %s", t.Path, firstLine(err))
		s.jsCannot += len(sup)
		return
	}
	// A member whose parent jsroot cannot read whole (a split object
	// whose own branch holds no baskets) is asked for by its dotted path,
	// which jsroot resolves through the branches itself (event.fNtrack,
	// event.fTracks.fPx).
	retry := []string{file, "values", t.Path, strconv.Itoa(s.cfg.entries)}
	for _, b := range sup {
		if p := read[b.name]; len(p) > 1 && js.Branches[p[0]].Error != "" {
			read[b.name] = []string{b.branch}
			retry = append(retry, b.branch)
		}
	}
	if len(retry) > 4 {
		jctx, cancel := context.WithTimeout(ctx, s.cfg.timeout)
		raw, err := jsroot.Dump(jctx, retry...)
		cancel()
		var more struct {
			Branches map[string]struct {
				Values []json.RawMessage
				Error  string
			}
		}
		if err == nil && json.Unmarshal(raw, &more) == nil {
			for k, v := range more.Branches {
				js.Branches[k] = v
			}
		}
	}
	for _, b := range sup {
		path := read[b.name]
		jb, ok := js.Branches[path[0]]
		if !ok || jb.Error != "" {
			s.jsCannot++
			s.logf("tree %s: column %s: jsroot cannot read branch %s: %s", t.Path, b.name, path[0], jb.Error)
			continue
		}
		hcol, ok := hs.cols[b.name]
		if !ok {
			s.logf("tree %s: column %s: not in SELECT *", t.Path, b.name)
			s.mismatchCols++
			continue
		}
		s.comparedCols++
		bad, first := 0, ""
		n := min(len(jb.Values), len(hs.entries))
		if len(jb.Values) != len(hs.entries) {
			bad++
			first = fmt.Sprintf("jsroot gives %d entries, hepsql %d", len(jb.Values), len(hs.entries))
		}
		for e := 0; e < n; e++ {
			var jv any
			d := json.NewDecoder(bytes.NewReader(jb.Values[e]))
			d.UseNumber()
			d.Decode(&jv)
			for _, m := range path[1:] {
				jv = memberOf(jv, m)
			}
			s.comparedValues++
			if why := compare(hcol[e], jv); why != "" {
				bad++
				if first == "" {
					first = fmt.Sprintf("entry %d: %s: hepsql %s, jsroot %s", e, why, short(fmt.Sprintf("%v", hcol[e])), short(string(jb.Values[e])))
				}
			}
		}
		if bad > 0 && ignoresPID(b, hcol, jb.Values) {
			s.jsrootDiffers++
			s.logf("tree %s: column %s (%s → %s): jsroot differs in %d entries, from the first referenced element on (it reads TObject::fBits without the process id ROOT writes after a referenced object's); first: %s", t.Path, b.name, b.rootType, b.sqlType, bad, first)
			continue
		}
		if bad > 0 {
			// A second independent reader settles it: when groot's
			// per-entry reader gives hepsql's values, jsroot is the one
			// that differs (it reads some classes' TObject part two bytes
			// off); the column is listed, not counted as a mismatch.
			if why := grootAgrees(ctx, s.db, file, t.Path, b, len(hs.entries)); why == "" {
				s.jsrootDiffers++
				s.logf("tree %s: column %s (%s → %s): jsroot differs in %d entries, groot's reader agrees with hepsql; first: %s", t.Path, b.name, b.rootType, b.sqlType, bad, first)
				continue
			} else {
				first += "; groot: " + why
			}
			s.mismatchCols++
			s.logf("tree %s: column %s (%s → %s): MISMATCH in %d entries; first: %s", t.Path, b.name, b.rootType, b.sqlType, bad, first)
		}
	}
}

// memberOf is member m of jsroot's value of an object, or, for a
// collection of objects (a split TClonesArray read inside its parent
// object), the list of each element's member m.
func memberOf(v any, m string) any {
	switch v := v.(type) {
	case map[string]any:
		return v[m]
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = memberOf(x, m)
		}
		return out
	}
	return nil
}

// ignoresPID says whether every entry where jsroot's values of a split
// collection's fBits column differ from hepsql's differs the way jsroot's
// reading does: ROOT writes a 2-byte process id after the fBits of an
// object a TRef points to (kIsReferenced, 0x10; TStreamerInfo's kBits),
// which jsroot does not skip, so its values agree up to and including the
// first referenced element and are shifted after it. hepsql's fixture
// tests check that layout against a hand-written expectation.
func ignoresPID(b branchRow, hcol []any, jvals []json.RawMessage) bool {
	if !strings.HasSuffix(b.name, ".fBits") || b.sqlType != "UINTEGER[]" || len(jvals) != len(hcol) {
		return false
	}
	for e, raw := range jvals {
		var jv any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if d.Decode(&jv) != nil {
			return false
		}
		if compare(hcol[e], jv) == "" {
			continue
		}
		h, _ := hcol[e].([]any)
		j, _ := jv.([]any)
		ref := -1
		for i, x := range h {
			if v, ok := x.(uint32); ok && v&0x10 != 0 {
				ref = i
				break
			}
		}
		if ref < 0 || len(j) != len(h) {
			return false
		}
		for i := 0; i <= ref; i++ {
			if compare(h[i], j[i]) != "" {
				return false
			}
		}
	}
	return true
}

// selected holds the first entries of every column of a SELECT *.
type selected struct {
	entries []int64
	cols    map[string][]any // by column name, in entry order
}

// selectAll runs SELECT * over the whole tree, reading every row (so that
// every column of every basket is decoded), and keeps the first entries.
func (s *sweep) selectAll(ctx context.Context, file, tree string) (*selected, error) {
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf("SELECT * FROM read_root(%s, tree := %s)", quote(file), quote(tree)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	entryCol := -1
	for i, n := range names {
		if n == "_entry" {
			entryCol = i
		}
	}
	if entryCol < 0 {
		return nil, fmt.Errorf("no _entry column")
	}
	keep := map[int64][]any{}
	for rows.Next() {
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		e, _ := vals[entryCol].(int64)
		if e < int64(s.cfg.entries) {
			keep[e] = vals
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := &selected{cols: map[string][]any{}}
	for e := int64(0); ; e++ {
		v, ok := keep[e]
		if !ok {
			break
		}
		out.entries = append(out.entries, e)
		for i, n := range names {
			out.cols[n] = append(out.cols[n], v[i])
		}
	}
	return out, nil
}

// compare says how a value from hepsql differs from jsroot's (decoded from
// JSON with UseNumber), or "" when they agree.
func compare(h, j any) string {
	// A MAP column reads back as duckdb-go's OrderedMap; jsroot gives a
	// std::map as its pairs, {"first", "second"}, in the file's order, as
	// read_root keeps them.
	switch m := h.(type) {
	case duckdb.OrderedMap:
		h = mapPairs(&m)
	case *duckdb.OrderedMap:
		h = mapPairs(m)
	}
	switch jv := j.(type) {
	case nil:
		if h == nil {
			return ""
		}
		return "jsroot null"
	case json.Number:
		return compareNumber(h, string(jv))
	case bool:
		switch hv := h.(type) {
		case bool:
			if hv == jv {
				return ""
			}
		default:
			if f, ok := asFloat(h); ok && (f != 0) == jv && (f == 0 || f == 1) {
				return ""
			}
		}
		return "boolean differs"
	case string:
		switch hv := h.(type) {
		case string:
			if hv == jv {
				return ""
			}
		case []byte:
			if string(hv) == jv {
				return ""
			}
		case []any:
			return compareChars(flatten(hv, nil), jv)
		}
		return "string differs"
	case []any:
		hv, ok := h.([]any)
		if !ok {
			return fmt.Sprintf("hepsql %T where jsroot has a list", h)
		}
		if len(hv) != len(jv) && len(jv) > 0 {
			// jsroot gives a multi-dimensional array x[2][3] flat.
			if _, nested := jv[0].([]any); !nested {
				hv = flatten(hv, nil)
			}
		}
		if len(hv) != len(jv) {
			return fmt.Sprintf("list length %d, jsroot %d", len(hv), len(jv))
		}
		for i := range hv {
			if why := compare(hv[i], jv[i]); why != "" {
				return fmt.Sprintf("[%d] %s", i, why)
			}
		}
		return ""
	case map[string]any:
		if v, ok := jv["$i"].(string); ok {
			return compareNumber(h, v)
		}
		if v, ok := jv["$f"].(string); ok {
			return compareNumber(h, v)
		}
		hv, ok := h.(map[string]any)
		if !ok {
			return fmt.Sprintf("hepsql %T where jsroot has an object", h)
		}
		for k, x := range hv {
			y, ok := jv[k]
			if !ok {
				return fmt.Sprintf("member %s not in jsroot's object", k)
			}
			if why := compare(x, y); why != "" {
				return k + ": " + why
			}
		}
		return ""
	}
	return fmt.Sprintf("jsroot value of type %T", j)
}

// mapPairs returns m's entries as jsroot writes a std::map's.
func mapPairs(m *duckdb.OrderedMap) []any {
	keys, values := m.Keys(), m.Values()
	out := make([]any, len(keys))
	for i := range keys {
		out[i] = map[string]any{"first": keys[i], "second": values[i]}
	}
	return out
}

// flatten appends the scalars of a nested list to out, in order.
func flatten(l []any, out []any) []any {
	for _, x := range l {
		if y, ok := x.([]any); ok {
			out = flatten(y, out)
		} else {
			out = append(out, x)
		}
	}
	return out
}

// compareChars compares a fixed array of 8-bit integers with jsroot's
// reading of it: a string of those bytes (one character each), ending at
// the first zero byte.
func compareChars(h []any, s string) string {
	i := 0
	for _, r := range s {
		if i >= len(h) {
			return "jsroot's string longer than the array"
		}
		var b byte
		switch v := h[i].(type) {
		case int8:
			b = byte(v)
		case uint8:
			b = v
		default:
			return fmt.Sprintf("hepsql %T where jsroot has a string", h[i])
		}
		if r > 0xff || byte(r) != b {
			return fmt.Sprintf("[%d] byte differs", i)
		}
		i++
	}
	if i < len(h) {
		if f, _ := asFloat(h[i]); f != 0 {
			return fmt.Sprintf("[%d] jsroot's string ends before a non-zero byte", i)
		}
	}
	return ""
}

// compareNumber compares h with the number jsroot printed as text: integers
// exactly, floats bit for bit (a float32 widened to the double jsroot holds).
func compareNumber(h any, text string) string {
	switch hv := h.(type) {
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64:
		if fmt.Sprint(hv) == text {
			return ""
		}
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			if g, _ := asFloat(h); g == f && math.Abs(f) < 1<<53 {
				return ""
			}
		}
		return "integer differs"
	case bool:
		if (text == "1" && hv) || (text == "0" && !hv) {
			return ""
		}
		return "boolean differs"
	case float32, float64:
		g, _ := asFloat(h)
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			switch text {
			case "NaN":
				f = math.NaN()
			case "Infinity":
				f = math.Inf(1)
			case "-Infinity":
				f = math.Inf(-1)
			default:
				return "jsroot number " + text
			}
		}
		if g == f || (math.IsNaN(g) && math.IsNaN(f)) {
			return ""
		}
		return "float differs"
	}
	return fmt.Sprintf("hepsql %T where jsroot has a number", h)
}

func asFloat(h any) (float64, bool) {
	switch v := h.(type) {
	case int8:
		return float64(v), true
	case int16:
		return float64(v), true
	case int32:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint8:
		return float64(v), true
	case uint16:
		return float64(v), true
	case uint32:
		return float64(v), true
	case uint64:
		return float64(v), true
	case float32:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

func short(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func firstLine(err error) string {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

func (s *sweep) summary(c config, files int) string {
	var b strings.Builder
	pct := 100.0
	if s.jsTrees > 0 {
		pct = 100 * float64(s.opened) / float64(s.jsTrees)
	}
	fmt.Fprintf(&b, "files                      %d (folders: %s)\n", files, strings.Join(c.folders, ", "))
	fmt.Fprintf(&b, "trees jsroot opens         %d (and %d it lists but cannot read)\n", s.jsTrees, s.jsErrTrees)
	fmt.Fprintf(&b, "trees hepsql opens         %d of them (%.1f %%); %d trees listed by hepsql only\n", s.opened, pct, s.hepsqlOnly)
	fmt.Fprintf(&b, "SELECT * failures          %d\n", s.selectFails)
	fmt.Fprintf(&b, "columns supported          %d\n", s.supported)
	fmt.Fprintf(&b, "columns refused            %d\n", s.refusedCols)
	type kv struct {
		k string
		n int
	}
	var rs []kv
	for k, n := range s.refused {
		rs = append(rs, kv{k, n})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n || rs[i].n == rs[j].n && rs[i].k < rs[j].k })
	for _, r := range rs {
		fmt.Fprintf(&b, "  %5d  %s\n", r.n, r.k)
	}
	fmt.Fprintf(&b, "columns compared           %d (%d values, first %d entries); %d columns jsroot cannot read\n", s.comparedCols, s.comparedValues, c.entries, s.jsCannot)
	fmt.Fprintf(&b, "value mismatches           %d columns (and %d where jsroot differs but groot's reader, or ROOT's fBits layout, gives hepsql's values)\n", s.mismatchCols, s.jsrootDiffers)
	return b.String()
}
