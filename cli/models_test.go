package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestModelsDownload runs `bench models download` against a local server:
// a file that does not match the published digest is refused and nothing
// is left in the checkpoint folder; a present file is left alone.
func TestModelsDownload(t *testing.T) {
	var served []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served = append(served, r.URL.Path)
		w.Write([]byte("not the published resnet18 weights"))
	}))
	defer srv.Close()
	home := t.TempDir()
	t.Setenv("TORCH_HOME", "/nonexistent") // --pytorch_home wins

	_, stderr, err := benchStreams(t, "models", "download", "resnet18", "--pytorch_home", home, "--mirror", srv.URL)
	if err == nil || !strings.Contains(err.Error(), "does not match the published f37072fd") {
		t.Fatalf("error %v; want a digest mismatch", err)
	}
	if len(served) != 1 || served[0] != "/resnet18-f37072fd.pth" {
		t.Errorf("served %v", served)
	}
	if !strings.Contains(stderr, "downloading resnet18-f37072fd.pth.part") {
		t.Errorf("no progress bar on stderr: %q", stderr)
	}
	dir := filepath.Join(home, "hub", "checkpoints")
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left in %s: %v", dir, left)
	}

	if err := os.WriteFile(filepath.Join(dir, "resnet18-f37072fd.pth"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := benchStreams(t, "models", "download", "resnet18", "--pytorch_home", home, "--mirror", srv.URL)
	if err != nil || !strings.Contains(stdout, "already there") || len(served) != 1 {
		t.Errorf("present file: %q, %v, served %v", stdout, err, served)
	}
	stdout, _, err = benchStreams(t, "models", "list", "--pytorch_home", home)
	if err != nil || !strings.Contains(stdout, "resnet18     present") || !strings.Contains(stdout, "bninception  missing") {
		t.Errorf("list: %q, %v", stdout, err)
	}
	if _, _, err := benchStreams(t, "models", "download", "vgg16"); err == nil || !strings.Contains(err.Error(), "allowed: bninception") {
		t.Errorf("unknown model: %v", err)
	}
}
