package component_test

import (
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/cli"
	"github.com/bench-ml/bench/component"
)

// asBench makes the test binary act as a researcher's bench, with the
// components below registered, for the end-to-end test.
const asBench = "COMPONENT_TEST_AS_BENCH"

func TestMain(m *testing.M) {
	registerEveryKind()
	if os.Getenv(asBench) == "1" {
		cli.Main()
	}
	os.Exit(m.Run())
}

// registerEveryKind adds one component of every kind, as a program outside
// bench's internal packages does.
func registerEveryKind() {
	component.Trainers.Register("NormPenalty", func(p *component.Params) component.Trainer {
		return normPenalty{weight: p.Float("weight", 0.1, component.Min(0))}
	})
	component.Datasets.Register("Stripes", newStripes)
	component.Trunks.Register("TinyConvNet", func(p *component.Params) component.Trunk {
		return preset(p, component.Trunks, "{ConvNet: {channels: [8, 16]}}")
	})
	component.Embedders.Register("Narrow", func(p *component.Params) component.Embedder {
		return preset(p, component.Embedders, fmt.Sprintf("{MLP: {layer_sizes: [%d]}}", p.Int("size", 16, component.Min(1))))
	})
	component.Losses.Register("Scaled", newScaled)
	component.Distances.Register("Manhattan", func(*component.Params) component.Distance { return manhattan{} })
	component.Reducers.Register("SquaredMeanReducer", func(*component.Params) component.Reducer {
		return component.ReducerFunc(func(t *component.Tape, _ string, losses *component.Node) (*component.Node, error) {
			return t.Mean(t.Square(losses)), nil
		})
	})
	component.Regularizers.Register("MaxNormRegularizer", func(*component.Params) component.Regularizer {
		return component.RegularizerFunc(func(t *component.Tape, x *component.Node) (*component.Node, error) {
			norms := t.Sqrt(t.RowSums(t.Square(x)))
			return t.Gather(norms, []int{slices.Index(norms.Value, slices.Max(norms.Value))}), nil
		})
	})
	component.Miners.Register("NearestNegativeMiner", newNearestNegative)
	component.Samplers.Register("ClassBlockSampler", newClassBlockSampler)
	component.Transforms.Register("Invert", func(*component.Params) component.Transform {
		return component.ImageFunc(invert)
	})
}

// TestEveryKind: a run whose config names a component of every kind
// registered from outside bench's internal packages trains, tests and saves
// their resolved parameters.
func TestEveryKind(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	root := t.TempDir()
	out, err := runBench(t, "run", "--experiment_name", "kinds", "--root_experiment_folder", root,
		"--root_config_folder", "testdata/configs", "--config_general", "default", "smoke", "custom",
		"--num_epochs_train", "1", "--iterations_per_epoch", "3")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var saved strings.Builder
	files, _ := filepath.Glob(filepath.Join(root, "kinds", "configs", "*.yaml"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		saved.Write(b)
	}
	for _, want := range []string{"NormPenalty:", "weight: 0.05", "Stripes:", "per_class: 8", "TinyConvNet:", "Narrow:", "size: 16", "Scaled:", "scale: 2",
		"Manhattan:", "SquaredMeanReducer:", "MaxNormRegularizer:", "NearestNegativeMiner:", "LpDistance:", "ClassBlockSampler:", "m: 4", "Invert:"} {
		if !strings.Contains(saved.String(), want) {
			t.Errorf("saved configs lack %q:\n%s", want, saved.String())
		}
	}
	// The trainer's own loss is recorded beside metric_loss.
	losses, err := os.ReadFile(filepath.Join(root, "kinds", "Test50_50_Partitions2_0", "records", "losses.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if header, _, _ := strings.Cut(string(losses), "\n"); !strings.Contains(header, "norm_penalty") || !strings.Contains(header, "metric_loss") {
		t.Errorf("losses.csv records %q; want norm_penalty and metric_loss", header)
	}
}

// TestCustomParamsChecked: a custom component's bad parameter stops a run
// before it starts, with one line naming the key path.
func TestCustomParamsChecked(t *testing.T) {
	for _, c := range []struct{ flag, value, want string }{
		{"--loss_funcs", "{metric_loss: {Scaled: {scale: 0}}}", "--loss_funcs: loss_funcs.metric_loss.Scaled.scale: 0 is out of range: must be > 0"},
		{"--trainer", "{NormPenalty: {weight: -1}}", "--trainer: trainer.NormPenalty.weight: -1 is out of range: must be >= 0"},
	} {
		root := t.TempDir()
		out, err := runBench(t, "run", "--experiment_name", "bad", "--root_experiment_folder", root,
			"--root_config_folder", "testdata/configs", "--config_general", "default", "smoke", "custom", c.flag, c.value)
		if code := exitCode(err); code != 1 || !strings.Contains(out, c.want) {
			t.Errorf("%s %s: exit code %d, output:\n%s", c.flag, c.value, code, out)
		}
		if _, err := os.Stat(filepath.Join(root, "bad")); !os.IsNotExist(err) {
			t.Errorf("a refused run wrote %s", filepath.Join(root, "bad"))
		}
	}
}

func runBench(t *testing.T, args ...string) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), asBench+"=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// normPenalty is MetricLossOnly plus weight times the batch's mean squared
// embedding norm, recorded as norm_penalty.
type normPenalty struct {
	component.MetricLossOnly
	weight float64
}

func (t normPenalty) Start(*component.Fold) (component.Behaviour, error) { return t, nil }

func (t normPenalty) Losses(s *component.Step) error {
	if err := t.MetricLossOnly.Losses(s); err != nil {
		return err
	}
	n := float64(len(s.Labels))
	var sum float64
	g := make([]float64, len(s.Emb))
	for i, v := range s.Emb {
		sum += v * v
		g[i] = 2 * v / n
	}
	s.Total += t.weight * sum / n
	s.Parts["norm_penalty"] = sum / n
	component.Accumulate(&s.DEmb, g, t.weight)
	return nil
}

// preset builds a built-in component with fixed parameters: a trunk or an
// embedder is a preset of a built-in one, as their networks are built by
// bench's internal layers.
func preset[T any](p *component.Params, r component.Registry[T], yaml string) T {
	v, err := r.New(yaml)
	if err != nil {
		p.Fail("", "%v", err)
	}
	return v
}

// stripes is a dataset of grey images of horizontal stripes, one period per
// class, with noise.
type stripes struct {
	classes, perClass, size int
}

func newStripes(p *component.Params) component.Opener {
	s := stripes{
		classes:  p.Int("classes", 10, component.Min(2)),
		perClass: p.Int("per_class", 10, component.Min(2)),
		size:     p.Int("size", 32, component.Min(8)),
	}
	return func(string) (component.Dataset, error) { return s, nil }
}

func (s stripes) Len() int            { return s.classes * s.perClass }
func (s stripes) Label(i int) int     { return i / s.perClass }
func (s stripes) Source(i int) string { return fmt.Sprintf("stripes %d", i) }
func (s stripes) Shape() component.Shape {
	return component.Shape{C: 1, H: s.size, W: s.size}
}
func (s stripes) Classes() []string {
	names := make([]string, s.classes)
	for c := range names {
		names[c] = fmt.Sprintf("period%03d", c+2)
	}
	return names
}
func (s stripes) Image(i int) (image.Image, error) {
	rng := rand.New(rand.NewPCG(uint64(i), 0))
	period := s.Label(i) + 2
	img := image.NewGray(image.Rect(0, 0, s.size, s.size))
	for y := range s.size {
		for x := range s.size {
			v := 40 + rng.IntN(40)
			if (y/period)%2 == 0 {
				v += 140
			}
			img.SetGray(x, y, color.Gray{Y: uint8(v)})
		}
	}
	return img, nil
}

func invert(img image.Image, _ *rand.Rand) image.Image {
	b := img.Bounds()
	out := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.SetGray(x, y, color.Gray{Y: 255 - color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y})
		}
	}
	return out
}

// scaled multiplies another loss by a constant.
type scaled struct {
	component.Loss
	scale float64
}

func newScaled(p *component.Params) component.Loss {
	return scaled{scale: p.Float("scale", 1, component.Above(0)), Loss: component.Losses.Param(p, "loss", "ContrastiveLoss")}
}

// Fresh gives each fold its own instance of the inner loss, which may keep
// state (a triplet stream, class weights).
func (s scaled) Fresh() component.Loss {
	s.Loss = component.Instance(s.Loss)
	return s
}

func (s scaled) Compute(emb []float64, n, d int, labels []int, tuples *component.Tuples) (float64, []float64, error) {
	v, grad, err := s.Loss.Compute(emb, n, d, labels, tuples)
	for i := range grad {
		grad[i] *= s.scale
	}
	return s.scale * v, grad, err
}

// manhattan is the L1 distance.
type manhattan struct{}

func (manhattan) Inverted() bool { return false }
func (manhattan) Node(t *component.Tape, x, y *component.Node) *component.Node {
	return t.PairwiseLp(x, y, 1)
}
func (m manhattan) Matrix(x []float64, n int, y []float64, k int, d int) []float64 {
	var t component.Tape
	return m.Node(&t, t.Const(x, n, d), t.Const(y, k, d)).Value
}

// nearestNegative keeps every positive pair and each anchor's nearest
// negative.
type nearestNegative struct{ dist component.Distance }

func newNearestNegative(p *component.Params) component.Miner {
	return nearestNegative{dist: component.Distances.Param(p, "distance", "LpDistance")}
}

func (m nearestNegative) Mine(emb []float64, n, d int, labels []int) (*component.Tuples, error) {
	mat := m.dist.Matrix(emb, n, emb, n, d)
	t := &component.Tuples{}
	for a := range n {
		nearest := -1
		for j := range n {
			switch {
			case labels[j] == labels[a] && j != a:
				t.A1, t.P = append(t.A1, a), append(t.P, j)
			case labels[j] != labels[a] && (nearest < 0 || closer(m.dist, mat[a*n+j], mat[a*n+nearest])):
				nearest = j
			}
		}
		if nearest >= 0 {
			t.A2, t.N = append(t.A2, a), append(t.N, nearest)
		}
	}
	return t, nil
}

func closer(dist component.Distance, a, b float64) bool {
	if dist.Inverted() {
		return a > b
	}
	return a < b
}

// classBlockSampler draws batches of m items of batchSize/m classes, the
// classes in blocks of a seeded permutation.
type classBlockSampler struct {
	classes  [][]int
	m, batch int
	seed     uint64
}

func newClassBlockSampler(p *component.Params) component.SamplerFactory {
	m := p.Int("m", 4, component.Min(1))
	return func(ds component.Dataset, indices []int, batchSize int, seed uint64) (component.Sampler, error) {
		byLabel := map[int][]int{}
		for _, i := range indices {
			byLabel[ds.Label(i)] = append(byLabel[ds.Label(i)], i)
		}
		if batchSize%m != 0 || batchSize/m > len(byLabel) {
			return nil, fmt.Errorf("ClassBlockSampler: batch_size %d is not m (%d) times at most the %d classes", batchSize, m, len(byLabel))
		}
		s := &classBlockSampler{m: m, batch: batchSize, seed: seed}
		for l := range len(ds.Classes()) {
			if items := byLabel[l]; len(items) > 0 {
				s.classes = append(s.classes, items)
			}
		}
		return s, nil
	}
}

func (s *classBlockSampler) Len() int { return max(1, len(s.classes)*s.m/s.batch) }

func (s *classBlockSampler) Batch(step int) []int {
	rng := rand.New(rand.NewPCG(s.seed, uint64(step)))
	var batch []int
	for _, c := range rng.Perm(len(s.classes))[:s.batch/s.m] {
		for range s.m {
			batch = append(batch, s.classes[c][rng.IntN(len(s.classes[c]))])
		}
	}
	return batch
}
