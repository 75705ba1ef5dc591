package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestMerge(t *testing.T) {
	const optimizers = "optimizers:\n  trunk_optimizer: {RMSprop: {lr: 0.000001}}\n  embedder_optimizer: {Adam: {lr: 0.01, eps: 1}}\n"
	const transforms = "transforms:\n  train:\n    Resize: {size: 256}\n    RandomResizedCrop: {size: 227}\n    RandomHorizontalFlip: {p: 0.5}\n    Normalize: {}\n  eval:\n    Resize: {size: 256}\n"
	cases := []struct {
		name  string
		files []string
		want  string
	}{
		{"maps merge, scalars and lists are replaced",
			[]string{"a: {x: 1, y: [1, 2], z: {p: 1}}\nb: 2\n", "a: {y: [3], z: 5}\nb: [1]\n"},
			"{a: {x: 1, y: [3], z: 5}, b: [1]}"},
		{"file order is kept, not sorted",
			[]string{"z: 1\na: 2\nm: {c: 1, b: 2, a: 3}\n"},
			"{z: 1, a: 2, m: {c: 1, b: 2, a: 3}}"},
		{"new keys go after existing ones",
			[]string{"m: {c: 1, b: 2}\n", "m: {a: 3, c: 4}\nn: 1\n"},
			"{m: {c: 4, b: 2, a: 3}, n: 1}"},
		{"a replaced map takes the new order",
			[]string{transforms, "transforms: {train~OVERRIDE~: {Normalize: {}, Resize: {size: 64}}}\n"},
			"{transforms: {train: {Normalize: {}, Resize: {size: 64}}, eval: {Resize: {size: 256}}}}"},
		{"a map replaces a scalar and null replaces a map",
			[]string{"a: 1\nb: {x: 1}\n", "a: {x: 1}\nb: null\n"},
			"{a: {x: 1}, b: null}"},
		{"plain merge of a component keeps both types",
			[]string{optimizers, "optimizers: {trunk_optimizer: {Adam: {lr: 0.01}}}\n"},
			"{optimizers: {trunk_optimizer: {RMSprop: {lr: 1e-06}, Adam: {lr: 0.01}}, embedder_optimizer: {Adam: {lr: 0.01, eps: 1}}}}"},
		{"~OVERRIDE~ replaces",
			[]string{optimizers, "optimizers: {trunk_optimizer~OVERRIDE~: {Adam: {lr: 0.01}}}\n"},
			"{optimizers: {trunk_optimizer: {Adam: {lr: 0.01}}, embedder_optimizer: {Adam: {lr: 0.01, eps: 1}}}}"},
		{"~OVERRIDE~ at the top level",
			[]string{optimizers, "optimizers~OVERRIDE~: {trunk_optimizer: {SGD: {}}}\n"},
			"{optimizers: {trunk_optimizer: {SGD: {}}}}"},
		{"~OVERRIDE~ in a first file just sets",
			[]string{"a~OVERRIDE~: {x: 1}\n"},
			"{a: {x: 1}}"},
		{"~APPLY~3 sets lr in every optimiser",
			[]string{optimizers, "optimizers~APPLY~3: {lr: 0.00001}\n"},
			"{optimizers: {trunk_optimizer: {RMSprop: {lr: 1e-05}}, embedder_optimizer: {Adam: {lr: 1e-05, eps: 1}}}}"},
		{"~APPLY~2 merges into the component params, special keys included",
			[]string{"trainer: {MetricLossOnly: {batch_size: 32, loss_weights: {a: 1}}}\n",
				"trainer~APPLY~2: {batch_size: 64, loss_weights~OVERRIDE~: {b: 2}}\n"},
			"{trainer: {MetricLossOnly: {batch_size: 64, loss_weights: {b: 2}}}}"},
		{"~APPLY~ into null params gives the applied map",
			[]string{"trainer: {MetricLossOnly: }\n", "trainer~APPLY~2: {batch_size: 64}\n"},
			"{trainer: {MetricLossOnly: {batch_size: 64}}}"},
		{"~APPLY~1 merges into the value of the key itself",
			[]string{"trainer: {MetricLossOnly: {}}\n", "trainer~APPLY~1: {X: {a: 1}}\n"},
			"{trainer: {MetricLossOnly: {}, X: {a: 1}}}"},
		{"~APPLY~ nested in a map",
			[]string{transforms, "transforms: {train~APPLY~2: {p: 1}}\n"},
			"{transforms: {train: {Resize: {size: 256, p: 1}, RandomResizedCrop: {size: 227, p: 1}, RandomHorizontalFlip: {p: 1}, Normalize: {p: 1}}, eval: {Resize: {size: 256}}}}"},
		{"~SWAP~1 swaps the only type and keeps its params and place",
			[]string{"trainer: {MetricLossOnly: {batch_size: 32}}\npatience: 9\n", "trainer~SWAP~1: {DeepAdversarialMetricLearning: }\n"},
			"{trainer: {DeepAdversarialMetricLearning: {batch_size: 32}}, patience: 9}"},
		{"~SWAP~ with {} as in powerful_benchmarker",
			[]string{"split_manager: {A: {x: 1}}\n", "split_manager~SWAP~1: {B: {}}\n"},
			"{split_manager: {B: {x: 1}}}"},
		{"~SWAP~ to the name it already has does nothing",
			[]string{"trainer: {A: {x: 1}}\n", "trainer~SWAP~1: {A: }\n"},
			"{trainer: {A: {x: 1}}}"},
		{"~SWAP~2 renames in place where the key is",
			[]string{transforms, "transforms~SWAP~2: {RandomHorizontalFlip: RandomVerticalFlip}\n"},
			"{transforms: {train: {Resize: {size: 256}, RandomResizedCrop: {size: 227}, RandomVerticalFlip: {p: 0.5}, Normalize: {}}, eval: {Resize: {size: 256}}}}"},
		{"~SWAP~2 renames in every map",
			[]string{transforms, "transforms~SWAP~2: {Resize: Scale}\n"},
			"{transforms: {train: {Scale: {size: 256}, RandomResizedCrop: {size: 227}, RandomHorizontalFlip: {p: 0.5}, Normalize: {}}, eval: {Scale: {size: 256}}}}"},
		{"~DELETE~",
			[]string{optimizers, "optimizers: {embedder_optimizer~DELETE~: {}}\n"},
			"{optimizers: {trunk_optimizer: {RMSprop: {lr: 1e-06}}}}"},
		{"~DELETE~ then set again goes last",
			[]string{"a: 1\nb: 2\n", "a~DELETE~:\n", "a: 3\n"},
			"{b: 2, a: 3}"},
		{"a search marker is kept and written back with its suffix",
			[]string{optimizers, "optimizers: {trunk_optimizer: {RMSprop: {lr~LOG_BAYESIAN~: [0.000001, 0.01]}}}\n"},
			"{optimizers: {trunk_optimizer: {RMSprop: {lr~LOG_BAYESIAN~: [1e-06, 0.01]}}, embedder_optimizer: {Adam: {lr: 0.01, eps: 1}}}}"},
		{"a later value replaces a search marker",
			[]string{"m~INT_BAYESIAN~: [2, 8]\n", "m: 4\n"},
			"{m: 4}"},
		{"powerful_benchmarker's with_daml example",
			[]string{
				"trainer:\n  MetricLossOnly:\n    iterations_per_epoch: 100\n    batch_size: 32\n    loss_weights: null\nnum_epochs_train: 1000\n",
				"trainer~SWAP~1:\n  DeepAdversarialMetricLearning:\n\ntrainer~APPLY~2:\n  g_alone_epochs: 0\n  loss_weights:\n    metric_loss: 1\n    synth_loss: 0.1\n",
			},
			"{trainer: {DeepAdversarialMetricLearning: {iterations_per_epoch: 100, batch_size: 32, loss_weights: {metric_loss: 1, synth_loss: 0.1}, g_alone_epochs: 0}}, num_epochs_train: 1000}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tree, _, err := loadGeneral(t, c.files)
			if err != nil {
				t.Fatal(err)
			}
			if got := flow(tree); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestMergeErrors(t *testing.T) {
	const optimizers = "optimizers:\n  trunk_optimizer: {RMSprop: {lr: 0.000001}}\n"
	cases := []struct {
		name  string
		files []string
		want  []string
	}{
		{"~APPLY~ one level too deep reaches scalars",
			[]string{"trainer: {MetricLossOnly: {batch_size: 32}}\n", "\ntrainer~APPLY~3: {batch_size: 64}\n"},
			[]string{"f1.yaml:2", "trainer~APPLY~3", "trainer.MetricLossOnly.batch_size is 32, not a map"}},
		{"~APPLY~ reaching nothing",
			[]string{"trainer: {MetricLossOnly: }\n", "trainer~APPLY~3: {batch_size: 64}\n"},
			[]string{"f1.yaml:1", "nothing at level 3 of trainer"}},
		{"~APPLY~ of an undefined key",
			[]string{"trainer: {A: {}}\n", "trainr~APPLY~1: {batch_size: 64}\n"},
			[]string{"f1.yaml:1", "trainr~APPLY~1", `~APPLY~ needs an existing "trainr"`, `did you mean "trainer"`}},
		{"~APPLY~ alone, as powerful_benchmarker's with_daml",
			[]string{"trainer~APPLY~1: {batch_size: 64}\n"},
			[]string{"f0.yaml:1", "set by a file merged before this one"}},
		{"~APPLY~ of a scalar value",
			[]string{"trainer: {A: {}}\n", "trainer~APPLY~1: 5\n"},
			[]string{"~APPLY~ wants a map, got 5"}},
		{"~APPLY~ without depth",
			[]string{"trainer: {A: {}}\n", "trainer~APPLY~: {x: 1}\n"},
			[]string{"f1.yaml:1", "~APPLY~ needs a depth of at least 1"}},
		{"an error inside an applied value is reported once",
			[]string{"trainer: {A: {}}\n", "trainer~APPLY~2: {x~FOO~: 1}\n"},
			[]string{"f1.yaml:1: trainer.A.x~FOO~: unknown special suffix"}},
		{"~SWAP~ of one of several keys",
			[]string{"t: {train: {A: {}, B: {}}}\n", "t~SWAP~2: {C: }\n"},
			[]string{"f1.yaml:1", "t~SWAP~2", "t.train has 2 keys (A, B)", "{OldName: C}"}},
		{"~SWAP~ of a missing key",
			[]string{"t: {train: {Resize: {}, Flip: {}}}\n", "t~SWAP~2: {Resise: Scale}\n"},
			[]string{`no key "Resise" 2 levels below t`, "Resize, Flip", `did you mean "Resize"`}},
		{"~SWAP~ onto an existing key",
			[]string{"t: {train: {A: {x: 1}, B: {}}}\n", "t~SWAP~2: {A: B}\n"},
			[]string{"cannot rename t.train.A to B: t.train.B already exists"}},
		{"~SWAP~ to a map",
			[]string{"t: {A: {}}\n", "t~SWAP~1: {A: {x: 1}}\n"},
			[]string{`~SWAP~ of "A" wants a new key name`}},
		{"~DELETE~ of a missing key",
			[]string{optimizers, "optimizers: {embeder_optimizer~DELETE~: }\n"},
			[]string{"f1.yaml:1", "optimizers.embeder_optimizer~DELETE~", `no "embeder_optimizer" to delete`, "trunk_optimizer"}},
		{"unknown suffix",
			[]string{"a: {b~OVERIDE~: 1}\n"},
			[]string{"f0.yaml:1", "a.b~OVERIDE~", "unknown special suffix ~OVERIDE~", `did you mean "OVERRIDE"`}},
		{"malformed suffix",
			[]string{"a: {lr~LOG_BAYESIAN: 1}\n"},
			[]string{"f0.yaml:1", "a.lr~LOG_BAYESIAN", "malformed special suffix"}},
		{"number after a suffix that takes none",
			[]string{"a: 1\n", "a~OVERRIDE~2: 1\n"},
			[]string{"~OVERRIDE~ takes no number"}},
		{"search range with low > high",
			[]string{"a: {lr~BAYESIAN~: [1, 0]}\n"},
			[]string{"f0.yaml:1", "a.lr~BAYESIAN~", "low > high"}},
		{"log search range must be positive",
			[]string{"lr~LOG_BAYESIAN~: [0, 1]\n"},
			[]string{"must be positive"}},
		{"int search range must hold integers",
			[]string{"m~INT_BAYESIAN~: [1, 2.5]\n"},
			[]string{"must hold integers"}},
		{"search range must be two numbers",
			[]string{"m~BAYESIAN~: [1, a]\n"},
			[]string{"two numbers"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := loadGeneral(t, c.files)
			wantErr(t, err, c.want...)
			if n := strings.Count(err.Error(), ".yaml"); n != 1 {
				t.Errorf("want the file named once, got %q", err)
			}
		})
	}
}

func TestSearchSpace(t *testing.T) {
	tree, root, err := loadGeneral(t, []string{
		"optimizers: {trunk_optimizer: {RMSprop: {lr~LOG_BAYESIAN~: [0.000001, 0.01]}}}\nloss: {m~INT_BAYESIAN~: [2, 8], margin~BAYESIAN~: [0, 1]}\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	src := root + "/config_general/f0.yaml:"
	want := []Search{
		{Path: "optimizers.trunk_optimizer.RMSprop.lr", Kind: "LOG_BAYESIAN", Low: 1e-6, High: 0.01, Source: src + "1"},
		{Path: "loss.m", Kind: "INT_BAYESIAN", Low: 2, High: 8, Source: src + "2"},
		{Path: "loss.margin", Kind: "BAYESIAN", Low: 0, High: 1, Source: src + "2"},
	}
	if got := tree.SearchSpace(); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got, _ := tree.Get("loss.m"); got != want[1] {
		t.Errorf("Get(loss.m) = %v, want the marker", got)
	}
}
