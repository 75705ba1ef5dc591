package loss

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
)

// testBatch is a random batch of 12 embeddings of size 6, 3 classes of 4.
func testBatch(seed uint64) (emb []float64, n, d int, labels []int) {
	n, d = 12, 6
	rng := rand.New(rand.NewPCG(seed, 3))
	emb = make([]float64, n*d)
	for i := range emb {
		emb[i] = rng.NormFloat64()
	}
	labels = make([]int, n)
	for i := range labels {
		labels[i] = i % 3
	}
	return emb, n, d, labels
}

// testTuples are miner outputs over testBatch's labels, in both forms.
var testTuples = map[string]*Tuples{
	"all": nil,
	"pairs": {A1: []int{0, 3, 3, 1, 7}, P: []int{3, 0, 6, 4, 10}, A2: []int{0, 0, 3, 1, 7, 7},
		N: []int{1, 2, 5, 2, 8, 0}},
	"triplets": {Triplets: true, Anchor: []int{0, 0, 3, 1, 7, 7}, Positive: []int{3, 6, 0, 4, 10, 1},
		Negative: []int{1, 2, 5, 2, 8, 0}},
}

// requiredParams are the parameters a loss cannot be built without (PML's
// constructor has no default for them): defaultsOf adds them.
var requiredParams = map[string]map[string]any{
	"RankedListLoss": {"margin": 0.4, "Tn": 1.0},
	// Its inner loss; a memory of two test batches.
	"CrossBatchMemory": {"loss": map[string]any{"ContrastiveLoss": map[string]any{}}, "memory_size": 24},
}

// defaultsOf is the loss with its defaults, and its required parameters.
func defaultsOf(name string) config.Component {
	params := map[string]any{}
	for k, v := range requiredParams[name] {
		params[k] = v
	}
	return config.C(name, params)
}

// refusesTuples are the losses that, as PML's, fail when a miner gives
// them tuples.
var refusesTuples = []string{"RankedListLoss", "PNPLoss", "InstanceLoss", "P2SGradLoss", "CrossBatchMemory"}

// gradientCases are configurations beyond the defaults whose gradients are
// checked, to cover every distance and option.
var gradientCases = []config.Component{
	config.C("ContrastiveLoss", map[string]any{"distance": map[string]any{"LpDistance": map[string]any{"p": 1.5, "power": 2, "normalize_embeddings": false}}, "neg_margin": 20.0}),
	config.C("ContrastiveLoss", map[string]any{"distance": map[string]any{"CosineSimilarity": map[string]any{}}, "pos_margin": 0.9, "neg_margin": -0.2}),
	config.C("ContrastiveLoss", map[string]any{"distance": map[string]any{"DotProductSimilarity": map[string]any{"normalize_embeddings": false}}, "pos_margin": 3.0, "neg_margin": -1.0}),
	config.C("ContrastiveLoss", map[string]any{"reducer": map[string]any{"MeanReducer": map[string]any{}}}),
	config.C("ContrastiveLoss", map[string]any{"reducer": map[string]any{"SumReducer": map[string]any{}}}),
	config.C("ContrastiveLoss", map[string]any{"reducer": map[string]any{"ThresholdReducer": map[string]any{"low": 0.1, "high": 0.9}}}),
	config.C("TripletMarginLoss", map[string]any{"swap": true, "margin": 0.3}),
	config.C("TripletMarginLoss", map[string]any{"smooth_loss": true}),
	config.C("TripletMarginLoss", map[string]any{"distance": map[string]any{"SNRDistance": map[string]any{}}, "margin": 0.5}),
	config.C("MarginLoss", map[string]any{"learn_beta": true, "nu": 0.1, "num_classes": 3}),
	config.C("MarginLoss", map[string]any{"learn_beta": true, "nu": 0.1, "distance": map[string]any{"CosineSimilarity": map[string]any{}}, "beta": 0.3}),
	config.C("MultiSimilarityLoss", map[string]any{"distance": map[string]any{"LpDistance": map[string]any{}}}),
	config.C("NTXentLoss", map[string]any{"distance": map[string]any{"LpDistance": map[string]any{}}, "temperature": 0.5}),
	config.C("SupConLoss", map[string]any{"distance": map[string]any{"LpDistance": map[string]any{}}}),
	config.C("FastAPLoss", map[string]any{"distance": map[string]any{"LpDistance": map[string]any{"power": 1}}, "num_bins": 4}),
	config.C("ProxyAnchorLoss", map[string]any{"reducer": map[string]any{"MeanReducer": map[string]any{}}}),
	config.C("NormalizedSoftmaxLoss", map[string]any{"distance": map[string]any{"CosineSimilarity": map[string]any{}}}),
	config.C("SoftTripleLoss", map[string]any{"centers_per_class": 2}),
	config.C("AngularLoss", map[string]any{"alpha": 30, "reducer": map[string]any{"SumReducer": map[string]any{}}}),
	config.C("NPairsLoss", map[string]any{"distance": map[string]any{"LpDistance": map[string]any{}}}),
	config.C("NPairsLoss", map[string]any{"distance": map[string]any{"CosineSimilarity": map[string]any{}}}),
	config.C("IntraPairVarianceLoss", map[string]any{"distance": map[string]any{"LpDistance": map[string]any{"power": 2}}, "pos_eps": 0.05}),
	config.C("IntraPairVarianceLoss", map[string]any{"reducer": map[string]any{"AvgNonZeroReducer": map[string]any{}}, "neg_eps": 0}),
	config.C("InstanceLoss", map[string]any{"gamma": 8.0}),
	config.C("RankedListLoss", map[string]any{"margin": 0.6, "Tn": 3.0, "Tp": 2.0, "imbalance": 0.3}),
	config.C("PNPLoss", map[string]any{"variant": "Ds", "anneal": 0.1}),
	config.C("PNPLoss", map[string]any{"variant": "Dq", "alpha": 2.0}),
	config.C("PNPLoss", map[string]any{"variant": "Iu"}),
	config.C("PNPLoss", map[string]any{"variant": "Ib", "b": 3.0}),
	config.C("HistogramLoss", map[string]any{"n_bins": 10}),
	config.C("HistogramLoss", map[string]any{"delta": 0.3}),
	config.C("LargeMarginSoftmaxLoss", map[string]any{"margin": 3, "scale": 2}),
	config.C("LargeMarginSoftmaxLoss", map[string]any{"margin": 1, "distance": map[string]any{"CosineSimilarity": map[string]any{"p": 3}}}),
	config.C("SphereFaceLoss", map[string]any{"margin": 3, "scale": 2}),
	config.C("SubCenterArcFaceLoss", map[string]any{"sub_centers": 2, "margin": 100}),
	config.C("P2SGradLoss", map[string]any{"descriptors_dim": 6, "num_classes": 9}),
	config.C("DynamicSoftMarginLoss", map[string]any{"min_val": -2.5, "num_bins": 7, "momentum": 0.3}),
	config.C("DynamicSoftMarginLoss", map[string]any{"min_val": -1, "num_bins": 4, "momentum": 0.5}), // x beyond the bins
	config.C("ThresholdConsistentMarginLoss", map[string]any{"lambda_plus": 0.5, "lambda_minus": 2.0, "margin_plus": 0.3, "margin_minus": -0.2}),
}

// historyLosses are the losses whose value depends on the batches they saw
// before (DynamicSoftMarginLoss's histogram, CrossBatchMemory's queue).
var historyLosses = []string{"DynamicSoftMarginLoss", "CrossBatchMemory"}

// TestGradientsFiniteDifference checks every registered loss (with its
// defaults, and the cases above) against central finite differences of its
// value, for the embeddings and the weights, without a miner and with pair
// and triplet tuples. CircleLoss's gradient treats its weights as constants,
// as PML's, so it is checked against the loss with those weights frozen. A
// loss of historyLosses is checked on its second batch, so that its state
// counts: every evaluation is a fresh copy that saw the same first batch.
// P2SGradLoss renormalises its weights before each batch outside the graph,
// as PML, so its gradient is checked against the loss of the weights as
// they are (p2sGradDirect), whose value Compute's must be. The losses that
// refuse a miner's tuples must fail with them, naming the loss; their
// gradient is checked without a miner. CrossBatchMemory's memory is a
// constant of its gradient, so the differences hold it fixed
// (fixedMemory).
func TestGradientsFiniteDifference(t *testing.T) {
	cases := append([]config.Component(nil), gradientCases...)
	for _, name := range Losses.Names() {
		cases = append(cases, defaultsOf(name))
	}
	for _, c := range cases {
		for tname, tuples := range testTuples {
			t.Run(c.Type+"/"+tname, func(t *testing.T) {
				l, emb, n, d, labels := buildForTest(t, c)
				seeFirst := func(Loss) {}
				if contains(historyLosses, c.Type) {
					first, _, _, firstLabels := testBatch(2)
					firstTuples := tuples
					if contains(refusesTuples, c.Type) {
						firstTuples = nil // the second batch's tuples are the ones refused
					}
					seeFirst = func(l Loss) {
						if _, _, err := l.Compute(first, n, d, firstLabels, firstTuples); err != nil {
							t.Fatal(err)
						}
					}
				}
				seeFirst(l)
				value, grad, err := l.Compute(emb, n, d, labels, tuples)
				if tuples != nil && contains(refusesTuples, c.Type) {
					if err == nil || !strings.Contains(err.Error(), c.Type) || !strings.Contains(err.Error(), "miner") {
						t.Fatalf("with a miner's tuples: error %v, want one naming %s and the miner", err, c.Type)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if value == 0 && tname == "all" && c.Type != "CrossEntropyLoss" {
					t.Fatalf("the loss is 0 on the test batch: the check would prove nothing")
				}
				f := func() float64 {
					v, _, err := l.Compute(emb, n, d, labels, tuples)
					if err != nil {
						t.Fatal(err)
					}
					return v
				}
				if contains(historyLosses, c.Type) {
					f = func() float64 {
						fresh := config.Instance(l)
						seeFirst(fresh)
						v, _, err := fresh.Compute(emb, n, d, labels, tuples)
						if err != nil {
							t.Fatal(err)
						}
						return v
					}
				}
				if c.Type == "CrossBatchMemory" {
					f = fixedMemory(t, l, seeFirst, emb, n, d, labels)
				}
				if c.Type == "P2SGradLoss" {
					w := l.Weights()[0]
					f = func() float64 { return p2sGradDirect(emb, n, d, labels, w.Value, w.Shape[1]) }
					if direct := f(); math.Abs(direct-value) > 1e-12*math.Abs(value) {
						t.Fatalf("value %.17g, but %.17g with the renormalised weights", value, direct)
					}
				}
				if c.Type == "CircleLoss" {
					frozen := CosineSimilarityMatrix(emb, n, d)
					f = func() float64 { return circleFrozen(emb, n, d, labels, tuples, frozen) }
				}
				checkFiniteDifference(t, "embeddings", emb, grad, f)
				for _, w := range l.Weights() {
					checkFiniteDifference(t, w.Name, w.Value, append([]float64(nil), w.Grad...), f)
				}
			})
		}
	}
}

// buildForTest builds a loss for testBatch, shaping and initialising its
// weights; CrossEntropyLoss gets 3-class logits.
func buildForTest(t *testing.T, c config.Component) (Loss, []float64, int, int, []int) {
	t.Helper()
	l, _, err := Losses.Build(c)
	if err != nil {
		t.Fatal(err)
	}
	emb, n, d, labels := testBatchFor(c.Type)
	shapeForTest(t, l, d)
	return l, emb, n, d, labels
}

// testBatchFor is testBatch(1) as the loss typ takes it: CrossEntropyLoss's
// is 3-class logits.
func testBatchFor(typ string) (emb []float64, n, d int, labels []int) {
	emb, n, d, labels = testBatch(1)
	if typ == "CrossEntropyLoss" {
		d = 3
		emb = emb[:n*d]
	}
	return emb, n, d, labels
}

// shapeForTest sizes a loss with class weights for testBatch's classes and
// embeddings of size d, and draws its weights.
func shapeForTest(t *testing.T, l Loss, d int) {
	t.Helper()
	if s, ok := l.(Shaped); ok {
		if err := s.SetShape(6, d); err != nil { // more classes than the batch has
			t.Fatal(err)
		}
		s.InitWeights(rand.New(rand.NewPCG(5, 6)))
	}
}

// checkFiniteDifference compares grad with central differences of f in x.
func checkFiniteDifference(t *testing.T, what string, x, grad []float64, f func() float64) {
	t.Helper()
	const h, tol = 1e-6, 1e-5
	bad := 0
	for i := range x {
		v := x[i]
		x[i] = v + h
		up := f()
		x[i] = v - h
		down := f()
		x[i] = v
		want := (up - down) / (2 * h)
		if math.Abs(grad[i]-want) > tol*(1+math.Abs(want)) {
			if bad < 3 {
				t.Errorf("d/d %s[%d] = %.10g, finite difference %.10g", what, i, grad[i], want)
			}
			bad++
		}
	}
}

// CosineSimilarityMatrix is the cosine matrix of a batch.
func CosineSimilarityMatrix(emb []float64, n, d int) []float64 {
	return (&CosineSimilarity{baseDistance{normalize: true, p: 2, power: 1}}).Matrix(emb, n, emb, n, d)
}

// circleFrozen is CircleLoss with its default m and gamma, written out
// directly, with the weights a_p, a_n taken from the similarities frozen
// rather than the current ones: the function whose gradient PML's CircleLoss
// returns.
func circleFrozen(emb []float64, n, d int, labels []int, tuples *Tuples, frozen []float64) float64 {
	a1, p, a2, neg := tuples.AsPairs(labels)
	return circleFrozenRef(emb, n, emb, n, d, a1, p, a2, neg)(frozen)
}

// circleFrozenRef is circleFrozen of n anchors against m references (ref,
// constant) on the pairs (a1, p), (a2, neg), frozen n x m.
func circleFrozenRef(emb []float64, n int, ref []float64, m, d int, a1, p, a2, neg []int) func(frozen []float64) float64 {
	const margin, gamma = 0.4, 80.0
	return func(frozen []float64) float64 {
		s := (&CosineSimilarity{baseDistance{normalize: true, p: 2, power: 1}}).Matrix(emb, n, ref, m, d)
		pos, negs := refPairMasks(n, m, a1, p, a2, neg)
		sum, count := 0.0, 0
		for i := range n {
			var pl, nl []float64
			for j := range m {
				k := i*m + j
				if pos[k] {
					pl = append(pl, -gamma*math.Max(1+margin-frozen[k], 0)*(s[k]-(1-margin)))
				}
				if negs[k] {
					nl = append(nl, gamma*math.Max(frozen[k]+margin, 0)*(s[k]-margin))
				}
			}
			if len(pl) == 0 || len(nl) == 0 {
				continue
			}
			if loss := math.Log1p(math.Exp(logSumExp(pl) + logSumExp(nl))); loss > 0 {
				sum += loss
				count++
			}
		}
		if count == 0 {
			return 0
		}
		return sum / float64(count)
	}
}

func logSumExp(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

// p2sGradDirect is P2SGradLoss written out directly, with the weights w (D x
// classes) used as they are, not renormalised: the function whose gradient
// PML's P2SGradLoss returns.
func p2sGradDirect(emb []float64, n, d int, labels []int, w []float64, classes int) float64 {
	sum := 0.0
	for i := range n {
		x := emb[i*d : (i+1)*d]
		norm := math.Sqrt(dotProduct(x, x))
		for c := range classes {
			dot := 0.0
			for k, v := range x {
				dot += v * w[k*classes+c]
			}
			cos, target := math.Max(-1, math.Min(1, dot/norm)), 0.0
			if labels[i] == c {
				target = 1
			}
			sum += (cos - target) * (cos - target)
		}
	}
	return sum / float64(n*classes)
}

func dotProduct(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}
