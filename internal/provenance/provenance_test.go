package provenance

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bench-ml/bench/internal/expfolder"
)

func TestDescribeBuild(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	for b, want := range map[expfolder.Build]string{
		{Version: "v1.2.0", Revision: "0123abc", GoVersion: "go1.26.8"}:                  "v1.2.0, revision 0123abc, go1.26.8 " + platform,
		{Version: "(devel)", Revision: "0123abc", Modified: true, GoVersion: "go1.26.8"}: "(devel), revision 0123abc with local changes, go1.26.8 " + platform,
		{Version: "(devel)", GoVersion: "go1.26.8"}:                                      "(devel), revision unknown (built without VCS information), go1.26.8 " + platform,
	} {
		if got := describe(b); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if b := ReadBuild(); b.GoVersion != runtime.Version() || b.Version == "" {
		t.Errorf("ReadBuild() = %+v", b)
	}
}

func TestModelName(t *testing.T) {
	cpuinfo := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nmodel name\t: other\n"
	if got := modelName(strings.NewReader(cpuinfo)); got != "Intel(R) Xeon(R) CPU @ 2.20GHz" {
		t.Errorf("got %q", got)
	}
	if got := modelName(strings.NewReader("processor\t: 0\n")); got != "" {
		t.Errorf("no model name: got %q", got)
	}
}

// A second process on the same folder appends its entry; each entry is
// written at start (no end) and completed at the end with its outcome.
func TestStartAndFinishAppend(t *testing.T) {
	dir := t.TempDir()
	first, err := Start(dir, []string{"bench", "run", "--experiment_name", "x"})
	if err != nil {
		t.Fatal(err)
	}
	var onDisk expfolder.Provenance
	if err := expfolder.ReadJSON(filepath.Join(dir, expfolder.ProvenanceFile), &onDisk); err != nil {
		t.Fatal(err)
	}
	if len(onDisk.Runs) != 1 || onDisk.Runs[0].End != nil || onDisk.Runs[0].Outcome != "running" {
		t.Fatalf("at start: %+v", onDisk.Runs)
	}
	if err := first.Finish(errors.New("boom"), true); err != nil {
		t.Fatal(err)
	}
	second, err := Start(dir, []string{"bench", "run", "--resume_training", "latest"})
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Finish(nil, false); err != nil {
		t.Fatal(err)
	}
	onDisk = expfolder.Provenance{}
	if err := expfolder.ReadJSON(filepath.Join(dir, expfolder.ProvenanceFile), &onDisk); err != nil {
		t.Fatal(err)
	}
	if len(onDisk.Runs) != 2 {
		t.Fatalf("want 2 runs, got %+v", onDisk.Runs)
	}
	r0, r1 := onDisk.Runs[0], onDisk.Runs[1]
	if r0.Outcome != "interrupted" || r1.Outcome != "finished" || r0.End == nil || r1.End == nil ||
		r1.Command[2] != "--resume_training" || r0.Command[3] != "x" || r1.Start.Before(*r0.End) {
		t.Errorf("runs: %+v", onDisk.Runs)
	}
	if r0.Threads != runtime.GOMAXPROCS(0) || r0.OS != runtime.GOOS || r0.Arch != runtime.GOARCH || time.Since(r0.Start) > time.Minute {
		t.Errorf("machine: %+v", r0)
	}
	if _, err := os.Stat("/proc/cpuinfo"); err == nil && r0.CPU == "" && runtime.GOARCH == "amd64" {
		t.Errorf("no CPU model read from /proc/cpuinfo")
	}
	// A corrupt file is an error, not silently replaced.
	os.WriteFile(filepath.Join(dir, expfolder.ProvenanceFile), []byte("{"), 0o644)
	if _, err := Start(dir, nil); err == nil || !strings.Contains(err.Error(), expfolder.ProvenanceFile) {
		t.Errorf("corrupt provenance.json: got %v", err)
	}
}

// Withdraw leaves the file as Start found it: as it was, or absent.
func TestWithdraw(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, expfolder.ProvenanceFile)
	r, err := Start(dir, []string{"bench", "eval"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Withdraw(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a withdrawn first entry left the file")
	}
	first, _ := Start(dir, []string{"bench", "run"})
	first.Finish(nil, false)
	before, _ := os.ReadFile(path)
	second, _ := Start(dir, []string{"bench", "eval"})
	if err := second.Withdraw(); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Errorf("withdrawn: %s\nwant %s", after, before)
	}
}
