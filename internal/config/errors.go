package config

import (
	"fmt"
	"sort"
)

// Error is a user error in a config: the file or flag it came from, the key
// path inside the merged tree, and what is wrong or allowed. Err is the
// cause when another error is (a file that cannot be read, a YAML syntax
// error, a check of the data); errors.Is and errors.As see it.
type Error struct {
	Source string // a file path or a command-line flag; may be empty
	Path   string // dotted key path
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	msg := e.Msg
	switch {
	case e.Err != nil && msg == "":
		msg = e.Err.Error()
	case e.Err != nil:
		msg += ": " + e.Err.Error()
	}
	switch {
	case e.Source != "" && e.Path != "":
		return fmt.Sprintf("%s: %s: %s", e.Source, e.Path, msg)
	case e.Path != "":
		return fmt.Sprintf("%s: %s", e.Path, msg)
	case e.Source != "":
		return fmt.Sprintf("%s: %s", e.Source, msg)
	}
	return msg
}

// Unwrap returns the cause, or nil.
func (e *Error) Unwrap() error { return e.Err }

// didYouMean suggests the candidate closest to s, formatted as a suffix for
// an error message, or "" when none is close.
func didYouMean(s string, candidates []string) string {
	if c, ok := Closest(s, candidates); ok {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// Closest returns the candidate closest to s, if it is close enough to be
// what a typo meant: at most a third of the word changed, at least one edit.
func Closest(s string, candidates []string) (string, bool) {
	best, bestD := []string(nil), 1<<30
	for _, c := range candidates {
		d := editDistance(s, c)
		if d < bestD {
			best, bestD = []string{c}, d
		} else if d == bestD {
			best = append(best, c)
		}
	}
	if bestD > max(len(s)/3, 1) || len(best) == 0 {
		return "", false
	}
	sort.Strings(best)
	return best[0], true
}

// editDistance is the Levenshtein distance, case-insensitive in weight so
// that "tripletmarginloss" still finds "TripletMarginLoss".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			} else if lower(ra[i-1]) == lower(rb[j-1]) {
				cost = 0 // case differences are the commonest typo in CamelCase names
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func lower(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}
