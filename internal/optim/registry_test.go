package optim

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"gopkg.in/yaml.v3"
)

func parse(t *testing.T, src string) config.Component {
	t.Helper()
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(src), &raw); err != nil {
		t.Fatal(err)
	}
	c, err := config.ParseComponent(raw, "optimizers.trunk_optimizer", "opt.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDefaultsArePyTorchs checks the resolved parameters of each optimiser
// given only {}.
func TestDefaultsArePyTorchs(t *testing.T) {
	shared := map[string]any{"clip_grad_norm": nil, "scheduler_by_iteration": nil, "scheduler_by_epoch": nil, "scheduler_by_plateau": nil}
	cases := map[string]map[string]any{
		"SGD":     {"lr": 0.001, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": false},
		"Adam":    {"lr": 0.001, "betas": []any{0.9, 0.999}, "eps": 1e-8, "weight_decay": 0.0, "amsgrad": false},
		"AdamW":   {"lr": 0.001, "betas": []any{0.9, 0.999}, "eps": 1e-8, "weight_decay": 0.01, "amsgrad": false},
		"RMSprop": {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0, "centered": false},
	}
	for typ, want := range cases {
		for k, v := range shared {
			want[k] = v
		}
		_, resolved, err := Optimizers.Build(config.C(typ, nil))
		if err != nil {
			t.Fatal(err)
		}
		if got := resolved[typ]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s resolved to\n%v\nwant\n%v", typ, got, want)
		}
	}
}

// TestConfigShape builds the powerful_benchmarker shape and checks the
// decoded Config and that its resolved form builds the same Config again.
func TestConfigShape(t *testing.T) {
	c := parse(t, `
RMSprop:
  lr: 0.000001
  weight_decay: 0.0001
  momentum: 0.9
  clip_grad_norm: 1.0
  scheduler_by_epoch: {StepLR: {step_size: 2, gamma: 0.95}}
  scheduler_by_plateau: {ReduceLROnPlateau: {patience: 2, factor: 0.5, mode: max}}
`)
	cfg, resolved, err := Optimizers.Build(c)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		LR:           1e-6,
		Rule:         RMSprop{Alpha: 0.99, Eps: 1e-8, WeightDecay: 1e-4, Momentum: 0.9},
		ClipGradNorm: 1,
		Schedulers: [numSlots]Scheduler{
			ByEpoch:   StepLR{StepSize: 2, Gamma: 0.95},
			ByPlateau: ReduceLROnPlateau{Mode: "max", Factor: 0.5, Patience: 2, Threshold: 1e-4, ThresholdMode: "rel", Eps: 1e-8},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}

	// The resolved config is saved as YAML and must read back to the same thing.
	out, err := yaml.Marshal(resolved)
	if err != nil {
		t.Fatal(err)
	}
	again, resolvedAgain, err := Optimizers.Build(parse(t, string(out)))
	if err != nil {
		t.Fatalf("resolved config does not build:\n%s\n%v", out, err)
	}
	if !reflect.DeepEqual(again, cfg) || !reflect.DeepEqual(resolvedAgain, resolved) {
		t.Errorf("round trip changed the config:\n%s", out)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		src  string
		want []string
	}{
		{`SGD: {momentun: 0.9}`, []string{"opt.yaml", "optimizers.trunk_optimizer.SGD.momentun", "unknown parameter", `did you mean "momentum"`}},
		{`Adamw: {}`, []string{"unknown optimizer", `did you mean "AdamW"`}},
		{`Adam: {lr: 0}`, []string{"Adam.lr", "must be > 0"}},
		{`Adam: {betas: [0.9, 1.0]}`, []string{"Adam.betas", "must be < 1"}},
		{`Adam: {betas: [0.9]}`, []string{"Adam.betas", "want 2 numbers"}},
		{`SGD: {nesterov: true}`, []string{"SGD.nesterov", "momentum > 0"}},
		{`RMSprop: {clip_grad_norm: -1}`, []string{"clip_grad_norm", "must be > 0"}},
		{`SGD: {scheduler_by_epoch: {StepLr: {step_size: 1}}}`, []string{"SGD.scheduler_by_epoch.StepLr", "unknown scheduler", `did you mean "StepLR"`}},
		{`SGD: {scheduler_by_epoch: {StepLR: {}}}`, []string{"SGD.scheduler_by_epoch.StepLR.step_size", "required"}},
		{`SGD: {scheduler_by_epoch: {StepLR: {step_size: 1.5}}}`, []string{"step_size", "want an integer"}},
		{`SGD: {scheduler_by_epoch: {MultiStepLR: {}}}`, []string{"MultiStepLR.milestones", "required"}},
		{`SGD: {scheduler_by_epoch: {ExponentialLR: {}}}`, []string{"ExponentialLR.gamma", "required"}},
		{`SGD: {scheduler_by_epoch: {CosineAnnealingLR: {T_max: 0}}}`, []string{"T_max", "must be >= 1"}},
		{`SGD: {scheduler_by_epoch: {ReduceLROnPlateau: {}}}`, []string{"SGD.scheduler_by_epoch", "put it under scheduler_by_plateau"}},
		{`SGD: {scheduler_by_plateau: {StepLR: {step_size: 2}}}`, []string{"SGD.scheduler_by_plateau", "only ReduceLROnPlateau"}},
		{`SGD: {scheduler_by_plateau: {ReduceLROnPlateau: {mode: maximum}}}`, []string{"ReduceLROnPlateau.mode", `"maximum" is not allowed`, "min, max"}},
		{`SGD: {scheduler_by_plateau: {ReduceLROnPlateau: {factor: 1}}}`, []string{"ReduceLROnPlateau.factor", "must be < 1"}},
		{`SGD: {scheduler_by_epoch: StepLR}`, []string{"SGD.scheduler_by_epoch", "want a component"}},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			_, _, err := Optimizers.Build(parse(t, c.src))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestNullSchedulerMeansNone: "scheduler_by_epoch:" with no value, as a
// YAML file may leave it, is no scheduler.
func TestNullSchedulerMeansNone(t *testing.T) {
	cfg, _, err := Optimizers.Build(parse(t, "Adam: {scheduler_by_epoch: }"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Schedulers != [numSlots]Scheduler{} {
		t.Errorf("schedulers = %v", cfg.Schedulers)
	}
}
