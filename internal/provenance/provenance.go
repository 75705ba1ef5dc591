// Package provenance says which bench, on which machine and with which
// command line, made an experiment: bench --version, and provenance.json
// (expfolder.Provenance) in every experiment folder.
package provenance

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/bench-ml/bench/internal/expfolder"
	"github.com/bench-ml/bench/internal/record"
)

// ReadBuild reads the binary's build information.
func ReadBuild() expfolder.Build {
	b := expfolder.Build{Version: "(unknown)", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Version = bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// Version is the one-line answer of bench --version.
func Version() string { return describe(ReadBuild()) }

// describe is the build in one line, with the platform it runs on.
func describe(b expfolder.Build) string {
	rev := "revision unknown (built without VCS information)"
	if b.Revision != "" {
		rev = "revision " + b.Revision
		if b.Modified {
			rev += " with local changes"
		}
	}
	return fmt.Sprintf("%s, %s, %s %s/%s", b.Version, rev, b.GoVersion, runtime.GOOS, runtime.GOARCH)
}

// A Record is the provenance file of one experiment folder, as this
// process found and changed it.
type Record struct {
	expfolder.Provenance
	path   string
	before []byte // the file before Start; nil if there was none
}

// Start appends this process to the folder's provenance file and writes it:
// a resumed or re-evaluated experiment keeps the entries of earlier runs.
func Start(folder string, command []string) (*Record, error) {
	r := &Record{path: filepath.Join(folder, expfolder.ProvenanceFile)}
	var err error
	if r.before, err = os.ReadFile(r.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if r.before != nil {
		if err := expfolder.Decode(r.path, r.before, &r.Provenance); err != nil {
			return nil, err
		}
	}
	r.Runs = append(r.Runs, expfolder.ProvenanceRun{
		Build: ReadBuild(), OS: runtime.GOOS, Arch: runtime.GOARCH, CPU: cpuModel(),
		Threads: runtime.GOMAXPROCS(0), Command: command, Start: time.Now().UTC(), Outcome: "running",
	})
	return r, expfolder.WriteJSON(r.path, &r.Provenance)
}

// Finish records the end time and the outcome of this process: err nil
// (finished), an interruption, or an error.
func (r *Record) Finish(err error, interrupted bool) error {
	run := &r.Runs[len(r.Runs)-1]
	end := time.Now().UTC()
	run.End = &end
	switch {
	case err == nil:
		run.Outcome = "finished"
	case interrupted:
		run.Outcome = "interrupted"
	default:
		run.Outcome = "failed: " + err.Error()
	}
	return expfolder.WriteJSON(r.path, &r.Provenance)
}

// Withdraw puts the file back as Start found it, for a process that
// changed nothing in the experiment (a resume refused for a damaged
// checkpoint, say).
func (r *Record) Withdraw() error {
	if r.before == nil {
		return os.Remove(r.path)
	}
	return record.WriteFileAtomic(r.path, r.before)
}

// cpuModel is the "model name" of /proc/cpuinfo, or "" where there is none.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	return modelName(f)
}

func modelName(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return ""
}
