package expfolder

import (
	"errors"
	"io/fs"
	"path/filepath"
)

// JobsFile is the name of jobs.json in an experiment folder (or a search's
// trial folder): which launched job runs what.
const JobsFile = "jobs.json"

// Jobs is jobs.json. A job is named as its launcher knows it: "pid N" for
// a local child process, the job id for Slurm.
type Jobs struct {
	Header
	Launcher  string            `json:"launcher"`            // local or slurm
	Folds     map[string]string `json:"folds,omitempty"`     // the job of each split scheme, by name
	Aggregate string            `json:"aggregate,omitempty"` // the job aggregating the folds
	Run       string            `json:"run,omitempty"`       // the job running every fold (a search trial)
}

// ReadJobs reads the jobs of the folder dir; empty when none was launched.
func ReadJobs(dir string) (Jobs, error) {
	var j Jobs
	err := ReadJSON(filepath.Join(dir, JobsFile), &j)
	if errors.Is(err, fs.ErrNotExist) {
		return Jobs{}, nil
	}
	return j, err
}

// WriteJobs writes the jobs of the folder dir.
func WriteJobs(dir string, j Jobs) error {
	return WriteJSON(filepath.Join(dir, JobsFile), &j)
}
