package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/launch"
	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/spec"
)

// submitRun submits the unfinished folds (indices into splits) as one job
// array and the aggregation as a job that runs when they all succeed. A
// fold whose job is still queued or running is left to it, so that a
// second launcher, or one resubmitting after a failure, never trains a
// fold twice; the experiment lock keeps two launchers from deciding at once.
func submitRun(o spec.Options, s launch.Slurm, folder *record.Folder, splits []data.Split, indices []int) (err error) {
	unlock, err := lockExperiment(folder)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	jobs, err := expfolder.ReadJobs(folder.Path)
	if err != nil {
		return err
	}
	if jobs.Folds == nil {
		jobs.Folds = map[string]string{}
	}
	jobs.Launcher = "slurm"
	var ids []string
	for _, id := range jobs.Folds {
		array, _, _ := strings.Cut(id, "_")
		ids = append(ids, array)
	}
	if jobs.Aggregate != "" {
		ids = append(ids, jobs.Aggregate)
	}
	slices.Sort(ids)
	states, err := s.States(slices.Compact(ids)...)
	if err != nil {
		return err
	}
	var submit []int
	var after []string // the jobs the aggregation waits for
	for _, i := range indices {
		name := splits[i].Name
		if st, ok := states[jobs.Folds[name]]; ok && st.Active() {
			fmt.Fprintf(o.Out, "%s: job %s is %s already\n", name, st.ID, strings.ToLower(st.State))
			after = append(after, st.ID)
			continue
		}
		submit = append(submit, i)
	}
	if st, ok := states[jobs.Aggregate]; ok && st.Active() {
		if len(submit) == 0 {
			fmt.Fprintf(o.Out, "nothing to submit: the aggregation, job %s, is %s\n", st.ID, strings.ToLower(st.State))
			return nil
		}
		// It waits for jobs that failed; a new one waits for their successors.
		if err := s.Cancel(st.ID); err != nil {
			return err
		}
	}
	if len(submit) > 0 {
		log := filepath.Join(folder.Path, "logs", "fold_%a.log")
		id, err := s.Submit(launch.Job{Name: o.ExperimentName, Args: jobArgs("run", o), Log: log}, submit, "")
		if err != nil {
			return err
		}
		for _, i := range submit {
			jobs.Folds[splits[i].Name] = id + "_" + strconv.Itoa(i)
			fmt.Fprintf(o.Out, "%s: submitted as job %s_%d\n", splits[i].Name, id, i)
		}
		after = append(after, id)
		if err := expfolder.WriteJobs(folder.Path, jobs); err != nil {
			return err
		}
	}
	dependency := ""
	if len(after) > 0 {
		dependency = "afterok:" + strings.Join(after, ":")
	}
	agg, err := s.Submit(launch.Job{Name: o.ExperimentName + ":aggregate", Args: jobArgs("aggregate", o),
		Log: filepath.Join(folder.Path, "logs", "aggregate.log")}, nil, dependency)
	if err != nil {
		return err
	}
	jobs.Aggregate = agg
	fmt.Fprintf(o.Out, "aggregation: submitted as job %s\nfollow it with: bench status --experiment_name %s --root_experiment_folder %s\n",
		agg, o.ExperimentName, o.RootExperimentFolder)
	return expfolder.WriteJobs(folder.Path, jobs)
}

// lockExperiment keeps two launchers of one experiment from submitting at
// once. It is not the experiment's lock, which the fold jobs share.
func lockExperiment(folder *record.Folder) (func() error, error) {
	return record.Lock(filepath.Join(folder.Path, ".launch.lock"), "the launcher of "+folder.Path)
}
