package expfolder

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"

	"github.com/nlpodyssey/safetensors"

	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/optim"
	"github.com/bench-ml/bench/internal/record"
)

// SplitsFile is the split schemes' item indices, written with the configs
// when the folder is made.
const SplitsFile = "splits.json"

// splitsFile is splits.json.
type splitsFile struct {
	Header
	SplitSchemes []data.Split `json:"split_schemes"`
}

func (splitsFile) legacyField() string { return "split_schemes" }

// SplitsPath is splits.json of the experiment folder dir.
func SplitsPath(dir string) string { return filepath.Join(dir, SplitsFile) }

// WriteSplits writes splits.json into the experiment folder dir.
func WriteSplits(dir string, splits []data.Split) error {
	return WriteJSON(SplitsPath(dir), &splitsFile{SplitSchemes: splits})
}

// ReadSplits reads splits.json of the experiment folder dir; a missing
// file is an error satisfying errors.Is(err, fs.ErrNotExist).
func ReadSplits(dir string) ([]data.Split, error) {
	var f splitsFile
	if err := ReadJSON(SplitsPath(dir), &f); err != nil {
		return nil, err
	}
	return f.SplitSchemes, nil
}

// SchemeNames are the names of split schemes, in order.
func SchemeNames(splits []data.Split) []string {
	names := make([]string, len(splits))
	for i, s := range splits {
		names[i] = s.Name
	}
	return names
}

// FoldState is how far a fold's training went: the fold part of its
// checkpoints' state, and its done.json once it finished.
type FoldState struct {
	Epoch      int     `json:"epoch"`
	BestEpoch  int     `json:"best_epoch"`
	BestMetric float64 `json:"best_metric"` // -Inf before the first evaluation
}

// foldStateJSON is FoldState with best_metric a Number: a fold whose every
// evaluation was NaN keeps -Inf.
type foldStateJSON struct {
	Epoch      int     `json:"epoch"`
	BestEpoch  int     `json:"best_epoch"`
	BestMetric *Number `json:"best_metric"`
}

// MarshalJSON writes best_metric as a Number.
func (s FoldState) MarshalJSON() ([]byte, error) {
	best := Number(s.BestMetric)
	return json.Marshal(foldStateJSON{s.Epoch, s.BestEpoch, &best})
}

// UnmarshalJSON reads what MarshalJSON writes; best_metric is required.
func (s *FoldState) UnmarshalJSON(b []byte) error {
	var j foldStateJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.BestMetric == nil {
		return errors.New("fold: no best_metric")
	}
	*s = FoldState{j.Epoch, j.BestEpoch, float64(*j.BestMetric)}
	return nil
}

// doneFile is <split_scheme>/done.json: the fold finished training.
type doneFile struct {
	Header
	Fold FoldState `json:"fold"`
}

func (doneFile) legacyField() string { return "fold" }

func donePath(f *record.Folder, scheme string) string {
	return filepath.Join(f.Path, scheme, "done.json")
}

// WriteDone writes a fold's done.json.
func WriteDone(f *record.Folder, scheme string, s FoldState) error {
	return WriteJSON(donePath(f, scheme), &doneFile{Fold: s})
}

// ReadDone reads a fold's done.json; nil when it has not finished
// training.
func ReadDone(f *record.Folder, scheme string) (*FoldState, error) {
	var d doneFile
	err := ReadJSON(donePath(f, scheme), &d)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &d.Fold, nil
}

// CheckpointState is the JSON state of a fold's checkpoint, which the
// checkpoint file (record.Checkpoint) holds in its metadata beside the
// tensors: everything a resumed run needs besides tensors to continue as
// if it had not stopped. The model's tensors are under their own names,
// an optimiser's buffers under "optimizer/<group>/<buffer>", the losses'
// weights under "loss/<name>".
type CheckpointState struct {
	Header
	Fold       FoldState              `json:"fold"`
	Optimizers map[string]optim.State `json:"optimizers"`     // by parameter group; metric_loss for the losses' weights
	RNGs       map[string][]byte      `json:"rngs,omitempty"` // the fold's named random generators
}

// CheckpointPath is the checkpoint which ("latest", "best") of a fold.
func CheckpointPath(f *record.Folder, scheme, which string) string {
	return filepath.Join(f.ModelsDir(scheme), which+".safetensors")
}

// EncodeCheckpoint makes a checkpoint of st and the tensors.
func EncodeCheckpoint(st *CheckpointState, tensors map[string]safetensors.TensorView) (*record.Checkpoint, error) {
	st.SchemaVersion = Version
	data, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	return &record.Checkpoint{State: data, Tensors: tensors}, nil
}

// ReadCheckpoint reads and verifies the checkpoint which ("latest",
// "best") at path and decodes its state, whose version and fields it
// checks.
func ReadCheckpoint(path, which string) (*record.Checkpoint, *CheckpointState, error) {
	c, err := record.ReadCheckpoint(path)
	if err != nil {
		return nil, nil, err
	}
	var st CheckpointState
	if err := Decode(path+" state", c.State, &st); err != nil {
		return nil, nil, err
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

// FoldProgress reads how far a split scheme's training went: its done.json
// when it finished, else its latest checkpoint; started is false when it
// has none.
func FoldProgress(f *record.Folder, scheme string) (p FoldState, done, started bool, err error) {
	d, err := ReadDone(f, scheme)
	if err != nil {
		return FoldState{}, false, false, err
	}
	if d != nil {
		return *d, true, true, nil
	}
	_, st, err := ReadCheckpoint(CheckpointPath(f, scheme, "latest"), "latest")
	if errors.Is(err, fs.ErrNotExist) {
		return FoldState{}, false, false, nil
	}
	if err != nil {
		return FoldState{}, false, false, err
	}
	return st.Fold, false, true, nil
}
