package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A key in a config file or command-line value may end in a special suffix
// that changes how it merges (powerful_benchmarker's syntax):
//
//	key~OVERRIDE~: v   replace the value at key instead of merging into it
//	key~APPLY~N: m     merge the map m into every map at level N of key,
//	                   the value of key being level 1
//	                   (optimizers~APPLY~3: {lr: 1e-5} reaches
//	                   optimizers.trunk_optimizer.RMSprop)
//	key~SWAP~N: m      rename keys of the maps at level N of key: {Old: New}
//	                   renames Old, {New: null} renames the only key there
//	key~DELETE~: any   remove key
//	key~BAYESIAN~: [lo, hi], key~LOG_BAYESIAN~: [lo, hi],
//	key~INT_BAYESIAN~: [lo, hi]
//	                   a hyperparameter search range, kept in the tree
//
// ~APPLY~N and ~SWAP~N count levels as powerful_benchmarker's
// easy-module-attribute-getter does, so its configs and docs work unchanged:
// trainer~APPLY~2 sets a parameter of trainer.MetricLossOnly and
// trainer~SWAP~1 renames MetricLossOnly.

type op int

const (
	opMerge op = iota
	opOverride
	opApply
	opSwap
	opDelete
	opSearch
)

// special is a key split into its name and suffix.
type special struct {
	name  string
	op    op
	depth int    // for ~APPLY~N and ~SWAP~N
	kind  string // for search markers: BAYESIAN, LOG_BAYESIAN or INT_BAYESIAN
}

var suffixRE = regexp.MustCompile(`^(.+?)~([A-Za-z_]+)~([0-9]*)$`)

// searchKinds are the search-space markers, in the order they are listed in
// messages.
var searchKinds = []string{"BAYESIAN", "LOG_BAYESIAN", "INT_BAYESIAN"}

var knownSuffixes = []string{"OVERRIDE", "APPLY", "SWAP", "DELETE", "BAYESIAN", "LOG_BAYESIAN", "INT_BAYESIAN"}

// parseKey splits a key into its name and special suffix. A '~' anywhere
// else is an error: a mistyped suffix must not become a silently unused key.
func parseKey(key string) (special, error) {
	if !strings.Contains(key, "~") {
		return special{name: key}, nil
	}
	m := suffixRE.FindStringSubmatch(key)
	if m == nil || strings.Contains(m[1], "~") {
		return special{}, fmt.Errorf("malformed special suffix in %q; known suffixes: %s", key, suffixList())
	}
	s := special{name: m[1]}
	word, digits := m[2], m[3]
	switch word {
	case "OVERRIDE":
		s.op = opOverride
	case "DELETE":
		s.op = opDelete
	case "APPLY", "SWAP":
		s.op = map[string]op{"APPLY": opApply, "SWAP": opSwap}[word]
		n, err := strconv.Atoi(digits)
		if err != nil || n < 1 {
			return special{}, fmt.Errorf("~%s~ needs a depth of at least 1, as in %s~%s~1", word, s.name, word)
		}
		s.depth = n
		return s, nil
	case "BAYESIAN", "LOG_BAYESIAN", "INT_BAYESIAN":
		s.op, s.kind = opSearch, word
	default:
		return special{}, fmt.Errorf("unknown special suffix ~%s~; known suffixes: %s%s", word, suffixList(), didYouMean(word, knownSuffixes))
	}
	if digits != "" {
		return special{}, fmt.Errorf("~%s~ takes no number", word)
	}
	return s, nil
}

func suffixList() string {
	return "~OVERRIDE~, ~APPLY~N, ~SWAP~N, ~DELETE~, ~" + strings.Join(searchKinds, "~, ~") + "~"
}

// Search is a hyperparameter search range left in the config, such as
// `lr~LOG_BAYESIAN~: [1e-6, 1e-2]`. Get returns it as the value of lr.
type Search struct {
	Path      string // dotted key path, without the suffix
	Kind      string // BAYESIAN, LOG_BAYESIAN or INT_BAYESIAN
	Low, High float64
	Source    string // file (with line) or flag that set it
}

func (s Search) String() string {
	return fmt.Sprintf("%s search range [%v, %v]", s.Kind, s.Low, s.High)
}

// checkSearch validates the bounds of a search marker.
func checkSearch(kind string, bounds *node) (lo, hi float64, err error) {
	if bounds.kind != listNode || len(bounds.items) != 2 {
		return 0, 0, fmt.Errorf("~%s~ wants a range [low, high], got %s", kind, bounds.describe())
	}
	lo, okLo := Number(bounds.items[0].value)
	hi, okHi := Number(bounds.items[1].value)
	switch {
	case bounds.items[0].kind != scalarNode || bounds.items[1].kind != scalarNode || !okLo || !okHi:
		return 0, 0, fmt.Errorf("~%s~ wants a range of two numbers, got %s", kind, bounds.describe())
	case lo > hi:
		return 0, 0, fmt.Errorf("~%s~ range [%v, %v] has low > high", kind, lo, hi)
	case kind == "LOG_BAYESIAN" && lo <= 0:
		return 0, 0, fmt.Errorf("~%s~ range [%v, %v] must be positive", kind, lo, hi)
	case kind == "INT_BAYESIAN" && (lo != float64(int64(lo)) || hi != float64(int64(hi))):
		return 0, 0, fmt.Errorf("~%s~ range [%v, %v] must hold integers", kind, lo, hi)
	}
	return lo, hi, nil
}
