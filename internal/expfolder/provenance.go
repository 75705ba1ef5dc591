package expfolder

import "time"

// ProvenanceFile is the name of provenance.json in an experiment folder
// (and in each split scheme's folder, for the fold jobs writing at once).
const ProvenanceFile = "provenance.json"

// Provenance is provenance.json: every process that worked on the folder
// (training, resuming, evaluating), oldest first.
type Provenance struct {
	Header
	Runs []ProvenanceRun `json:"runs"`
}

// Build is what the Go toolchain recorded in the binary.
type Build struct {
	Version   string `json:"bench_version"` // the module version; (devel) for a build from a checkout
	Revision  string `json:"revision"`      // the VCS commit, "" when not recorded
	Modified  bool   `json:"revision_modified"`
	GoVersion string `json:"go_version"`
}

// A ProvenanceRun is one bench process working on an experiment.
type ProvenanceRun struct {
	Build
	OS      string     `json:"os"`
	Arch    string     `json:"arch"`
	CPU     string     `json:"cpu_model"`
	Threads int        `json:"threads"` // GOMAXPROCS
	Command []string   `json:"command_line"`
	Start   time.Time  `json:"start"`
	End     *time.Time `json:"end,omitempty"` // missing while running, or if the process died
	Outcome string     `json:"outcome"`       // running, finished, interrupted or failed: the error
}
