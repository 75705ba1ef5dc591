package cli

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/bench-ml/bench/internal/config"
	"github.com/bench-ml/bench/internal/data"
	"github.com/bench-ml/bench/internal/limits"
)

// limitFlags raise (or lower) the bounds that keep a small hostile input
// from exhausting memory; each is checked before anything is allocated.
var limitFlags = []struct {
	name, usage string
	set         func(v float64)
	get         func() float64
}{
	{"max_yaml_nodes", "the most values one YAML file or flag may expand to",
		func(v float64) { config.MaxYAMLNodes = int(v) }, func() float64 { return float64(config.MaxYAMLNodes) }},
	{"max_image_pixels", "the most pixels (width x height) an image header may claim",
		func(v float64) { data.MaxImagePixels = int(v) }, func() float64 { return float64(data.MaxImagePixels) }},
	{"max_memory_gib", "the memory a config may be estimated to need (default: the machine's)",
		func(v float64) { limits.Memory = v * (1 << 30) }, func() float64 { return limits.Memory / (1 << 30) }},
}

func addLimitFlags(root *cobra.Command) {
	for _, f := range limitFlags {
		root.PersistentFlags().Float64(f.name, f.get(), f.usage)
	}
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		return setLimits(func(name string) (string, bool) {
			fl := cmd.Flags().Lookup(name)
			if fl == nil || !fl.Changed {
				return "", false
			}
			return fl.Value.String(), true
		})
	}
}

// setLimits applies the limit flags that lookup finds (by snake_case name).
func setLimits(lookup func(name string) (string, bool)) error {
	for _, f := range limitFlags {
		s, ok := lookup(f.name)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v > 0) || v > 1<<50 {
			return fmt.Errorf("--%s: want a positive number, got %q", f.name, s)
		}
		f.set(v)
	}
	return nil
}
