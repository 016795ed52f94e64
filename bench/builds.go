package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// HepsqlBuild is a hepsql binary a benchmark runs: the working tree's, or
// that of an earlier git revision (the baseline a change is measured
// against, side by side).
type HepsqlBuild struct {
	Name string // "this tree", or the baseline revision as given
	Rev  string // the commit, short
	Path string
}

// BuildHepsql builds cmd/hepsql from the working tree (at commit) into
// dir and, when baseline is not "", from that git revision, checked out
// in a detached worktree under dir. cleanup removes the worktree; call it
// even after an error.
func BuildHepsql(tool, dir, commit, baseline string) (builds []HepsqlBuild, cleanup func(), err error) {
	cleanup = func() {}
	cur := HepsqlBuild{"this tree", commit, filepath.Join(dir, "hepsql-current")}
	fmt.Fprintf(os.Stderr, "%s: building hepsql at %s\n", tool, commit)
	if err := goBuildHepsql(".", cur.Path); err != nil {
		return nil, cleanup, err
	}
	builds = append(builds, cur)
	if baseline == "" {
		return builds, cleanup, nil
	}
	rev, err := gitOut("rev-parse", "--short", baseline)
	if err != nil {
		return nil, cleanup, err
	}
	wt := filepath.Join(dir, "baseline")
	if _, err := gitOut("worktree", "add", "--detach", wt, baseline); err != nil {
		return nil, cleanup, err
	}
	cleanup = func() { gitOut("worktree", "remove", "--force", wt) }
	old := HepsqlBuild{baseline, rev, filepath.Join(dir, "hepsql-baseline")}
	fmt.Fprintf(os.Stderr, "%s: building hepsql at %s (%s)\n", tool, baseline, rev)
	if err := goBuildHepsql(wt, old.Path); err != nil {
		return nil, cleanup, err
	}
	return append(builds, old), cleanup, nil
}

func goBuildHepsql(dir, out string) error {
	cmd := exec.Command("go", "build", "-o", out, "./cmd/hepsql")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	return cmd.Run()
}

func gitOut(args ...string) (string, error) {
	out, err := exec.Command("git", args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}
