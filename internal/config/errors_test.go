package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A config error keeps its cause: errors.Is finds a missing file behind
// the message that names it, and errors.As finds the config error itself.
func TestErrorWrapsItsCause(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "configs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := LoadSaved(dir, nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadSaved of an empty folder: %v; want an error wrapping fs.ErrNotExist", err)
	}
	var cerr *Error
	if !errors.As(err, &cerr) || !strings.HasPrefix(cerr.Source, dir) || !strings.Contains(err.Error(), "cannot read the saved config: ") {
		t.Errorf("want a *config.Error naming the file and saying what failed, got %#v", err)
	}

	cause := errors.New("num_classes 3 is below the 5 classes")
	err = &Error{Source: "f.yaml", Path: "loss_funcs.metric_loss", Err: cause}
	if !errors.Is(err, cause) || err.Error() != "f.yaml: loss_funcs.metric_loss: num_classes 3 is below the 5 classes" {
		t.Errorf("got %q (Is %v)", err, errors.Is(err, cause))
	}
	if (&Error{Path: "patience", Msg: "want at least 0"}).Unwrap() != nil {
		t.Error("an error without a cause unwraps to something")
	}
}
