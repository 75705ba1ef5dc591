package perf

import (
	"runtime"
	"testing"

	"github.com/bench-ml/bench/internal/nn"
)

// After the first step, a training step of the reference model (with a
// fixed loss gradient: the losses are not nn's) or an embedding allocates
// only small bookkeeping (Gorgonia's, the returned embeddings), no tensors:
// the ops reuse their outputs and buffers, the GEMM its packing workspace.
func TestStepAllocatesNoTensors(t *testing.T) {
	for _, train := range []bool{true, false} {
		m, x := reference(t, 16, 8)
		grad := make([]float32, 8*m.EmbeddingSize())
		for i := range grad {
			grad[i] = 0.01
		}
		step := func() error {
			if !train {
				_, err := m.Embed(x, 8)
				return err
			}
			return m.TrainStep(x, func(nn.Outputs[float32]) (nn.Grads[float32], error) { return nn.Grads[float32]{Emb: grad}, nil })
		}
		for range 3 { // the first steps allocate the outputs and workspaces
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		var before, after runtime.MemStats
		const steps = 5
		runtime.ReadMemStats(&before)
		for range steps {
			if err := step(); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		perStep := (after.TotalAlloc - before.TotalAlloc) / steps
		// The smallest activation, 8 x 32 x 16 x 16 float32, is 256 KiB.
		t.Logf("train %v: %d bytes, %d allocations per step", train, perStep, (after.Mallocs-before.Mallocs)/steps)
		if perStep > 64<<10 {
			t.Errorf("train %v: %d bytes allocated per step; want no tensors (< 64 KiB)", train, perStep)
		}
	}
}
