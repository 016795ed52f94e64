package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/hepsql/hepsql/bench"
)

const (
	beginMarker = "<!-- mlbench:begin (written by go run ./bench/cmd/mlbench; do not edit) -->"
	endMarker   = "<!-- mlbench:end -->"
)

func find(res []result, model, peer string, t int) *result {
	for i := range res {
		if res[i].model == model && res[i].peer == peer && res[i].threads == t {
			return &res[i]
		}
	}
	return nil
}

func render(c config, d *dataset, res []result, masking string, took time.Duration, scaleBefore, scaleAfter float64) string {
	var b strings.Builder
	commit, _ := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	dirty := ""
	if out, _ := exec.Command("git", "status", "--porcelain", "--untracked-files=no", "--", "mlfuncs", "bench/cmd/mlbench", "bench/ml").Output(); len(out) > 0 {
		dirty = " with uncommitted changes to the ML code"
	}
	fmt.Fprintf(&b, "- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Machine: %d cores, %s/%s; Go %s; hepsql at %s%s; load average at the end %s\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), strings.TrimSpace(string(commit)), dirty, bench.LoadAverage())
	fmt.Fprintf(&b, "- Sharing: a compute loop ran %.2f× faster on 2 goroutines than on 1 at the start and %.2f× at the end (2.00 on an idle machine); "+
		"before each measurement mlbench waited up to %s for other processes to use under %.2g cores\n", scaleBefore, scaleAfter, c.quietWait, bench.QuietCores)
	fmt.Fprintf(&b, "- Command: `go run ./bench/cmd/mlbench%s` (%s in all)\n", flagsUsed(), took.Round(time.Second))
	fmt.Fprintf(&b, "- Data: %s; batch %d; Adam lr 1e-3\n", d.desc, c.batch)
	fmt.Fprintf(&b, "- Epochs: mlp %d, inclusive %d; time per epoch is the median over them (the same for every peer); AUC on the test set after the last, one-vs-rest per class, all peers scored by mlfuncs/metrics\n", c.hlfEpochs, c.seqEpochs)
	fmt.Fprintf(&b, "- Inference: *predict rows/s* runs the trained network on a %d-row matrix in memory (nn.Predictor; PyTorch: `model(x)`; XGBoost: `booster.predict`), best of 3", c.predictRows)
	if d.topo != nil {
		fmt.Fprintf(&b, "; *SQL predict()* is `SELECT sum(prob_0) FROM predict('m', 'SELECT hlf FROM t', threads := N)` over a %d-row DuckDB table at DuckDB threads N, best of 3", c.predictRows)
	}
	if masking != "" {
		fmt.Fprintf(&b, "\n- Masking: %s", masking)
	}
	b.WriteString("\n\n")
	b.WriteString("| model | peer | threads | s / epoch (median) | test AUC (class 0 / 1 / 2) | predict rows/s | SQL predict() rows/s | note |\n|---|---|---:|---:|---|---:|---:|---|\n")
	for _, r := range res {
		ep := "–"
		if !math.IsNaN(r.epochSec) {
			ep = fmt.Sprintf("%.3f", r.epochSec)
		} else {
			ep = fmt.Sprintf("(fit %.2f s)", r.totalSec)
		}
		auc := fmtAUC(r.auc)
		if auc == "" {
			auc = "–"
		}
		rate := func(x float64) string {
			if x > 0 {
				return fmt.Sprintf("%.2f M", x/1e6)
			}
			return "–"
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s |\n", r.model, r.peer, r.threads, ep, auc, rate(r.predictPerSec), rate(r.sqlPerSec), r.note)
	}
	b.WriteString("\nThe issue's bar:\n\n")
	check := func(ok bool, format string, args ...any) {
		s := "**FAIL**"
		if ok {
			s = "**PASS**"
		}
		fmt.Fprintf(&b, "- %s "+format+"\n", append([]any{s}, args...)...)
	}
	for _, m := range []struct {
		model       string
		ratio, dAUC float64
	}{{"mlp", 1, 0.003}, {"inclusive", 1.5, 0.005}} {
		for _, t := range c.threads {
			o, p := find(res, m.model, "hepsql", t), find(res, m.model, "PyTorch", t)
			if o == nil || p == nil {
				continue
			}
			check(o.epochSec <= m.ratio*p.epochSec, "%s, %d thread(s): time per epoch ≤ %.1f× PyTorch's: %.3f s vs %.3f s = %.2f×",
				m.model, t, m.ratio, o.epochSec, p.epochSec, o.epochSec/p.epochSec)
			worst := 0.0
			for i := range o.auc {
				worst = max(worst, p.auc[i]-o.auc[i])
			}
			check(worst <= m.dAUC, "%s, %d thread(s): test AUC within %.3f of PyTorch's per class: hepsql %s, PyTorch %s (largest shortfall %.4f)",
				m.model, t, m.dAUC, fmtAUC(o.auc), fmtAUC(p.auc), worst)
		}
		o1, o2 := find(res, m.model, "hepsql", 1), find(res, m.model, "hepsql", 2)
		if o1 != nil && o2 != nil {
			check(o1.epochSec/o2.epochSec >= 1.7, "%s: 2 threads ≥ 1.7× faster than 1 per epoch: %.3f s / %.3f s = %.2f×",
				m.model, o1.epochSec, o2.epochSec, o1.epochSec/o2.epochSec)
		}
	}
	if o := find(res, "mlp", "hepsql", 2); o != nil {
		check(o.predictPerSec >= 1e6, "predict on %d HLF rows, 2 threads: ≥ 1 M rows/s: %.2f M rows/s", c.predictRows, o.predictPerSec/1e6)
		if o.sqlPerSec > 0 {
			check(o.sqlPerSec >= 1e6, "the same through SQL, predict() at 2 threads: ≥ 1 M rows/s: %.2f M rows/s", o.sqlPerSec/1e6)
		}
	}
	return b.String()
}

// writeReadme replaces the block between the markers, appending a section
// when the markers are not there yet.
func writeReadme(path, report string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(old)
	block := beginMarker + "\n\n" + report + "\n" + endMarker
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	if i >= 0 && j > i {
		s = s[:i] + block + s[j+len(endMarker):]
	} else {
		s = strings.TrimRight(s, "\n") + "\n\n# Training benchmark\n\n" + block + "\n"
	}
	return os.WriteFile(path, []byte(s), 0o644)
}

// flagsUsed renders the flags set on the command line, so that the
// report's command reproduces the run.
func flagsUsed() string {
	var b strings.Builder
	flag.Visit(func(f *flag.Flag) {
		switch {
		case f.Name == "readme":
		case f.Value.String() == "true":
			fmt.Fprintf(&b, " -%s", f.Name) // a bool flag takes no value
		default:
			fmt.Fprintf(&b, " -%s %s", f.Name, f.Value)
		}
	})
	return b.String()
}
