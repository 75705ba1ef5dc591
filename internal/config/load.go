package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Categories are the config categories, in the order their files are merged
// and written. config_factories holds powerful_benchmarker's `factories`,
// which bench accepts only with their default values.
var Categories = []string{
	"config_general", "config_dataset", "config_models", "config_loss_and_miners",
	"config_transforms", "config_optimizers", "config_eval", "config_factories",
}

// foldernamesFile is powerful_benchmarker's optional list of the categories
// of a config folder and the files each merges by default.
const foldernamesFile = "config_foldernames.yaml"

// Load merges the config files of every category, then the command-line
// overrides in order. names maps a category to its file names, merged left
// to right; a category without names uses the names
// rootConfigFolder/config_foldernames.yaml lists for it, or [default]. A
// name is read from rootConfigFolder/<category>/<name>.yaml when that file
// exists, else from the configs built into the binary; rootConfigFolder may
// be "" (built-in configs only). As in powerful_benchmarker, a file
// rootConfigFolder/<category>.yaml replaces the folder of that category.
// config_general is merged last, so that a general profile (smoke, daml)
// can change keys of any category. A top-level key belongs to the first
// category whose files set it (SetTop may move it); an override may only
// change a key some category set.
func Load(rootConfigFolder string, names map[string][]string, overrides []Override) (*Tree, error) {
	for c := range names {
		if !contains(Categories, c) {
			return nil, &Error{Msg: fmt.Sprintf("unknown config category %q; known: %s%s", c, strings.Join(Categories, ", "), didYouMean(c, Categories))}
		}
	}
	if err := checkFolder(rootConfigFolder); err != nil {
		return nil, err
	}
	defaults, err := readFoldernames(rootConfigFolder)
	if err != nil {
		return nil, err
	}
	t := newTree()
	for _, c := range loadOrder() {
		if err := t.mergeCategory(rootConfigFolder, c, names[c], defaults); err != nil {
			return nil, err
		}
	}
	return t, t.applyOverrides(overrides)
}

// mergeCategory merges the files of category c, in order.
func (t *Tree) mergeCategory(root, c string, names []string, defaults map[string][]string) error {
	if root != "" {
		single := filepath.Join(root, c+".yaml")
		if data, err := os.ReadFile(single); err == nil {
			return t.mergeFile(single, data, c)
		}
	}
	if len(names) == 0 {
		names = defaults[c]
	}
	optional := len(names) == 0 && c == "config_factories" // bench has no factories to choose
	if len(names) == 0 {
		names = []string{"default"}
	}
	for _, name := range names {
		if err := CheckName("--"+c, name); err != nil {
			return err
		}
		data, file, err := readConfig(root, c, name)
		if err != nil && optional {
			return nil
		}
		if err != nil {
			return err
		}
		if err := t.mergeFile(file, data, c); err != nil {
			return err
		}
	}
	return nil
}

// readFoldernames reads root/config_foldernames.yaml, when there is one: a
// list `config_foldernames` of categories and, for each category, the names
// of the files it merges when no --config_<category> flag names them.
func readFoldernames(root string) (map[string][]string, error) {
	if root == "" {
		return nil, nil
	}
	file := filepath.Join(root, foldernamesFile)
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &Error{Source: file, Err: err}
	}
	raw, err := parseYAML(data, file, true)
	if err != nil {
		return nil, err
	}
	if raw.isNull() {
		return nil, nil
	}
	if raw.kind != mapNode {
		return nil, &Error{Source: raw.origin(), Msg: fmt.Sprintf("want a map of categories, got %s", raw.describe())}
	}
	out := map[string][]string{}
	for _, k := range raw.keys {
		v := raw.kids[k]
		names, ok := stringList(v)
		if !ok {
			return nil, &Error{Source: v.origin(), Path: k, Msg: fmt.Sprintf("want a list of names, got %s", v.describe())}
		}
		cats := names // config_foldernames lists the categories
		if k != "config_foldernames" {
			cats, out[k] = []string{k}, names
		}
		for _, c := range cats {
			if !contains(Categories, c) {
				return nil, &Error{Source: v.origin(), Msg: fmt.Sprintf("unknown config category %q; known: %s%s", c, strings.Join(Categories, ", "), didYouMean(c, Categories))}
			}
		}
	}
	return out, nil
}

// stringList reads a list of strings (a lone string is a list of one).
func stringList(v *node) ([]string, bool) {
	if s, ok := v.value.(string); ok && v.kind == scalarNode {
		return []string{s}, true
	}
	if v.kind != listNode {
		return nil, false
	}
	var out []string
	for _, e := range v.items {
		s, ok := e.value.(string)
		if !ok || e.kind != scalarNode {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// loadOrder is Categories with config_general moved last.
func loadOrder() []string {
	order := append([]string{}, Categories[1:]...)
	return append(order, Categories[0])
}

// LoadSaved loads the configs an experiment saved (dir/<category>.yaml, as
// written by YAML) and every config change recorded when it was resumed,
// and applies overrides, for --reproduce_results and resuming.
func LoadSaved(dir string, overrides []Override) (*Tree, error) {
	stages, err := DiffStages(dir)
	if err != nil {
		return nil, err
	}
	return LoadSavedUpTo(dir, len(stages), overrides)
}

// LoadSavedUpTo is LoadSaved with only the first n recorded changes, as a
// reproduction replays them one by one.
func LoadSavedUpTo(dir string, n int, overrides []Override) (*Tree, error) {
	stages, err := DiffStages(dir)
	if err != nil {
		return nil, err
	}
	t := newTree()
	for _, c := range Categories {
		file := filepath.Join(dir, c+".yaml")
		data, err := os.ReadFile(file)
		if c == "config_factories" && errors.Is(err, fs.ErrNotExist) {
			continue // saved before bench knew the category
		}
		if err != nil {
			return nil, &Error{Source: file, Msg: "cannot read the saved config", Err: err}
		}
		if err := t.mergeFile(file, data, c); err != nil {
			return nil, err
		}
	}
	for _, st := range stages[:min(n, len(stages))] {
		if err := t.mergeDiffStage(st.Dir); err != nil {
			return nil, err
		}
	}
	return t, t.applyOverrides(overrides)
}

// mergeFile merges one config file of category into the tree.
func (t *Tree) mergeFile(file string, data []byte, category string) error {
	raw, err := parseYAML(data, file, true)
	if err != nil {
		return err
	}
	if raw.kind != mapNode {
		if raw.isNull() {
			return nil // an empty file
		}
		return &Error{Source: raw.origin(), Msg: fmt.Sprintf("want a map of config keys, got %s", raw.describe())}
	}
	return t.mergeMapFile(raw, category)
}

// mergeMapFile merges the raw top-level map of a file of category.
func (t *Tree) mergeMapFile(raw *node, category string) error {
	for _, k := range raw.keys {
		v := raw.kids[k]
		s, err := parseKey(k)
		if err != nil {
			return &Error{Source: v.origin(), Path: k, Err: err}
		}
		if err := t.mergeTop(k, v, s); err != nil {
			return err
		}
		if t.root.kids[s.name] != nil && t.category[s.name] == "" {
			t.category[s.name] = category
		}
	}
	return nil
}

// mergeTop merges one raw top-level entry and keeps the categories in step.
func (t *Tree) mergeTop(rawKey string, v *node, s special) error {
	if err := mergeKey(t.root, rawKey, v, ""); err != nil {
		return err
	}
	if t.root.kids[s.name] == nil {
		delete(t.category, s.name)
	}
	return nil
}

// applyOverrides merges command-line overrides, in order, after all files.
func (t *Tree) applyOverrides(overrides []Override) error {
	for _, o := range overrides {
		path := splitPath(o.Key)
		for _, k := range path {
			if k == "" {
				return &Error{Source: o.Source, Msg: fmt.Sprintf("bad key path %q", o.Key)}
			}
		}
		if len(path) == 0 {
			return &Error{Source: o.Source, Msg: "no key to override"}
		}
		v := o.parsed
		if v == nil {
			var err error
			if v, err = parseYAML([]byte(o.Value), o.Source, false); err != nil {
				return err
			}
		}
		// a.b.c=v is {a: {b: {c: v}}}.
		for i := len(path) - 1; i > 0; i-- {
			m := newMap(o.Source, 0)
			m.put(path[i], v)
			v = m
		}
		s, err := parseKey(path[0])
		if err != nil {
			return &Error{Source: o.Source, Path: path[0], Err: err}
		}
		if t.root.kids[s.name] == nil {
			known := t.Keys("")
			sort.Strings(known)
			return &Error{Source: o.Source, Path: s.name, Msg: fmt.Sprintf("no such config key; top-level keys: %s%s", keyList(known), didYouMean(s.name, known))}
		}
		if err := t.mergeTop(path[0], v, s); err != nil {
			return err
		}
	}
	return nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses a file (lines true) or a flag value into a raw tree whose
// nodes carry source and, for files, the line of their key.
func parseYAML(data []byte, source string, lines bool) (*node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(err, data, source, lines)
	}
	if len(doc.Content) == 0 {
		return &node{kind: scalarNode, source: source}, nil // empty input is null
	}
	budget := MaxYAMLNodes
	return parser{source: source, lines: lines, budget: &budget}.node(&doc, 1)
}

// yamlError turns a yaml.v3 error into one that names the file and line.
func yamlError(err error, data []byte, source string, lines bool) error {
	if lines {
		// yaml.v3 says "found character that cannot start any token" for a tab.
		for i, l := range strings.Split(string(data), "\n") {
			indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
			if strings.Contains(indent, "\t") && strings.TrimSpace(l) != "" {
				return &Error{Source: fmt.Sprintf("%s:%d", source, i+1), Msg: "tab in indentation; YAML indents with spaces"}
			}
		}
	}
	msg, line := strings.TrimPrefix(err.Error(), "yaml: "), 0
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		msg = m[2]
		line, _ = strconv.Atoi(m[1])
	}
	// yaml.v3 numbers the lines of scanner errors from 1 but those of parser
	// errors (libyaml's "did not find expected ...") from 0, leaving out 0.
	if strings.HasPrefix(msg, "did not find expected") {
		line++
	}
	if lines && line > 0 {
		source = fmt.Sprintf("%s:%d", source, line)
	}
	return &Error{Source: source, Msg: "bad YAML: " + msg}
}

// MaxYAMLNodes bounds the values one YAML file or flag may expand to.
// Aliases make a YAML text expand exponentially (a 470-byte "billion
// laughs" is 10^9 values); a config has hundreds.
var MaxYAMLNodes = 100_000

type parser struct {
	source string
	lines  bool
	budget *int // values left to expand
}

func (p parser) fail(line int, format string, args ...any) error {
	src := p.source
	if p.lines {
		src += ":" + strconv.Itoa(line)
	}
	return &Error{Source: src, Msg: fmt.Sprintf(format, args...)}
}

// node converts a yaml.Node; line is that of the key it is the value of.
func (p parser) node(y *yaml.Node, line int) (*node, error) {
	if *p.budget--; *p.budget < 0 {
		return nil, p.fail(line, "expands to more than %d values (aliases that repeat themselves?); config.MaxYAMLNodes is the limit", MaxYAMLNodes)
	}
	n := &node{source: p.source}
	if p.lines {
		n.line = line
	}
	switch y.Kind {
	case yaml.DocumentNode:
		return p.node(y.Content[0], y.Content[0].Line)
	case yaml.AliasNode:
		return p.node(y.Alias, line)
	case yaml.ScalarNode:
		if err := y.Decode(&n.value); err != nil {
			return nil, p.fail(y.Line, "%v", err)
		}
		if _, isTime := n.value.(time.Time); isTime {
			n.value = y.Value // a date is a name here, such as a tag, not a time
		}
	case yaml.SequenceNode:
		n.kind, n.items = listNode, []*node{}
		for _, e := range y.Content {
			c, err := p.node(e, e.Line)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, c)
		}
	case yaml.MappingNode:
		n.kind, n.kids = mapNode, map[string]*node{}
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			switch {
			case k.Kind != yaml.ScalarNode:
				return nil, p.fail(k.Line, "a key must be a plain name, got a %s", map[yaml.Kind]string{yaml.MappingNode: "map", yaml.SequenceNode: "list", yaml.AliasNode: "alias"}[k.Kind])
			case k.Tag == "!!merge":
				return nil, p.fail(k.Line, "YAML merge keys (<<) are not supported; merge config files instead")
			case n.kids[k.Value] != nil:
				first := y.Content[indexOfKey(y, k.Value)].Line
				return nil, p.fail(k.Line, "key %q is defined twice (first at line %d)", k.Value, first)
			case strings.Contains(k.Value, ":") && v.Tag == "!!null" && v.Value == "":
				// {lr:0.1} is the key "lr:0.1" in YAML, never what was meant.
				return nil, p.fail(k.Line, "%q reads as one key: write a space after ':'", k.Value)
			}
			c, err := p.node(v, k.Line)
			if err != nil {
				return nil, err
			}
			n.put(k.Value, c)
		}
	}
	return n, nil
}

func indexOfKey(m *yaml.Node, key string) int {
	for i := 0; i < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}
