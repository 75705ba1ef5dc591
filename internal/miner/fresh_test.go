package miner

import (
	"reflect"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// TestInstancesShareNoState: a miner is decoded once and each fold takes
// config.Instance of it. Mining with one instance leaves another's first
// tuples as the first instance's were, for every registered miner and the
// subset batch miner; for those that sample, the first instance's second
// draw differs, so the comparison proves something.
func TestInstancesShareNoState(t *testing.T) {
	emb, labels := testBatch(32, 8, 4)
	for _, name := range Miners.Names() {
		t.Run(name, func(t *testing.T) {
			checkInstances(t, buildDefault(t, name), name == "DistanceWeightedMiner" || name == "UniformHistogramMiner", func(m Miner) (any, error) {
				return m.Mine(emb, 32, 8, labels)
			})
		})
	}
	t.Run("MaximumLossMiner", func(t *testing.T) {
		decoded, err := buildSubset(map[string]any{"output_batch_size": 8, "num_trials": 1,
			"loss":  map[string]any{"TripletMarginLoss": map[string]any{"triplets_per_anchor": 1}},
			"miner": map[string]any{"DistanceWeightedMiner": nil}})
		if err != nil {
			t.Fatal(err)
		}
		checkInstances(t, decoded, true, func(m SubsetMiner) (any, error) { return m.Subset(emb, 32, 8, labels) })
	})
}

// checkInstances mines twice with one instance of decoded and once with
// another.
func checkInstances[T any](t *testing.T, decoded T, samples bool, mine func(T) (any, error)) {
	t.Helper()
	a, b := config.Instance(decoded), config.Instance(decoded)
	var got [3]any
	for i, m := range []T{a, a, b} {
		var err error
		if got[i], err = mine(m); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(got[2], got[0]) {
		t.Errorf("another instance mined %v after the first mined; want %v as the first did", got[2], got[0])
	}
	if samples && reflect.DeepEqual(got[1], got[0]) {
		t.Errorf("the instance mined %v twice: its stream did not advance", got[0])
	}
}
