package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/launch"
	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/search"
)

func newStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status --experiment_name NAME [--root_experiment_folder DIR]",
		Short: "Show each fold's (or search trial's) job, state, epoch and best validation metric",
		Long: `status reads an experiment folder, or a search folder, and shows for each fold
(each trial) the job that runs it, its state (from Slurm when a Slurm
launcher submitted it), the last epoch checkpointed and the best validation
metric so far. The experiment folder is the only state it needs.`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, help, err := parseRunArgs(cmd, args)
			if err != nil || help {
				return helpOr(cmd, help, err)
			}
			if o.ExperimentName == "" {
				return errors.New("--experiment_name is required")
			}
			dir := o.Folder()
			if search.IsSearch(dir) {
				return searchStatus(cmd.OutOrStdout(), dir)
			}
			return experimentStatus(cmd.OutOrStdout(), dir)
		},
	}
}

// experimentStatus prints one line per fold and one for the aggregation.
func experimentStatus(w io.Writer, dir string) error {
	folder, err := record.Open(dir)
	if err != nil {
		return err
	}
	splits, err := expfolder.ReadSplits(dir)
	if err != nil {
		return err
	}
	jobs, err := expfolder.ReadJobs(dir)
	if err != nil {
		return err
	}
	states, err := jobStates(jobs)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "fold\tjob\tstate\tepoch\tbest val")
	for _, sp := range splits {
		p, done, started, err := expfolder.FoldProgress(folder, sp.Name)
		if err != nil {
			return err
		}
		state := "not started"
		switch {
		case done:
			state = "done"
		case started:
			state = "stopped"
		}
		job := jobs.Folds[sp.Name]
		if s := jobState(states, job); s != "" && !done {
			state = s
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sp.Name, orDash(job), state, epochText(p, started), bestText(p, started))
	}
	state := "waiting for the folds"
	if _, err := os.Stat(filepath.Join(folder.MetaLogsDir(), "separated.json")); err == nil {
		state = "done"
	} else if s := jobState(states, jobs.Aggregate); s != "" {
		state = s
	}
	fmt.Fprintf(tw, "aggregate\t%s\t%s\t\t\n", orDash(jobs.Aggregate), state)
	return tw.Flush()
}

// searchStatus prints one line per trial: its job, its state, the epoch of
// the fold it is at, and its objective or its best validation metric so far.
func searchStatus(w io.Writer, dir string) error {
	st, err := expfolder.ReadSearch(dir)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "trial\tjob\tstate\tepoch\tval %s\n", st.Metric)
	for _, t := range st.Trials {
		folder := &record.Folder{Path: filepath.Join(dir, t.Name)}
		jobs, err := expfolder.ReadJobs(folder.Path)
		if err != nil {
			return err
		}
		states, err := jobStates(jobs)
		if err != nil {
			return err
		}
		state, epoch, best := t.Status, "-", "-"
		if t.Objective != nil {
			best = strconv.FormatFloat(*t.Objective, 'f', 4, 64)
		}
		if t.Status == search.Running {
			if s := jobState(states, jobs.Run); s != "" {
				state = s
			}
			if scheme, p, ok := trialProgress(folder); ok {
				epoch = scheme + " " + strconv.Itoa(p.Epoch)
				best = strconv.FormatFloat(p.BestMetric, 'f', 4, 64)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, orDash(jobs.Run), state, epoch, best)
	}
	return tw.Flush()
}

// trialProgress is the progress of the last fold of a trial that started.
func trialProgress(folder *record.Folder) (string, expfolder.FoldState, bool) {
	splits, err := expfolder.ReadSplits(folder.Path)
	if err != nil {
		return "", expfolder.FoldState{}, false
	}
	for i := len(splits) - 1; i >= 0; i-- {
		if p, _, started, err := expfolder.FoldProgress(folder, splits[i].Name); err == nil && started {
			return splits[i].Name, p, true
		}
	}
	return "", expfolder.FoldState{}, false
}

// jobStates asks Slurm about the jobs of a Slurm launch; nil otherwise.
func jobStates(jobs expfolder.Jobs) (map[string]launch.JobState, error) {
	if jobs.Launcher != "slurm" {
		return nil, nil
	}
	var ids []string
	for _, id := range append([]string{jobs.Aggregate, jobs.Run}, mapValues(jobs.Folds)...) {
		if id != "" {
			array, _, _ := strings.Cut(id, "_")
			ids = append(ids, array)
		}
	}
	return launch.Slurm{}.States(ids...)
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// jobState is a job's state in lower case: Slurm's, or for a local job
// whether its process runs. "" when unknown.
func jobState(states map[string]launch.JobState, job string) string {
	if job == "" {
		return ""
	}
	if pid, ok := strings.CutPrefix(job, "pid "); ok {
		n, err := strconv.Atoi(pid)
		if err == nil && syscall.Kill(n, 0) == nil {
			return "running"
		}
		return ""
	}
	st, ok := states[job]
	if !ok {
		return ""
	}
	s := strings.ToLower(st.State)
	if st.Restarts > 0 {
		s += fmt.Sprintf(" (requeued %dx)", st.Restarts)
	}
	if st.State == "PENDING" && st.Reason != "" && st.Reason != "None" {
		s += " (" + st.Reason + ")"
	}
	return s
}

func epochText(p expfolder.FoldState, started bool) string {
	if !started {
		return "-"
	}
	return strconv.Itoa(p.Epoch)
}

func bestText(p expfolder.FoldState, started bool) string {
	if !started {
		return "-"
	}
	return fmt.Sprintf("%.4f (epoch %d)", p.BestMetric, p.BestEpoch)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
