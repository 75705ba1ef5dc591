package config

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Args is a `bench run` command line, split by ParseArgs.
type Args struct {
	Flags       map[string]string   // the command's value flags: --experiment_name x
	Bools       map[string]bool     // the command's flags without a value: --evaluate
	ConfigNames map[string][]string // --config_general default daml: category -> file names
	Overrides   []Override          // every other flag, in command-line order
}

// Override is one command-line change of the config.
type Override struct {
	Key    string // dotted key path, suffixes allowed: "patience", "models~OVERRIDE~", "optimizers.trunk_optimizer.RMSprop.lr"
	Value  string // YAML text: "5", "{trunk: {...}}"
	Source string // the flag, for messages: "--models~OVERRIDE~", "--set optimizers.trunk_optimizer.RMSprop.lr"
	// parsed is Value as parsed by ParseArgs, which checks it before any
	// file is read; Load merges it without parsing it again. nil for an
	// Override written in code, which Load parses.
	parsed *node
}

// ParseArgs splits the arguments of a command run with cobra's
// DisableFlagParsing. valueFlags take one word (--experiment_name x or
// --experiment_name=x), boolFlags none (--evaluate, or --evaluate=false).
// --config_<category> takes file names up to the next flag (or a YAML list,
// [default, daml]). --set path=value sets a dotted key path. Any other
// --key takes a YAML value that may span several words until its brackets
// balance, as the shell splits `--optimizers {trunk_optimizer: {Adam: {lr: 0.1}}}`.
// -h is --help when help is a bool flag.
func ParseArgs(args []string, valueFlags, boolFlags []string) (*Args, error) {
	a := &Args{Flags: map[string]string{}, Bools: map[string]bool{}, ConfigNames: map[string][]string{}}
	if contains(boolFlags, "help") {
		args = append([]string(nil), args...)
		for i, w := range args {
			if w == "-h" {
				args[i] = "--help"
			}
		}
	}
	for i := 0; i < len(args); {
		w := args[i]
		if !isFlag(w) {
			return nil, &Error{Msg: fmt.Sprintf("unexpected argument %q: flags start with --", w)}
		}
		name, inline, hasInline := strings.Cut(w[2:], "=")
		flag := "--" + name
		var next []string // the words up to the next flag
		for i++; i < len(args) && !isFlag(args[i]); i++ {
			next = append(next, args[i])
		}
		words := next // the words that belong to this flag
		if hasInline {
			words = append([]string{inline}, next...)
		}
		fail := func(format string, args ...any) error {
			return &Error{Source: flag, Msg: fmt.Sprintf(format, args...)}
		}
		switch {
		case contains(boolFlags, name):
			b, err := true, error(nil)
			if hasInline {
				b, err = strconv.ParseBool(inline)
			}
			if err != nil || len(next) > 0 {
				return nil, fail("takes no value (write %s=false to turn it off), got %q", flag, strings.Join(words, " "))
			}
			a.Bools[name] = b
		case contains(valueFlags, name):
			if _, dup := a.Flags[name]; dup {
				return nil, fail("given twice")
			}
			if len(words) != 1 {
				return nil, fail("takes one value, got %d", len(words))
			}
			a.Flags[name] = words[0]
		case strings.HasPrefix(name, "config_"):
			if _, dup := a.ConfigNames[name]; dup {
				return nil, fail("given twice; list all names after one flag: %s a b", flag)
			}
			names, err := configNames(name, words)
			if err != nil {
				return nil, fail("%v", err)
			}
			a.ConfigNames[name] = names
		case name == "set":
			if len(words) == 0 {
				return nil, fail("needs path=value, as in --set optimizers.trunk_optimizer.RMSprop.lr=1e-5")
			}
			path, first, ok := strings.Cut(words[0], "=")
			if !ok || path == "" {
				return nil, fail("wants path=value, as in --set optimizers.trunk_optimizer.RMSprop.lr=1e-5, got %q", words[0])
			}
			o, err := override(path, "--set "+path, append([]string{first}, words[1:]...))
			if err != nil {
				return nil, err
			}
			a.Overrides = append(a.Overrides, o)
		default:
			if key, colon := strings.CutSuffix(name, ":"); colon {
				// powerful_benchmarker's docs write a colon after a flag
				// whose value is a map (`--trainer~APPLY~2: {batch_size:
				// 256}`); emag 0.9.41 keeps it in the key, which then
				// matches nothing and is silently ignored. bench reads
				// the flag as the docs mean it.
				if len(words) == 0 || !strings.HasPrefix(words[0], "{") {
					return nil, fail("a colon after a flag's name is accepted only before a {...} value, as powerful_benchmarker's docs write --trainer~APPLY~2: {batch_size: 256}; write --%s %s", key, strings.Join(words, " "))
				}
				name = key
			}
			o, err := override(name, flag, words)
			if err != nil {
				return nil, err
			}
			a.Overrides = append(a.Overrides, o)
		}
	}
	return a, nil
}

func isFlag(w string) bool {
	return len(w) > 2 && strings.HasPrefix(w, "--") && (w[2] >= 'a' && w[2] <= 'z' || w[2] >= 'A' && w[2] <= 'Z')
}

// configNames reads the file names of a --config_<category> flag.
func configNames(category string, words []string) ([]string, error) {
	if !contains(Categories, category) {
		return nil, fmt.Errorf("unknown config category; known: %s%s", strings.Join(Categories, ", "), didYouMean(category, Categories))
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("needs one or more config names")
	}
	if !strings.HasPrefix(words[0], "[") {
		return words, nil
	}
	text, err := oneValue(words)
	if err != nil {
		return nil, err
	}
	var names []string
	if err := yaml.Unmarshal([]byte(text), &names); err != nil || len(names) == 0 {
		return nil, fmt.Errorf("want config names or a list [a, b], got %s", text)
	}
	return names, nil
}

// override checks and builds one override; the value is parsed now so that
// a bad one is reported before any file is read.
func override(key, flag string, words []string) (Override, error) {
	text, err := oneValue(words)
	if err != nil {
		return Override{}, &Error{Source: flag, Err: err}
	}
	v, err := parseYAML([]byte(text), flag, false)
	if err != nil {
		return Override{}, err
	}
	return Override{Key: key, Value: text, Source: flag, parsed: v}, nil
}

// oneValue joins the words of a flag into one YAML value: one word, or a
// flow map or list spanning words whose brackets close at the last word.
func oneValue(words []string) (string, error) {
	if len(words) == 0 {
		return "", fmt.Errorf("needs a value")
	}
	text := strings.Join(words, " ")
	if !strings.HasPrefix(text, "{") && !strings.HasPrefix(text, "[") {
		if len(words) > 1 {
			return "", fmt.Errorf("takes one value, got %q (a YAML map or list may span words: {a: 1, b: [2, 3]})", text)
		}
		return text, nil
	}
	end, err := closingBracket(text)
	if err != nil {
		return "", fmt.Errorf("%v in %q", err, text)
	}
	if rest := strings.TrimSpace(text[end:]); rest != "" {
		return "", fmt.Errorf("unexpected %q after the value %s", rest, text[:end])
	}
	return text, nil
}

// closingBracket returns the index just after the bracket that closes the
// one text starts with, skipping quoted strings.
func closingBracket(text string) (int, error) {
	var open []byte
	quote := byte(0)
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case quote == '"' && c == '\\':
			i++ // an escaped character
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case (c == '"' || c == '\'') && (i == 0 || strings.IndexByte(" \t{[,:", text[i-1]) >= 0):
			quote = c // a quote only starts a string at the start of a token: {a: it's} has none
		case c == '{' || c == '[':
			open = append(open, c)
		case c == '}' || c == ']':
			want := map[byte]byte{'}': '{', ']': '['}[c]
			if len(open) == 0 || open[len(open)-1] != want {
				return 0, fmt.Errorf("unbalanced brackets: unexpected %q at %d", c, i+1)
			}
			open = open[:len(open)-1]
			if len(open) == 0 {
				return i + 1, nil
			}
		}
	}
	if quote != 0 {
		return 0, fmt.Errorf("unclosed %c quote", quote)
	}
	return 0, fmt.Errorf("unbalanced brackets: %d left open", len(open))
}
