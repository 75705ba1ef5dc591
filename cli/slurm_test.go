package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/launch"
	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/search"
)

// These tests run on a real Slurm: scripts/slurm/up.sh starts a one-node
// one on this machine, and make test runs it first. They fail, never skip,
// when Slurm is missing.

// needSlurm fails the test when Slurm's commands are missing.
func needSlurm(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end Slurm runs")
	}
	for _, c := range []string{"sbatch", "scontrol", "scancel"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Fatalf("%s not found: start a one-node Slurm with scripts/slurm/up.sh (make test does)", c)
		}
	}
}

// waitFor polls cond until it holds, failing the test after limit.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(300 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
	}
}

// slurmState is a job's Slurm state, "" when Slurm does not know it.
func slurmState(t *testing.T, id string) launch.JobState {
	t.Helper()
	array, _, _ := strings.Cut(id, "_")
	states, err := launch.Slurm{}.States(array)
	if err != nil {
		t.Fatal(err)
	}
	return states[id]
}

func readJobs(t *testing.T, dir string) expfolder.Jobs {
	t.Helper()
	j, err := expfolder.ReadJobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// A 2-fold experiment as a job array plus an aggregation job depending on
// it gives the serial run's results.
func TestSlurmRun(t *testing.T) {
	needSlurm(t)
	root := t.TempDir()
	if out, err := bench(t, runArgs(t, root, append([]string{"--experiment_name", "serial"}, tinyArgs...)...)...); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err := bench(t, runArgs(t, root, append([]string{"--experiment_name", "array", "--launcher", "slurm", "--slurm", "--time=10"}, tinyArgs...)...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	dir := filepath.Join(root, "array")
	jobs := readJobs(t, dir)
	array, _, _ := strings.Cut(jobs.Folds["Test50_50_Partitions2_0"], "_")
	if jobs.Launcher != "slurm" || jobs.Folds["Test50_50_Partitions2_1"] != array+"_1" || jobs.Aggregate == "" {
		t.Fatalf("jobs.json: %+v", jobs)
	}
	waitFor(t, "the aggregation job", 3*time.Minute, func() bool { return slurmState(t, jobs.Aggregate).State == "COMPLETED" })
	sameResults(t, filepath.Join(root, "serial"), dir)
	status, err := bench(t, "status", "--root_experiment_folder", root, "--experiment_name", "array")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status, array+"_0") || !strings.Contains(status, jobs.Aggregate) || strings.Count(status, " done ") < 2 {
		t.Errorf("status:\n%s", status)
	}
}

// A fold requeued mid-training resumes from its latest checkpoint; after a
// fold cancelled mid-training, run --resume_training latest --launcher
// slurm resubmits that fold alone, which also resumes, and replaces the
// aggregation job, which waited for it, with one waiting for its successor.
func TestSlurmRequeueAndResubmit(t *testing.T) {
	needSlurm(t)
	root := t.TempDir()
	// About 5 s a fold on a fast machine, alone: fold 1 must still be
	// training when it is cancelled, after fold 0's checkpoint and requeue.
	slow := []string{"--config_general", "default", "smoke", "--num_epochs_train", "15", "--iterations_per_epoch", "40", "--patience", "99"}
	out, err := bench(t, runArgs(t, root, append([]string{"--experiment_name", "x", "--launcher", "slurm"}, slow...)...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	dir := filepath.Join(root, "x")
	first := readJobs(t, dir)
	requeued, cancelled := first.Folds["Test50_50_Partitions2_0"], first.Folds["Test50_50_Partitions2_1"]
	checkpointed := func(fold string) func() bool {
		return func() bool {
			_, err := os.Stat(filepath.Join(dir, fold, "saved_models", "latest.safetensors"))
			return err == nil
		}
	}
	waitFor(t, "fold 0's first checkpoint", 2*time.Minute, checkpointed("Test50_50_Partitions2_0"))
	if out, err := exec.Command("scontrol", "requeue", requeued).CombinedOutput(); err != nil {
		t.Fatalf("scontrol requeue %s: %v\n%s", requeued, err, out)
	}
	// Slurm holds a requeued job back for two minutes (its EligibleTime).
	waitFor(t, "fold 0's job to be requeued", time.Minute, func() bool { return slurmState(t, requeued).State == "PENDING" })
	waitFor(t, "fold 1's first checkpoint", 2*time.Minute, checkpointed("Test50_50_Partitions2_1"))
	if out, err := exec.Command("scancel", cancelled).CombinedOutput(); err != nil {
		t.Fatalf("scancel %s: %v\n%s", cancelled, err, out)
	}
	waitFor(t, "fold 1's job to be cancelled", time.Minute, func() bool { return slurmState(t, cancelled).State == "CANCELLED" })
	// Released at once, the job can reach slurmd before slurmd has finished
	// killing its first run, and slurmd then refuses it ("already killed, do
	// not launch batch job") and it fails. A cluster holds a requeued job for
	// two minutes; the test lets it go after a few seconds.
	time.Sleep(5 * time.Second)
	if out, err := exec.Command("scontrol", "update", "jobid="+requeued, "starttime=now").CombinedOutput(); err != nil {
		t.Fatalf("scontrol update %s starttime=now: %v\n%s", requeued, err, out)
	}

	out, err = bench(t, "run", "--root_experiment_folder", root, "--experiment_name", "x", "--resume_training", "latest", "--launcher", "slurm")
	if err != nil {
		t.Fatalf("resubmitting: %v\n%s", err, out)
	}
	if strings.Contains(out, "Test50_50_Partitions2_0: submitted") || !strings.Contains(out, "Test50_50_Partitions2_1: submitted") {
		t.Errorf("the resubmission should submit fold 1 only:\n%s\nfold 0's log:\n%s", out, readFile(t, filepath.Join(dir, "logs", "fold_0.log")))
	}
	second := readJobs(t, dir)
	if second.Folds["Test50_50_Partitions2_0"] != requeued || second.Folds["Test50_50_Partitions2_1"] == cancelled {
		t.Errorf("jobs after the resubmission %+v, before %+v", second, first)
	}
	waitFor(t, "the new aggregation job", 4*time.Minute, func() bool {
		st := slurmState(t, second.Aggregate)
		if st.State != "" && !st.Active() && st.State != "COMPLETED" {
			t.Fatalf("aggregation %s", st.State)
		}
		return st.State == "COMPLETED"
	})
	if st := slurmState(t, requeued); st.Restarts < 1 {
		t.Errorf("job %s: %+v, want a restart", requeued, st)
	}
	for i, fold := range []string{"Test50_50_Partitions2_0", "Test50_50_Partitions2_1"} {
		log := readFile(t, filepath.Join(dir, "logs", "fold_"+string(rune('0'+i))+".log"))
		if !strings.Contains(log, "msg=resumed fold="+fold+" checkpoint=latest epoch=") {
			t.Errorf("%s did not resume from its checkpoint:\n%s", fold, log)
		}
		done, err := expfolder.ReadDone(&record.Folder{Path: dir}, fold)
		if err != nil || done == nil || done.Epoch != 15 {
			t.Errorf("%s: done.json %+v, %v; want epoch 15", fold, done, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "meta_logs", "separated.json")); err != nil {
		t.Error(err)
	}
}

// A search of 4 trials, 2 at once as Slurm jobs, whose launcher is killed
// with trials in flight: run again, it waits for their jobs rather than
// submitting them again, and ends with 4 trials, one job each.
func TestSlurmSearchKilledLauncher(t *testing.T) {
	needSlurm(t)
	root := t.TempDir()
	args := searchArgs(root, "--bayes_opt_iters", "4", "--num_init_trials", "2", "--launcher", "slurm", "--parallel", "2")
	launcher := child(t, args...)
	var launcherOut strings.Builder
	launcher.Stdout, launcher.Stderr = &launcherOut, &launcherOut
	if err := launcher.Start(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "s")
	waitFor(t, "two trials' jobs", time.Minute, func() bool {
		if launcher.ProcessState != nil {
			t.Fatalf("the launcher ended:\n%s", launcherOut.String())
		}
		return readJobsQuiet(filepath.Join(dir, "trial_0")).Run != "" && readJobsQuiet(filepath.Join(dir, "trial_1")).Run != ""
	})
	launcher.Process.Signal(syscall.SIGKILL)
	launcher.Wait()
	before := map[string]string{"trial_0": readJobsQuiet(filepath.Join(dir, "trial_0")).Run, "trial_1": readJobsQuiet(filepath.Join(dir, "trial_1")).Run}

	out, err := bench(t, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var st search.State
	readJSON(t, filepath.Join(dir, "search.json"), &st)
	ids := map[string]string{}
	for _, tr := range st.Trials {
		if tr.Status != search.Done {
			t.Errorf("%s is %s", tr.Name, tr.Status)
		}
		id := readJobsQuiet(filepath.Join(dir, tr.Name)).Run
		if other, dup := ids[id]; dup || id == "" {
			t.Errorf("%s and %s share job %q", tr.Name, other, id)
		}
		ids[id] = tr.Name
		if want, ok := before[tr.Name]; ok && id != want {
			t.Errorf("%s was submitted again: job %s, first %s", tr.Name, id, want)
		}
	}
	if len(st.Trials) != 4 {
		t.Errorf("%d trials, want 4", len(st.Trials))
	}
}

func readJobsQuiet(dir string) expfolder.Jobs {
	j, _ := expfolder.ReadJobs(dir)
	return j
}
