package main

import (
	"os"
	"testing"
)

// asBench makes the test binary act as bench: the launchers start jobs of
// os.Executable, which in a test is this binary.
const asBench = "BENCH_TEST_AS_BENCH"

func TestMain(m *testing.M) {
	if os.Getenv(asBench) == "1" {
		main()
		os.Exit(0)
	}
	os.Setenv(asBench, "1") // for the children only: tests run commands in-process
	os.Exit(m.Run())
}
