package data

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// sharedDataset finds shared/datasets/<name> by walking up from the package
// directory to the folder that holds both the repository and shared/. A
// missing folder fails the test unless BENCH_NO_GOLDEN=1.
func sharedDataset(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		d := filepath.Join(dir, "shared", "datasets", name)
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			if os.Getenv("BENCH_NO_GOLDEN") == "1" {
				t.Skipf("no shared/datasets/%s above the package (BENCH_NO_GOLDEN=1)", name)
			}
			t.Fatalf("no shared/datasets/%s above the package; set BENCH_NO_GOLDEN=1 to skip", name)
		}
		dir = parent
	}
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
