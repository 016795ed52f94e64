package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
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

func render(c config, res []result, took time.Duration) string {
	var b strings.Builder
	commit, _ := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(&b, "- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Machine: %d cores, %s/%s; Go %s; hepsql at %s; load average at the end %s\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), strings.TrimSpace(string(commit)), strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Fprintf(&b, "- Command: `go run ./bench/cmd/mlbench` (%s in all)\n", took.Round(time.Second))
	fmt.Fprintf(&b, "- Data (mlfuncs/synth, 3 classes): mlp on %d training / %d test rows of 14 HLF; inclusive on %d / %d events of 14 HLF + %d×19 sequences with about %d active particles (padding skipped); batch %d; Adam lr 1e-3\n",
		c.hlfRows, c.hlfTest, c.seqRows, c.seqTest, c.seqLen, c.meanLen, c.batch)
	fmt.Fprintf(&b, "- Epochs: mlp %d, inclusive %d; time per epoch is the mean over them; AUC on the test set after the last, one-vs-rest per class, all peers scored by mlfuncs/metrics\n\n", c.hlfEpochs, c.seqEpochs)
	b.WriteString("| model | peer | threads | s / epoch | test AUC (class 0 / 1 / 2) | predict rows/s | note |\n|---|---|---:|---:|---|---:|---|\n")
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
		pr := "–"
		if r.predictPerSec > 0 {
			pr = fmt.Sprintf("%.2f M", r.predictPerSec/1e6)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s |\n", r.model, r.peer, r.threads, ep, auc, pr, r.note)
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
