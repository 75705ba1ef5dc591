package record

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/bench-ml/bench/internal/record/eventtest"
)

func TestExperimentEventsHParams(t *testing.T) {
	dir := t.TempDir()
	hp := map[string]any{"optimizers.trunk_optimizer.Adam.lr": 0.001, "batch_size": 32, "freeze_trunk_batchnorm": false,
		"loss_funcs.metric_loss.ContrastiveLoss.distance": "{}", "split_manager.x.special_split_scheme_name": nil}
	scalars := []Scalar{{"val/mean_average_precision_at_r", 1, 0.25}, {"val/mean_average_precision_at_r", 2, 0.5},
		{"test_separated/precision_at_1", 0, 0.75}}
	for range 2 { // rewritten whole: still one session
		if err := WriteExperimentEvents(dir, "exp", hp, scalars); err != nil {
			t.Fatal(err)
		}
	}
	events := eventtest.Read(t, filepath.Join(dir, ExperimentEvents))
	if len(events) != 1+1+3+1 || events[0].FileVersion != "brain.Event:2" {
		t.Fatalf("%d events: %+v", len(events), events)
	}
	start, ok := events[1].Plugins["_hparams_/session_start_info"]
	if !ok || start.Name != "hparams" {
		t.Fatalf("second event is not a session start: %+v", events[1])
	}
	got, group, _ := eventtest.HParams(t, start.Content)
	want := map[string]any{"optimizers.trunk_optimizer.Adam.lr": 0.001, "batch_size": 32.0, "freeze_trunk_batchnorm": false,
		"loss_funcs.metric_loss.ContrastiveLoss.distance": "{}", "split_manager.x.special_split_scheme_name": "null"}
	if !reflect.DeepEqual(got, want) || group != "exp" {
		t.Errorf("hparams %v of group %q; want %v of exp", got, group, want)
	}
	for i, s := range scalars {
		e := events[2+i]
		if e.Step != s.Step || len(e.Values) != 1 || e.Values[s.Tag] != float32(s.Value) {
			t.Errorf("scalar %d: %+v, want %+v", i, e, s)
		}
	}
	end, ok := events[5].Plugins["_hparams_/session_end_info"]
	if _, _, status := eventtest.HParams(t, end.Content); !ok || status != 1 {
		t.Errorf("last event is not a successful session end: %+v", events[5])
	}
}
