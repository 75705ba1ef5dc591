package train

import (
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bench-ml/bench/internal/progress"
)

// logger is what a run tells its user: log records (to stderr in bench),
// progress bars (beside them), and the results (to stdout).
type logger struct {
	*slog.Logger
	out   io.Writer
	bars  *progress.Reporter // nil shows none
	exp   *experimentProgress
	wrote bool // test results were written
}

// changed reports whether the run changed the experiment: trained a step
// or wrote test results.
func (l *logger) changed() bool {
	l.exp.mu.Lock()
	defer l.exp.mu.Unlock()
	return l.wrote || l.exp.done > 0
}

// newLogger fills in what is nil: no records, no results, no bars.
func newLogger(log *slog.Logger, out io.Writer, bars *progress.Reporter) *logger {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if out == nil {
		out = io.Discard
	}
	return &logger{Logger: log, out: out, bars: bars, exp: &experimentProgress{start: time.Now()}}
}

// Result prints a line of results.
func (l *logger) Result(format string, args ...any) {
	fmt.Fprintf(l.out, format+"\n", args...)
}

// experimentProgress counts the training iterations of a whole experiment,
// for its ETA: all folds running every epoch, which patience may cut short.
type experimentProgress struct {
	mu          sync.Mutex
	start       time.Time
	done, total int
}

func (e *experimentProgress) plan(total int) {
	e.mu.Lock()
	e.total, e.start = total, time.Now()
	e.mu.Unlock()
}

func (e *experimentProgress) step() {
	e.mu.Lock()
	e.done++
	e.mu.Unlock()
}

// eta is the suffix of the epoch bars: the time left in the experiment.
func (e *experimentProgress) eta() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done == 0 || e.total <= e.done {
		return ""
	}
	left := time.Duration(float64(time.Since(e.start)) / float64(e.done) * float64(e.total-e.done))
	return "experiment ETA " + progress.Duration(left)
}

// formatMetrics prints the primary metric first, then the others sorted.
func formatMetrics(m map[string]float64, primary string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != primary {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := []string{fmt.Sprintf("%s %.4f", primary, m[primary])}
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.4f", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
