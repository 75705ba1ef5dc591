package cli

import (
	"crypto/sha256"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bench-ml/bench/internal/record"
)

// snapshot maps every file of dir but the lock and provenance to a hash of its
// content, to check that a refused command wrote nothing.
func snapshot(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		// provenance.json records every process, failed ones too.
		if err != nil || d.IsDir() || d.Name() == record.LockFile || d.Name() == "provenance.json" {
			return err
		}
		data, err := os.ReadFile(path)
		out[path] = sha256.Sum256(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// refused runs a command that must fail with one line containing each of
// want and write nothing into dir.
func refused(t *testing.T, dir string, args []string, want ...string) {
	t.Helper()
	before := snapshot(t, dir)
	_, err := bench(t, args...)
	if err == nil {
		t.Fatalf("%v: accepted", args)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") {
		t.Errorf("%v: want one line, got %q", args, msg)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%v: error %q lacks %q", args, err, w)
		}
	}
	after := snapshot(t, dir)
	for path, sum := range after {
		if before[path] != sum {
			t.Errorf("%v wrote %s", args, path)
		}
	}
	for path := range before {
		if _, ok := after[path]; !ok {
			t.Errorf("%v removed %s", args, path)
		}
	}
}

// TestDamagedCheckpoint: resume and eval refuse a checkpoint whose bytes
// changed, whose state is out of range, or whose best is not its best
// epoch, each with one line naming the file, writing nothing.
func TestDamagedCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	root := t.TempDir()
	if out, err := bench(t, runArgs(t, root, "--experiment_name", "x", "--config_general", "default", "smoke",
		"--num_epochs_train", "1", "--iterations_per_epoch", "3", "--check_untrained_accuracy", "false")...); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	exp := filepath.Join(root, "x")
	models := filepath.Join(exp, "Test50_50_Partitions2_0", "saved_models")
	resume := []string{"run", "--root_experiment_folder", root, "--experiment_name", "x", "--resume_training", "latest"}
	eval := []string{"eval", "--root_experiment_folder", root, "--experiment_name", "x"}
	for _, which := range []string{"latest", "best"} {
		path := filepath.Join(models, which+".safetensors")
		good, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := record.DecodeCheckpoint(good)
		if err != nil {
			t.Fatal(err)
		}
		var state map[string]any
		if err := json.Unmarshal(c.State, &state); err != nil {
			t.Fatal(err)
		}
		fold := state["fold"].(map[string]any)
		args := resume
		if which == "best" {
			args = eval
		}
		// One changed byte in the middle of the tensors.
		bad := append([]byte{}, good...)
		bad[len(bad)-20] ^= 1
		os.WriteFile(path, bad, 0o644)
		refused(t, exp, args, path, "checksum mismatch")
		// Values out of range, with a valid checksum.
		for key, v := range map[string]any{"epoch": -5, "best_epoch": 7} {
			old := fold[key]
			fold[key] = v
			c.State, _ = json.Marshal(state)
			if err := record.WriteCheckpoint(path, c); err != nil {
				t.Fatal(err)
			}
			refused(t, exp, args, path, key)
			fold[key] = old
		}
		os.WriteFile(path, good, 0o644)
	}
	if out, err := bench(t, eval...); err != nil {
		t.Fatalf("the restored checkpoints: %v\n%s", err, out)
	}

	// A saved config edited by hand (other splits): refused by resume and
	// eval, then accepted by a resume with --merge_argparse_when_resuming,
	// which records it as a config change and puts the original back.
	dataset := filepath.Join(exp, "configs", "config_dataset.yaml")
	original := readFile(t, dataset)
	if !strings.Contains(original, "shuffle: false") {
		t.Fatalf("%s has no shuffle: false:\n%s", dataset, original)
	}
	os.WriteFile(dataset, []byte(strings.Replace(original, "shuffle: false", "shuffle: true", 1)), 0o644)
	refused(t, exp, resume, "was edited since bench wrote it", "shuffle", "--merge_argparse_when_resuming")
	refused(t, exp, eval, "was edited since bench wrote it")
	if out, err := bench(t, append(resume, "--merge_argparse_when_resuming")...); err != nil {
		t.Fatalf("accepting the edit: %v\n%s", err, out)
	}
	if got := readFile(t, dataset); got != original {
		t.Errorf("the edited file was not put back:\n%s", got)
	}
	diffs, _ := filepath.Glob(filepath.Join(exp, "configs", "resume_training_config_diffs_*", "config_dataset.yaml"))
	if len(diffs) != 1 || !strings.Contains(readFile(t, diffs[0]), "shuffle: true") {
		t.Errorf("the accepted edit was not recorded: %v", diffs)
	}
	if out, err := bench(t, eval...); err != nil {
		t.Fatalf("eval after accepting the edit: %v\n%s", err, out)
	}
}
