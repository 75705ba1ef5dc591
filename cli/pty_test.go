package cli

import (
	"bytes"
	"errors"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/creack/pty"
)

// ansiRE matches the terminal control sequences the bars use.
var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// cursorUpRE matches "cursor up n lines", how the bars redraw in place.
var cursorUpRE = regexp.MustCompile(`\x1b\[(\d*)A`)

// runInTerminal runs the built bench with stderr on a pseudo-terminal of
// the given width, and returns what the terminal received.
func runInTerminal(t *testing.T, cols int, args ...string) string {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: uint16(cols)}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = t.TempDir()
	var stdout bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &stdout, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var screen bytes.Buffer
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(&screen, ptmx)
		done <- err
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("bench %v: %v\n%s", args, err, screen.String())
	}
	if err := <-done; err != nil && !errors.Is(err, syscall.EIO) { // EIO: the terminal closed
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "test mean_average_precision_at_r: separated ") {
		t.Errorf("stdout lacks the results:\n%s", stdout.String())
	}
	return screen.String()
}

// TestProgressOnTerminal: on terminals of 40 and 160 columns the bars
// redraw in place, no bar line is wider than the terminal, and the screen
// grows by a line per log record and per finished bar, never per iteration.
func TestProgressOnTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	for _, cols := range []int{40, 160} {
		t.Run(strconv.Itoa(cols), func(t *testing.T) {
			// 200 iterations keep the training bar up for many of the
			// bars' 150 ms refreshes even on a fast machine: smoke's 25
			// can end before the first, and a bar drawn once is never
			// redrawn.
			screen := runInTerminal(t, cols, "run", "--experiment_name", "tty", "--config_general", "default", "smoke",
				"--num_epochs_train", "1", "--iterations_per_epoch", "200", "--check_untrained_accuracy", "false")
			// A pseudo-terminal turns \n into \r\n.
			text := strings.ReplaceAll(screen, "\r\n", "\n")
			ups := 0
			for _, m := range cursorUpRE.FindAllStringSubmatch(text, -1) {
				n, _ := strconv.Atoi(m[1])
				ups += max(n, 1)
			}
			if ups == 0 {
				t.Errorf("the bars never redrew in place:\n%q", screen)
			}
			records, bars := 0, 0
			for _, line := range strings.Split(ansiRE.ReplaceAllString(text, ""), "\n") {
				for _, frame := range strings.Split(line, "\r") {
					switch {
					case strings.HasPrefix(frame, "time="):
						records++ // a log record, which the terminal wraps
					case utf8.RuneCountInString(frame) > cols:
						t.Errorf("a bar line of %d columns on a terminal of %d: %q", utf8.RuneCountInString(frame), cols, frame)
					case strings.Contains(frame, "] loss 0."):
						bars++
					}
				}
			}
			// 2 folds of 1 epoch; bars: an epoch, val
			// embedding and neighbour search per fold, test ones per fold,
			// and the concatenated neighbour search.
			grown := strings.Count(text, "\n") - ups
			if grown > records+11 {
				t.Errorf("the screen grew by %d lines for %d log records and 11 bars: a new line per redraw?\n%q", grown, records, screen)
			}
			// Narrow, the loss stays; wide, everything shows.
			if bars < 2 || cols == 160 && !strings.Contains(text, " img/s experiment ETA ") {
				t.Errorf("no training bar with its loss (and, wide, rate and experiment ETA):\n%q", screen)
			}
		})
	}
}
