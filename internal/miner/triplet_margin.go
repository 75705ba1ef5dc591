package miner

import (
	"fmt"
	"slices"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
)

// Types of triplets TripletMarginMiner keeps.
var tripletTypes = []string{All, Hard, Semihard, Easy}

// TripletMargin is PML's TripletMarginMiner. With m = d_an - d_ap (s_ap -
// s_an for a similarity), it keeps the triplets with m <= Margin ("all"),
// also m <= 0 ("hard"), also m > 0 ("semihard"), or m > Margin ("easy"),
// row-major over (anchor, positive, negative).
type TripletMargin struct {
	Margin         float64
	TypeOfTriplets string
	Distance       loss.Distance
}

func newTripletMarginMiner(p *config.Params) Miner {
	return &TripletMargin{
		Margin:         p.Float("margin", 0.2),
		TypeOfTriplets: p.String("type_of_triplets", All, tripletTypes...),
		Distance:       config.BuildNested(p, loss.Distances, "distance", defaultDistance),
	}
}

// Mine implements Miner.
func (tm *TripletMargin) Mine(emb []float64, n, d int, labels []int) (*loss.Tuples, error) {
	return tm.mine(selfQuery(emb, n, d, labels))
}

func (tm *TripletMargin) mine(q query) (*loss.Tuples, error) {
	if !slices.Contains(tripletTypes, tm.TypeOfTriplets) {
		return nil, fmt.Errorf("TripletMarginMiner: type_of_triplets %q, want one of %v", tm.TypeOfTriplets, tripletTypes)
	}
	return tm.tuples(distances(tm.Distance, q)), nil
}

func (tm *TripletMargin) tuples(m mat) *loss.Tuples {
	return m.keepTriplets(func(a, p, n int) bool {
		margin := m.at(a, n) - m.at(a, p)
		if m.inverted {
			margin = -margin
		}
		switch tm.TypeOfTriplets {
		case Easy:
			return margin > tm.Margin
		case Hard:
			return margin <= tm.Margin && margin <= 0
		case Semihard:
			return margin <= tm.Margin && margin > 0
		}
		return margin <= tm.Margin
	})
}
