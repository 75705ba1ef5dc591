// Package cli is bench's command line: every command of README.md. The
// bench command's main calls Main; so does a researcher's own main that
// registers components of its own first (see package component).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/progress"
	"github.com/bench-ml/bench/internal/provenance"
)

// Exit codes, documented in README.md.
const (
	exitOK          = 0
	exitUserError   = 1   // bad flags, configs or input files: the message says which
	exitInternal    = 2   // a bug in bench: please report it
	exitInterrupted = 130 // SIGINT or SIGTERM, as a shell reports a killed command
)

// Main runs the command line of os.Args and exits with its exit code. The
// components registered before it are known to every command and to the
// jobs a launcher starts, which run this same executable.
func Main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns its exit code. The first
// SIGINT or SIGTERM cancels the command's context (signalContext), which a
// run honours at its next step boundary.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "bench: internal error: %v\n%s", p, debug.Stack())
			code = exitInternal
		}
	}()
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signalContext()
	defer stop()
	err := root.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
	}
	return exitCode(err)
}

// exitCode maps a command's error to the exit status: interrupted (the
// context was cancelled by a signal), or a user error, which is everything
// a command reports; a bug panics, which run turns into exitInternal.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	}
	return exitUserError
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "bench",
		Short: "Fair, reproducible benchmarks of deep metric learning methods",
		Long: `bench trains and evaluates metric-learning methods under one protocol:
class-disjoint train/val/test splits with cross-validation, the same model,
sampler and optimiser for every method, PML's accuracy metrics, and every
run saved with the fully resolved config that produced it.

Results go to standard output; logs, warnings and progress to standard error.
Every flag may be written --snake_case or --kebab-case.`,
		Version:       provenance.Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Run:           func(cmd *cobra.Command, _ []string) { cmd.Help() },
	}
	root.SetVersionTemplate("bench {{.Version}}\n")
	root.PersistentFlags().Bool("quiet", false, "log only warnings and errors; no progress bars")
	root.PersistentFlags().Bool("verbose", false, "log debugging detail too")
	addLimitFlags(root)
	root.AddCommand(newRunCmd(), newEvalCmd(), newConfigsCmd(), newDatasetsCmd(), newMetricsCmd(), newLossCmd(), newReportCmd(), newSearchCmd(), newEmbedCmd(), newBenchmarkCmd(), newAggregateCmd(), newStatusCmd(), newModelsCmd(), newFeaturesCmd())
	root.SetGlobalNormalizationFunc(snakeCase)
	root.SetFlagErrorFunc(flagError)
	return root
}

// snakeCase lets every flag be written --snake_case (as powerful_benchmarker
// users do) or --kebab-case (as Go users do).
func snakeCase(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	return pflag.NormalizedName(strings.ReplaceAll(name, "-", "_"))
}

// flagError adds a suggestion to pflag's "unknown flag: --x".
func flagError(cmd *cobra.Command, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return err
	}
	var names []string
	for _, fs := range []*pflag.FlagSet{cmd.LocalFlags(), cmd.InheritedFlags()} {
		fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	}
	return fmt.Errorf("unknown flag --%s for %q%s", name, cmd.CommandPath(), flagSuggestion(name, names))
}

// flagSuggestion is " (did you mean --x?)" for the flag closest to name,
// or "".
func flagSuggestion(name string, flags []string) string {
	if c, ok := config.Closest(strings.ReplaceAll(name, "-", "_"), flags); ok {
		return " (did you mean --" + c + "?)"
	}
	return ""
}

// ui is where a command reports: its log and progress bars go to stderr,
// its results (written by the command) to stdout.
type ui struct {
	log  *slog.Logger
	bars *progress.Reporter // nil with --quiet
}

// newUI makes the logger and progress bars of a command; bars redraw in
// place when stderr is a terminal and print plain lines otherwise.
func newUI(cmd *cobra.Command, quiet, verbose bool) ui {
	w := cmd.ErrOrStderr()
	level := slog.LevelInfo
	var u ui
	switch {
	case quiet:
		level = slog.LevelWarn
	case verbose:
		level = slog.LevelDebug
	}
	if !quiet {
		u.bars = progress.New(w, isTerminal(w))
		w = u.bars
	}
	u.log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: shortTime}))
	// Packages that log without a logger of their own (data) use the default.
	slog.SetDefault(u.log)
	data.DownloadProgress = u.bars // datasets download as a command opens them
	return u
}

// uiOf is newUI for a command whose flags cobra parsed.
func uiOf(cmd *cobra.Command) ui {
	quiet, _ := cmd.Flags().GetBool("quiet")
	verbose, _ := cmd.Flags().GetBool("verbose")
	return newUI(cmd, quiet, verbose)
}

// shortTime writes a record's time as the wall-clock time of day: a log is
// read beside a run, whose folder has the dates.
func shortTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
		a.Value = slog.StringValue(a.Value.Time().Format(time.TimeOnly))
	}
	return a
}

// isTerminal reports whether w is a terminal, where progress bars redraw in
// place; elsewhere (CI logs, files) they print plain lines.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
