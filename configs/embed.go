// Package configs holds the config files built into the bench binary, so
// that bench runs from any directory and after go install. A folder given
// with --root_config_folder adds to them and overrides them by name.
package configs

import "embed"

// FS holds config_<category>/<name>.yaml for every category.
//
//go:embed config_*/*.yaml
var FS embed.FS
