package data

import (
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/golden"
)

// repoDataset returns the repository's datasets/<name> folder.
func repoDataset(t testing.TB, name string) string {
	t.Helper()
	return golden.Path(t, "datasets", name)
}

// build decodes one component of a registry, failing the test on error.
func build[T any](t testing.TB, r *config.Registry[T], typ string, params map[string]any) T {
	t.Helper()
	v, _, err := r.Build(config.Component{Type: typ, Params: params, Where: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// buildErr decodes one component and returns the error.
func buildErr[T any](r *config.Registry[T], typ string, params map[string]any) error {
	_, _, err := r.Build(config.Component{Type: typ, Params: params, Where: "test"})
	return err
}
