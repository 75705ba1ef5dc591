// Package golden reads the reference data computed with pytorch-metric-learning
// (testdata/golden, described in its README.md) for tests, and locates the
// repository's own fixtures: tests read nothing outside the repository.
package golden

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Root finds the repository root by walking up from the working directory
// (a test runs in its package directory) to the folder holding go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if st, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && st.Mode().IsRegular() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("golden: no go.mod above the working directory")
		}
		dir = parent
	}
}

// TB is the part of testing.TB that Path uses (kept as an interface so that
// this package does not import testing).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Path returns a file or folder of the repository (elems relative to its
// root), failing the test when it is missing: a fixture is part of the
// repository, so its absence is a broken checkout, never a reason to skip.
func Path(t TB, elems ...string) string {
	t.Helper()
	root, err := Root()
	if err != nil {
		t.Fatalf("%v", err)
	}
	p := filepath.Join(append([]string{root}, elems...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("repository fixture missing: %v", err)
	}
	return p
}

// Require returns the golden directory, testdata/golden.
func Require(t TB) string {
	t.Helper()
	return Path(t, "testdata", "golden")
}

// Files lists the JSON files of a subdirectory ("losses" or "metrics"), sorted.
func Files(dir, sub string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, sub, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("golden: no files in %s", filepath.Join(dir, sub))
	}
	sort.Strings(files)
	return files, nil
}

// Tolerance is a file's pass criterion: |got - want| <= Abs + Rel*|want|.
type Tolerance struct {
	Rel float64 `json:"rel"`
	Abs float64 `json:"abs"`
}

// Close reports whether got agrees with want.
func (t Tolerance) Close(got, want float64) bool {
	d := got - want
	if d < 0 {
		d = -d
	}
	if want < 0 {
		want = -want
	}
	return d <= t.Abs+t.Rel*want
}

// Weights is a loss's learnable tensor as used for the case.
type Weights struct {
	Name  string      `json:"name"`
	Shape []int       `json:"shape"`
	Value [][]float64 `json:"value"`
}

// LossCase is one file of losses/. Components are the raw one-key maps
// {TypeName: params} (nil = the default), ready for config.ParseComponent.
type LossCase struct {
	Loss          map[string]any `json:"loss"`
	Distance      map[string]any `json:"distance"`
	Reducer       map[string]any `json:"reducer"`
	Miner         map[string]any `json:"miner"`
	MinerDistance map[string]any `json:"miner_distance"`
	Labels        []int          `json:"labels"`
	Embeddings    [][]float64    `json:"embeddings"`
	Weights       *Weights       `json:"weights"`
	Expected      struct {
		Value        float64          `json:"value"`
		Grad         [][]float64      `json:"grad"`
		WeightsGrad  [][]float64      `json:"weights_grad"`
		MinerIndices map[string][]int `json:"miner_indices"`
	} `json:"expected"`
	Tolerance Tolerance `json:"tolerance"`
	Notes     string    `json:"notes"`
}

// MetricCase is one file of metrics/.
type MetricCase struct {
	Query            [][]float64 `json:"query"`
	QueryLabels      []int       `json:"query_labels"`
	Reference        [][]float64 `json:"reference"` // nil: the query set against itself
	ReferenceLabels  []int       `json:"reference_labels"`
	RefIncludesQuery bool        `json:"ref_includes_query"`
	Normalize        bool        `json:"normalize"`
	K                any         `json:"k"` // nil, "max_bin_count" or a number
	KUsed            int         `json:"k_used"`
	Expected         struct {
		PrecisionAt1            float64            `json:"precision_at_1"`
		RPrecision              float64            `json:"r_precision"`
		MeanAveragePrecisionAtR float64            `json:"mean_average_precision_at_r"`
		MeanAveragePrecision    float64            `json:"mean_average_precision"`
		MeanReciprocalRank      float64            `json:"mean_reciprocal_rank"`
		RecallAtK               map[string]float64 `json:"recall_at_k"`
		RecallAtKNotLone        map[string]float64 `json:"recall_at_k_not_lone"`
	} `json:"expected"`
	NLoneQueries       int                `json:"n_lone_queries"`
	ClusterLabels      []int              `json:"cluster_labels"`
	ExpectedClustering map[string]float64 `json:"expected_clustering"` // "NMI", "AMI"
	Tolerance          Tolerance          `json:"tolerance"`
	Notes              string             `json:"notes"`
}

// Load decodes one golden file into v (*LossCase or *MetricCase).
func Load(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("golden: %s: %w", path, err)
	}
	return nil
}

// Flatten turns a row-major nested matrix into one slice.
func Flatten(m [][]float64) []float64 {
	var out []float64
	for _, row := range m {
		out = append(out, row...)
	}
	return out
}
