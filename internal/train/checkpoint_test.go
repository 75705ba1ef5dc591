package train

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/record"
)

// TestResumeWithoutLossStream: a checkpoint of a bench from before losses'
// random triplets drew from the fold's streams has no state of them; the
// fold resumes all the same, the loss drawing on from its seed. Any other
// stream missing is still an error.
func TestResumeWithoutLossStream(t *testing.T) {
	f := tinyFold(t, config.Override{Key: "loss_funcs", Value: "{synth_loss: {TripletMarginLoss: {margin: 0.01, triplets_per_anchor: 2}}}"})
	if _, ok := f.Rngs["loss/synth_loss"]; !ok {
		t.Fatalf("the sampling loss has no stream of the fold: %v", slices.Sorted(maps.Keys(f.Rngs)))
	}
	if err := f.save("latest"); err != nil {
		t.Fatal(err)
	}
	path := expfolder.CheckpointPath(f.folder, f.split.Name, "latest")
	drop := func(stream string) {
		t.Helper()
		c, st, err := expfolder.ReadCheckpoint(path, "latest")
		if err != nil {
			t.Fatal(err)
		}
		delete(st.RNGs, stream)
		if c, err = expfolder.EncodeCheckpoint(st, c.Tensors); err == nil {
			err = record.WriteCheckpoint(path, c)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	drop("loss/synth_loss")
	if ok, err := f.restore("latest"); !ok || err != nil {
		t.Fatalf("restore without the loss's stream: %v, %v; want it resumed", ok, err)
	}
	drop("g_triplets")
	if _, err := f.restore("latest"); err == nil || !strings.Contains(err.Error(), "random generator g_triplets") {
		t.Errorf("restore without g_triplets: %v; want an error naming it", err)
	}
}
