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
		loss.RefMiners.Register(name, refMiner(checked(ctor)))
	}
}

// refMiner builds a miner for a loss's nested miner (CrossBatchMemory's),
// which mines against references. A miner that samples is refused: its
// stream would be neither the fold's nor kept by checkpoints, so a resumed
// run would not equal an uninterrupted one.
func refMiner(ctor func(*config.Params) Miner) func(*config.Params) loss.RefMiner {
	return func(p *config.Params) loss.RefMiner {
		m := ctor(p)
		if _, ok := m.(Random); ok {
			p.Fail("", "samples at random, which a loss's nested miner does not support yet")
		}
		return nestedMiner{m}
	}
}

// nestedMiner is a registry miner as a loss.RefMiner, with a Fresh of that
// type.
type nestedMiner struct{ Miner }

func (m nestedMiner) MineRef(emb []float64, n int, labels []int, ref []float64, nRef int, refLabels []int, d int) (*loss.Tuples, error) {
	return m.Miner.(RefMiner).MineRef(emb, n, labels, ref, nRef, refLabels, d)
}

// Fresh implements config.Stateful.
func (m nestedMiner) Fresh() loss.RefMiner { return nestedMiner{config.Instance(m.Miner)} }

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
