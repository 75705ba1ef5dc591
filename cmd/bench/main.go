// Command bench is a config-driven benchmark runner for deep metric
// learning. See README.md.
package main

import "github.com/bench-ml/bench/cli"

func main() { cli.Main() }
