package record

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestLockExperiment(t *testing.T) {
	dir := t.TempDir()
	release, err := LockExperiment(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A second open file description conflicts as a second process would.
	_, err = LockExperiment(dir)
	want := "experiment folder " + dir + " is in use by process " + strconv.Itoa(os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("second lock: %v; want %q", err, want)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	release, err = LockExperiment(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	release()
	// Locks of other paths in one folder are independent (per-fold locks).
	a, err := Lock(filepath.Join(dir, "a.lock"), "a")
	if err != nil {
		t.Fatal(err)
	}
	defer a()
	b, err := Lock(filepath.Join(dir, "b.lock"), "b")
	if err != nil {
		t.Fatal(err)
	}
	b()
}

// TestCreateRace creates one experiment from many goroutines at once:
// exactly one gets it, the others are told it is taken or in use.
func TestCreateRace(t *testing.T) {
	root := t.TempDir()
	const n = 8
	var wg sync.WaitGroup
	folders := make(chan *Folder, n)
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := Create(root, "x")
			if err != nil {
				errs <- err
				return
			}
			// Hold it, as a run would, long enough to write into it.
			if err := WriteFileAtomic(filepath.Join(f.ConfigsDir(), "c.yaml"), []byte("a: 1\n")); err != nil {
				t.Error(err)
			}
			folders <- f
		}()
	}
	wg.Wait()
	close(folders)
	close(errs)
	if len(folders) != 1 {
		t.Fatalf("%d of %d creations succeeded; want 1", len(folders), n)
	}
	for err := range errs {
		if msg := err.Error(); !strings.Contains(msg, "is in use by") && !strings.Contains(msg, "already exists and is not empty") {
			t.Errorf("unexpected error %q", msg)
		}
	}
	f := <-folders
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(root, "x"); err == nil || !strings.Contains(err.Error(), "already exists and is not empty") {
		t.Errorf("creating a finished experiment: %v", err)
	}
}
