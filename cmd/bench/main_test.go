package main

import (
	"os"
	"testing"
)

// childEnv, set in a test binary's environment, makes it run bench's main
// instead of the tests: the crash tests need a process of bench to kill.
const childEnv = "BENCH_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
