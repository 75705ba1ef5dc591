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

// twoLevels is a dataset of labels at two levels: class and super-class.
type twoLevels struct {
	labelled
	super []int
}

func (d twoLevels) LabelLevels() int { return 2 }
func (d twoLevels) LabelAt(level, i int) int {
	if level == 0 {
		return d.labelled[i]
	}
	return d.super[i]
}
func (d twoLevels) ClassesAt(level int) []string {
	if level == 0 {
		return d.Classes()
	}
	return labelled(d.super).Classes()
}
