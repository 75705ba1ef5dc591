package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/search"
	"github.com/bench-ml/bench/internal/spec"
	"github.com/bench-ml/bench/internal/train"
)

// parseReproductions reads --reproductions as powerful_benchmarker does: N
// is reproductions 0..N-1, "A,B" (or [A, B]) reproductions A..B-1, so that
// a later command can add more.
func parseReproductions(ov config.Override) ([]int, error) {
	text := strings.Trim(strings.TrimSpace(ov.Value), "[]")
	var lo, hi int
	var err error
	if a, b, pair := strings.Cut(text, ","); pair {
		lo, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			hi, err = strconv.Atoi(strings.TrimSpace(b))
		}
	} else {
		hi, err = strconv.Atoi(text)
	}
	if err != nil || lo < 0 || hi < lo {
		return nil, &config.Error{Source: ov.Source, Msg: fmt.Sprintf("want N or A,B (reproductions A..B-1), got %q", ov.Value)}
	}
	var idx []int
	for i := lo; i < hi; i++ {
		idx = append(idx, i)
	}
	return idx, nil
}

// reproduce re-runs the best trial of a finished search as the experiments
// <best>_reproduction<i> in the search folder, with its values and seed
// seed+1+i (bench's runs are deterministic: the same seed would only repeat
// the trial), each trained and tested as run does, resumed if it was cut
// short. It then writes reproductions.json over the best trial and every
// reproduction done, as powerful_benchmarker's BayesOptRunner did.
func reproduce(ctx context.Context, o spec.Options, space search.Space, st *search.State, seed uint64, idx []int, out io.Writer) error {
	best := st.Best()
	if best == nil {
		return fmt.Errorf("--reproductions: the search has no finished trial to reproduce")
	}
	for _, i := range idx {
		name := fmt.Sprintf("%s_reproduction%d", best.Name, i)
		ro := trialOptions(o, space, name, best.Values)
		if _, err := os.Stat(filepath.Join(ro.Folder(), "meta_logs", "test.json")); err == nil {
			continue // done by an earlier command
		}
		ro.Overrides = append(ro.Overrides, config.Override{Key: "seed", Value: strconv.FormatUint(seed+1+uint64(i), 10),
			Source: fmt.Sprintf("--reproductions (reproduction %d)", i)})
		if err := train.Run(ctx, ro); err != nil {
			return fmt.Errorf("reproduction %d of %s: %w", i, best.Name, err)
		}
	}
	var experiments []string
	var sep, cat []map[string]float64
	entries, err := os.ReadDir(o.Folder())
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || (name != best.Name && !strings.HasPrefix(name, best.Name+"_reproduction")) {
			continue
		}
		res, err := expfolder.ReadResults((&record.Folder{Path: filepath.Join(o.Folder(), name)}).MetaLogsDir())
		if err != nil {
			return err
		}
		if res.Test == nil {
			continue // not tested yet
		}
		means := map[string]float64{}
		for m, s := range res.Separated {
			means[m] = s.Mean
		}
		experiments = append(experiments, name)
		sep = append(sep, means)
		if res.Concatenated != nil {
			cat = append(cat, res.Concatenated)
		}
	}
	separated, concatenated := eval.Aggregate(sep), eval.Aggregate(cat)
	if err := expfolder.WriteReproductions(o.Folder(), best.Name, experiments, separated, concatenated); err != nil {
		return err
	}
	fmt.Fprintf(out, "best trial %s and %d reproductions, test %s: separated %v", best.Name, len(experiments)-1, st.Metric, separated[st.Metric])
	if s, ok := concatenated[st.Metric]; ok {
		fmt.Fprintf(out, ", concatenated %v", s)
	}
	fmt.Fprintf(out, " (%s)\n", filepath.Join(o.Folder(), expfolder.ReproductionsFile))
	return nil
}
