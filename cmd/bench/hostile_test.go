package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileNames: names that would lead outside the experiment root or
// the config folder are refused, with one line naming the flag, and
// nothing is written anywhere.
func TestHostileNames(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "a", "b")
	for _, c := range []struct {
		args []string
		want string
	}{
		{runArgs(t, root, "--experiment_name", "../../x"), "--experiment_name: \"../../x\" has a path separator"},
		{runArgs(t, root, "--experiment_name", "."), "--experiment_name: \".\" is ."},
		{runArgs(t, root, "--experiment_name", ".."), "--experiment_name: \"..\" is .."},
		{runArgs(t, root, "--experiment_name", "a\x1bb"), "has a control character"},
		{[]string{"eval", "--root_experiment_folder", root, "--experiment_name", "../../x"}, "--experiment_name"},
		{[]string{"run", "--root_experiment_folder", root, "--experiment_name", "../x", "--resume_training", "latest"}, "--experiment_name"},
		{[]string{"search", "--root_experiment_folder", root, "--experiment_name", "../../x", "--bayes_opt_iters", "1"}, "--experiment_name"},
		{runArgs(t, root, "--experiment_name", "x", "--config_general", "default", "../../x"), "--config_general: \"../../x\" has a path separator"},
	} {
		_, err := bench(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: got %v; want one line with %q", c.args, err, c.want)
		}
	}
	if entries, _ := os.ReadDir(base); len(entries) != 0 {
		t.Errorf("refused commands wrote %v", entries)
	}
}
