package miner

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/golden"
)

// TestGoldenMinedIndices mines every loss+miner case of the golden data
// (testdata/golden, and testdata/pml for the miners added since, in its
// schema) with the case's miner and compares with PML's indices: as sets,
// and, since the miners keep PML's order, also in order.
func TestGoldenMinedIndices(t *testing.T) {
	cases := map[string]int{}
	for _, dir := range []string{golden.Require(t), golden.Path(t, "testdata", "pml")} {
		files, err := golden.Files(dir, "losses")
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			var c golden.LossCase
			if err := golden.Load(f, &c); err != nil {
				t.Fatal(err)
			}
			if c.Miner == nil {
				continue
			}
			cases[filepath.Base(dir)]++
			t.Run(filepath.Base(dir)+"/"+filepath.Base(f), func(t *testing.T) {
				m, err := buildGolden(c.Miner, c.MinerDistance, f)
				if err != nil {
					t.Fatal(err)
				}
				got, err := m.Mine(golden.Flatten(c.Embeddings), len(c.Labels), len(c.Embeddings[0]), c.Labels)
				if err != nil {
					t.Fatal(err)
				}
				_, symmetric := c.Miner["HDCMiner"]
				compareIndices(t, Indices(got), c.Expected.MinerIndices, symmetric)
			})
		}
	}
	if cases["golden"] != 17 {
		t.Errorf("found %d loss+miner cases in testdata/golden, want 17 (054-070)", cases["golden"])
	}
	if cases["pml"] < 2 {
		t.Errorf("found %d loss+miner cases in testdata/pml, want at least the 2 of HDCMiner", cases["pml"])
	}
}

// buildGolden builds a golden case's miner, with the case's miner distance
// nested in it when given.
func buildGolden(minerComp, distance map[string]any, source string) (Miner, error) {
	c, err := config.ParseComponent(minerComp, "miner", source)
	if err != nil {
		return nil, err
	}
	if distance != nil {
		c.Params = maps.Clone(c.Params)
		c.Params["distance"] = distance
	}
	m, _, err := Miners.Build(c)
	return m, err
}

// compareIndices checks got against want (keyed anchor/positive/negative or
// a1/p/a2/n) as multisets of tuples, then in order. For a miner that lists
// pairs by their distance (symmetric), (i, j) and (j, i) are equally far,
// and torch.topk's order between them depends on the last bit of each: the
// order is checked with each pair unordered.
func compareIndices(t *testing.T, got, want map[string][]int, symmetric bool) {
	t.Helper()
	if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want))) {
		t.Fatalf("got keys %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	groups := [][]string{{"anchor", "positive", "negative"}}
	if _, pairs := want["a1"]; pairs {
		groups = [][]string{{"a1", "p"}, {"a2", "n"}}
	}
	for _, keys := range groups {
		g, w := tuples(got, keys), tuples(want, keys)
		if !slices.Equal(slices.Sorted(slices.Values(g)), slices.Sorted(slices.Values(w))) {
			t.Errorf("%v: got %d tuples, want %d; missing %v, extra %v", keys, len(g), len(w), minus(w, g), minus(g, w))
		} else if symmetric && len(keys) == 2 {
			if !slices.Equal(unordered(got, keys), unordered(want, keys)) {
				t.Errorf("%v: same pairs as PML, in another order", keys)
			}
		} else if !slices.Equal(g, w) {
			t.Errorf("%v: same tuples as PML, in another order", keys)
		}
	}
}

// unordered lists the pairs named by keys as {min, max}.
func unordered(idx map[string][]int, keys []string) [][2]int {
	out := make([][2]int, len(idx[keys[0]]))
	for i := range out {
		a, b := idx[keys[0]][i], idx[keys[1]][i]
		out[i] = [2]int{min(a, b), max(a, b)}
	}
	return out
}

// tuples zips the lists named by keys into one string per tuple.
func tuples(idx map[string][]int, keys []string) []string {
	out := make([]string, len(idx[keys[0]]))
	for i := range out {
		for _, k := range keys {
			out[i] += fmt.Sprintf("%d,", idx[k][i])
		}
	}
	return out
}

// minus lists the elements of a not in b (at most a few, for messages).
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) && len(out) < 5 {
			out = append(out, "("+x+")")
		}
	}
	return out
}
