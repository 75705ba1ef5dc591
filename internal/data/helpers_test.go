package data

import (
	"errors"
	"fmt"
	"image"
	"slices"
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

// labelsOnly is a dataset of labels without images, for split managers and
// samplers.
type labelsOnly []int

func (l labelsOnly) Len() int        { return len(l) }
func (l labelsOnly) Label(i int) int { return l[i] }
func (l labelsOnly) Image(int) (image.Image, error) {
	return nil, errors.New("labelsOnly has no images")
}
func (l labelsOnly) Source(i int) string { return fmt.Sprintf("item %d", i) }
func (l labelsOnly) Shape() Shape        { return Shape{} }
func (l labelsOnly) Classes() []string {
	names := make([]string, slices.Max(l)+1)
	for c := range names {
		names[c] = fmt.Sprint(c)
	}
	return names
}

// twoLevels is a dataset of labels at two levels: class and super-class.
type twoLevels struct {
	labelsOnly
	super []int
}

func (d twoLevels) LabelLevels() int { return 2 }
func (d twoLevels) LabelAt(level, i int) int {
	if level == 0 {
		return d.labelsOnly[i]
	}
	return d.super[i]
}
func (d twoLevels) ClassesAt(level int) []string {
	if level == 0 {
		return d.Classes()
	}
	return labelsOnly(d.super).Classes()
}
