package nn

import (
	"math/rand"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// component builds a registered component, failing the test on a config error.
func component[C any](t testing.TB, r *config.Registry[C], typ string, params map[string]any) C {
	t.Helper()
	c, _, err := r.Build(config.Component{Type: typ, Params: params, Where: "models.x", Source: "test.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// smallConfig is a ConvNet [4, 6] with an MLP [5] embedder and a 3-class
// classifier on 2x8x8 images, batch 4: small enough for finite differences.
func smallConfig(t testing.TB, trunk map[string]any) Config {
	if trunk == nil {
		trunk = map[string]any{"channels": []any{4, 6}}
	}
	return Config{
		Trunk:      component(t, Trunks, "ConvNet", trunk),
		Embedder:   component(t, Embedders, "MLP", map[string]any{"layer_sizes": []any{7, 5}}),
		Classifier: component(t, Classifiers, "MLP", nil),
		NumClasses: 3,
		InputShape: []int{2, 8, 8},
		BatchSize:  4,
		Seed:       1,
	}
}

func newTestModel[T Float](t testing.TB, cfg Config) *Model[T] {
	t.Helper()
	m, err := newModel[T](cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func randomInput[T Float](rng *rand.Rand, n int) []T {
	x := make([]T, n)
	for i := range x {
		x[i] = T(rng.NormFloat64())
	}
	return x
}
