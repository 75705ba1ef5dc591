package record

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCreateRefusesNonEmptyFolder(t *testing.T) {
	root := t.TempDir()
	if _, err := Create(root, "x"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "x", "configs", "a.yaml"), []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Create(root, "x")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(root, "x")) {
		t.Fatalf("want an error naming the folder, got %v", err)
	}
}

func TestCreateAcceptsEmptyFolder(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(root, "x"); err != nil {
		t.Fatal(err)
	}
}

func TestWriteAtomicLeavesNoTempFileOnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.csv")
	if err := WriteFileAtomic(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	err := WriteAtomic(path, func(f *os.File) error {
		f.Write([]byte("half"))
		return os.ErrClosed
	})
	if err == nil {
		t.Fatal("want the write error")
	}
	got, _ := os.ReadFile(path)
	if string(got) != "old" {
		t.Fatalf("file changed to %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary file left behind: %v", entries)
	}
}

func TestTableRoundTripAndNewColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "losses.csv")
	tab := NewTable(path)
	tab.Add(map[string]float64{"iteration": 1, "loss": 0.5}, "iteration", "loss")
	tab.Add(map[string]float64{"iteration": 2, "loss": 0.25, "lr": 1e-3}, "iteration", "loss")
	if err := tab.Flush(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	want := "iteration,loss,lr\n1,0.5,\n2,0.25,0.001\n"
	if string(data) != want {
		t.Fatalf("got\n%s\nwant\n%s", data, want)
	}
	back, err := LoadTable(path)
	if err != nil {
		t.Fatal(err)
	}
	back.Truncate("iteration", func(v float64) bool { return v <= 1 })
	if back.Len() != 1 {
		t.Fatalf("truncate kept %d rows, want 1", back.Len())
	}
}
