package record

import (
	"path/filepath"
	"strings"
	"testing"
)

// Shared locks go together; an exclusive one excludes them, and they it.
func TestLockShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), LockFile)
	a, err := LockShared(path, "x")
	if err != nil {
		t.Fatal(err)
	}
	b, err := LockShared(path, "x")
	if err != nil {
		t.Fatalf("a second shared lock: %v", err)
	}
	if _, err := Lock(path, "experiment x"); err == nil || !strings.Contains(err.Error(), "experiment x is in use") {
		t.Errorf("an exclusive lock beside shared ones: %v", err)
	}
	a()
	b()
	release, err := Lock(path, "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockShared(path, "x"); err == nil {
		t.Error("a shared lock beside an exclusive one")
	}
	release()
}
