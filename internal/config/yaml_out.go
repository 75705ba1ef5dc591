package config

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// YAML writes the top-level keys of category in order, as the file
// <category>.yaml that LoadSaved reads back to the same tree. Search markers
// are written with their suffix (lr~LOG_BAYESIAN~: [1e-06, 0.01]).
func (t *Tree) YAML(category string) ([]byte, error) {
	if !contains(Categories, category) {
		return nil, fmt.Errorf("unknown config category %q; known: %s", category, strings.Join(Categories, ", "))
	}
	var keys []string
	for _, k := range t.root.keys {
		if t.category[k] == category {
			keys = append(keys, k)
		}
	}
	return t.yamlOf(keys)
}

// yamlOf writes the given top-level keys; a key written "k~DELETE~" is
// written so, with a null value.
func (t *Tree) yamlOf(keys []string) ([]byte, error) {
	doc := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range keys {
		v := t.root.kids[k]
		if v == nil {
			v = &node{kind: scalarNode}
			doc.Content = append(doc.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, valueNode(v))
			continue
		}
		doc.Content = append(doc.Content, keyNode(k, v), valueNode(v))
	}
	return encode(doc)
}

// YAMLAll writes the whole tree, category by category, each headed by a
// comment naming it, for `bench configs show`.
func (t *Tree) YAMLAll() ([]byte, error) {
	doc := &yaml.Node{Kind: yaml.MappingNode}
	for _, c := range Categories {
		first := true
		for _, k := range t.root.keys {
			if t.category[k] != c {
				continue
			}
			kn := keyNode(k, t.root.kids[k])
			if first {
				kn.HeadComment, first = c, false
			}
			doc.Content = append(doc.Content, kn, valueNode(t.root.kids[k]))
		}
	}
	return encode(doc)
}

func encode(doc *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func keyNode(k string, v *node) *yaml.Node {
	if v.kind == searchNode {
		k += "~" + v.search + "~"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Value: k}
}

func valueNode(n *node) *yaml.Node {
	switch n.kind {
	case mapNode:
		y := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range n.keys {
			y.Content = append(y.Content, keyNode(k, n.kids[k]), valueNode(n.kids[k]))
		}
		return y
	case listNode, searchNode:
		y := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, e := range n.items {
			if e.kind != scalarNode {
				y.Style = 0 // lists of maps or lists read better as blocks
			}
			y.Content = append(y.Content, valueNode(e))
		}
		return y
	}
	if f, ok := n.value.(float64); ok {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: floatText(f)}
	}
	y := &yaml.Node{}
	if err := y.Encode(n.value); err != nil {
		panic(fmt.Sprintf("config: cannot encode %T: %v", n.value, err)) // scalars from YAML or fromPlain always encode
	}
	return y
}

// floatText formats a float so that it reads back as a float: 1 is "1.0",
// not the integer "1".
func floatText(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	case math.IsNaN(f):
		return ".nan"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// flowText writes a value on one line, for messages and diffs.
func flowText(n *node) string {
	y := valueNode(n)
	var flow func(y *yaml.Node)
	flow = func(y *yaml.Node) {
		if y.Kind != yaml.ScalarNode {
			y.Style = yaml.FlowStyle
		}
		for _, c := range y.Content {
			flow(c)
		}
	}
	flow(y)
	b, err := encode(y)
	if err != nil {
		return fmt.Sprint(n.value)
	}
	return strings.TrimSpace(string(b))
}
