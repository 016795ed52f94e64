package shardjob

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Slurm runs Slurm's commands. Env, when set, is their environment (tests
// point SLURM_CONF at a private cluster); nil inherits the process's.
type Slurm struct {
	Env []string
}

func (s Slurm) run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if s.Env != nil {
		cmd.Env = s.Env
	}
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
	}
	return string(out), nil
}

// Submit submits shard tasks (all of them: AllTasks) as one job array and,
// with a merge file, the merge as a job that runs only if every task of
// that array succeeds (afterok; --kill-on-invalid-dep cancels it rather
// than leaving it pending forever when one fails). It records the
// submission in job.json.
func (j *Job) Submit(ctx context.Context, s Slurm, tasks []int) (Submission, error) {
	var sub Submission
	if len(tasks) > 0 {
		out, err := s.run(ctx, "sbatch", "--parsable", "--array="+arraySpec(tasks), j.script("shard.sh"))
		if err != nil {
			return sub, fmt.Errorf("shardjob: submitting the shards: %w", err)
		}
		sub.Array, sub.Tasks = jobID(out), tasks
	}
	if j.Merge != "" {
		args := []string{"--parsable", "--kill-on-invalid-dep=yes"}
		if sub.Array != "" {
			args = append(args, "--dependency=afterok:"+sub.Array)
		}
		out, err := s.run(ctx, "sbatch", append(args, j.script("merge.sh"))...)
		if err != nil {
			j.Submissions = append(j.Submissions, sub)
			j.save()
			return sub, fmt.Errorf("shardjob: submitting the merge after array job %s: %w", sub.Array, err)
		}
		sub.Merge = jobID(out)
	}
	j.Submissions = append(j.Submissions, sub)
	return sub, j.save()
}

// AllTasks is every shard index of the job.
func (j *Job) AllTasks() []int {
	t := make([]int, j.Shards)
	for i := range t {
		t[i] = i
	}
	return t
}

// jobID is the id sbatch --parsable printed ("ID" or "ID;CLUSTER").
func jobID(out string) string {
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";")
	return id
}

// arraySpec writes task indexes as sbatch --array wants them: "0-3",
// "1,4-6".
func arraySpec(tasks []int) string {
	var parts []string
	for i := 0; i < len(tasks); {
		j := i
		for j+1 < len(tasks) && tasks[j+1] == tasks[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(tasks[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", tasks[i], tasks[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// Wait waits until the last submission's jobs have left the queue, asking
// squeue every poll.
func (j *Job) Wait(ctx context.Context, s Slurm, poll time.Duration) error {
	if len(j.Submissions) == 0 {
		return nil
	}
	last := j.Submissions[len(j.Submissions)-1]
	var ids []string
	for _, id := range []string{last.Array, last.Merge} {
		if id != "" {
			ids = append(ids, id)
		}
	}
	for {
		out, err := s.run(ctx, "squeue", "-h", "-o", "%i", "-j", strings.Join(ids, ","))
		if err != nil && strings.Contains(err.Error(), "Invalid job id") {
			return nil // purged from the controller: long finished
		}
		if err != nil {
			return fmt.Errorf("shardjob: waiting for jobs %s: %w", strings.Join(ids, ","), err)
		}
		if strings.TrimSpace(out) == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// TaskReport is what is known of one shard task.
type TaskReport struct {
	Task     int
	JobID    string // ARRAY_TASK as Slurm names it; "" if Slurm no longer knows it
	State    string // Slurm's JobState, else from the status file
	ExitCode int    // the hepsql run's exit status, -1 if it did not finish
}

// Report is the state of every task and of the merge.
type Report struct {
	Tasks      []TaskReport
	MergeJob   string
	MergeState string // Slurm's JobState (and Reason when it did not run), "" without a merge
	MergeExit  int
}

// OK is true when every task and the merge succeeded.
func (r Report) OK() bool {
	for _, t := range r.Tasks {
		if t.ExitCode != 0 {
			return false
		}
	}
	return r.MergeJob == "" || r.MergeExit == 0
}

// Failed lists the tasks that did not succeed.
func (r Report) Failed() []int {
	var f []int
	for _, t := range r.Tasks {
		if t.ExitCode != 0 {
			f = append(f, t.Task)
		}
	}
	return f
}

// Report gathers each task's state from Slurm (newer submissions over
// older) and its exit status from its status file, and the last merge's.
func (j *Job) Report(ctx context.Context, s Slurm) Report {
	r := Report{Tasks: make([]TaskReport, j.Shards)}
	for k := range r.Tasks {
		r.Tasks[k] = TaskReport{Task: k, ExitCode: -1, State: "NOT RUN"}
	}
	var lastMerge string
	for _, sub := range j.Submissions {
		if sub.Merge != "" {
			lastMerge = sub.Merge
		}
		if sub.Array == "" {
			continue
		}
		for _, rec := range showJob(ctx, s, sub.Array) {
			for _, k := range expandTasks(rec["ArrayTaskId"]) {
				if k >= 0 && k < j.Shards {
					r.Tasks[k].JobID = sub.Array + "_" + strconv.Itoa(k)
					r.Tasks[k].State = rec["JobState"]
				}
			}
		}
	}
	for k := range r.Tasks {
		rc, ok := j.taskStatus(k)
		switch {
		case ok:
			r.Tasks[k].ExitCode = rc
			if r.Tasks[k].JobID == "" { // Slurm has forgotten it
				r.Tasks[k].State = map[bool]string{true: "COMPLETED", false: "FAILED"}[rc == 0]
			}
		case r.Tasks[k].State == "COMPLETED":
			// Slurm says done but the task left no status: it did not
			// get to write it.
			r.Tasks[k].State = "COMPLETED WITHOUT STATUS"
		}
	}
	if lastMerge != "" {
		r.MergeJob, r.MergeExit = lastMerge, -1
		if recs := showJob(ctx, s, lastMerge); len(recs) > 0 {
			r.MergeState = recs[0]["JobState"]
			if r.MergeState != "COMPLETED" && recs[0]["Reason"] != "" && recs[0]["Reason"] != "None" {
				r.MergeState += " (" + recs[0]["Reason"] + ")"
			}
		}
		if rc, ok := j.mergeStatus(); ok {
			r.MergeExit = rc
			if r.MergeState == "" {
				r.MergeState = map[bool]string{true: "COMPLETED", false: "FAILED"}[rc == 0]
			}
		}
		if r.MergeState == "" {
			r.MergeState = "UNKNOWN"
		}
	}
	return r
}

// mergeStatus reads the merge's status file.
func (j *Job) mergeStatus() (rc int, ok bool) {
	b, err := os.ReadFile(filepath.Join(j.Dir, "status", "merge.rc"))
	if err != nil {
		return 0, false
	}
	_, err = fmt.Sscan(string(b), &rc)
	return rc, err == nil
}

// showJob returns scontrol's records of a job (one per array task, or
// per block of pending tasks) as key=value maps; none when Slurm no longer
// knows the job.
func showJob(ctx context.Context, s Slurm, id string) []map[string]string {
	out, err := s.run(ctx, "scontrol", "-o", "show", "job", id)
	if err != nil {
		return nil
	}
	var recs []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		rec := map[string]string{}
		for _, f := range strings.Fields(line) {
			if k, v, ok := strings.Cut(f, "="); ok {
				if _, seen := rec[k]; !seen {
					rec[k] = v
				}
			}
		}
		if len(rec) > 0 {
			recs = append(recs, rec)
		}
	}
	return recs
}

// expandTasks expands an ArrayTaskId ("3", "0-3", "1,4-6", "0-7%2").
func expandTasks(spec string) []int {
	spec, _, _ = strings.Cut(spec, "%")
	var out []int
	for _, p := range strings.Split(spec, ",") {
		lo, hi, isRange := strings.Cut(p, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for k := a; k <= b; k++ {
			out = append(out, k)
		}
	}
	return out
}

// Resume resubmits the tasks that did not succeed, as one array, and the
// merge after them; with every task done but the merge not, the merge
// alone. It refuses while tasks of the job are still queued or running.
func (j *Job) Resume(ctx context.Context, s Slurm) (Submission, error) {
	rep := j.Report(ctx, s)
	var active []string
	for _, t := range rep.Tasks {
		if t.State == "PENDING" || t.State == "RUNNING" || t.State == "CONFIGURING" || t.State == "COMPLETING" {
			active = append(active, strconv.Itoa(t.Task))
		}
	}
	if strings.HasPrefix(rep.MergeState, "PENDING") || strings.HasPrefix(rep.MergeState, "RUNNING") {
		active = append(active, "merge")
	}
	if len(active) > 0 {
		return Submission{}, fmt.Errorf("shardjob: tasks %s are still queued or running: wait for them (hepsql slurm --wait --resume %s) before resuming", strings.Join(active, ", "), j.Dir)
	}
	failed := rep.Failed()
	if len(failed) == 0 && (j.Merge == "" || rep.MergeExit == 0) {
		return Submission{}, errNothingToResume
	}
	slices.Sort(failed)
	return j.Submit(ctx, s, failed)
}
