// Package shardjob runs a sharded pipeline on a batch system: the shards
// of `hepsql run FILE.sql --shard K/N` as a Slurm job array, and a merge
// pipeline as a job that starts only once every shard has succeeded
// (--dependency=afterok). It writes the batch scripts into a job folder,
// submits them with sbatch, waits on squeue, reports each task from
// scontrol and from the status files the tasks leave, and resubmits only
// the tasks that failed.
//
// The job folder (on a file system the nodes share) holds:
//
//	shard.sh          the per-shard script: the shard index is
//	                  SLURM_ARRAY_TASK_ID, or its first argument (HTCondor:
//	                  arguments = $(Process), queue N)
//	merge.sh          the merge script; it refuses to run unless every
//	                  shard's status says success
//	status/shard-K.rc each task's exit status, written (atomically) when
//	                  the task ends: the record a failed task is rerun from
//	status/merge.rc   the merge's
//	logs/             the tasks' output
//	job.json          what was submitted, for --resume
//
// Parts are written atomically by the pipelines themselves (COPY ... TO
// with USE_TMP_FILE: a temporary file renamed at the end), so a failed
// or killed task leaves the other tasks' parts valid and no part of its
// own.
package shardjob

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hepsql/hepsql/engine"
)

// Job is a sharded pipeline run and how to submit it.
type Job struct {
	Pipeline string            // the shard pipeline file, absolute
	Merge    string            // the merge pipeline file, absolute; "" for none
	Shards   int               // N
	Sets     map[string]string // --set NAME=VALUE, given to each file that declares NAME
	Hepsql   string            // the hepsql binary, absolute
	Dir      string            // the job folder, absolute
	WorkDir  string            // where the tasks run (relative paths in Sets resolve there)
	Threads  int               // DuckDB threads per task: its --cpus-per-task
	Name     string            // the job name
	// Options are more #SBATCH options, each "--name=value" (--partition,
	// --time, --mem, --account, ...), for both scripts.
	Options []string

	// Submissions, oldest first: each array (and merge) job submitted.
	Submissions []Submission
}

// Submission is one sbatch of shard tasks and the merge after them.
type Submission struct {
	Array string `json:",omitempty"` // the array job's id; "" when no task was resubmitted
	Tasks []int  `json:",omitempty"` // the shard indexes it runs
	Merge string `json:",omitempty"` // the merge job's id; "" without a merge
}

// Check validates a job before its scripts are written, reading both
// pipeline files: every --set must name a parameter one of them declares.
func (j *Job) Check() error {
	if j.Shards < 1 {
		return fmt.Errorf("shardjob: --shards %d: want at least 1", j.Shards)
	}
	if j.Threads < 1 {
		j.Threads = 1
	}
	files := []string{j.Pipeline}
	if j.Merge != "" {
		files = append(files, j.Merge)
	}
	var srcs []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("shardjob: %w", err)
		}
		srcs = append(srcs, string(b))
	}
	if !engine.Declares(srcs[0], "shard") {
		return fmt.Errorf("shardjob: %s declares no '-- @param shard': its parts would overwrite each other (write them to '${out}/part-${shard}.parquet')", j.Pipeline)
	}
	for name := range j.Sets {
		used := false
		for _, src := range srcs {
			used = used || engine.Declares(src, name)
		}
		if !used {
			return fmt.Errorf("shardjob: --set %s: no such parameter in %s", name, strings.Join(files, " or "))
		}
		if name == "shard" || name == "shards" {
			return fmt.Errorf("shardjob: --set %s: hepsql slurm sets ${%s} itself", name, name)
		}
	}
	return nil
}

func (j *Job) statusFile(k int) string {
	return filepath.Join(j.Dir, "status", fmt.Sprintf("shard-%d.rc", k))
}
func (j *Job) script(name string) string { return filepath.Join(j.Dir, name) }

// Write creates the job folder and writes the scripts and job.json.
func (j *Job) Write() error {
	for _, d := range []string{"status", "logs"} {
		if err := os.MkdirAll(filepath.Join(j.Dir, d), 0o755); err != nil {
			return fmt.Errorf("shardjob: %w", err)
		}
	}
	shard, merge, err := j.Scripts()
	if err != nil {
		return err
	}
	if err := os.WriteFile(j.script("shard.sh"), []byte(shard), 0o755); err != nil {
		return fmt.Errorf("shardjob: %w", err)
	}
	if merge != "" {
		if err := os.WriteFile(j.script("merge.sh"), []byte(merge), 0o755); err != nil {
			return fmt.Errorf("shardjob: %w", err)
		}
	}
	return j.save()
}

// save writes job.json through a temporary file.
func (j *Job) save() error {
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(j.Dir, "job.json.tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("shardjob: %w", err)
	}
	return os.Rename(tmp, filepath.Join(j.Dir, "job.json"))
}

// Load reads the job a job folder describes.
func Load(dir string) (*Job, error) {
	b, err := os.ReadFile(filepath.Join(dir, "job.json"))
	if err != nil {
		return nil, fmt.Errorf("shardjob: %s is not a job folder of hepsql slurm: %w", dir, err)
	}
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("shardjob: %s/job.json: %w", dir, err)
	}
	return &j, nil
}

// Scripts returns the text of shard.sh and merge.sh ("" without a merge).
func (j *Job) Scripts() (shard, merge string, err error) {
	shardSrc, err := os.ReadFile(j.Pipeline)
	if err != nil {
		return "", "", fmt.Errorf("shardjob: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n")
	fmt.Fprintf(&b, "# One shard of %s, written by `hepsql slurm`.\n", j.Pipeline)
	fmt.Fprintf(&b, "# Slurm:    sbatch --array=0-%d %s\n", j.Shards-1, j.script("shard.sh"))
	fmt.Fprintf(&b, "# HTCondor: executable = %s, arguments = $(Process), queue %d\n", j.script("shard.sh"), j.Shards)
	fmt.Fprintf(&b, "# Anywhere: %s K   (K = 0 … %d)\n", j.script("shard.sh"), j.Shards-1)
	j.sbatchLines(&b, j.Name, "shard-%a.out")
	fmt.Fprintf(&b, "k=${1:-${SLURM_ARRAY_TASK_ID:?give the shard index as the first argument, or run as a Slurm array task}}\n")
	fmt.Fprintf(&b, "status=%s\n", quote(filepath.Join(j.Dir, "status")))
	fmt.Fprintf(&b, "rm -f \"$status/shard-$k.rc\"\n")
	fmt.Fprintf(&b, "cd %s || exit 1\n", quote(j.WorkDir))
	fmt.Fprintf(&b, "%s run %s --shard \"$k/%d\" --threads %d --mode csv%s\n",
		quote(j.Hepsql), quote(j.Pipeline), j.Shards, j.Threads, j.setArgs(string(shardSrc), nil))
	fmt.Fprintf(&b, "rc=$?\n")
	fmt.Fprintf(&b, "# The task's record for `hepsql slurm --resume` and merge.sh, written atomically.\n")
	fmt.Fprintf(&b, "echo \"$rc\" > \"$status/shard-$k.rc.tmp\" && mv -f \"$status/shard-$k.rc.tmp\" \"$status/shard-$k.rc\"\n")
	fmt.Fprintf(&b, "exit $rc\n")
	shard = b.String()
	if j.Merge == "" {
		return shard, "", nil
	}
	mergeSrc, err := os.ReadFile(j.Merge)
	if err != nil {
		return "", "", fmt.Errorf("shardjob: %w", err)
	}
	b.Reset()
	fmt.Fprintf(&b, "#!/bin/sh\n")
	fmt.Fprintf(&b, "# Merges the %d parts of %s, written by `hepsql slurm`.\n", j.Shards, j.Pipeline)
	fmt.Fprintf(&b, "# Slurm: sbatch --dependency=afterok:ARRAY_JOB_ID %s\n", j.script("merge.sh"))
	fmt.Fprintf(&b, "# HTCondor: a DAGMan child of the shard jobs.\n")
	j.sbatchLines(&b, j.Name+"-merge", "merge.out")
	fmt.Fprintf(&b, "status=%s\n", quote(filepath.Join(j.Dir, "status")))
	fmt.Fprintf(&b, "# Never merge partial input: every shard must have succeeded.\n")
	fmt.Fprintf(&b, "k=0\nwhile [ $k -lt %d ]; do\n", j.Shards)
	fmt.Fprintf(&b, "\tif [ \"$(cat \"$status/shard-$k.rc\" 2>/dev/null)\" != 0 ]; then\n")
	fmt.Fprintf(&b, "\t\techo \"merge: shard $k of %d has not succeeded ($status/shard-$k.rc): rerun it (hepsql slurm --resume %s)\" >&2\n", j.Shards, j.Dir)
	fmt.Fprintf(&b, "\t\texit 1\n\tfi\n\tk=$((k + 1))\ndone\n")
	fmt.Fprintf(&b, "rm -f \"$status/merge.rc\"\n")
	fmt.Fprintf(&b, "cd %s || exit 1\n", quote(j.WorkDir))
	fmt.Fprintf(&b, "%s run %s --threads %d --mode csv%s\n",
		quote(j.Hepsql), quote(j.Merge), j.Threads, j.setArgs(string(mergeSrc), map[string]string{"shards": fmt.Sprint(j.Shards)}))
	fmt.Fprintf(&b, "rc=$?\n")
	fmt.Fprintf(&b, "echo \"$rc\" > \"$status/merge.rc.tmp\" && mv -f \"$status/merge.rc.tmp\" \"$status/merge.rc\"\n")
	fmt.Fprintf(&b, "exit $rc\n")
	return shard, b.String(), nil
}

// sbatchLines writes the #SBATCH options: job name, output to logs/out.
func (j *Job) sbatchLines(b *strings.Builder, name, out string) {
	fmt.Fprintf(b, "#SBATCH --job-name=%s\n", name)
	fmt.Fprintf(b, "#SBATCH --output=%s\n", filepath.Join(j.Dir, "logs", out))
	fmt.Fprintf(b, "#SBATCH --cpus-per-task=%d\n", j.Threads)
	for _, o := range j.Options {
		fmt.Fprintf(b, "#SBATCH %s\n", o)
	}
}

// setArgs is the --set options for a file of source src: the job's sets
// and extra, those it declares, in name order.
func (j *Job) setArgs(src string, extra map[string]string) string {
	all := map[string]string{}
	for k, v := range j.Sets {
		all[k] = v
	}
	for k, v := range extra {
		all[k] = v
	}
	var names []string
	for k := range all {
		if engine.Declares(src, k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, " --set %s", quote(k+"="+all[k]))
	}
	return b.String()
}

// quote quotes s for sh.
func quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// taskStatus reads the status file of task k: its exit status, or
// ok false when the task has not finished (or never ran).
func (j *Job) taskStatus(k int) (rc int, ok bool) {
	b, err := os.ReadFile(j.statusFile(k))
	if err != nil {
		return 0, false
	}
	if _, err := fmt.Sscan(string(b), &rc); err != nil {
		return 0, false
	}
	return rc, true
}

// errNothingToResume is returned by Resume when every task and the merge
// have succeeded.
var errNothingToResume = errors.New("shardjob: every shard and the merge have succeeded: nothing to resume")

// ErrNothingToResume reports whether err says there was nothing to resume.
func ErrNothingToResume(err error) bool { return errors.Is(err, errNothingToResume) }
