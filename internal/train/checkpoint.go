package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nlpodyssey/safetensors"

	"github.com/bench-ml/bench/internal/eval"
	"github.com/bench-ml/bench/internal/optim"
	"github.com/bench-ml/bench/internal/record"
)

// checkpointState is the JSON state of a fold's checkpoint: everything a
// resumed run needs besides tensors to continue as if it had not stopped.
// The sampler and the transforms need no state: their batches are functions
// of the step. The tensors are in the same file (record.Checkpoint): the
// model's under their own names, an optimiser's buffers under
// "optimizer/<group>/<buffer>", the losses' weights under "loss/<name>".
type checkpointState struct {
	Fold       foldState              `json:"fold"`
	Optimizers map[string]optim.State `json:"optimizers"`     // by parameter group; metric_loss for the losses' weights
	RNGs       map[string][]byte      `json:"rngs,omitempty"` // the fold's named random generators
}

const (
	optimizerPrefix = "optimizer/"
	lossPrefix      = "loss/"
	lossGroup       = "metric_loss" // the optimiser of the losses' weights
)

// checkpointPath is the file of the checkpoint which ("latest", "best").
func checkpointPath(folder *record.Folder, scheme, which string) string {
	return filepath.Join(folder.ModelsDir(scheme), which+modelExt)
}

// save writes the checkpoint which, in one file replaced atomically.
func (f *fold) save(which string) error {
	st := checkpointState{Fold: f.state, Optimizers: map[string]optim.State{}, RNGs: map[string][]byte{}}
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
	for _, w := range f.lossWeights() {
		tensors[lossPrefix+w.Name] = record.F64Tensor(w.Shape, w.Value)
	}
	for name, r := range f.Rngs {
		var err error
		if st.RNGs[name], err = r.MarshalBinary(); err != nil {
			return err
		}
	}
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("checkpoint of %s: %w", f.split.Name, err)
	}
	return record.WriteCheckpoint(checkpointPath(f.folder, f.split.Name, which), &record.Checkpoint{State: data, Tensors: tensors})
}

// restore loads the checkpoint which ("latest" or "best") and cuts the
// records back to it. It reports false, with nothing to restore, when which
// is "" or the fold never reached its first checkpoint (whose records it
// then empties: the fold starts over).
func (f *fold) restore(which string) (bool, error) {
	if which == "" {
		return false, nil
	}
	path := checkpointPath(f.folder, f.split.Name, which)
	c, st, err := readCheckpoint(path, which)
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

// readCheckpoint reads and verifies a checkpoint file and its state.
func readCheckpoint(path, which string) (*record.Checkpoint, *checkpointState, error) {
	c, err := record.ReadCheckpoint(path)
	if err != nil {
		return nil, nil, err
	}
	var st checkpointState
	if err := json.Unmarshal(c.State, &st); err != nil {
		return nil, nil, fmt.Errorf("%s: state: %w", path, err)
	}
	s := st.Fold
	switch {
	case s.Epoch < 0: // epoch 0: the untrained model, which can be the best
		err = fmt.Errorf("epoch %d: want at least 0", s.Epoch)
	case s.BestEpoch < 0 || s.BestEpoch > s.Epoch:
		err = fmt.Errorf("best_epoch %d: want 0 to the epoch, %d", s.BestEpoch, s.Epoch)
	case math.IsNaN(s.BestMetric) || math.IsInf(s.BestMetric, 1):
		err = fmt.Errorf("best_metric %v: want a number", s.BestMetric)
	case which == "best" && s.BestEpoch != s.Epoch:
		err = fmt.Errorf("a best checkpoint of epoch %d says the best epoch is %d", s.Epoch, s.BestEpoch)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, &st, nil
}

// load sets the fold's model, optimisers, loss weights, random generators
// and state from a checkpoint, which must fit the fold exactly. On error
// the fold is half set: the run stops.
func (f *fold) load(c *record.Checkpoint, st *checkpointState) error {
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
	lw := f.lossWeights()
	if len(weights) != len(lw) {
		return fmt.Errorf("it has %d loss weights, the config %d", len(weights), len(lw))
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
