package loss

import (
	"github.com/bench-ml/bench/internal/config"
)

// proxyNCA is PML's ProxyNCALoss: NCA of the batch against one proxy per
// class (proxies C x D).
type proxyNCA struct {
	*classWeights
	nca *nca
}

func newProxyNCA(p *config.Params) Loss {
	l := &proxyNCA{
		nca:          readNCA(p),
		classWeights: readClassWeights(p, "proxies", classByEmbedding, initNormal),
	}
	return newShaped(p, l, l.classWeights, "MeanReducer")
}

func (l proxyNCA) with(cw *classWeights) lossFunc { l.classWeights = cw; return &l }

func (l *proxyNCA) subLosses(b *batch) ([]subLoss, error) {
	proxies, err := l.node(b)
	if err != nil {
		return nil, err
	}
	labels := make([]int, l.numClasses)
	for c := range labels {
		labels[c] = c
	}
	return l.nca.compute(b, proxies, labels, true), nil
}
