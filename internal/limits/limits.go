// Package limits checks, before allocating, that what an input asks for
// fits the machine: a few bytes of input must not exhaust its memory.
package limits

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Memory is the machine's memory in bytes (MemTotal of /proc/meminfo), 0
// when unknown. A variable, so tests and callers can lower it.
var Memory = machineMemory()

func machineMemory() float64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

// CheckMemory refuses an estimate of bytes that is more than the machine's
// memory; what says what needs them, naming the flag or key to change.
func CheckMemory(what string, bytes float64) error {
	if Memory > 0 && bytes > Memory {
		return fmt.Errorf("%s: about %s, more than this machine's %s of memory", what, Size(bytes), Size(Memory))
	}
	return nil
}

// Size formats a number of bytes for a message.
func Size(bytes float64) string {
	for _, u := range []string{"B", "KB", "MB", "GB", "TB", "PB"} {
		if bytes < 1024 {
			return fmt.Sprintf("%.3g %s", bytes, u)
		}
		bytes /= 1024
	}
	return fmt.Sprintf("%.3g EB", bytes)
}
