package main

import (
	"strings"
	"testing"
)

// TestApplyDepthIsPowerfulBenchmarkers checks that ~APPLY~N counts levels as
// powerful_benchmarker does, and that a key written with bench's old count
// fails loudly instead of being misapplied.
func TestApplyDepthIsPowerfulBenchmarkers(t *testing.T) {
	out, err := bench(t, "configs", "show", "--root_config_folder", "../../configs",
		"--optimizers~APPLY~3", "{lr: 0.0123}", "--tester~APPLY~2", "{batch_size: 77}")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "lr: 0.0123"); n != 2 {
		t.Errorf("optimizers~APPLY~3 set %d learning rates, want both:\n%s", n, out)
	}
	if !strings.Contains(out, "batch_size: 77") {
		t.Errorf("tester~APPLY~2 did not set batch_size:\n%s", out)
	}
	_, err = bench(t, "configs", "show", "--root_config_folder", "../../configs", "--optimizers~APPLY~2", "{lr: 0.01}")
	if err == nil || !strings.Contains(err.Error(), "optimizers.trunk_optimizer: a component has one type, this has 2 (Adam, lr)") {
		t.Errorf("the old depth: got %v", err)
	}
}
