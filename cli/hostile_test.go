package cli

import (
	"fmt"
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

// aliasBomb is a YAML flow map of 333 bytes that expands to 9^9 values.
func aliasBomb() string {
	s, prev := "{a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]", "a"
	for _, n := range "bcdefghi" {
		s += fmt.Sprintf(", %c: &%c [%s]", n, n, strings.Repeat("*"+prev+",", 8)+"*"+prev)
		prev = string(n)
	}
	return s + "}"
}

// TestHostileInputs: tiny inputs that asked for unbounded memory or
// panicked exit non-zero with one line naming the flag or key, and write
// nothing.
func TestHostileInputs(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "experiments")
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	emb := write("e.csv", "0.1,0.2\n0.3,0.4\n0.5,0.1\n0.2,0.9\n")
	labels := write("l.csv", "0\n1\n0\n1\n")
	nanEmb := write("nan.csv", "0.1,0.2\n0.3,nan\n0.5,0.1\n0.2,0.9\n")
	hugeLabel := write("huge.csv", "0\n1\n0\n1000000000000\n")
	// 3e8 rows declared in a file of under 200 bytes.
	hdr := "{'descr': '<f4', 'fortran_order': False, 'shape': (300000000, 4), }\n"
	npy := write("rows.npy", "\x93NUMPY\x01\x00"+string([]byte{byte(len(hdr)), 0})+hdr+strings.Repeat("\x00", 32))
	for _, c := range []struct {
		args []string
		want string
	}{
		{runArgs(t, root, "--experiment_name", "x", "--optimizers", "{trunk_optimizer: {Adam: {lr: .nan}}}"), "lr: want a number, got NaN"},
		{runArgs(t, root, "--experiment_name", "x", "--loss_weights", "{metric_loss: .inf}"), "+Inf"},
		{runArgs(t, root, "--experiment_name", "x", "--trainer", aliasBomb()), "--trainer: expands to more than"},
		{runArgs(t, root, "--experiment_name", "x", "--batch_size", "4000000000"), "batch_size and transforms: 4000000000 images"},
		{runArgs(t, root, "--experiment_name", "x", "--models~OVERRIDE~", "{trunk: {ConvNet: {channels: [1000000000]}}, embedder: {MLP: {}}}"), "models.trunk.ConvNet.channels"},
		{runArgs(t, root, "--experiment_name", "x", "--transforms~OVERRIDE~", "{train: {Resize: {size: 10000000}}, eval: {Resize: {size: 10000000}}}"), "images of 1x10000000x10000000"},
		{runArgs(t, root, "--experiment_name", "x", "--loss_funcs~OVERRIDE~", "{metric_loss: {ProxyAnchorLoss: {num_classes: 100000000000}}}"), "ProxyAnchorLoss.num_classes: 100000000000 classes"},
		{[]string{"loss", "--embeddings", emb, "--labels", labels, "--loss", "{TripletMarginLoss: {margin: .nan}}"}, "margin: want a number, got NaN"},
		{[]string{"loss", "--embeddings", nanEmb, "--labels", labels, "--loss", "{TripletMarginLoss: {}}"}, "row 2, column 2 is NaN"},
		{[]string{"loss", "--embeddings", emb, "--labels", hugeLabel, "--loss", "{ProxyAnchorLoss: {}}"}, "--labels: the largest label, 1000000000000"},
		{[]string{"metrics", "--embeddings", nanEmb, "--labels", labels}, "row 2, column 2 is NaN"},
		{[]string{"metrics", "--embeddings", npy, "--labels", labels}, "declares shape [300000000 4]"},
	} {
		_, err := bench(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%.120q: got %v; want one line with %q", c.args, err, c.want)
		}
	}
	if _, err := os.Stat(root); err == nil {
		t.Errorf("a refused run wrote %s", root)
	}
}
