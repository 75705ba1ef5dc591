package cli

import (
	"database/sql"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/record"
	"github.com/bench-ml/bench/internal/record/eventtest"
)

// bestValPerFold is the README's example query.
const bestValPerFold = `SELECT experiment, fold, epoch, MAX(value) AS best
FROM accuracies
WHERE split = 'val' AND metric = 'mean_average_precision_at_r'
GROUP BY experiment, fold
ORDER BY experiment, fold;`

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type bestRow struct {
	experiment  string
	fold, epoch int
	best        float64
}

func queryBest(t *testing.T, db *sql.DB) []bestRow {
	t.Helper()
	rows, err := db.Query(bestValPerFold)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []bestRow
	for rows.Next() {
		var r bestRow
		if err := rows.Scan(&r.experiment, &r.fold, &r.epoch, &r.best); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// bestFromCSV is the best validation MAP@R of a fold and its epoch, read
// from the fold's CSV records.
func bestFromCSV(t *testing.T, exp, scheme string) (int, float64) {
	t.Helper()
	f, err := os.Open(filepath.Join(exp, scheme, "records", "accuracies_val.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	ei, mi := slices.Index(rows[0], "epoch"), slices.Index(rows[0], "mean_average_precision_at_r")
	epoch, best := -1, math.Inf(-1)
	for _, r := range rows[1:] {
		v, _ := strconv.ParseFloat(r[mi], 64)
		if v > best {
			best = v
			epoch, _ = strconv.Atoi(r[ei])
		}
	}
	return epoch, best
}

func TestExperimentDatabase(t *testing.T) {
	root := smokeExperiments(t)
	schemes := []string{"Test50_50_Partitions2_0", "Test50_50_Partitions2_1"}
	var all []bestRow
	for method := range smokeMethods {
		for dataset := range smokeDatasets {
			name := method + "_" + dataset
			exp := filepath.Join(root, name)
			db := openDB(t, filepath.Join(exp, record.ExperimentDB))
			got := queryBest(t, db)
			if len(got) != 2 {
				t.Fatalf("%s: best per fold %v, want 2 folds", name, got)
			}
			for fold, r := range got {
				epoch, best := bestFromCSV(t, exp, schemes[fold])
				if r.experiment != name || r.fold != fold || r.epoch != epoch || r.best != best {
					t.Errorf("%s fold %d: query gives %+v, CSV epoch %d best %v", name, fold, r, epoch, best)
				}
			}
			all = append(all, got...)
			checkIterations(t, db, name, method == "triplet")
			checkResults(t, db, exp, name)
			var margin float64
			if method == "triplet" {
				if err := db.QueryRow(`SELECT value FROM hyperparameters WHERE name = 'mining_funcs.tuple_miner.BatchHardMiner.distance.LpDistance.p'`).Scan(&margin); err != nil || margin != 2 {
					t.Errorf("%s: hyperparameter of the miner %v, %v", name, margin, err)
				}
			}
		}
	}
	// The global database holds every experiment: the same query answers
	// for all of them at once.
	global := queryBest(t, openDB(t, filepath.Join(root, "global.db")))
	slices.SortFunc(all, func(a, b bestRow) int { return strings.Compare(a.experiment, b.experiment)*10 + a.fold - b.fold })
	if !slices.Equal(global, all) {
		t.Errorf("global database: %v\nwant %v", global, all)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), bestValPerFold) {
		t.Errorf("README.md does not show the tested query:\n%s", bestValPerFold)
	}
}

// checkIterations checks the per-iteration rows: integer steps, one
// total_loss per iteration, the loss's own value and, with a miner, its
// triplet counts.
func checkIterations(t *testing.T, db *sql.DB, name string, miner bool) {
	t.Helper()
	var n, types int
	err := db.QueryRow(`SELECT COUNT(*), SUM(typeof(epoch) = 'integer' AND typeof(iteration) = 'integer' AND typeof(fold) = 'integer')
		FROM iterations WHERE name = 'total_loss'`).Scan(&n, &types)
	if err != nil || n != 2*2*8 || types != n {
		t.Errorf("%s: %d total_loss rows (%d with integer steps), %v; want 32", name, n, types, err)
	}
	var last int
	if err := db.QueryRow(`SELECT MAX(iteration) FROM iterations WHERE fold = 1 AND epoch = 2`).Scan(&last); err != nil || last != 16 {
		t.Errorf("%s: last iteration of fold 1 %d, %v; want 16", name, last, err)
	}
	var parts int
	if err := db.QueryRow(`SELECT COUNT(*) FROM iterations WHERE name = 'metric_loss'`).Scan(&parts); err != nil || parts != n {
		t.Errorf("%s: %d metric_loss rows, %v; want %d", name, parts, err, n)
	}
	var mined int
	var minTriplets float64
	err = db.QueryRow(`SELECT COUNT(*), COALESCE(MIN(value), 0) FROM iterations WHERE name = 'tuple_miner_triplets'`).Scan(&mined, &minTriplets)
	if want := map[bool]int{true: n, false: 0}[miner]; err != nil || mined != want || miner && minTriplets <= 0 {
		t.Errorf("%s: %d rows of mined triplets (min %v), %v; want %d", name, mined, minTriplets, err, want)
	}
}

// checkResults compares the test results and aggregates in the database
// with meta_logs.
func checkResults(t *testing.T, db *sql.DB, exp, name string) {
	t.Helper()
	res, err := record.ReadResults(filepath.Join(exp, "meta_logs"))
	if err != nil {
		t.Fatal(err)
	}
	for fold, fr := range res.Test.Folds {
		var v float64
		err := db.QueryRow(`SELECT value FROM test_results WHERE fold = ? AND metric = 'precision_at_1'`, fold).Scan(&v)
		if err != nil || v != fr.Metrics["precision_at_1"] {
			t.Errorf("%s fold %d: test precision_at_1 %v, %v; want %v", name, fold, v, err, fr.Metrics["precision_at_1"])
		}
	}
	s := res.Separated["mean_average_precision_at_r"]
	var mean, se, hw, lo, hi float64
	var n int
	err = db.QueryRow(`SELECT mean, stderr, ci95_halfwidth, ci95_low, ci95_high, n FROM aggregates
		WHERE kind = 'separated' AND metric = 'mean_average_precision_at_r'`).Scan(&mean, &se, &hw, &lo, &hi, &n)
	if err != nil || mean != s.Mean || se != s.StdErr || hw != s.HalfWidth || lo != s.CILow || hi != s.CIHigh || n != 2 {
		t.Errorf("%s: separated aggregate %v %v %v %v %v %d, %v; want %+v", name, mean, se, hw, lo, hi, n, err, s)
	}
	if lo < 0 || hi > 1 {
		t.Errorf("%s: interval [%v, %v] not clipped to [0, 1]", name, lo, hi)
	}
	var cat float64
	err = db.QueryRow(`SELECT mean FROM aggregates WHERE kind = 'concatenated' AND metric = 'r_precision'`).Scan(&cat)
	if err != nil || cat != res.Concatenated["r_precision"] {
		t.Errorf("%s: concatenated r_precision %v, %v; want %v", name, cat, err, res.Concatenated["r_precision"])
	}
}

// TestExperimentTensorBoard reads each experiment's session back: framing
// and checksums, its hyperparameters (the resolved config) and the final
// metrics the HParams tab shows.
func TestExperimentTensorBoard(t *testing.T) {
	root := smokeExperiments(t)
	for method := range smokeMethods {
		for dataset := range smokeDatasets {
			name := method + "_" + dataset
			exp := filepath.Join(root, name)
			events := eventtest.Read(t, filepath.Join(exp, "tensorboard", record.ExperimentEvents))
			start := events[1].Plugins["_hparams_/session_start_info"]
			hp, group, _ := eventtest.HParams(t, start.Content)
			wantLoss := map[string]string{"contrastive": "loss_funcs.metric_loss.ContrastiveLoss.pos_margin",
				"triplet": "loss_funcs.metric_loss.TripletMarginLoss.margin"}[method]
			if _, ok := hp[wantLoss]; group != name || !ok || hp["num_epochs_train"] != 2.0 {
				t.Errorf("%s: session %q with hparams %v", name, group, hp)
			}
			res, err := record.ReadResults(filepath.Join(exp, "meta_logs"))
			if err != nil {
				t.Fatal(err)
			}
			scalars := map[string][]float32{}
			for _, e := range events[2 : len(events)-1] {
				for tag, v := range e.Values {
					scalars[tag] = append(scalars[tag], v)
				}
			}
			if got := scalars["test_separated/mean_average_precision_at_r"]; len(got) != 1 || got[0] != float32(res.Separated["mean_average_precision_at_r"].Mean) {
				t.Errorf("%s: test MAP@R %v, want %v", name, got, res.Separated["mean_average_precision_at_r"].Mean)
			}
			if got := scalars["test_concatenated/precision_at_1"]; len(got) != 1 || got[0] != float32(res.Concatenated["precision_at_1"]) {
				t.Errorf("%s: concatenated P@1 %v, want %v", name, got, res.Concatenated["precision_at_1"])
			}
			if got := scalars["val_mean_over_folds/mean_average_precision_at_r"]; len(got) != 3 { // epochs 0, 1, 2
				t.Errorf("%s: validation curve %v, want 3 epochs", name, got)
			}
			if _, _, status := eventtest.HParams(t, events[len(events)-1].Plugins["_hparams_/session_end_info"].Content); status != 1 {
				t.Errorf("%s: session end status %d", name, status)
			}
		}
	}
}
