package bench

// Helpers shared by the benchmark commands (scanbench, adlbench): the
// replicated input, waiting for a quiet machine, describing the machine and
// writing a marked block of bench/README.md.

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/hepsql/hepsql"
)

// Other processes on the machine disturb the timings: before every run a
// command waits, up to QuietWait, until they use less than QuietCores cores
// (measured from /proc/stat while the command itself idles).
const (
	QuietCores = 0.25
	QuietWait  = 60 * time.Second
)

// cpuTicks returns the busy and total jiffies of all CPUs.
func cpuTicks() (busy, total int64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0, false
	}
	for i, f := range fields[1:] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		if i >= 8 { // guest time is already counted in user time
			break
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, true
}

// otherLoad returns how many cores other processes kept busy over d.
func otherLoad(d time.Duration) (float64, bool) {
	b0, t0, ok0 := cpuTicks()
	time.Sleep(d)
	b1, t1, ok1 := cpuTicks()
	if !ok0 || !ok1 || t1 <= t0 {
		return 0, false
	}
	return float64(b1-b0) / float64(t1-t0) * float64(runtime.NumCPU()), true
}

// WaitQuiet waits up to wait until the machine is quiet and says whether it
// is; cmd prefixes the messages on stderr.
func WaitQuiet(cmd string, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	warned := false
	for {
		load, ok := otherLoad(250 * time.Millisecond)
		if !ok || load < QuietCores {
			return true
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "%s: other processes still use %.1f cores; running anyway\n", cmd, load)
			return false
		}
		if !warned {
			fmt.Fprintf(os.Stderr, "%s: other processes use %.1f cores; waiting up to %s\n", cmd, load, wait)
			warned = true
		}
	}
}

// LoadAverage returns the first three fields of /proc/loadavg.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// RootCopyFormat names the copies of the CMS sample under DATA/root.
const RootCopyFormat = "run2012b-%03d.root"

// Replicate copies src to dir/format(i) for i < n, skipping copies that
// exist with the right size (dir/format(0) may be src itself); cmd prefixes
// the message on stderr.
func Replicate(cmd, src, dir, format string, n int) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	made := 0
	for i := range n {
		dst := filepath.Join(dir, fmt.Sprintf(format, i))
		if d, err := os.Stat(dst); err == nil && (os.SameFile(st, d) || d.Size() == st.Size()) {
			continue
		}
		if err := CopyFile(src, dst); err != nil {
			return err
		}
		made++
	}
	if made > 0 {
		fmt.Fprintf(os.Stderr, "%s: made %d copies of %s in %s\n", cmd, made, src, dir)
	}
	return nil
}

// CopyFile copies src to dst through a temporary file, so that an
// interrupted copy never passes for a complete one.
func CopyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// RemoveExtra removes copies numbered n and above left in dir by an earlier
// run with more copies: they would join the globs.
func RemoveExtra(dir string, n int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		var i int
		if _, err := fmt.Sscanf(name[strings.LastIndexAny(name, "-")+1:], "%d.", &i); err != nil {
			continue
		}
		if i >= n {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Machine describes where a benchmark ran.
type Machine struct {
	Commit string // of the hepsql tree measured
	CPU    string
	Cores  int
	Go     string
	DuckDB string
	OSArch string
}

// OneLine is the machine in one line, for progress messages.
func (m Machine) OneLine() string {
	return fmt.Sprintf("%s, %d cores, %s, %s, DuckDB %s", m.CPU, m.Cores, m.OSArch, m.Go, m.DuckDB)
}

// DescribeMachine reads the CPU model from /proc/cpuinfo, the commit from
// git (marked when tracked files outside bench/README.md differ from it) and
// DuckDB's version from a hepsql database.
func DescribeMachine(ctx context.Context) (Machine, error) {
	m := Machine{CPU: "unknown CPU", Cores: runtime.NumCPU(), Go: runtime.Version(),
		OSArch: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	m.Commit = "unknown commit"
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/README.md").Output(); err == nil && len(st) > 0 {
			m.Commit += " with uncommitted changes"
		}
	}
	db, err := hepsql.Open("")
	if err != nil {
		return m, err
	}
	defer db.Close()
	var version, sourceID string
	if err := db.QueryRowContext(ctx, "SELECT library_version, source_id FROM pragma_version()").Scan(&version, &sourceID); err != nil {
		return m, fmt.Errorf("bench: DuckDB version: %w", err)
	}
	m.DuckDB = version + " (" + sourceID + ")"
	return m, nil
}

// WriteSection puts block between the begin and end marker lines of the
// Markdown file at path, replacing what was there and leaving the rest of
// the file alone; a file without the markers gets them appended.
func WriteSection(path, begin, end, block string) error {
	return WriteSectionUnder(path, "", begin, end, block)
}

// WriteSectionUnder is WriteSection, with heading (when not empty) put
// before the markers if they have to be appended.
func WriteSectionUnder(path, heading, begin, end, block string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(old)
	section := begin + "\n\n" + block + "\n" + end
	i, j := strings.Index(text, begin), strings.Index(text, end)
	switch {
	case i >= 0 && j > i:
		text = text[:i] + section + text[j+len(end):]
	case i >= 0 || j >= 0:
		return fmt.Errorf("bench: %s: unbalanced %q / %q markers", path, begin, end)
	default:
		if heading != "" {
			section = heading + "\n\n" + section
		}
		if text = strings.TrimRight(text, "\n"); text != "" {
			text += "\n\n"
		}
		text += section + "\n"
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// BuildOnce runs build into the folder dir unless dir already holds what
// a build described by recipe made: a marker file inside records the
// recipe of the last complete build, so that an interrupted or different
// one is started over from an empty folder.
func BuildOnce(dir, recipe string, build func() error) error {
	marker := filepath.Join(dir, ".complete")
	if b, err := os.ReadFile(marker); err == nil && string(b) == recipe {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := build(); err != nil {
		return err
	}
	return os.WriteFile(marker, []byte(recipe), 0o644)
}

// Thousands formats n with thousands separators: 1,000,000.
func Thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ShellQuote renders a command line's arguments for a reader to paste.
func ShellQuote(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a == "" || strings.ContainsAny(a, " \t'\"$`\\*?[]") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		b.WriteString(a)
	}
	return b.String()
}
