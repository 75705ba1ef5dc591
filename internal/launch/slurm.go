package launch

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Slurm submits and queries jobs through Slurm's own commands (sbatch,
// scontrol, scancel; Slurm 22.05 or newer), which every cluster has,
// rather than its REST API, which few enable.
type Slurm struct {
	Options []string // added to every sbatch: --partition=..., --time=...
}

// Submit submits a job running this binary and returns its id. array, when
// not empty, makes it a job array of those task ids; the task's id is then
// appended to the arguments as the value of --fold. dependency is an sbatch
// --dependency value, or "". The job is requeued rather than lost when its
// node fails or it is preempted: every job resumes from its checkpoints.
func (s Slurm) Submit(j Job, array []int, dependency string) (string, error) {
	exe, err := Executable()
	if err != nil {
		return "", err
	}
	// Slurm fails a job whose log cannot be opened.
	if err := os.MkdirAll(filepath.Dir(j.Log), 0o755); err != nil {
		return "", err
	}
	words := []string{"exec", shellQuote(exe)}
	for _, a := range j.Args {
		words = append(words, shellQuote(a))
	}
	args := []string{"--parsable", "--job-name", "bench:" + j.Name, "--output", j.Log, "--open-mode=append", "--requeue"}
	if len(array) > 0 {
		ids := make([]string, len(array))
		for i, a := range array {
			ids[i] = strconv.Itoa(a)
		}
		args = append(args, "--array="+strings.Join(ids, ","))
		words = append(words, "--fold", `"$SLURM_ARRAY_TASK_ID"`)
	}
	if dependency != "" {
		// A dependency that can no longer be met cancels the job, rather
		// than leaving it pending for ever.
		args = append(args, "--dependency="+dependency, "--kill-on-invalid-dep=yes")
	}
	args = append(append(args, s.Options...), "--wrap", strings.Join(words, " "))
	out, err := run("sbatch", args...)
	if err != nil {
		return "", err
	}
	// --parsable prints "id" or "id;cluster".
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";")
	if id == "" {
		return "", fmt.Errorf("sbatch printed no job id")
	}
	return id, nil
}

// JobState is what Slurm says of one job, or of one task of an array.
type JobState struct {
	ID       string // 12, or 12_3 for a task of an array
	State    string // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, ...
	Reason   string
	Restarts int
}

// Active reports whether the job may still run: pending, running or
// being requeued.
func (s JobState) Active() bool {
	switch s.State {
	case "PENDING", "RUNNING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "SUSPENDED", "CONFIGURING",
		"COMPLETING", "RESIZING", "SIGNALING", "STAGE_OUT":
		return true
	}
	return false
}

var (
	jobIDRe      = regexp.MustCompile(`(?:^|\s)JobId=(\d+)`)
	arrayJobRe   = regexp.MustCompile(`(?:^|\s)ArrayJobId=(\d+)`)
	arrayTaskRe  = regexp.MustCompile(`(?:^|\s)ArrayTaskId=(\S+)`)
	jobStateRe   = regexp.MustCompile(`(?:^|\s)JobState=(\S+)`)
	reasonRe     = regexp.MustCompile(`(?:^|\s)Reason=(\S+)`)
	restartsRe   = regexp.MustCompile(`(?:^|\s)Restarts=(\d+)`)
	taskRangeRe  = regexp.MustCompile(`^(\d+)(?:-(\d+))?(?::\d+)?$`)
	errInvalidID = "Invalid job id"
)

// States asks scontrol for the state of the jobs with the given ids (a job
// array's id gives each of its tasks, as id_task). A job Slurm has
// forgotten (past MinJobAge) is absent from the map.
func (s Slurm) States(ids ...string) (map[string]JobState, error) {
	out := map[string]JobState{}
	for _, id := range ids {
		text, err := run("scontrol", "show", "job", "-o", id)
		if err != nil {
			if strings.Contains(err.Error(), errInvalidID) {
				continue
			}
			return nil, err
		}
		for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
			for _, st := range parseJobLine(line) {
				out[st.ID] = st
			}
		}
	}
	return out, nil
}

// parseJobLine reads one line of scontrol show job -o. A pending array's
// tasks that have not started yet share one line, with ArrayTaskId a list
// such as 0-3%2 or 1,3.
func parseJobLine(line string) []JobState {
	get := func(re *regexp.Regexp) string {
		if m := re.FindStringSubmatch(line); m != nil {
			return m[1]
		}
		return ""
	}
	st := JobState{ID: get(jobIDRe), State: get(jobStateRe), Reason: get(reasonRe)}
	st.Restarts, _ = strconv.Atoi(get(restartsRe))
	if st.ID == "" {
		return nil
	}
	array, tasks := get(arrayJobRe), get(arrayTaskRe)
	if array == "" || tasks == "" {
		return []JobState{st}
	}
	tasks, _, _ = strings.Cut(tasks, "%")
	var out []JobState
	for _, part := range strings.Split(tasks, ",") {
		m := taskRangeRe.FindStringSubmatch(part)
		if m == nil {
			continue
		}
		lo, _ := strconv.Atoi(m[1])
		hi := lo
		if m[2] != "" {
			hi, _ = strconv.Atoi(m[2])
		}
		for t := lo; t <= hi; t++ {
			task := st
			task.ID = array + "_" + strconv.Itoa(t)
			out = append(out, task)
		}
	}
	return out
}

// Cancel cancels jobs.
func (s Slurm) Cancel(ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := run("scancel", ids...)
	return err
}

// run runs a Slurm command and returns its output; its error carries what
// the command printed.
func run(name string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var notFound *exec.Error
		if errors.As(err, &notFound) {
			return "", fmt.Errorf("%s: %w (is Slurm installed? scripts/slurm/up.sh starts a one-node Slurm)", name, err)
		}
		return "", fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// shellQuote quotes a word for sh.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
