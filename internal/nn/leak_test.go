package nn

import (
	"runtime"
	"testing"
)

// TestModelsAreCollected: Gorgonia's NewTapeMachine sets a finalizer on a
// machine that sits in a reference cycle with its graph, and Go never
// collects a cycle holding a finalizer, so without model.go's
// SetFinalizer(nil) every model built stayed in memory until the process
// ended: a run grew by one model per fold and per evaluation.
func TestModelsAreCollected(t *testing.T) {
	cfg := Config{
		Trunk:      component(t, Trunks, "ConvNet", nil),
		Embedder:   component(t, Embedders, "MLP", nil),
		InputShape: []int{3, 32, 32}, BatchSize: 32, Seed: 1,
	}
	heap := func() int64 {
		var s runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&s)
		return int64(s.HeapAlloc)
	}
	build := func() *Model[float32] {
		m := newTestModel[float32](t, cfg)
		mustStep(t, m, make([]float32, m.BatchSize()*m.InputSize()))
		return m
	}
	base := heap()
	kept := build()
	size := heap() - base
	runtime.KeepAlive(kept)
	kept = nil
	base = heap()
	for range 10 {
		build()
	}
	if grown := heap() - base; grown > size/2 {
		t.Fatalf("the heap grew by %d bytes after 10 dropped models of %d bytes each", grown, size)
	}
}
