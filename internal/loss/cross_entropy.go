package loss

import (
	"fmt"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss/ad"
)

// crossEntropyLoss is torch.nn.CrossEntropyLoss for classifier heads: the
// mean over rows of -log softmax(logits)[label]. Its "embeddings" are the
// logits (n x classes); tuples are ignored.
type crossEntropyLoss struct{}

func newCrossEntropy(p *config.Params) Loss {
	return &metricLoss{where: p.Where(), f: crossEntropyLoss{}, reducer: MeanReducer{}}
}

func (crossEntropyLoss) subLosses(b *batch) ([]subLoss, error) {
	for _, l := range b.labels {
		if l >= b.emb.Cols {
			return nil, fmt.Errorf("label %d is not below the %d classes of the logits", l, b.emb.Cols)
		}
	}
	return []subLoss{elementLoss("loss", crossEntropy(b.t, b.emb, b.labels))}, nil
}

// crossEntropy is -log softmax(logits)[label] per row (n x 1).
func crossEntropy(t *ad.Tape, logits *ad.Node, labels []int) *ad.Node {
	return t.Sub(t.LogSumExp(logits, nil, false), t.Reshape(t.Gather(logits, targets(labels, logits.Cols)), len(labels), 1))
}

// targets are the flat indices of (i, labels[i]) in an n x classes matrix.
func targets(labels []int, classes int) []int {
	idx := make([]int, len(labels))
	for i, l := range labels {
		idx[i] = i*classes + l
	}
	return idx
}

// weightedCrossEntropy is the per-row cross-entropy times PML's miner
// weights, the element loss of the classification-style losses.
func weightedCrossEntropy(b *batch, logits *ad.Node) subLoss {
	t := b.t
	w := minerWeights(b.tuples, len(b.labels), false)
	return elementLoss("loss", t.Mul(crossEntropy(t, logits, b.labels), t.Const(w, len(w), 1)))
}
