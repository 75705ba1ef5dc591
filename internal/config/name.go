package config

import (
	"fmt"
	"strings"
	"unicode"
)

// CheckName checks that name, given by the flag, is one folder or file
// name: nothing a user types may lead bench outside the folder it names
// things in (the experiment root, a config category's folder).
func CheckName(flag, name string) error {
	bad := ""
	switch {
	case name == "":
		bad = "is empty"
	case name == "." || name == "..":
		bad = "is " + name
	case strings.ContainsAny(name, `/\`):
		bad = "has a path separator"
	case strings.ContainsFunc(name, unicode.IsControl):
		bad = "has a control character"
	}
	if bad == "" {
		return nil
	}
	return &Error{Source: flag, Msg: fmt.Sprintf("%q %s; want one folder or file name (no / or \\, not . or .., no control characters)", name, bad)}
}
