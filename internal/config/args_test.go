package config

import (
	"reflect"
	"strings"
	"testing"
)

var (
	testValueFlags = []string{"experiment_name", "root_config_folder", "resume_training", "reproduce_results"}
	testBoolFlags  = []string{"evaluate", "merge_argparse_when_resuming", "help"}
)

func TestParseArgs(t *testing.T) {
	cases := []struct {
		name string
		args string // split on spaces, as the shell would
		want Args
	}{
		{"value and bool flags", "--experiment_name test1 --evaluate --root_config_folder=my/configs",
			Args{Flags: map[string]string{"experiment_name": "test1", "root_config_folder": "my/configs"}, Bools: map[string]bool{"evaluate": true}}},
		{"bool set to false", "--evaluate=false -h",
			Args{Bools: map[string]bool{"evaluate": false, "help": true}}},
		{"config names up to the next flag", "--config_general default daml --config_models default --evaluate",
			Args{Bools: map[string]bool{"evaluate": true}, ConfigNames: map[string][]string{"config_general": {"default", "daml"}, "config_models": {"default"}}}},
		{"config names as a list", "--config_general [default, with_daml]",
			Args{ConfigNames: map[string][]string{"config_general": {"default", "with_daml"}}}},
		{"flow value across words", "--optimizers {trunk_optimizer: {Adam: {lr: 0.001}}} --experiment_name x",
			Args{Flags: map[string]string{"experiment_name": "x"}, Overrides: []Override{
				{Key: "optimizers", Value: "{trunk_optimizer: {Adam: {lr: 0.001}}}", Source: "--optimizers"}}}},
		{"scalar values and suffixes", "--patience 5 --models~OVERRIDE~ {trunk: {convnet: {channels: [32, 64]}}} --split_manager~SWAP~1 {A: {}}",
			Args{Overrides: []Override{
				{Key: "patience", Value: "5", Source: "--patience"},
				{Key: "models~OVERRIDE~", Value: "{trunk: {convnet: {channels: [32, 64]}}}", Source: "--models~OVERRIDE~"},
				{Key: "split_manager~SWAP~1", Value: "{A: {}}", Source: "--split_manager~SWAP~1"}}}},
		{"list value", "--layer_sizes [128, 64]",
			Args{Overrides: []Override{{Key: "layer_sizes", Value: "[128, 64]", Source: "--layer_sizes"}}}},
		{"override with =", "--patience=5 --optimizers={a: {b: 1}}",
			Args{Overrides: []Override{{Key: "patience", Value: "5", Source: "--patience"}, {Key: "optimizers", Value: "{a: {b: 1}}", Source: "--optimizers"}}}},
		{"negative number", "--x -1",
			Args{Overrides: []Override{{Key: "x", Value: "-1", Source: "--x"}}}},
		{"--set", "--set optimizers.trunk_optimizer.RMSprop.lr=1e-5 --set=a.b={x: 1, y: [1, 2]}",
			Args{Overrides: []Override{
				{Key: "optimizers.trunk_optimizer.RMSprop.lr", Value: "1e-5", Source: "--set optimizers.trunk_optimizer.RMSprop.lr"},
				{Key: "a.b", Value: "{x: 1, y: [1, 2]}", Source: "--set a.b"}}}},
		{"powerful_benchmarker's docs: a colon after the name of a flag with a map value",
			"--trainer~APPLY~2: {batch_size: 256} --trainer: {MetricLossOnly: {batch_size: 64}} --optimizers~OVERRIDE~: {a: {B: {}}}",
			Args{Overrides: []Override{
				{Key: "trainer~APPLY~2", Value: "{batch_size: 256}", Source: "--trainer~APPLY~2:"},
				{Key: "trainer", Value: "{MetricLossOnly: {batch_size: 64}}", Source: "--trainer:"},
				{Key: "optimizers~OVERRIDE~", Value: "{a: {B: {}}}", Source: "--optimizers~OVERRIDE~:"}}}},
		{"brackets in quotes do not count", `--name {a: "x}", b: 'y{'}`,
			Args{Overrides: []Override{{Key: "name", Value: `{a: "x}", b: 'y{'}`, Source: "--name"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseArgs(strings.Split(c.args, " "), testValueFlags, testBoolFlags)
			if err != nil {
				t.Fatal(err)
			}
			if c.want.Flags == nil {
				c.want.Flags = map[string]string{}
			}
			if c.want.Bools == nil {
				c.want.Bools = map[string]bool{}
			}
			if c.want.ConfigNames == nil {
				c.want.ConfigNames = map[string][]string{}
			}
			// Each value is parsed here, once; Load merges the parse.
			for i := range got.Overrides {
				if got.Overrides[i].parsed == nil {
					t.Errorf("override %s: value not parsed", got.Overrides[i].Source)
				}
				got.Overrides[i].parsed = nil
			}
			if !reflect.DeepEqual(*got, c.want) {
				t.Errorf("got  %+v\nwant %+v", *got, c.want)
			}
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"unbalanced brackets", []string{"--models", "{trunk:", "{a:", "1}"},
			[]string{"--models", "unbalanced brackets: 1 left open"}},
		{"unbalanced brackets before the next flag", []string{"--models", "{trunk:", "{a:", "1}", "--patience", "5"},
			[]string{"--models", "unbalanced brackets"}},
		{"extra closing bracket", []string{"--models", "{trunk:", "1}}"},
			[]string{"--models", `unexpected "}" after the value {trunk: 1}`}},
		{"mismatched bracket", []string{"--models", "{trunk:", "[1}"},
			[]string{"--models", `unexpected '}'`}},
		{"no value", []string{"--patience", "--evaluate"},
			[]string{"--patience", "needs a value"}},
		{"no value at the end", []string{"--patience"},
			[]string{"--patience", "needs a value"}},
		{"two values", []string{"--patience", "5", "6"},
			[]string{"--patience", `takes one value, got "5 6"`}},
		{"bad YAML value", []string{"--models", "{a:", "b:", "c}"},
			[]string{"--models", "bad YAML"}},
		{"missing space after colon", []string{"--optimizers", "{trunk_optimizer:", "{Adam:", "{lr:0.1}}}"},
			[]string{"--optimizers", `"lr:0.1" reads as one key`}},
		{"value flag without value", []string{"--experiment_name", "--evaluate"},
			[]string{"--experiment_name", "takes one value, got 0"}},
		{"value flag twice", []string{"--experiment_name", "a", "--experiment_name", "b"},
			[]string{"--experiment_name", "given twice"}},
		{"bool flag with a value", []string{"--evaluate", "true"},
			[]string{"--evaluate", "takes no value", "--evaluate=false"}},
		{"bad bool", []string{"--evaluate=maybe"},
			[]string{"--evaluate", "takes no value"}},
		{"unknown category", []string{"--config_genral", "default"},
			[]string{"--config_genral", "unknown config category", `did you mean "config_general"`}},
		{"category without names", []string{"--config_general", "--evaluate"},
			[]string{"--config_general", "needs one or more config names"}},
		{"category twice", []string{"--config_general", "a", "--config_general", "b"},
			[]string{"--config_general", "given twice"}},
		{"stray word", []string{"test1", "--evaluate"},
			[]string{`unexpected argument "test1"`}},
		{"colon after a flag with a scalar value", []string{"--batch_size:", "256"},
			[]string{"--batch_size:", "a colon after a flag's name is accepted only before a {...} value", "write --batch_size 256"}},
		{"colon after a flag with a list value", []string{"--splits_to_eval:", "[test]"},
			[]string{"--splits_to_eval:", "write --splits_to_eval [test]"}},
		{"--set without =", []string{"--set", "a.b", "1"},
			[]string{"--set", "wants path=value"}},
		{"--set without value", []string{"--set"},
			[]string{"--set", "needs path=value"}},
		{"--set unbalanced", []string{"--set", "a.b={x:", "1"},
			[]string{"--set a.b", "unbalanced brackets"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseArgs(c.args, testValueFlags, testBoolFlags)
			wantErr(t, err, c.want...)
		})
	}
}

// The whole path: os.Args words through ParseArgs and Load.
func TestParseArgsThenLoad(t *testing.T) {
	root := writeConfigs(t, map[string]string{
		"config_general/default":    "patience: 9\ntrainer: {MetricLossOnly: {batch_size: 32}}\n",
		"config_general/daml":       "trainer~SWAP~1: {DeepAdversarialMetricLearning: }\n",
		"config_optimizers/default": "optimizers:\n  trunk_optimizer: {RMSprop: {lr: 0.000001}}\n",
	})
	words := strings.Split("--experiment_name e --config_general default daml --optimizers {trunk_optimizer: {Adam: {lr: 0.001}}} "+
		"--optimizers {trunk_optimizer~OVERRIDE~: {Adam: {lr: 0.002}}} --patience 5 --set trainer.DeepAdversarialMetricLearning.batch_size=64", " ")
	a, err := ParseArgs(words, testValueFlags, testBoolFlags)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := Load(root, a.ConfigNames, a.Overrides)
	if err != nil {
		t.Fatal(err)
	}
	// config_general is merged last.
	want := "{optimizers: {trunk_optimizer: {Adam: {lr: 0.002}}}, patience: 5, trainer: {DeepAdversarialMetricLearning: {batch_size: 64}}}"
	if got := flow(tree); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := tree.Source("trainer.DeepAdversarialMetricLearning.batch_size"); got != "--set trainer.DeepAdversarialMetricLearning.batch_size" {
		t.Errorf("source = %q", got)
	}
}
