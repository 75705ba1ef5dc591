// Package reporttest writes small experiment folders, shaped as bench run
// leaves them, with known values, for the tests of bench report.
package reporttest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Experiment describes a fixture experiment folder.
type Experiment struct {
	Loss  string // metric loss component name
	Miner string // tuple miner component name; "" for none
	Folds int
	// Epochs of Iterations iterations each are recorded per fold.
	Epochs, Iterations int
	// Finished writes meta_logs; Score is then the separated mean of
	// mean_average_precision_at_r (see Metrics).
	Finished bool
	Score    float64
}

// Metrics are the test metrics of a finished fixture with the given score,
// named as bench writes them; the concatenated results are each value plus
// 0.01, and the 95% confidence intervals are value ± 0.1 (null with one
// fold).
func Metrics(score float64) map[string]float64 {
	return map[string]float64{
		"mean_average_precision_at_r": score,
		"r_precision":                 score + 0.1,
		"precision_at_1":              score + 0.2,
		"mean_reciprocal_rank":        score + 0.25,
		"recall_at_1":                 score + 0.2,
		"recall_at_2":                 score + 0.3,
		"recall_at_10":                score + 0.35,
	}
}

// FoldName is the split scheme name of fold i of n, as bench names them.
func FoldName(n, i int) string { return fmt.Sprintf("Test50_50_Partitions%d_%d", n, i) }

// ValMetric is the recorded validation mean_average_precision_at_r of fold
// i at epoch e (epoch 0: before training).
func ValMetric(i, e int) float64 { return 0.1*float64(e) + 0.01*float64(i) }

// Loss is the recorded total loss at iteration it (from 1) of fold i.
func Loss(i, it int) float64 { return 1/float64(it) + 0.1*float64(i) }

// Write creates the experiment folder root/name and returns its path.
func Write(t testing.TB, root, name string, e Experiment) string {
	t.Helper()
	dir := filepath.Join(root, name)
	miners := "mining_funcs: {}\n"
	if e.Miner != "" {
		miners = fmt.Sprintf("mining_funcs:\n  tuple_miner:\n    %s: {}\n", e.Miner)
	}
	write(t, filepath.Join(dir, "configs", "config_loss_and_miners.yaml"),
		fmt.Sprintf("loss_funcs:\n  metric_loss:\n    %s:\n      margin: 0.1\n%sloss_weights:\n  metric_loss: 1\n", e.Loss, miners))
	write(t, filepath.Join(dir, "configs", "config_eval.yaml"), "eval_primary_metric: mean_average_precision_at_r\nsplits_to_eval: [val]\n")
	for i := range e.Folds {
		records := filepath.Join(dir, FoldName(e.Folds, i), "records")
		var losses strings.Builder
		losses.WriteString("iteration,epoch,total_loss,lr_0\n")
		for it := 1; it <= e.Epochs*e.Iterations; it++ {
			fmt.Fprintf(&losses, "%d,%d,%v,0.001\n", it, (it-1)/e.Iterations+1, Loss(i, it))
		}
		write(t, filepath.Join(records, "losses.csv"), losses.String())
		var val strings.Builder
		val.WriteString("epoch,mean_average_precision_at_r,precision_at_1\n")
		for ep := 0; ep <= e.Epochs; ep++ {
			fmt.Fprintf(&val, "%d,%v,0.5\n", ep, ValMetric(i, ep))
		}
		write(t, filepath.Join(records, "accuracies_val.csv"), val.String())
	}
	if !e.Finished {
		return dir
	}
	separated := map[string]map[string]any{}
	concatenated := map[string]float64{}
	for k, v := range Metrics(e.Score) {
		s := map[string]any{"mean": v, "stderr": nil, "ci95_low": nil, "ci95_high": nil, "n": e.Folds}
		if e.Folds > 1 {
			s["stderr"], s["ci95_low"], s["ci95_high"] = 0.05, v-0.1, v+0.1
		}
		separated[k] = s
		concatenated[k] = v + 0.01
	}
	writeJSON(t, filepath.Join(dir, "meta_logs", "separated.json"), separated)
	writeJSON(t, filepath.Join(dir, "meta_logs", "concatenated.json"), concatenated)
	return dir
}

func writeJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	write(t, path, string(data))
}

func write(t testing.TB, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
