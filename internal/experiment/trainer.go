package experiment

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
	"github.com/bench-ml/bench/internal/miner"
)

// The training methods, by their PML names.
const (
	MetricLossOnly                = "MetricLossOnly"
	TrainWithClassifier           = "TrainWithClassifier"
	CascadedEmbeddings            = "CascadedEmbeddings"
	DeepAdversarialMetricLearning = "DeepAdversarialMetricLearning"
)

// Trainers are the training methods. A trainer decides which models,
// losses and optimisers a step uses.
var Trainers = config.NewRegistry[Trainer]("trainer")

// Trainer is a configured training method: its name and, for the trainers
// that have parameters, those.
type Trainer struct {
	Name     string
	Cascaded *Cascaded // CascadedEmbeddings
	DAML     *DAML     // DeepAdversarialMetricLearning
}

// Cascaded holds CascadedEmbeddings' parameters: the embedding is split into
// consecutive slices of these sizes, each with its own loss and miner.
type Cascaded struct {
	EmbeddingSizes []int
}

// CheckSize reports, as a config error message, embedding sizes that do not
// add up to the model's embedding size; "" when they do.
func (c *Cascaded) CheckSize(embeddingSize int) string {
	sum := 0
	for _, size := range c.EmbeddingSizes {
		sum += size
	}
	if sum == embeddingSize {
		return ""
	}
	return fmt.Sprintf("%v sums to %d; it must equal the embedding size, %d", c.EmbeddingSizes, sum, embeddingSize)
}

// DAML holds DeepAdversarialMetricLearning's parameters: the first
// MetricAloneEpochs epochs train the metric alone, the next GAloneEpochs the
// generator alone, the rest both; the generator synthesises a negative for
// GTripletsPerAnchor random triplets per anchor.
type DAML struct {
	MetricAloneEpochs  int
	GAloneEpochs       int
	GTripletsPerAnchor int
}

func init() {
	for _, name := range []string{MetricLossOnly, TrainWithClassifier} {
		Trainers.Register(name, func(*config.Params) Trainer { return Trainer{Name: name} })
	}
	Trainers.Register(CascadedEmbeddings, func(p *config.Params) Trainer {
		sizes := p.Ints("embedding_sizes", nil, config.Min(1))
		if len(sizes) == 0 {
			p.Fail("embedding_sizes", "is required: the sizes of the consecutive embedding slices, e.g. [32, 32]")
		}
		return Trainer{Name: CascadedEmbeddings, Cascaded: &Cascaded{EmbeddingSizes: sizes}}
	})
	Trainers.Register(DeepAdversarialMetricLearning, func(p *config.Params) Trainer {
		return Trainer{Name: DeepAdversarialMetricLearning, DAML: &DAML{
			MetricAloneEpochs:  p.Int("metric_alone_epochs", 0, config.Min(0)),
			GAloneEpochs:       p.Int("g_alone_epochs", 0, config.Min(0)),
			GTripletsPerAnchor: p.Int("g_triplets_per_anchor", 100, config.Min(1)),
		}}
	})
}

// sliceKey matches CascadedEmbeddings' per-slice names: metric_loss_0, ...
var sliceKey = regexp.MustCompile(`^(metric_loss|classifier_loss|tuple_miner)_([0-9]+)$`)

// decodeCascadedLosses reads metric_loss_<i> and tuple_miner_<i>, one per
// embedding slice, each optional as in PML.
func decodeCascadedLosses(lf, mf *config.Params, s *Spec) {
	n := len(s.Trainer.Cascaded.EmbeddingSizes)
	allowed := fmt.Sprintf("metric_loss_<i> for i in 0..%d (one per trainer.CascadedEmbeddings.embedding_sizes)", n-1)
	for _, key := range lf.Keys() {
		m := sliceKey.FindStringSubmatch(key)
		switch {
		case m != nil && m[1] == "classifier_loss":
			lf.Fail(key, "CascadedEmbeddings with classifier heads is not supported; remove it")
		case m == nil || m[1] != "metric_loss" || !sliceIndexOK(m[2], n):
			lf.Fail(key, "unknown loss for CascadedEmbeddings; allowed: %s", allowed)
		default:
			s.LossFuncs[key] = buildComponent(lf, loss.Losses, key, config.Component{})
		}
	}
	if len(s.LossFuncs) == 0 {
		lf.Fail("", "CascadedEmbeddings needs at least one loss: %s", allowed)
	}
	for _, key := range mf.Keys() {
		if m := sliceKey.FindStringSubmatch(key); m == nil || m[1] != "tuple_miner" || !sliceIndexOK(m[2], n) {
			mf.Fail(key, "unknown miner for CascadedEmbeddings; allowed: tuple_miner_<i> for i in 0..%d", n-1)
			continue
		}
		s.Miners[key] = buildComponent(mf, miner.Miners, key, config.Component{})
	}
}

func sliceIndexOK(digits string, n int) bool {
	i, err := strconv.Atoi(digits)
	return err == nil && i < n && strconv.Itoa(i) == digits
}

// decodeDAMLLosses reads synth_loss and g_adv_loss, which PML requires. They
// are computed on the packaged (anchor, positive, synthetic negative)
// triplets; the trainer evaluates them on the distinct rows only (the batch
// and the synthetic negatives), which equals PML's value and gradient for a
// loss of independent triplets: TripletMarginLoss, the DAML paper's loss.
func decodeDAMLLosses(lf *config.Params, s *Spec) {
	for _, key := range []string{"synth_loss", "g_adv_loss"} {
		if !slices.Contains(lf.Keys(), key) {
			lf.Fail(key, "is required by DeepAdversarialMetricLearning, e.g. {TripletMarginLoss: {margin: 0.01}}")
			continue
		}
		c := buildComponent(lf, loss.Losses, key, config.Component{})
		if c.Type != "" && c.Type != "TripletMarginLoss" {
			lf.Fail(key, "%s is not supported here: DeepAdversarialMetricLearning computes %s on packaged triplets, which needs TripletMarginLoss", c.Type, key)
		}
		s.LossFuncs[key] = c
	}
}
