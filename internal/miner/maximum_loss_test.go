package miner

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

func buildSubset(params map[string]any) (SubsetMiner, error) {
	m, _, err := SubsetMiners.Build(config.Component{Type: "MaximumLossMiner", Params: params, Where: "mining_funcs.subset_batch_miner"})
	return m, err
}

// TestMaximumLossMinerPicksTheLargestLoss: of four items, the pair of
// class 0 lies far apart (ContrastiveLoss 1 on its positive pair) and the
// pair of class 1 coincides, and cross pairs are beyond the negative
// margin; every other pair of items has loss 0. With enough trials the
// miner returns the pair of class 0; with one trial, the first subset drawn.
func TestMaximumLossMinerPicksTheLargestLoss(t *testing.T) {
	emb := []float64{1, 0, -1, 0, 0, 3, 0, 3}
	labels := []int{0, 0, 1, 1}
	m, err := buildSubset(map[string]any{"loss": map[string]any{"ContrastiveLoss": map[string]any{"neg_margin": 1.0}},
		"output_batch_size": 2, "num_trials": 40})
	if err != nil {
		t.Fatal(err)
	}
	m.(Random).SetRand(rand.New(rand.NewPCG(3, 4)))
	idx, err := m.Subset(emb, 4, 2, labels)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(idx)
	if !slices.Equal(idx, []int{0, 1}) {
		t.Errorf("subset %v, want the far positive pair [0 1]", idx)
	}

	one, err := buildSubset(map[string]any{"loss": map[string]any{"ContrastiveLoss": nil}, "output_batch_size": 3, "num_trials": 1})
	if err != nil {
		t.Fatal(err)
	}
	one.(Random).SetRand(rand.New(rand.NewPCG(5, 6)))
	got, err := one.Subset(emb, 4, 2, labels)
	if err != nil {
		t.Fatal(err)
	}
	if want := rand.New(rand.NewPCG(5, 6)).Perm(4)[:3]; !slices.Equal(got, want) {
		t.Errorf("one trial: %v, want the first draw %v", got, want)
	}
	if _, err := one.Subset(emb[:4], 2, 2, labels[:2]); err == nil || !strings.Contains(err.Error(), "output_batch_size 3 is larger than the batch, 2") {
		t.Errorf("a batch smaller than the subset: %v", err)
	}
}

func TestMaximumLossMinerConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"loss": map[string]any{"ContrastiveLoss": nil}}, "output_batch_size: is required"},
		{map[string]any{"output_batch_size": 8}, "loss: is required"},
		{map[string]any{"output_batch_size": 8, "loss": map[string]any{"ProxyAnchorLoss": nil}}, "loss: has per-class weights"},
		{map[string]any{"output_batch_size": 8, "loss": map[string]any{"ContrastiveLoss": nil}, "miner": map[string]any{"NoSuchMiner": nil}}, `unknown miner "NoSuchMiner"`},
	} {
		if _, err := buildSubset(tc.params); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.params, err, tc.want)
		}
	}
}
