package loss_test

// Package miner registers its miners in loss.RefMiners at init (it imports
// loss, so loss cannot import it). This external test file links it into
// the package's test binary, so that the internal tests can build
// CrossBatchMemory with a nested miner (the testdata/pml cases with one).
import _ "github.com/bench-ml/bench/internal/miner"
