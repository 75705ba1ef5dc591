package train

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/nlpodyssey/safetensors"

	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/optim"
	"github.com/bench-ml/bench/internal/record"
)

const (
	optimizerPrefix = "optimizer/"
	lossPrefix      = "loss/"
	lossGroup       = "metric_loss" // the optimiser of the losses' weights
)

// save writes the checkpoint which, in one file replaced atomically.
func (f *fold) save(which string) error {
	st := expfolder.CheckpointState{Fold: f.state, Optimizers: map[string]optim.State{}, RNGs: map[string][]byte{}}
	tensors := f.Model.Tensors()
	addOptimizer := func(group string, s optim.State, f32 bool) {
		for key, v := range s.Tensors {
			t := record.F64Tensor(nil, v)
			if f32 { // the buffers of a float32 model: exact in float32, half the size
				t = record.F32Tensor(nil, eval.Convert[float32](v))
			}
			tensors[optimizerPrefix+group+"/"+key] = t
		}
		st.Optimizers[group] = s
	}
	for _, o := range f.modelOpts {
		addOptimizer(o.group, o.State(), true)
	}
	if f.lossOpt != nil {
		addOptimizer(lossGroup, f.lossOpt.State(), false)
	}
	for _, w := range f.lossState() {
		tensors[lossPrefix+w.Name] = record.F64Tensor(w.Shape, w.Value)
	}
	for name, r := range f.Rngs {
		var err error
		if st.RNGs[name], err = r.MarshalBinary(); err != nil {
			return err
		}
	}
	c, err := expfolder.EncodeCheckpoint(&st, tensors)
	if err != nil {
		return fmt.Errorf("checkpoint of %s: %w", f.split.Name, err)
	}
	return record.WriteCheckpoint(expfolder.CheckpointPath(f.folder, f.split.Name, which), c)
}

// restore loads the checkpoint which ("latest" or "best") and cuts the
// records back to it. It reports false, with nothing to restore, when which
// is "" or the fold never reached its first checkpoint (whose records it
// then empties: the fold starts over).
func (f *fold) restore(which string) (bool, error) {
	if which == "" {
		return false, nil
	}
	path := expfolder.CheckpointPath(f.folder, f.split.Name, which)
	c, st, err := expfolder.ReadCheckpoint(path, which)
	if errors.Is(err, fs.ErrNotExist) {
		return false, f.records.Resume("epoch", func(float64) bool { return false })
	}
	if err == nil {
		err = f.load(c, st)
	}
	if err != nil {
		return false, fmt.Errorf("cannot resume from %s: %w", path, err)
	}
	f.saved = f.state.Epoch
	return true, f.records.Resume("epoch", func(v float64) bool { return v <= float64(f.state.Epoch) })
}

// load sets the fold's model, optimisers, loss weights, random generators
// and state from a checkpoint, which must fit the fold exactly. On error
// the fold is half set: the run stops.
func (f *fold) load(c *record.Checkpoint, st *expfolder.CheckpointState) error {
	groups := map[string]bool{}
	weights := map[string]safetensors.TensorView{}
	for name, t := range c.Tensors {
		if rest, ok := strings.CutPrefix(name, optimizerPrefix); ok {
			g, _, _ := strings.Cut(rest, "/")
			groups[g] = true
		} else if w, ok := strings.CutPrefix(name, lossPrefix); ok {
			weights[w] = t
		}
	}
	for g := range st.Optimizers {
		groups[g] = true
	}
	want := map[string]bool{}
	for _, o := range f.modelOpts {
		want[o.group] = true
	}
	if f.lossOpt != nil {
		want[lossGroup] = true
	}
	if !maps.Equal(groups, want) {
		return fmt.Errorf("it has optimisers of %v, the config of %v", slices.Sorted(maps.Keys(groups)), slices.Sorted(maps.Keys(want)))
	}
	if err := f.Model.SetTensors(modelTensors(c)); err != nil {
		return err
	}
	restore := func(group string, o interface{ Restore(optim.State) error }) error {
		s := st.Optimizers[group]
		s.Tensors = map[string][]float64{}
		for name, t := range c.Tensors {
			if key, ok := strings.CutPrefix(name, optimizerPrefix+group+"/"); ok {
				v, err := record.Floats(t)
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				s.Tensors[key] = v
			}
		}
		if err := o.Restore(s); err != nil {
			return fmt.Errorf("%s optimizer: %w", group, err)
		}
		return nil
	}
	for _, o := range f.modelOpts {
		if err := restore(o.group, o); err != nil {
			return err
		}
	}
	if f.lossOpt != nil {
		if err := restore(lossGroup, f.lossOpt); err != nil {
			return err
		}
	}
	lw := f.lossState()
	if len(weights) != len(lw) {
		return fmt.Errorf("it has %d loss weights and buffers, the config %d", len(weights), len(lw))
	}
	for _, w := range lw {
		t, ok := weights[w.Name]
		if !ok {
			return fmt.Errorf("loss weight %s is missing", w.Name)
		}
		v, err := record.Floats(t)
		if err == nil && len(v) != len(w.Value) {
			err = fmt.Errorf("has %d values; want %d", len(v), len(w.Value))
		}
		if err != nil {
			return fmt.Errorf("loss weight %s: %w", w.Name, err)
		}
		copy(w.Value, v)
	}
	for name, r := range f.Rngs {
		saved, ok := st.RNGs[name]
		if !ok && strings.HasPrefix(name, "loss/") {
			// Checkpoints of bench before losses drew from the fold's
			// streams have none: the loss draws on from its seed.
			f.log.Warn("the checkpoint has no state of the loss's random triplets: they start over", "fold", f.split.Name, "stream", name)
			continue
		}
		if !ok {
			return fmt.Errorf("it has no state of the random generator %s", name)
		}
		if err := r.UnmarshalBinary(saved); err != nil {
			return fmt.Errorf("random generator %s: %w", name, err)
		}
	}
	f.state = st.Fold
	return nil
}

// modelTensors are the model's tensors of a checkpoint: those whose names
// have no "/".
func modelTensors(c *record.Checkpoint) map[string]safetensors.TensorView {
	out := map[string]safetensors.TensorView{}
	for name, t := range c.Tensors {
		if !strings.Contains(name, "/") {
			out[name] = t
		}
	}
	return out
}
