package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/launch"
	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/search"
	"github.com/bench-ml/bench/internal/spec"
	"github.com/bench-ml/bench/internal/train"
)

const launchUsage = `
Launchers (run and search):
  --launcher local                 run each fold (search: each trial) as a child process
  --jobs N                         with local: at most N at once (default 1)
  --launcher slurm                 submit the folds as one Slurm job array and the
                                   aggregation as a job depending on it (afterok)
  --slurm '<sbatch options>'       added to every sbatch, e.g. '--partition=gpu --time=2:00:00'
  --parallel Q                     search only: trials in flight at once (default --jobs, or 1)
  --liar kriging_believer|constant_liar
                                   search only: a trial in flight is held, while a new one is
                                   chosen, at the Gaussian process's mean there (default), or
                                   at the best objective so far
`

// launchOptions are the flags of a launcher, taken out of a run's or a
// search's command line before the rest is parsed.
type launchOptions struct {
	Launcher string      // "", local or slurm
	Jobs     int         // local: processes at once
	Slurm    []string    // extra sbatch options
	Parallel int         // search: trials in flight
	Liar     search.Liar // search: how trials in flight are held
}

// parseLaunchArgs takes the launcher flags out of args. --slurm's value
// starts with -- itself, which is why run's parser must not see it.
func parseLaunchArgs(args []string) (launchOptions, []string, error) {
	var l launchOptions
	var rest []string
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		name, value, inline := strings.Cut(strings.TrimPrefix(args[i], "--"), "=")
		if !strings.HasPrefix(args[i], "--") || !map[string]bool{"launcher": true, "jobs": true, "slurm": true, "parallel": true, "liar": true}[name] {
			rest = append(rest, args[i])
			continue
		}
		flag := "--" + name
		if !inline {
			if i+1 == len(args) {
				return l, nil, &config.Error{Source: flag, Msg: "needs a value"}
			}
			i++
			value = args[i]
		}
		if seen[name] {
			return l, nil, &config.Error{Source: flag, Msg: "given twice"}
		}
		seen[name] = true
		switch name {
		case "launcher":
			if value != "local" && value != "slurm" {
				return l, nil, &config.Error{Source: flag, Msg: fmt.Sprintf("want local or slurm, got %q", value)}
			}
			l.Launcher = value
		case "slurm":
			l.Slurm = strings.Fields(value)
		case "liar":
			l.Liar = search.Liar(value)
			if err := l.Liar.Check(); err != nil {
				return l, nil, &config.Error{Source: flag, Msg: err.Error()}
			}
		case "jobs", "parallel":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 {
				return l, nil, &config.Error{Source: flag, Msg: fmt.Sprintf("want a whole number of at least 1, got %q", value)}
			}
			if name == "jobs" {
				l.Jobs = n
			} else {
				l.Parallel = n
			}
		}
	}
	switch {
	case l.Launcher == "" && (seen["jobs"] || seen["slurm"]):
		return l, nil, &config.Error{Source: "--jobs/--slurm", Msg: "need --launcher local or slurm"}
	case l.Launcher == "slurm" && seen["jobs"]:
		return l, nil, &config.Error{Source: "--jobs", Msg: "is for --launcher local; Slurm decides how many jobs run at once (--slurm '--array=...%N' is not needed: bench sets --array)"}
	case l.Launcher == "local" && seen["slurm"]:
		return l, nil, &config.Error{Source: "--slurm", Msg: "is for --launcher slurm"}
	}
	l.Jobs = max(l.Jobs, 1)
	return l, rest, nil
}

// jobArgs are the arguments of a job of the experiment o: it works on the
// prepared folder, from its saved configs, and continues from the latest
// checkpoint whatever ran before it (a killed or requeued job). Paths are
// absolute, as a Slurm job may start elsewhere.
func jobArgs(command string, o spec.Options) []string {
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		return a
	}
	args := []string{command, "--experiment_name", o.ExperimentName,
		"--root_experiment_folder", abs(o.RootExperimentFolder), "--dataset_root", abs(o.DatasetRoot)}
	if command == "run" {
		resume := o.ResumeTraining
		if resume == "" {
			resume = "latest"
		}
		args = append(args, "--resume_training", resume)
	}
	return args
}

// launchRun prepares the experiment, then trains its unfinished folds as
// jobs and aggregates them.
func launchRun(ctx context.Context, o spec.Options, l launchOptions) error {
	switch {
	case o.Fold != "":
		return &config.Error{Source: "--fold", Msg: "runs one fold in this process; a launcher runs every fold itself"}
	case o.Evaluate || o.EvaluateEnsemble:
		return &config.Error{Source: "--launcher", Msg: "launches training; evaluate in this process (bench eval, or bench aggregate)"}
	}
	folder, splits, err := train.Prepare(o)
	if err != nil {
		return err
	}
	base := jobArgs("run", o)
	var todo []launch.Job
	var indices []int
	for i, sp := range splits {
		done, err := expfolder.ReadDone(folder, sp.Name)
		if err != nil {
			return err
		}
		if done == nil {
			todo = append(todo, launch.Job{Name: sp.Name, Log: foldLog(folder, i),
				Args: append(append([]string(nil), base...), "--fold", strconv.Itoa(i))})
			indices = append(indices, i)
		}
	}
	if l.Launcher == "slurm" {
		return submitRun(o, launch.Slurm{Options: l.Slurm}, folder, splits, indices)
	}
	unlock, err := lockExperiment(folder)
	if err != nil {
		return err
	}
	defer unlock()
	jobs := expfolder.Jobs{Launcher: "local", Folds: map[string]string{}}
	var mu sync.Mutex
	err = launch.LocalAll(ctx, todo, l.Jobs, func(j launch.Job, pid int) {
		mu.Lock()
		defer mu.Unlock()
		jobs.Folds[j.Name] = "pid " + strconv.Itoa(pid)
		if err := expfolder.WriteJobs(folder.Path, jobs); err != nil {
			o.Log.Warn("recording the job", "err", err)
		}
		o.Log.Info("fold started", "fold", j.Name, "pid", pid, "log", j.Log)
	})
	if err != nil {
		return err
	}
	return train.Aggregate(o)
}

// foldLog is the log of the job of split scheme i.
func foldLog(folder *record.Folder, i int) string {
	return filepath.Join(folder.Path, "logs", fmt.Sprintf("fold_%d.log", i))
}
