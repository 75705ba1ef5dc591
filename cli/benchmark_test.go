package cli

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/bench-ml/bench/internal/perf"
)

// tinyModel keeps the command's tests at smoke size.
var tinyModel = []string{"--models", "{trunk: {ConvNet: {channels: [4, 8]}}, embedder: {MLP: {layer_sizes: [4]}}}",
	"--input", "1x8x8", "--batch", "8", "--iters", "2", "--warmup", "1", "--threads", "1"}

func TestBenchmarkCommand(t *testing.T) {
	for _, mode := range []string{"train", "embed"} {
		out, err := bench(t, append([]string{"benchmark", mode}, tinyModel...)...)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		for _, key := range []string{"images/s: ", "ms/step: ", "CPU ms/step: ", "GFLOP/s: ", "GEMM peak GFLOP/s: ", "peak memory MiB: "} {
			if !strings.Contains(out, "\n"+key) {
				t.Errorf("%s: no %q line in\n%s", mode, key, out)
			}
		}
	}
}

func TestBenchmarkCommandErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"benchmark"}, "train or embed"},
		{[]string{"benchmark", "infer"}, "train or embed"},
		{[]string{"benchmark", "train", "--input", "3x32"}, "ConvNet"},
		{[]string{"benchmark", "train", "--input", "3xx32"}, "--input"},
		{[]string{"benchmark", "train", "--batch", "1"}, "--batch"},
		{[]string{"benchmark", "embed", "--threads", "0"}, "--threads"},
		{[]string{"benchmark", "train", "--models", "{trunk: {ConvNt: {}}}"}, "--models"},
		{[]string{"benchmark", "train", "--models", "{trunk: {ConvNet: {chanels: [4]}}}"}, "chanels"},
		{[]string{"benchmark", "train", "--models", "[1"}, "--models"},
	} {
		out, err := bench(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v (output %q); want one naming %q", c.args, err, out, c.want)
		}
	}
}

// The reference model shipped as a config is the one the benchmark uses by
// default.
func TestReferenceConfigIsTheDefault(t *testing.T) {
	data, err := os.ReadFile("../configs/config_models/reference_cnn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Models map[string]any `yaml:"models"`
	}
	var def map[string]any
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(perf.ReferenceModels), &def); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(file.Models, def) {
		t.Errorf("reference_cnn.yaml models %v; perf.ReferenceModels %v", file.Models, def)
	}
}
