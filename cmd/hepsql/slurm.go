package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hepsql/hepsql/shardjob"
)

// runSlurm is "hepsql slurm FILE.sql --shards N [--merge MERGE.sql]": the
// shards of a pipeline as a Slurm job array and the merge after them
// (package shardjob); "hepsql slurm --resume DIR" reruns the tasks of job
// folder DIR that failed.
func runSlurm(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hepsql slurm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	shards := fs.Int("shards", 0, "run the pipeline as `N` shards, one Slurm array task each")
	merge := fs.String("merge", "", "merge pipeline `FILE`, run as a job once every shard has succeeded (gets ${shards})")
	sets := setFlag{}
	fs.Var(sets, "set", "set parameter `NAME=VALUE` in whichever of the files declares it (repeatable)")
	dir := fs.String("dir", "", "job `FOLDER` for the scripts, status and logs, on a file system the nodes share (default hepsql-jobs/NAME-TIME)")
	cpus := fs.Int("cpus-per-task", 1, "`CPUS` per task: sbatch --cpus-per-task, and each task's --threads")
	var opts []string
	for _, o := range []struct{ name, usage string }{
		{"partition", "sbatch --partition `P`"},
		{"time", "sbatch --time `T` (each task's limit, e.g. 1:00:00)"},
		{"mem", "sbatch --mem `M` (each task's memory, e.g. 4G)"},
		{"account", "sbatch --account `A`"},
		{"qos", "sbatch --qos `Q`"},
	} {
		fs.Func(o.name, o.usage, func(v string) error { opts = append(opts, "--"+o.name+"="+v); return nil })
	}
	fs.Func("sbatch", "one more sbatch `OPTION` for both scripts, e.g. --sbatch=--constraint=avx2 (repeatable)", func(v string) error {
		if !strings.HasPrefix(v, "--") {
			return fmt.Errorf("want an sbatch option such as --constraint=avx2, not %q", v)
		}
		opts = append(opts, v)
		return nil
	})
	hepsqlBin := fs.String("hepsql", "", "the hepsql `BINARY` the tasks run (default: this one)")
	dryRun := fs.Bool("dry-run", false, "print the batch scripts and the sbatch commands; submit nothing")
	wait := fs.Bool("wait", false, "wait for the jobs, then report each task's state and exit code (exit 1 if any failed)")
	resume := fs.String("resume", "", "resubmit the tasks of job `FOLDER` that did not succeed, and the merge")
	poll := fs.Duration("poll", 2*time.Second, "how often --wait asks squeue")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: hepsql slurm FILE.sql --shards N [--merge MERGE.sql] [--set NAME=VALUE]... [sbatch options] [--dry-run] [--wait]
       hepsql slurm --resume FOLDER [--wait]

Submits the shards of FILE.sql (each 'hepsql run FILE.sql --shard K/N') as a
Slurm job array, and MERGE.sql as a job that runs once every shard has
succeeded. FILE.sql must declare '-- @param shard' and write its part to a
file named by it, e.g. COPY ... TO '${out}/part-${shard}.parquet'
(FORMAT parquet, USE_TMP_FILE true).

Flags:
`)
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	slurm := shardjob.Slurm{}
	if *resume != "" {
		if len(files) > 0 || *shards != 0 {
			return usagef("slurm --resume: the job folder says what to run; give no file or --shards")
		}
		j, err := shardjob.Load(*resume)
		if err != nil {
			return err
		}
		sub, err := j.Resume(ctx, slurm)
		if shardjob.ErrNothingToResume(err) {
			fmt.Fprintln(stdout, "every shard and the merge have succeeded: nothing to resume")
			return nil
		}
		if err != nil {
			return err
		}
		printSubmission(stdout, j, sub)
		return waitAndReport(ctx, j, slurm, *wait, *poll, stdout)
	}
	if len(files) != 1 {
		return usagef("slurm: want one pipeline file, got %d", len(files))
	}
	if *shards < 1 {
		return usagef("slurm: --shards N is required (N >= 1)")
	}
	if *cpus < 1 {
		return usagef("slurm: --cpus-per-task %d: want at least 1", *cpus)
	}
	j := &shardjob.Job{Shards: *shards, Sets: sets, Threads: *cpus, Options: opts}
	name := strings.TrimSuffix(filepath.Base(files[0]), filepath.Ext(files[0]))
	j.Name = "hepsql-" + name
	if j.Pipeline, err = filepath.Abs(files[0]); err != nil {
		return err
	}
	if *merge != "" {
		if j.Merge, err = filepath.Abs(*merge); err != nil {
			return err
		}
	}
	if *hepsqlBin == "" {
		if *hepsqlBin, err = os.Executable(); err != nil {
			return fmt.Errorf("slurm: finding this binary for the tasks (give --hepsql): %w", err)
		}
	}
	if j.Hepsql, err = filepath.Abs(*hepsqlBin); err != nil {
		return err
	}
	if *dir == "" {
		*dir = filepath.Join("hepsql-jobs", name+"-"+time.Now().Format("20060102-150405"))
	}
	if j.Dir, err = filepath.Abs(*dir); err != nil {
		return err
	}
	if j.WorkDir, err = os.Getwd(); err != nil {
		return err
	}
	if err := j.Check(); err != nil {
		return err
	}
	if *dryRun {
		shardSh, mergeSh, err := j.Scripts()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "# %s\n%s\n", filepath.Join(j.Dir, "shard.sh"), shardSh)
		if mergeSh != "" {
			fmt.Fprintf(stdout, "# %s\n%s\n", filepath.Join(j.Dir, "merge.sh"), mergeSh)
		}
		fmt.Fprintf(stdout, "# submit (hepsql slurm writes the scripts to %s first):\n", j.Dir)
		fmt.Fprintf(stdout, "sbatch --parsable --array=0-%d %s\n", j.Shards-1, filepath.Join(j.Dir, "shard.sh"))
		if mergeSh != "" {
			fmt.Fprintf(stdout, "sbatch --parsable --kill-on-invalid-dep=yes --dependency=afterok:ARRAY_JOB_ID %s\n", filepath.Join(j.Dir, "merge.sh"))
		}
		return nil
	}
	if _, err := os.Stat(filepath.Join(j.Dir, "job.json")); err == nil {
		return fmt.Errorf("slurm: %s holds a job already: resume it (--resume %s) or choose another --dir", j.Dir, j.Dir)
	}
	if err := j.Write(); err != nil {
		return err
	}
	sub, err := j.Submit(ctx, slurm, j.AllTasks())
	if err != nil {
		return err
	}
	printSubmission(stdout, j, sub)
	return waitAndReport(ctx, j, slurm, *wait, *poll, stdout)
}

func printSubmission(w io.Writer, j *shardjob.Job, sub shardjob.Submission) {
	fmt.Fprintf(w, "job folder: %s\n", j.Dir)
	if sub.Array != "" {
		fmt.Fprintf(w, "shards: array job %s, %d of %d tasks\n", sub.Array, len(sub.Tasks), j.Shards)
	}
	if sub.Merge != "" {
		after := ""
		if sub.Array != "" {
			after = fmt.Sprintf(", after every task of %s succeeds", sub.Array)
		}
		fmt.Fprintf(w, "merge: job %s%s\n", sub.Merge, after)
	}
}

// waitAndReport, with --wait, waits for the jobs and prints every task's
// state and exit code; a failure is an error that says how to resume.
func waitAndReport(ctx context.Context, j *shardjob.Job, s shardjob.Slurm, wait bool, poll time.Duration, w io.Writer) error {
	if !wait {
		return nil
	}
	if err := j.Wait(ctx, s, poll); err != nil {
		return err
	}
	rep := j.Report(ctx, s)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "task\tjob\tstate\texit")
	for _, t := range rep.Tasks {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", t.Task, orDash(t.JobID), t.State, exitText(t.ExitCode))
	}
	if rep.MergeJob != "" {
		fmt.Fprintf(tw, "merge\t%s\t%s\t%s\n", rep.MergeJob, rep.MergeState, exitText(rep.MergeExit))
	}
	tw.Flush()
	if rep.OK() {
		return nil
	}
	if failed := rep.Failed(); len(failed) > 0 {
		return fmt.Errorf("slurm: %d of %d shards failed (logs in %s/logs); rerun them alone: hepsql slurm --resume %s", len(failed), j.Shards, j.Dir, j.Dir)
	}
	return fmt.Errorf("slurm: the merge failed (%s/logs/merge.out); rerun it: hepsql slurm --resume %s", j.Dir, j.Dir)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func exitText(rc int) string {
	if rc < 0 {
		return "-"
	}
	return fmt.Sprint(rc)
}
