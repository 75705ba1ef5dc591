package component_test

import (
	"fmt"

	"github.com/bench-ml/bench/component"
)

// A loss registered under a config name. Its constructor reads each
// parameter with its default and checks; New builds it from the YAML a
// config would hold, which is also how to test it.
func ExampleRegistry_Register() {
	// HalfSquaredNormLoss is scale/2 times the mean squared norm of the
	// embeddings: a regulariser, as a minimal loss.
	component.Losses.Register("HalfSquaredNormLoss", func(p *component.Params) component.Loss {
		return halfSquaredNorm{scale: p.Float("scale", 1, component.Above(0))}
	})

	l, err := component.Losses.New("{HalfSquaredNormLoss: {scale: 2}}")
	if err != nil {
		fmt.Println(err)
		return
	}
	value, grad, _ := l.Compute([]float64{1, 2, 0, 1}, 2, 2, []int{0, 1}, nil)
	fmt.Println(value, grad)

	_, err = component.Losses.New("{HalfSquaredNormLoss: {scale: -1}}")
	fmt.Println(err)
	_, err = component.Losses.New("{HalfSquaredNormLoss: {sacle: 1}}")
	fmt.Println(err)
	// Output:
	// 3 [1 2 0 1]
	// HalfSquaredNormLoss.scale: -1 is out of range: must be > 0
	// HalfSquaredNormLoss.sacle: unknown parameter; allowed: scale
}

type halfSquaredNorm struct{ scale float64 }

func (h halfSquaredNorm) Compute(emb []float64, n, d int, labels []int, tuples *component.Tuples) (float64, []float64, error) {
	var sum float64
	grad := make([]float64, len(emb))
	for i, x := range emb {
		sum += x * x
		grad[i] = h.scale * x / float64(n)
	}
	return h.scale / 2 * sum / float64(n), grad, nil
}

func (halfSquaredNorm) Weights() []*component.Weight { return nil }

// A component parameter that is itself a component, here a miner's
// distance: any registered distance, LpDistance with its defaults when the
// key is absent. Computing on a Tape gives the gradient too, which a loss
// uses.
func ExampleRegistry_Param() {
	component.Miners.Register("ClosePairsMiner", func(p *component.Params) component.Miner {
		return closePairs{
			dist:      component.Distances.Param(p, "distance", "LpDistance"),
			threshold: p.Float("threshold", 0.5),
		}
	})
	m, err := component.Miners.New("{ClosePairsMiner: {distance: {LpDistance: {normalize_embeddings: false}}, threshold: 1.5}}")
	if err != nil {
		fmt.Println(err)
		return
	}
	tuples, _ := m.Mine([]float64{0, 0, 1, 0, 3, 0}, 3, 2, []int{0, 0, 1})
	fmt.Println("positive pairs", tuples.A1, tuples.P, "negative pairs", tuples.A2, tuples.N)
	// Output:
	// positive pairs [0 1] [1 0] negative pairs [] []
}

// closePairs keeps the pairs of a batch closer than a threshold.
type closePairs struct {
	dist      component.Distance
	threshold float64
}

func (c closePairs) Mine(emb []float64, n, d int, labels []int) (*component.Tuples, error) {
	mat := c.dist.Matrix(emb, n, emb, n, d)
	t := &component.Tuples{}
	for i := range n {
		for j := range n {
			close := mat[i*n+j] < c.threshold
			if c.dist.Inverted() {
				close = mat[i*n+j] > c.threshold
			}
			switch {
			case i == j || !close:
			case labels[i] == labels[j]:
				t.A1, t.P = append(t.A1, i), append(t.P, j)
			default:
				t.A2, t.N = append(t.A2, i), append(t.N, j)
			}
		}
	}
	return t, nil
}

// A reducer from a function, which every built-in loss can then take as
// its reducer parameter.
func ExampleReducerFunc() {
	component.Reducers.Register("MaxReducer", func(*component.Params) component.Reducer {
		return component.ReducerFunc(func(t *component.Tape, _ string, losses *component.Node) (*component.Node, error) {
			largest := 0
			for i, v := range losses.Value {
				if v > losses.Value[largest] {
					largest = i
				}
			}
			return t.Gather(losses, []int{largest}), nil
		})
	})
	l, err := component.Losses.New("{TripletMarginLoss: {margin: 0.5, reducer: {MaxReducer: {}}}}")
	if err != nil {
		fmt.Println(err)
		return
	}
	value, _, _ := l.Compute([]float64{1, 0, 0, 1, 1, 0.1}, 3, 2, []int{0, 0, 1}, nil)
	fmt.Printf("%.4f\n", value)
	// Output:
	// 1.8146
}

// A loss with state, here a running mean of the batches' losses: the
// constructor runs once per run and each fold trains Instance of it, so
// Fresh gives each fold a mean of its own from the start.
func ExampleInstance() {
	component.Losses.Register("RunningNormLoss", func(p *component.Params) component.Loss {
		return &runningNorm{decay: p.Float("decay", 0.9, component.Min(0), component.Max(1)), mean: 1}
	})
	decoded, err := component.Losses.New("{RunningNormLoss: {decay: 0.5}}")
	if err != nil {
		fmt.Println(err)
		return
	}
	fold1, fold2 := component.Instance(decoded), component.Instance(decoded)
	emb := []float64{2, 0, 0, 2}
	first, _, _ := fold1.Compute(emb, 2, 2, []int{0, 1}, nil)
	second, _, _ := fold1.Compute(emb, 2, 2, []int{0, 1}, nil)
	other, _, _ := fold2.Compute(emb, 2, 2, []int{0, 1}, nil)
	fmt.Println(first, second, other)
	// Output:
	// 4 1.6 4
}

// runningNorm is the batch's mean squared norm divided by a running mean
// of the earlier batches' (1 before the first).
type runningNorm struct{ decay, mean float64 }

// Fresh implements component.Stateful.
func (r *runningNorm) Fresh() component.Loss { return &runningNorm{decay: r.decay, mean: 1} }

func (r *runningNorm) Compute(emb []float64, n, d int, labels []int, tuples *component.Tuples) (float64, []float64, error) {
	var norm float64
	grad := make([]float64, len(emb))
	for i, x := range emb {
		norm += x * x / float64(n)
		grad[i] = 2 * x / float64(n) / r.mean
	}
	value := norm / r.mean
	r.mean = r.decay*r.mean + (1-r.decay)*norm
	return value, grad, nil
}

func (*runningNorm) Weights() []*component.Weight { return nil }
