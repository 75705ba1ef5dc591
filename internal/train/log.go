package train

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// logger writes what a run does. On a terminal the progress of an epoch
// redraws one line; elsewhere (CI logs, files) it stays quiet and only whole
// lines are written.
type logger struct {
	w        io.Writer
	terminal bool
	drawn    bool
}

func newLogger(w io.Writer, terminal bool) *logger {
	if w == nil {
		w = io.Discard
	}
	return &logger{w: w, terminal: terminal}
}

func (l *logger) Printf(format string, args ...any) {
	l.EndProgress()
	fmt.Fprintf(l.w, format+"\n", args...)
}

// Progress shows the state of an epoch: iteration, loss, and the time
// left in the epoch.
func (l *logger) Progress(scheme string, epoch, epochs, it, its int, loss float64, elapsed time.Duration) {
	if !l.terminal {
		return
	}
	eta := time.Duration(float64(elapsed) / float64(it) * float64(its-it)).Round(time.Second)
	fmt.Fprintf(l.w, "\r%s epoch %d/%d iteration %d/%d loss %.4f ETA %s   ", scheme, epoch, epochs, it, its, loss, eta)
	l.drawn = true
}

// EndProgress ends a progress line, on a terminal.
func (l *logger) EndProgress() {
	if l.drawn {
		fmt.Fprintln(l.w)
		l.drawn = false
	}
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
