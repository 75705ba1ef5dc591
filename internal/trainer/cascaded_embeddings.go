package trainer

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/nn"
)

// CascadedEmbeddings splits the embedding into consecutive slices of
// embedding_sizes; slice i is mined by tuple_miner_<i> and scored by
// metric_loss_<i>, and its classifier head models.classifier_<i> by
// classifier_loss_<i> on its logits, each optional as in PML; the
// gradients go into the slice's columns.
type CascadedEmbeddings struct {
	Base
	EmbeddingSizes []int
	heads          []string // classifier_<i> of the fold's model, in order
}

func newCascadedEmbeddings(p *config.Params) Trainer {
	sizes := p.Ints("embedding_sizes", nil, config.Min(1))
	if len(sizes) == 0 {
		p.Fail("embedding_sizes", "is required: the sizes of the consecutive embedding slices, e.g. [32, 32]")
	}
	return CascadedEmbeddings{EmbeddingSizes: sizes}
}

// checkSize reports, as a config error message, embedding sizes that do
// not add up to the model's embedding size; "" when they do.
func (c CascadedEmbeddings) checkSize(embeddingSize int) string {
	sum := 0
	for _, size := range c.EmbeddingSizes {
		sum += size
	}
	if sum == embeddingSize {
		return ""
	}
	return fmt.Sprintf("%v sums to %d; it must equal the embedding size, %d", c.EmbeddingSizes, sum, embeddingSize)
}

const sizesKey = "trainer.CascadedEmbeddings.embedding_sizes"

// sliceKey matches the per-slice names: metric_loss_0, ...
var sliceKey = regexp.MustCompile(`^(metric_loss|classifier_loss|tuple_miner)_([0-9]+)$`)

// classifierKey matches the per-slice classifier heads: classifier_0, ...
var classifierKey = regexp.MustCompile(`^classifier_([0-9]+)$`)

func (c CascadedEmbeddings) Decode(d *Decoder) {
	// The embedding size is known here unless it depends on the trunk
	// (the identity, ListOfModels); Start checks again on the built model.
	if e := d.Embedder.Value; e != nil && e.OutputSize() > 0 {
		if msg := c.checkSize(e.OutputSize()); msg != "" {
			d.Root.Fail(sizesKey, "%s", msg)
		}
	}
	n := len(c.EmbeddingSizes)
	lf, mf := d.LossFuncs, d.MiningFuncs
	start := 0
	for i, size := range c.EmbeddingSizes {
		name := fmt.Sprintf("classifier_%d", i)
		hasHead, hasLoss := Has(d.Models, name), Has(lf, "classifier_loss_"+name[len("classifier_"):])
		switch {
		case hasHead && !hasLoss:
			d.Models.Fail(name, "has no loss: add loss_funcs.classifier_loss_%d, e.g. {CrossEntropyLoss: {}}", i)
		case hasLoss && !hasHead:
			lf.Fail("classifier_loss_"+name[len("classifier_"):], "has no classifier: add models.%s, e.g. {MLP: {layer_sizes: []}}", name)
		case hasHead:
			head := config.BuildComponent(d.Models, nn.Classifiers, name, config.Component{})
			d.Heads = append(d.Heads, nn.Head{Name: name, MLP: head.Value, Start: start, Size: size})
			d.OptionalOptimizers = append(d.OptionalOptimizers, name+"_optimizer")
		}
		start += size
	}
	for _, k := range d.Models.Keys() {
		if m := classifierKey.FindStringSubmatch(k); k == "classifier" || (m != nil && !sliceIndexOK(m[1], n)) {
			d.Models.Fail(k, "unknown model for CascadedEmbeddings; allowed: trunk, embedder, classifier_<i> for i in 0..%d (one per %s)", n-1, sizesKey)
		}
	}
	allowed := fmt.Sprintf("metric_loss_<i> and classifier_loss_<i> for i in 0..%d (one per %s)", n-1, sizesKey)
	for _, key := range lf.Keys() {
		m := sliceKey.FindStringSubmatch(key)
		switch {
		case m == nil || m[1] == "tuple_miner" || !sliceIndexOK(m[2], n):
			lf.Fail(key, "unknown loss for CascadedEmbeddings; allowed: %s", allowed)
		case m[1] == "classifier_loss":
			if Has(d.Models, "classifier_"+m[2]) {
				d.Loss(key, config.C("CrossEntropyLoss", nil))
			}
		default:
			d.Loss(key, config.Component{})
		}
	}
	if len(d.Losses) == 0 {
		lf.Fail("", "CascadedEmbeddings needs at least one loss: %s", allowed)
	}
	for _, key := range mf.Keys() {
		if key == "subset_batch_miner" { // every trainer's (spec decodes it)
			continue
		}
		m := sliceKey.FindStringSubmatch(key)
		if m == nil || m[1] != "tuple_miner" || !sliceIndexOK(m[2], n) {
			mf.Fail(key, "unknown miner for CascadedEmbeddings; allowed: tuple_miner_<i> for i in 0..%d", n-1)
			continue
		}
		d.Miner(key, "metric_loss_"+m[2])
	}
}

func sliceIndexOK(digits string, n int) bool {
	i, err := strconv.Atoi(digits)
	return err == nil && i < n && strconv.Itoa(i) == digits
}

func (c CascadedEmbeddings) Start(f *Fold) (Behaviour, error) {
	if msg := c.checkSize(f.Model.EmbeddingSize()); msg != "" {
		return nil, &config.Error{Path: sizesKey, Msg: msg}
	}
	for i := range c.EmbeddingSizes {
		if _, ok := f.Losses[fmt.Sprintf("classifier_loss_%d", i)]; ok {
			c.heads = append(c.heads, fmt.Sprintf("classifier_%d", i))
		}
	}
	return c, nil
}

func (c CascadedEmbeddings) Losses(s *Step) error {
	n, d := len(s.Labels), s.Fold.Model.EmbeddingSize()
	start := 0
	for i, size := range c.EmbeddingSizes {
		slice := columns(s.Emb, n, d, start, size)
		tuples, err := s.Mine(fmt.Sprintf("tuple_miner_%d", i), slice, n, size)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("metric_loss_%d", i)
		var g []float64
		if _, ok := s.Fold.Losses[name]; ok {
			if err := s.Add(name, slice, n, size, s.Labels, tuples, &g, 1); err != nil {
				return err
			}
		}
		if g != nil {
			if s.DEmb == nil {
				s.DEmb = make([]float64, n*d)
			}
			setColumns(s.DEmb, n, d, start, size, g)
		}
		start += size
	}
	return c.headLosses(s)
}

// headLosses adds classifier_loss_<i> of each head on its logits, which
// the model puts side by side in head order.
func (c CascadedEmbeddings) headLosses(s *Step) error {
	heads := len(c.heads)
	if heads == 0 {
		return nil
	}
	n, k := len(s.Labels), s.Fold.Model.NumClasses()
	all := eval.Convert[float64](s.Out.Logits)
	for h, name := range c.heads {
		logits := columns(all, n, heads*k, h*k, k)
		var g []float64
		if err := s.Add("classifier_loss_"+name[len("classifier_"):], logits, n, k, s.Labels, nil, &g, 1); err != nil {
			return err
		}
		if g == nil {
			continue
		}
		if s.DLogits == nil {
			s.DLogits = make([]float64, len(all))
		}
		setColumns(s.DLogits, n, heads*k, h*k, k, g)
	}
	return nil
}

// columns copies columns start..start+size of the n x width row-major m.
func columns(m []float64, n, width, start, size int) []float64 {
	out := make([]float64, n*size)
	for r := range n {
		copy(out[r*size:(r+1)*size], m[r*width+start:r*width+start+size])
	}
	return out
}

// setColumns writes the n x size block g into columns start..start+size of
// the n x width row-major m.
func setColumns(m []float64, n, width, start, size int, g []float64) {
	for r := range n {
		copy(m[r*width+start:r*width+start+size], g[r*size:(r+1)*size])
	}
}
