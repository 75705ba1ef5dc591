package expfolder

import (
	"database/sql"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/record"
)

// smallExperiment writes an experiment folder with two folds' records and
// its results, as a run leaves it.
func smallExperiment(t *testing.T, root, name string) *record.Folder {
	t.Helper()
	f := &record.Folder{Path: filepath.Join(root, name)}
	for i, scheme := range []string{"s0", "s1"} {
		r := record.NewRecords(f.RecordsDir(scheme))
		losses := r.Table("losses", "iteration")
		acc := r.Table("accuracies_val", "epoch")
		for it := 1; it <= 4; it++ {
			losses.Add(map[string]float64{"iteration": float64(it), "epoch": float64((it + 1) / 2), "total_loss": 1 / float64(it),
				"metric_loss": 2 / float64(it), "tuple_miner_triplets": float64(10 + it)}, "iteration", "epoch", "total_loss")
		}
		for ep := 0; ep <= 2; ep++ {
			acc.Add(map[string]float64{"epoch": float64(ep), "mean_average_precision_at_r": float64(ep%2)*0.5 + float64(i)*0.1}, "epoch")
		}
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	res := Results{
		Separated:    eval.Aggregate([]map[string]float64{{"precision_at_1": 0.5}, {"precision_at_1": 0.7}}),
		Concatenated: map[string]float64{"precision_at_1": 0.65},
		Test: &TestResults{EmbeddingSize: 8, Folds: []FoldResult{
			{SplitScheme: "s0", Metrics: map[string]float64{"precision_at_1": 0.5}},
			{SplitScheme: "s1", Metrics: map[string]float64{"precision_at_1": 0.7}}}},
	}
	if err := WriteResults(f.MetaLogsDir(), res); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestExperimentDB(t *testing.T) {
	root := t.TempDir()
	global := filepath.Join(root, "all.db")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i, name := range []string{"a", "b", "c", "d"} {
		f := smallExperiment(t, root, name)
		wg.Add(1)
		go func() { // runs writing into one global database at once all succeed
			defer wg.Done()
			errs[i] = WriteExperimentDB(f, []string{"s0", "s1"}, map[string]any{"seed": i, "lr": 0.1}, global)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("experiment %d: %v", i, err)
		}
	}
	db, err := sql.Open("sqlite", global)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var best, epoch int
	var value float64
	err = db.QueryRow(`SELECT fold, epoch, MAX(value) FROM accuracies WHERE experiment = 'c' AND fold = 1 GROUP BY fold`).Scan(&best, &epoch, &value)
	if err != nil || epoch != 1 || value != 0.6 {
		t.Errorf("best of fold 1: epoch %d value %v, %v; want epoch 1, 0.6", epoch, value, err)
	}
	for query, want := range map[string]float64{
		`SELECT COUNT(*) FROM experiments`:                       4,
		`SELECT COUNT(*) FROM iterations WHERE experiment = 'a'`: 2 * 4 * 3,
		`SELECT value FROM iterations WHERE experiment = 'b' AND fold = 1 AND iteration = 3 AND name = 'tuple_miner_triplets'`: 13,
		`SELECT value FROM hyperparameters WHERE experiment = 'd' AND name = 'seed'`:                                           3,
		`SELECT ci95_halfwidth FROM aggregates WHERE experiment = 'a' AND kind = 'separated'`:                                  12.706204736174694 * 0.1,
		`SELECT value FROM test_results WHERE experiment = 'a' AND split_scheme = 's1'`:                                        0.7,
		`SELECT n FROM aggregates WHERE experiment = 'a' AND kind = 'concatenated'`:                                            2,
		`SELECT embedding_size FROM experiments WHERE experiment = 'a'`:                                                        8,
	} {
		var got float64
		if err := db.QueryRow(query).Scan(&got); err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: %v, %v; want %v", query, got, err, want)
		}
	}

	// Writing again replaces the experiment's rows (a resumed run's
	// records were cut back), leaving the others alone.
	f := &record.Folder{Path: filepath.Join(root, "a")}
	if err := os.Remove(filepath.Join(f.RecordsDir("s1"), "losses.csv")); err != nil {
		t.Fatal(err)
	}
	if err := WriteExperimentDB(f, []string{"s0", "s1"}, nil, global); err != nil {
		t.Fatal(err)
	}
	var n, others int
	db.QueryRow(`SELECT COUNT(*) FROM iterations WHERE experiment = 'a'`).Scan(&n)
	db.QueryRow(`SELECT COUNT(*) FROM iterations WHERE experiment = 'b'`).Scan(&others)
	if n != 4*3 || others != 2*4*3 {
		t.Errorf("after rewriting a: %d rows of a, %d of b; want 12 and 24", n, others)
	}

	// Another folder of the same name is refused, naming both.
	other := smallExperiment(t, filepath.Join(root, "elsewhere"), "a")
	err = WriteExperimentDB(other, []string{"s0", "s1"}, nil, global)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(root, "a")) || !strings.Contains(err.Error(), "--experiment_name") {
		t.Errorf("same name from another folder: %v", err)
	}
}
