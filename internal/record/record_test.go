package record

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCreateRefusesNonEmptyFolder(t *testing.T) {
	root := t.TempDir()
	f, err := Create(root, "x")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "x", "splits.json"), []byte("[]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Create(root, "x")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(root, "x")+" already exists and is not empty") {
		t.Fatalf("want an error naming the folder, got %v", err)
	}
}

// A run killed while it created the experiment left a lock file and a
// half-written configs folder: the same name is free again.
func TestCreateClearsAKilledCreation(t *testing.T) {
	root := t.TempDir()
	f, err := Create(root, "x")
	if err != nil {
		t.Fatal(err)
	}
	err = WriteDirAtomic(f.ConfigsDir(), func(dir string) error {
		if err := WriteFileAtomic(filepath.Join(dir, "a.yaml"), []byte("a: 1\n")); err != nil {
			t.Fatal(err)
		}
		return errors.New("killed")
	})
	if err == nil {
		t.Fatal("want the error of write")
	}
	// As a kill leaves it: the temporary folder is not removed.
	if err := os.Mkdir(filepath.Join(root, "x", ".configs.tmp123"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if f, err = Create(root, "x"); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(f.Path); len(entries) != 1 || entries[0].Name() != LockFile {
		t.Errorf("left %v", entries)
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
