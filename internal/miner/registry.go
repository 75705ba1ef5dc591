package miner

import (
	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/loss"
)

// Miners maps PML's miner names to their constructors.
var Miners = config.NewRegistry[Miner]("miner")

func init() {
	for name, ctor := range map[string]func(*config.Params) Miner{
		"AngularMiner":          newAngularMiner,
		"BatchEasyHardMiner":    newBatchEasyHardMiner,
		"BatchHardMiner":        newBatchHardMiner,
		"DistanceWeightedMiner": newDistanceWeightedMiner,
		"HDCMiner":              newHDCMiner,
		"MultiSimilarityMiner":  newMultiSimilarityMiner,
		"PairMarginMiner":       newPairMarginMiner,
		"TripletMarginMiner":    newTripletMarginMiner,
		"UniformHistogramMiner": newUniformHistogramMiner,
	} {
		Miners.Register(name, checked(ctor))
	}
}

// checked wraps the miners a constructor makes in base, as PML's BaseMiner
// wraps every miner's mine.
func checked(ctor func(*config.Params) Miner) func(*config.Params) Miner {
	return func(p *config.Params) Miner { return wrap(ctor(p)) }
}

// wrap puts m in base, or randomBase when it samples.
func wrap(m Miner) Miner {
	if r, ok := m.(Random); ok {
		return randomBase{base{m}, r}
	}
	return base{m}
}

// defaultDistance is the distance of most miners, as in PML:
// LpDistance(normalize_embeddings=True, p=2, power=1).
var defaultDistance = config.C("LpDistance", nil)

// requireUnitL2 builds the distance parameter of AngularMiner and
// DistanceWeightedMiner, which PML asserts to be
// LpDistance(p=2, power=1, normalize_embeddings=True).
func requireUnitL2(p *config.Params) loss.Distance {
	dist := config.BuildNested(p, loss.Distances, "distance", defaultDistance)
	resolved, _ := p.Resolved()["distance"].(map[string]any)
	lp, ok := resolved["LpDistance"].(map[string]any)
	for k, v := range map[string]any{"p": 2.0, "power": 1.0, "normalize_embeddings": true} {
		ok = ok && lp[k] == v
	}
	if !ok {
		p.Fail("distance", "must be LpDistance with p: 2, power: 1, normalize_embeddings: true (as PML requires)")
	}
	return dist
}
