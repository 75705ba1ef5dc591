package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A resumed experiment whose config changed keeps its original
// <category>.yaml files and records each change as powerful_benchmarker
// does: a folder resume_training_config_diffs_<e1>_<e2>... (the epochs each
// split scheme had reached) holding, per category, the top-level keys that
// changed, with their new values.
const diffsPrefix = "resume_training_config_diffs_"

// DiffStage is one recorded config change: the epochs each split scheme
// had reached, in split order, and the folder holding the change.
type DiffStage struct {
	Epochs []int
	Dir    string
}

// DiffStages lists the config changes saved in dir, oldest first.
func DiffStages(dir string) ([]DiffStage, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &Error{Source: dir, Msg: "cannot read the saved configs", Err: err}
	}
	var out []DiffStage
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), diffsPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		st := DiffStage{Dir: filepath.Join(dir, e.Name())}
		for _, w := range strings.Split(rest, "_") {
			n, err := strconv.Atoi(w)
			if err != nil || n < 0 {
				return nil, &Error{Source: st.Dir, Msg: "a config diff folder is named " + diffsPrefix + "<epochs>_<epochs>..."}
			}
			st.Epochs = append(st.Epochs, n)
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b DiffStage) int { return slices.Compare(a.Epochs, b.Epochs) })
	return out, nil
}

// SaveDiff records, in dir, the top-level keys of t that differ from
// saved, under the epochs each split scheme has reached. It reports whether
// anything changed.
func SaveDiff(dir string, saved, t *Tree, epochs []int, write func(path string, data []byte) error) (bool, error) {
	changed := map[string]bool{}
	for _, c := range Diff(saved, t) {
		top, _, _ := strings.Cut(c.Path, ".")
		if top == "" {
			for _, k := range t.root.keys {
				changed[k] = true // the top level was reordered
			}
			continue
		}
		changed[top] = true
	}
	if len(changed) == 0 {
		return false, nil
	}
	words := make([]string, len(epochs))
	for i, e := range epochs {
		words[i] = strconv.Itoa(e)
	}
	stage := filepath.Join(dir, diffsPrefix+strings.Join(words, "_"))
	for _, cat := range Categories {
		var keys []string
		for _, k := range t.root.keys {
			if changed[k] && t.category[k] == cat {
				keys = append(keys, k)
			}
		}
		for k := range changed {
			if t.root.kids[k] == nil && saved.category[k] == cat {
				keys = append(keys, k+"~DELETE~")
			}
		}
		if len(keys) == 0 {
			continue
		}
		text, err := t.yamlOf(keys)
		if err != nil {
			return false, err
		}
		if err := write(filepath.Join(stage, cat+".yaml"), text); err != nil {
			return false, err
		}
	}
	return true, nil
}

// mergeDiffStage merges one recorded change: each key replaces the saved
// one, as powerful_benchmarker merges diffs at depth 0.
func (t *Tree) mergeDiffStage(dir string) error {
	for _, c := range Categories {
		file := filepath.Join(dir, c+".yaml")
		data, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return &Error{Source: file, Err: err}
		}
		raw, err := parseYAML(data, file, true)
		if err != nil {
			return err
		}
		if raw.kind != mapNode {
			continue
		}
		replace := newMap(raw.source, raw.line)
		for _, k := range raw.keys {
			rk := k
			if !strings.Contains(k, "~") {
				rk = k + "~OVERRIDE~"
			}
			replace.put(rk, raw.kids[k])
		}
		if err := t.mergeMapFile(replace, c); err != nil {
			return err
		}
	}
	return nil
}
