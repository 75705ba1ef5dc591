package cli

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bench-ml/bench/internal/config"
)

// dirFlags are the run flags whose value is a folder.
var dirFlags = []string{"root_experiment_folder", "dataset_root", "root_config_folder", "reproduce_results"}

// completeRunArgs is shell completion for run, eval, configs show and
// search, whose flags cobra does not parse: flag names, the config names of
// a --config_<category> (built in and in --root_config_folder), and the
// values of the other flags.
func completeRunArgs(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	args = snakeCaseArgs(args)
	if strings.HasPrefix(toComplete, "-") {
		prefix := "--" + strings.ReplaceAll(strings.TrimLeft(toComplete, "-"), "-", "_")
		var out []string
		for _, f := range slices.Concat(valueFlags, boolFlags, config.Categories) {
			if strings.HasPrefix("--"+f, prefix) {
				out = append(out, "--"+f)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	// The flag this word is a value of: the last one before it.
	flag, words, folder := "", 0, ""
	for i, w := range args {
		if strings.HasPrefix(w, "--") {
			flag, words = strings.TrimPrefix(w, "--"), 0
			continue
		}
		words++
		if flag == "root_config_folder" && words == 1 {
			folder = args[i]
		}
	}
	switch {
	case slices.Contains(config.Categories, flag):
		infos, err := config.List(folder, flag)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []string
		for _, c := range infos {
			out = append(out, c.Name+"\t"+c.Summary)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	case words > 0:
	case slices.Contains(dirFlags, flag):
		return nil, cobra.ShellCompDirectiveFilterDirs
	case flag == "resume_training":
		return []string{"latest", "best"}, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// completeDirs completes a flag's value with folders.
func completeDirs(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}
