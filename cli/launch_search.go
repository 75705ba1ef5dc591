package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/launch"
	"github.com/bench-ml/bench/internal/search"
	"github.com/bench-ml/bench/internal/spec"
	"github.com/bench-ml/bench/internal/train"
)

// slurmPoll is how often a search asks Slurm whether its trials' jobs ended.
var slurmPoll = 2 * time.Second

// trialObjective runs the trials of a search in this process, or, with a
// launcher, as jobs, several at once.
func trialObjective(ctx context.Context, o spec.Options, space search.Space, l launchOptions) (search.Objective, int, error) {
	if l.Launcher == "" {
		if l.Parallel > 1 {
			return nil, 0, &config.Error{Source: "--parallel", Msg: "runs trials as jobs: add --launcher local or --launcher slurm"}
		}
		return trainer{ctx, o, space}, 1, nil
	}
	parallel := l.Parallel
	if parallel == 0 {
		parallel = l.Jobs
	}
	return jobTrainer{ctx: ctx, o: o, space: space, slurm: l.Launcher == "slurm", s: launch.Slurm{Options: l.Slurm}}, parallel, nil
}

// jobTrainer runs each trial as one job running every fold of its
// experiment: a child process, or a Slurm job. The trial's folder is made
// here first, so the job runs from its saved configs and a requeued or
// resubmitted job continues from its checkpoints.
type jobTrainer struct {
	ctx   context.Context // cancelled: stop waiting (the jobs go on)
	o     spec.Options
	space search.Space
	slurm bool
	s     launch.Slurm
}

func (tr jobTrainer) Evaluate(name string, values map[string]float64) (float64, error) {
	o := trialOptions(tr.o, tr.space, name, values)
	if o.ResumeTraining == "" {
		if _, _, err := train.Prepare(o); err != nil {
			return 0, err
		}
	}
	dir := o.Folder()
	job := launch.Job{Name: tr.o.ExperimentName + ":" + name, Args: jobArgs("run", o), Log: filepath.Join(dir, "logs", "run.log")}
	if !tr.slurm {
		err := launch.Local(tr.ctx, job, func(pid int) {
			expfolder.WriteJobs(dir, expfolder.Jobs{Launcher: "local", Run: "pid " + strconv.Itoa(pid)})
		})
		if err != nil {
			return 0, err
		}
		return search.ValidationObjective(dir)
	}
	jobs, err := expfolder.ReadJobs(dir)
	if err != nil {
		return 0, err
	}
	// A job from before a stopped search may still run, or have finished.
	st, known, err := tr.state(jobs.Run)
	if err != nil {
		return 0, err
	}
	if !known || !st.Active() && st.State != "COMPLETED" {
		if finished(dir) {
			return search.ValidationObjective(dir)
		}
		id, err := tr.s.Submit(job, nil, "")
		if err != nil {
			return 0, err
		}
		if err := expfolder.WriteJobs(dir, expfolder.Jobs{Launcher: "slurm", Run: id}); err != nil {
			return 0, err
		}
		jobs.Run = id
	}
	for {
		st, known, err = tr.state(jobs.Run)
		if err != nil {
			return 0, err
		}
		if !known || !st.Active() {
			break
		}
		select {
		case <-tr.ctx.Done():
			return 0, fmt.Errorf("stopped waiting for job %s, which goes on: %w", jobs.Run, context.Cause(tr.ctx))
		case <-time.After(slurmPoll):
		}
	}
	if !finished(dir) {
		state := "forgotten by Slurm"
		if known {
			state = st.State
		}
		return 0, fmt.Errorf("job %s ended %s before the trial finished; its log is %s", jobs.Run, state, job.Log)
	}
	return search.ValidationObjective(dir)
}

// state asks Slurm about a job; known is false for no job, or one Slurm
// has forgotten.
func (tr jobTrainer) state(id string) (launch.JobState, bool, error) {
	if id == "" {
		return launch.JobState{}, false, nil
	}
	states, err := tr.s.States(id)
	if err != nil {
		return launch.JobState{}, false, err
	}
	st, ok := states[id]
	return st, ok, nil
}

// finished reports whether a trial's experiment ran to its end: tested and
// aggregated.
func finished(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "meta_logs", "separated.json"))
	return err == nil
}
