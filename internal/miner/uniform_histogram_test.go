package miner

import (
	"math"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
)

func buildUniformHistogram(t *testing.T, params map[string]any) Miner {
	t.Helper()
	m, _, err := Miners.Build(config.C("UniformHistogramMiner", params))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestUniformHistogramBins: the mined pairs are perBin draws from each
// non-empty bin of equal width between the least and largest value of the
// kind, bin by bin, each a pair of that kind lying in its bin.
func TestUniformHistogramBins(t *testing.T) {
	const n, d, bins = 24, 6, 5
	emb, labels := testBatch(n, d, 4)
	m := buildUniformHistogram(t, map[string]any{"num_bins": bins, "pos_per_bin": 3, "neg_per_bin": 2})
	got, err := m.Mine(emb, n, d, labels)
	if err != nil {
		t.Fatal(err)
	}
	lp, _, err := loss.Distances.Build(config.C("LpDistance", nil))
	if err != nil {
		t.Fatal(err)
	}
	dist := lp.Matrix(emb, n, emb, n, d)
	all := selfQuery(emb, n, d, labels).allPairs()
	for _, kind := range []struct {
		name             string
		a, b, gotA, gotB []int
		perBin           int
	}{
		{"positive", all.A1, all.P, got.A1, got.P, 3},
		{"negative", all.A2, all.N, got.A2, got.N, 2},
	} {
		values := make([]float64, len(kind.a))
		lo, hi := math.Inf(1), math.Inf(-1)
		for k := range kind.a {
			values[k] = dist[kind.a[k]*n+kind.b[k]]
			lo, hi = min(lo, values[k]), max(hi, values[k])
		}
		bin := func(v float64) int { return min(int((v-lo)/(hi-lo)*bins), bins-1) }
		var nonEmpty []int
		count := map[int]int{}
		for _, v := range values {
			if e := (v - lo) / (hi - lo) * bins; math.Round(e) > 0 && math.Round(e) < bins && math.Abs(e-math.Round(e)) < 1e-9 {
				t.Fatalf("%s value %v on a bin edge: the test would depend on rounding", kind.name, v)
			}
			if count[bin(v)]++; count[bin(v)] == 1 {
				nonEmpty = append(nonEmpty, bin(v))
			}
		}
		if len(kind.gotA) != kind.perBin*len(nonEmpty) {
			t.Fatalf("%s: %d pairs, want %d per each of %d non-empty bins", kind.name, len(kind.gotA), kind.perBin, len(nonEmpty))
		}
		// The non-empty bins in ascending order, perBin pairs each.
		nonEmpty = nil
		for b := range bins {
			if count[b] > 0 {
				nonEmpty = append(nonEmpty, b)
			}
		}
		for j := range kind.gotA {
			i, r := kind.gotA[j], kind.gotB[j]
			if same := labels[i] == labels[r]; i == r || same != (kind.name == "positive") {
				t.Fatalf("%s pair %d: (%d, %d) is not one", kind.name, j, i, r)
			}
			if want := nonEmpty[j/kind.perBin]; bin(dist[i*n+r]) != want {
				t.Errorf("%s pair %d: value %v in bin %d, want bin %d", kind.name, j, dist[i*n+r], bin(dist[i*n+r]), want)
			}
		}
	}
}

// TestUniformHistogramDrawsUniformly: within a bin every pair is equally
// likely (with replacement, as torch.multinomial of ones).
func TestUniformHistogramDrawsUniformly(t *testing.T) {
	const draws = 12000
	emb, labels := testBatch(6, 4, 3) // 2 classes of 3: 12 ordered positive pairs
	m := buildUniformHistogram(t, map[string]any{"num_bins": 1, "pos_per_bin": draws, "neg_per_bin": 1})
	got, err := m.Mine(emb, 6, 4, labels)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[[2]int]int{}
	for j := range got.A1 {
		counts[[2]int{got.A1[j], got.P[j]}]++
	}
	if len(counts) != 12 || len(got.A1) != draws || len(got.A2) != 1 {
		t.Fatalf("%d distinct positive pairs of %d drawn, %d negatives; want 12 of %d, 1", len(counts), len(got.A1), len(got.A2), draws)
	}
	mean := float64(draws) / 12
	sd := math.Sqrt(mean * (1 - 1.0/12))
	for pair, c := range counts {
		if math.Abs(float64(c)-mean) > 5*sd {
			t.Errorf("pair %v drawn %d times, want %.0f ± %.0f", pair, c, mean, 5*sd)
		}
	}
}

func TestUniformHistogramConfig(t *testing.T) {
	for _, c := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"num_bins": 0}, "num_bins: 0 is out of range"},
		{map[string]any{"pos_per_bin": 0}, "pos_per_bin: 0 is out of range"},
		{map[string]any{"num_bin": 10}, `did you mean "num_bins"`},
	} {
		_, _, err := Miners.Build(config.C("UniformHistogramMiner", c.params))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.params, err, c.want)
		}
	}
}
