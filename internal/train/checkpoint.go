package train

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bench-ml/bench/internal/optim"
	"github.com/bench-ml/bench/internal/record"
)

// checkpoint is everything of a fold besides the model's tensors that a
// resumed run needs to continue as if it had not stopped. The sampler and
// the transforms need no state: their batches are functions of the step.
type checkpoint struct {
	Fold        foldState            `json:"fold"`
	Optimizers  []optimizerState     `json:"optimizers"`
	LossWeights map[string][]float64 `json:"loss_weights,omitempty"`
	LossOpt     *optimizerState      `json:"loss_optimizer,omitempty"`
	RNGs        map[string][]byte    `json:"rngs,omitempty"` // the fold's named random generators
}

// optimizerState is optim.State with its tensors, which State leaves out of
// JSON, kept alongside.
type optimizerState struct {
	optim.State
	Tensors map[string][]float64 `json:"tensors"`
}

func stateOf[T optim.Float](o *optim.Optimizer[T]) optimizerState {
	s := o.State()
	return optimizerState{State: s, Tensors: s.Tensors}
}

func (s optimizerState) restore() optim.State {
	st := s.State
	st.Tensors = s.Tensors
	return st
}

// save writes the model and the checkpoint under saved_models/<which>.*;
// each file is written atomically, the state last, so a checkpoint whose
// state file exists is whole.
func (f *fold) save(which string) error {
	dir := f.folder.ModelsDir(f.split.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := f.model.Save(filepath.Join(dir, which+modelExt)); err != nil {
		return err
	}
	c := checkpoint{Fold: f.state}
	for _, o := range f.modelOpts {
		c.Optimizers = append(c.Optimizers, stateOf(o.Optimizer))
	}
	if f.lossOpt != nil {
		st := stateOf(f.lossOpt)
		c.LossOpt = &st
		c.LossWeights = map[string][]float64{}
		for _, w := range f.lossWeights() {
			c.LossWeights[w.Name] = w.Value
		}
	}
	c.RNGs = map[string][]byte{}
	for name, r := range f.rngs {
		var err error
		if c.RNGs[name], err = r.MarshalBinary(); err != nil {
			return err
		}
	}
	return record.WriteJSON(filepath.Join(dir, which+".state.json"), c)
}

// restore loads the checkpoint which ("latest" or "best") and drops the
// records written after it. It reports false, with nothing to restore, when
// which is "" or the fold never reached its first checkpoint.
func (f *fold) restore(which string) (bool, error) {
	if which == "" {
		return false, nil
	}
	dir := f.folder.ModelsDir(f.split.Name)
	state := filepath.Join(dir, which+".state.json")
	if _, err := os.Stat(state); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	var c checkpoint
	if err := record.ReadJSON(state, &c); err != nil {
		return false, fmt.Errorf("cannot resume: %w", err)
	}
	if err := f.model.Load(filepath.Join(dir, which+modelExt)); err != nil {
		return false, err
	}
	if len(c.Optimizers) != len(f.modelOpts) {
		return false, fmt.Errorf("cannot resume from %s: it has %d optimisers, the config %d", dir, len(c.Optimizers), len(f.modelOpts))
	}
	for i, o := range f.modelOpts {
		if err := o.Restore(c.Optimizers[i].restore()); err != nil {
			return false, fmt.Errorf("%s: %w", dir, err)
		}
	}
	if f.lossOpt != nil && c.LossOpt != nil {
		if err := f.lossOpt.Restore(c.LossOpt.restore()); err != nil {
			return false, fmt.Errorf("%s: %w", dir, err)
		}
		for _, w := range f.lossWeights() {
			saved, ok := c.LossWeights[w.Name]
			if !ok || len(saved) != len(w.Value) {
				return false, fmt.Errorf("%s: loss weight %s missing or of another size", dir, w.Name)
			}
			copy(w.Value, saved)
		}
	}
	for name, r := range f.rngs {
		saved, ok := c.RNGs[name]
		if !ok {
			return false, fmt.Errorf("cannot resume from %s: the checkpoint has no state of the random generator %s", dir, name)
		}
		if err := r.UnmarshalBinary(saved); err != nil {
			return false, fmt.Errorf("%s: random generator %s: %w", dir, name, err)
		}
	}
	f.state = c.Fold
	f.saved = f.state.Epoch
	keep := func(v float64) bool { return v <= float64(f.state.Epoch) }
	if err := f.records.Resume("epoch", keep); err != nil {
		return false, err
	}
	return true, nil
}
