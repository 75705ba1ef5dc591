package eval

import "testing"

// TestSearch32Portable runs the float32 search through the portable
// kernel, which machines without AVX2 use.
func TestSearch32Portable(t *testing.T) {
	defer func(had bool) { hasAVX2FMA = had }(hasAVX2FMA)
	hasAVX2FMA = false
	testSearch[float32](t)
}
