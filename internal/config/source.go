package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bench-ml/bench/configs"
)

// BuiltinPrefix names a built-in config file in errors and sources, where a
// file in a folder is named by its path.
const BuiltinPrefix = "built-in:"

// readConfig reads category/name.yaml from folder if it is there, else from
// the configs built into the binary. folder may be "" (built-in only). It
// returns the file's name for errors: its path, or BuiltinPrefix and its
// name in the binary.
func readConfig(folder, category, name string) ([]byte, string, error) {
	if folder != "" {
		file := filepath.Join(folder, category, name+".yaml")
		data, err := os.ReadFile(file)
		if !errors.Is(err, fs.ErrNotExist) {
			if err != nil {
				return nil, file, &Error{Source: file, Err: err}
			}
			return data, file, nil
		}
	}
	embedded := path.Join(category, name+".yaml")
	data, err := fs.ReadFile(configs.FS, embedded)
	if err != nil {
		return nil, "", missingConfig(folder, category, name)
	}
	return data, BuiltinPrefix + embedded, nil
}

// checkFolder refuses a config folder that is not there, which is a typo
// rather than a wish for the built-in configs only.
func checkFolder(folder string) error {
	if folder == "" {
		return nil
	}
	st, err := os.Stat(folder)
	if err != nil {
		return &Error{Source: folder, Msg: "cannot read config folder: " + strings.TrimPrefix(err.Error(), "stat "+folder+": ")}
	}
	if !st.IsDir() {
		return &Error{Source: folder, Msg: "config folder is not a folder"}
	}
	return nil
}

// A ConfigInfo is a config a run can name: its name, its first comment line
// and where it is read from.
type ConfigInfo struct {
	Name, Summary, File string
}

// List returns the configs of a category, sorted by name: those of folder
// (which may be "") and the built-in ones it does not override.
func List(folder, category string) ([]ConfigInfo, error) {
	if !slices.Contains(Categories, category) {
		return nil, &Error{Msg: fmt.Sprintf("unknown config category %q; known: %s%s", category, strings.Join(Categories, ", "), didYouMean(category, Categories))}
	}
	names := map[string]bool{}
	for _, n := range embeddedNames(category) {
		names[n] = true
	}
	if folder != "" {
		entries, err := os.ReadDir(filepath.Join(folder, category))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, &Error{Source: filepath.Join(folder, category), Msg: "cannot list config folder", Err: err}
		}
		for _, e := range entries {
			if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
				names[n] = true
			}
		}
	}
	var out []ConfigInfo
	for _, n := range slices.Sorted(maps.Keys(names)) {
		data, file, err := readConfig(folder, category, n)
		if err != nil {
			return nil, err
		}
		out = append(out, ConfigInfo{Name: n, Summary: firstComment(data), File: file})
	}
	return out, nil
}

func embeddedNames(category string) []string {
	entries, _ := fs.ReadDir(configs.FS, category) // a category without built-in files has none
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	return names
}

// firstComment is the text of a config's first comment line, its summary.
func firstComment(data []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, "#") {
			return strings.TrimSpace(strings.TrimLeft(line, "#"))
		}
	}
	return ""
}

func missingConfig(folder, category, name string) error {
	file := path.Join(category, name+".yaml")
	where := "built in"
	if folder != "" {
		file = filepath.Join(folder, category, name+".yaml")
		where = "built in or in " + filepath.Join(folder, category)
	}
	infos, err := List(folder, category)
	if err != nil {
		return err
	}
	var have []string
	for _, c := range infos {
		have = append(have, c.Name)
	}
	return &Error{Source: file, Msg: fmt.Sprintf("no such config; available (%s): %s%s", where, keyList(have), didYouMean(name, have))}
}
