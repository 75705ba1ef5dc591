package data

import "math/rand/v2"

// Streams of random numbers: each consumer mixes its own tag into the keys so
// that, for the same seed and step, the sampler, the transforms and the glyph
// renderer never draw correlated numbers.
const (
	streamSampler uint64 = iota + 1
	streamTransform
	streamGlyph
	streamSplit
	streamRandomSampler
	streamFixedTriplets
	streamHierarchical
	streamCachedVersion
	streamTuplesToWeights
)

// newRNG returns a generator that depends on keys alone. Every random choice
// in this package is drawn from one made for its (seed, step, item), so the
// result does not depend on which goroutine does the work or in what order,
// and a run resumed at step s draws what the uninterrupted run drew.
func newRNG(keys ...uint64) *rand.Rand {
	h := uint64(0x243f6a8885a308d3)
	for _, k := range keys {
		h = splitmix64(h ^ k)
	}
	return rand.New(rand.NewPCG(h, splitmix64(h)))
}

// splitmix64 is the finaliser of Vigna's SplitMix64: a bijection whose
// outputs for consecutive inputs are uncorrelated.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
