package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/golden"
	"github.com/bench-ml/bench/internal/limits"
)

// TestLimitFlags: the input limits are flags of every command, read before
// anything is allocated, in both the commands cobra parses and run's own
// parser; a bad value is one error naming the flag.
func TestLimitFlags(t *testing.T) {
	yamlNodes, pixels, memory := config.MaxYAMLNodes, data.MaxImagePixels, limits.Memory
	t.Cleanup(func() { config.MaxYAMLNodes, data.MaxImagePixels, limits.Memory = yamlNodes, pixels, memory })
	datasets := golden.Path(t, "datasets")
	root := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"datasets", "prepare", "{Omniglot: {}}", "--dataset_root", datasets, "--max_image_pixels", "100"}, "more than the 100 allowed"},
		{[]string{"configs", "show", "--max-yaml-nodes", "5"}, "expands to more than 5 values"},
		{runArgs(t, root, "--experiment_name", "x", "--config_general", "default", "smoke", "--max_memory_gib", "0.000001"), "of memory"},
		{[]string{"configs", "show", "--max_memory_gib", "-1"}, "--max_memory_gib: want a positive number"},
		{[]string{"metrics", "--max_image_pixels", "lots"}, "max_image_pixels"},
	} {
		_, err := bench(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: got %v, want one line with %q", tc.args, err, tc.want)
		}
		config.MaxYAMLNodes, data.MaxImagePixels, limits.Memory = yamlNodes, pixels, memory
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("refused runs wrote %v", entries)
	}
	// Raised, a limit lets through what the default refuses.
	ten := func(alias string) string { return "[" + strings.Repeat(alias+",", 9) + alias + "]" }
	big := "{a: &a " + ten("0") + ", b: &b " + ten("*a") + ", c: &c " + ten("*b") + ", d: &d " + ten("*c") + ", e: " + ten("*d") + "}" // > 100,000 values
	for _, tc := range []struct {
		limit   []string
		refused bool
	}{{nil, true}, {[]string{"--max_yaml_nodes", "1e6"}, false}} {
		_, err := bench(t, append(append([]string{"configs", "show"}, tc.limit...), "--trainer", big)...)
		if got := err != nil && strings.Contains(err.Error(), "expands to more than"); got != tc.refused {
			t.Errorf("%v: %v", tc.limit, err)
		}
		config.MaxYAMLNodes = yamlNodes
	}
}
